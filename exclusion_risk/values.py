"""Value rules every stage shares: how a yes/no is written, how a count is said, the logistic function.

Extracts, feature tables, service requests and the generator all meet yes/no values written as
`1/0`, `true/false`, `t/f`, `Y/N` or `yes/no`; one list of words decides them all, so a flag that
the reader accepts is one the preprocessor and the need level read the same way.
"""

from __future__ import annotations

import numpy as np

TRUE_WORDS = frozenset({"1", "true", "t", "y", "yes"})
FALSE_WORDS = frozenset({"0", "false", "f", "n", "no"})
# A yes/no word -> the number text it stands for (lower case), for readers that parse numbers after.
FLAG_NUMBERS = {**dict.fromkeys(TRUE_WORDS, "1"), **dict.fromkeys(FALSE_WORDS, "0")}


def counted(n: int, one: str, many: str | None = None) -> str:
    """A count with its noun: counted(1, "row") -> "1 row", counted(1200, "row") -> "1,200 rows";
    `many` where the plural is not `one` + "s" (counted(2, "pupil is", "pupils are"))."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def and_join(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c" (one item as it is)."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def one_decimal_percent(share: float) -> str:
    """A share in a sentence to one decimal: 0.0241 -> "2.4%" (drift, the red list, describe's study
    side by side; the scores' and evaluate's band rule is `models.band_precision.percent`)."""
    return f"{100 * share:.1f}%"


def parse_flag(text: str) -> bool | None:
    """A yes/no word in any case, spaces ignored -> True/False; None when it is not one."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^-x) (log-odds -> probability)."""
    return 1.0 / (1.0 + np.exp(-x))


def number_ranges(numbers) -> str:
    """Row numbers, every one, runs shortened: [1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10' (a file's rows named in
    full, however many, where 'and 5 more' named some nowhere)."""
    ordered = sorted({int(n) for n in numbers})
    runs: list[list[int]] = []
    for n in ordered:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
