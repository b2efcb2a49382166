"""`describe`'s side by side with the Walsall study, read: each measure's agreement with the study in
words, and one conclusion. The table had put "16%" beside 0.3641 and left the reader to work out that
this authority's permanently excluded pupils are twice as often SEMH as the study's.

Shares are compared by their ratio (within 0.8-1.25: about the same); chi-square statistics grow with the
number of pupils, so they are read for significance (above 3.84: p < 0.05, one degree of freedom), not
size. A correlation and an observed - expected count are read for their direction only where they are
significant here (p < 0.05: the correlation's own test over 10 schools or more, the group's adjusted
residual, whose square is its own 2x2 chi-square against all others, a group expected to have under 5
excluded not tested); otherwise the measure is "not clear here": a correlation of -0.16 over 131
schools (p = 0.06) or a group 11 pupils under its expected count is not evidence against the study, nor
for it. A withheld figure is not read.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from exclusion_risk.values import one_decimal_percent

CHI2_95 = 3.841  # chi-square with 1 degree of freedom at p = 0.05
SAME = (0.8, 1.25)  # a share's ratio to the study's read as "about the same"
CLEAR_CORRELATION = 0.1
SIGNIFICANT = 0.05


def _number(text: object) -> float | None:
    found = re.search(r"-?\d+(?:\.\d+)?", str(text).replace(",", ""))
    return float(found.group()) if found else None


def percent(share: float | None) -> str | None:
    """A share (0.3641) as the study writes it (36.4%); None (withheld) stays None."""
    return None if share is None else one_decimal_percent(share)


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


def adjusted_residuals(counts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Haberman's adjusted residuals of a table of counts: standard normal deviates under independence,
    where Pearson's (O - E) / sqrt(E) are not (they leave out (1 - row share)(1 - column share): a large
    group's was read at p = 0.22 beside its own 2x2 chi-square's p = 0.04, a statistician's finding)."""
    rows, columns = counts.sum(axis=1) / counts.sum(), counts.sum(axis=0) / counts.sum()
    return (counts - expected) / np.sqrt(expected * np.outer(1 - rows, 1 - columns))


def residual_p_value(residual: float) -> float:
    """The two-sided p-value of an adjusted (Haberman) residual, a standard normal deviate under
    independence (`describe.chi_square`'s `adjusted_residual_excluded`)."""
    from scipy.stats import norm

    return float(2 * norm.sf(abs(residual)))


def _reading(measure: str, study: object, here: object, p_value: float | None) -> tuple[str, bool | None]:
    """(words, agrees with the study: True, False, or None where not comparable or not clear here)."""
    if here is None or isinstance(here, str) and not re.search(r"\d", here):
        return "", None  # withheld, or not held here
    if measure.startswith("chi-square"):
        significant = float(here) > CHI2_95
        return ("significant here, as in the study" if significant
                else "not significant here, unlike the study", significant)  # fmt: skip
    if measure.startswith("observed - expected"):
        if p_value is None:  # expected under 5 (Cochran), or its residual withheld: no test, no direction
            return "not tested here (fewer than 5 expected, or withheld)", None
        if p_value >= SIGNIFICANT:
            return "neither clearly over- nor under-excluded here (p >= 0.05)", None
        same = (float(here) > 0) == (float(study) > 0)
        way = "over" if float(here) > 0 else "under"
        return (f"{way}-excluded here too" if same else f"{way}-excluded here, unlike the study", same)
    if "vs deprivation" in measure:
        r, published = float(here), _number(study) or 0.0
        study_none = abs(published) < CLEAR_CORRELATION
        if abs(r) < CLEAR_CORRELATION or p_value is not None and p_value >= SIGNIFICANT:
            # not evidence either way: no more agreement with a study that found none than difference
            test = "" if p_value is None else f" (p = {p_value:.2g})"
            return f"no clear relation here{test}", None
        # IDACI decile 1 is the most deprived tenth: a negative rho is more exclusion where more deprived
        way = "more" if r < 0 else "less"
        return (f"{way} exclusion in more deprived areas here, where the study found "
                f"{'no relation' if study_none else published}", False)  # fmt: skip
    if isinstance(here, str) and here.endswith("%"):
        return _share_reading(str(study), here)
    return "", None


def read_side_by_side(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table with a `reading` column, and a sentence: where this authority agrees and differs, and
    which measures are not clear here. `p_value` (optional) is each measure's own test, where it has one."""
    p_values = table["p_value"] if "p_value" in table else [None] * len(table)
    columns = zip(table["measure"], table["study"], table["here"], p_values, strict=True)
    readings = [_reading(measure, study, here, _p(p)) for measure, study, here, p in columns]
    table = table.assign(reading=[words for words, _ in readings]).drop(columns="p_value", errors="ignore")
    differs = [m for m, (_, agree) in zip(table["measure"], readings, strict=True) if agree is False]
    unclear = [m for m, (words, agree) in zip(table["measure"], readings, strict=True)
               if agree is None and words]  # fmt: skip
    agrees = sum(agree is True for _, agree in readings)
    if not differs and not agrees:
        return table, "Too little is shown here to set beside the study."
    conclusion = f"This authority agrees with the study on {agrees} of {agrees + len(differs)} measures read"
    conclusion += f"; it differs on: {'; '.join(differs)}" if differs else ""
    if unclear:
        conclusion += f". Not clear here either way (p >= 0.05, or too few to test): {'; '.join(unclear)}"
    return table, conclusion + "."


def _p(value: object) -> float | None:
    return None if value is None or value != value else float(value)
