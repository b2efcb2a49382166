"""Ratios of a group with none of the event: 0 of 549 Indian pupils excluded against about 7.3 predicted,
0 of 17 pupils on a child protection plan selected.

Every bootstrap replicate of a zero count is zero, so the percentile interval of such a ratio read
"0.00 [0.00, 0.00]", as if certain, though none of 549 would be seen about once in 1,500 years were the
model right (e^-7.3), and none of 17 is common. So, as a rate of none reads Wilson's interval (0 of 67
excluded: 0.000 [0.000, 0.054]), a ratio whose group has none of the event reads an exact one, its lower
end 0:

- observed / predicted (and the same over the year's): Poisson's exact 95% upper bound on a count of which
  none were seen, -ln(0.025) = 3.689, over the pupils' expected count (the sum of their probabilities);
  over the year's observed / predicted for the ratio against the year's (the year's taken as known: it
  rests on every pupil). The count is a sum of pupils' chances, less spread than Poisson's, so the bound
  is conservative.
- a rate ratio (base, selection and error rates): the group's Wilson upper bound, the one its rate's
  interval shows in the tables, over the reference group's rate (taken as known: the reference is the
  attribute's largest group), so the reader can check it against the table.

Its p-value (`zero_p_value`), for `models.fairness_chance`'s adjustment, is read from that upper bound as
a nonzero ratio's is read from its interval: an upper bound U says none would be seen with chance 2.5% at
a ratio of U, so with chance 0.025^(1/U) at a ratio of 1 (Poisson: e^-E for E expected), doubled for two
sides: an interval whose upper end is below 1 is a p-value below 0.05, as for any other ratio.

A comparison is one group's pupils (`pupils_keys`: a digest of which pupils they are), so two groups that
read alike (11 groups of none at "0.00 [0.00, 0.00]") are as many comparisons as groups, and a group
restated (girls / no SEN where every pupil has no SEN) is one.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

ZERO_UPPER = math.log(40)  # -ln(0.025): Poisson's exact 95% upper bound where none were seen


def pupils_keys(codes: np.ndarray, groups: int) -> list[str]:
    """Per group (0 .. groups - 1 of `codes`, each pupil's group), a digest of which pupils it holds:
    equal where two groups (of any attributes of one review) are the same pupils."""
    return [hashlib.blake2b(np.flatnonzero(codes == g).astype(np.int64).tobytes(), digest_size=8).hexdigest()
            for g in range(groups)]  # fmt: skip


def row_pupils(attribute: str, row) -> str:
    """Who a table's row is (`pupils_keys`: the same pupils restated are one; else its attribute and
    group)."""
    return str(row["members"]) if "members" in row.index else f"{attribute}={row.get('group', row.name)}"


def zero_ratios(table: pd.DataFrame, parts: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """`fairness.group_metrics`'s table with each ratio of a group with none of its metric's numerator
    (`parts`: metric -> numerator, denominator counts) given its exact interval: 0 to the group's Wilson
    upper bound (its `{metric}_high`) over its reference's rate."""
    rates = table.set_index("group")
    for metric, (events, pupils) in parts.items():
        reference = table["reference"].map(rates[metric]).astype(float)
        zero = (table[events] == 0) & (table[pupils] > 0) & (reference > 0) & (table[f"{metric}_ratio"] == 0)
        table.loc[zero, f"{metric}_ratio_low"] = 0.0
        table.loc[zero, f"{metric}_ratio_high"] = table.loc[zero, f"{metric}_high"] / reference[zero]
    return table


def zero_calibration(summary: pd.DataFrame) -> pd.DataFrame:
    """`fairness.calibration_summary`'s rows (with bootstrap intervals) where a group has none of the
    event: observed / predicted 0 to Poisson's exact bound over its expected count, and against the
    year's 0 to that over the year's observed / predicted (the groups' sums: all pupils')."""
    expected = summary["n"] * summary["predicted"]
    year = (summary["n"] * summary["observed"]).sum() / expected.sum()
    zero = (summary["observed"] == 0) & (expected > 0)
    summary.loc[zero, ["ratio_low", "relative_low"]] = 0.0
    summary.loc[zero, "ratio_high"] = ZERO_UPPER / expected[zero]
    summary.loc[zero, "relative_high"] = ZERO_UPPER / expected[zero] / year if year > 0 else np.nan
    return summary


def zero_p_value(high: float) -> float:
    """The two-sided p-value of a zero ratio = 1 from its exact upper bound (NaN where it has none)."""
    if not (np.isfinite(high) and high > 0):
        return float("nan")
    return min(1.0, 2 * 0.025 ** (1 / high))
