"""`describe`'s side by side with the Walsall study, read: each measure's agreement with the study in
words, and one conclusion. The table had put "16%" beside 0.3641 and left the reader to work out that
this authority's permanently excluded pupils are twice as often SEMH as the study's.

Shares are compared by their ratio (within 0.8-1.25: about the same); chi-square statistics grow with the
number of pupils, so they are read for significance (above 3.84: p < 0.05, one degree of freedom), not
size; a correlation for its sign where it is 0.1 or more from zero; observed - expected excluded for its
direction (over- or under-excluded). A withheld figure is not read.
"""

from __future__ import annotations

import re

import pandas as pd

CHI2_95 = 3.841  # chi-square with 1 degree of freedom at p = 0.05
SAME = (0.8, 1.25)  # a share's ratio to the study's read as "about the same"
CLEAR_CORRELATION = 0.1


def _number(text: object) -> float | None:
    found = re.search(r"-?\d+(?:\.\d+)?", str(text).replace(",", ""))
    return float(found.group()) if found else None


def percent(share: float | None) -> str | None:
    """A share (0.3641) as the study writes it (36.4%); None (withheld) stays None."""
    return None if share is None else f"{100 * share:.1f}%"


def _share_reading(study: str, here: str) -> tuple[str, bool | None]:
    published, mine = _number(study), _number(here)
    if published is None or mine is None or published == 0:
        return "", None
    if str(study).startswith("over"):
        agree = mine >= published
        return (f"{'also' if agree else 'not'} over {published:g}% here", agree)
    ratio = mine / published
    if SAME[0] <= ratio <= SAME[1]:
        return "about the same as the study", True
    return f"{'higher' if ratio > 1 else 'lower'} than the study ({ratio:.1f} times)", False


def _reading(measure: str, study: object, here: object) -> tuple[str, bool | None]:
    """(words, agrees with the study: True, False or None where not comparable)."""
    if here is None or isinstance(here, str) and not re.search(r"\d", here):
        return "", None  # withheld, or not held here
    if measure.startswith("chi-square"):
        significant = float(here) > CHI2_95
        return ("significant here, as in the study" if significant
                else "not significant here, unlike the study", significant)  # fmt: skip
    if measure.startswith("observed - expected"):
        same = (float(here) > 0) == (float(study) > 0)
        way = "over" if float(here) > 0 else "under"
        return (f"{way}-excluded here too" if same else f"{way}-excluded here, unlike the study", same)
    if "vs deprivation" in measure:
        r, published = float(here), _number(study) or 0.0
        if abs(r) < CLEAR_CORRELATION:
            return ("no clear relation, as in the study" if abs(published) < CLEAR_CORRELATION
                    else "no clear relation here", abs(published) < CLEAR_CORRELATION)  # fmt: skip
        return (f"a {'positive' if r > 0 else 'negative'} relation here, where the study found "
                f"{'none' if abs(published) < CLEAR_CORRELATION else published}", False)  # fmt: skip
    if isinstance(here, str) and here.endswith("%"):
        return _share_reading(str(study), here)
    return "", None


def read_side_by_side(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table with a `reading` column, and a sentence: where this authority agrees and differs."""
    columns = zip(table["measure"], table["study"], table["here"], strict=True)
    readings = [_reading(measure, study, here) for measure, study, here in columns]
    table = table.assign(reading=[words for words, _ in readings])
    differs = [m for m, (_, agree) in zip(table["measure"], readings, strict=True) if agree is False]
    agrees = sum(agree is True for _, agree in readings)
    if not differs and not agrees:
        return table, "Too little is shown here to set beside the study."
    conclusion = f"This authority agrees with the study on {agrees} of {agrees + len(differs)} measures read"
    return table, conclusion + (f"; it differs on: {'; '.join(differs)}." if differs else ".")
