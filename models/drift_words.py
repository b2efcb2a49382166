"""Drift's shares in words, each at the precision it was published to.

A share of pupils is published rounded to the decimal place worth 10 pupils or more
(`drift_published`): 0.1% of a 16,000-pupil pair of reference years, a whole percent of one 8,000-pupil
year (0.1% would be 8 pupils). Printed alike with one decimal, a year's share read as precise as the
reference's and, rounded to nothing, as none: on a tester's 8,000-pupil authority "Earlier permanent
exclusions 0.1% -> 0.0%" was 0.14% (22 pupils) -> 0.28% (23 pupils), a child protection plan "0.2% ->
0.0%" had 12 pupils now, school moves "1.6% -> 1.0%" were 1.38%, and a warning said "above zero for 0.0%
... (0% of it: halved or worse)" with pupils behind it.

So each share is printed to its own place (`share_text`: "1%" at whole percents, "1.4%" at 0.1%), a share
rounded to 0 or 1 that the count contradicts as "under 0.5%" or "over 99.5%" (half a unit: what the
rounding allows; a true none or all is no secret and reads "0%" or "100%", the project's rule as
`band_precision.percent`'s), and a ratio of two shares is printed only where the shares as printed agree
with the check's verdict on the exact ones (`ratio_shown`): otherwise the verdict alone ("halved or worse").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.privacy import share_step

WITHHELD_WORD = "withheld"


def _decimals(step: float) -> int:
    """Decimals of a percent printed to `step` (0.01 -> 0, 0.001 -> 1); one where it is exact (0)."""
    return 1 if step <= 0 else max(round(-math.log10(step)) - 2, 0)


def share_text(shown: float | None, step: float, exact: float | None = None,
               withheld: str = WITHHELD_WORD) -> str:  # fmt: skip
    """A published share (`shown`, to `step`; 0 for exact) in words; `exact`, where known, says whether a
    share rounded to 0 or 1 is truly none or all (unknown: "under" or "over", which hold for both)."""
    if shown is None:
        return withheld
    places = _decimals(step)
    half = step / 2 if step > 0 else 0.0005  # exact: what one decimal would print as 0.0% or 100.0%
    truth = exact if exact is not None else shown if step <= 0 else None
    if shown < half:
        return "0%" if truth == 0 else f"under {100 * half:.{places + 1}f}%"
    if 1 - shown < half:
        return "100%" if truth == 1 else f"over {100 * (1 - half):.{places + 1}f}%"
    return f"{100 * shown:.{places}f}%"


def ratio_shown(ratio: float, factor: float, now: float | None, reference: float | None) -> bool:
    """Whether the ratio of the shares as printed (`now` / `reference`) may stand for the exact `ratio`
    the check judged: both printed, and past the same line as it (a year's 0.28% printed 0% is no
    fall to nothing; 1.6 times printed 2.0 no doubling)."""
    if now is None or not reference:
        return False
    shown = now / reference
    if ratio <= 1 / factor:
        return 0 < shown <= 1 / factor or ratio == 0 == shown
    return shown >= factor


def printed_row(row: dict[str, Any], feature: dict[str, Any], values: pd.Series, missing_now: float,
                step: float, known: bool) -> dict[str, str]:  # fmt: skip
    """A feature row's shares in words (`share_text`): the reference's to `step`, its exact figures `known`
    where this process built the profile (`drift_published.PUBLISHED`); the year's to its own place."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    has = x[~np.isnan(x)]
    before = feature["missing"] if known else None
    texts = {"missing_reference": share_text(row["missing_reference"], step, before),
             "missing_current": share_text(row["missing_current"], share_step(len(x)), missing_now)}
    if "prevalence" in feature:
        now = float(np.count_nonzero(has)) / has.size if has.size else None
        texts["prevalence_reference"] = share_text(row["prevalence_reference"], step,
                                                   feature["prevalence"] if known else None)  # fmt: skip
        texts["prevalence_current"] = share_text(row["prevalence_current"], share_step(has.size), now)
    return texts
