"""How a back-test's realised precision at 5% is judged against the model's stated test-year precision
(`exclusion-risk evaluate`'s `comparison`): both estimates, judged by their difference; an in-sample check
(the scored year at or before the model's test year) is recorded as such and never judged.

The stated figure is the train run's: precision of the top `metrics.top_share` pupils of its test year
with a Poisson-bootstrap interval (the registry's `metric.precision_at_5pct` and `.ci` tags); the realised
one is this scoring's count over its top 5% with a Wilson interval (`band_precision.wilson`).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

from exclusion_risk import calendar
from exclusion_risk.models.band_precision import CONFIDENCE


def parse_interval(text: str | None) -> tuple[float, float] | None:
    """A registered version's "low-high" interval tag -> (low, high); None when absent or unreadable."""
    if not text:
        return None
    low, sep, high = str(text).partition("-")
    try:
        return (float(low), float(high)) if sep else None
    except ValueError:
        return None


# How realised precision is judged against the model's stated precision (evaluation.json `comparison`).
COMPARISON_METHOD = (
    "the difference realised - stated against its standard error sqrt(se_stated^2 + se_realised^2), "
    "each se taken as its 95% interval's half-width / 1.96; significant when |difference| > 1.96 se"
)
_Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
IN_SAMPLE = (
    "an in-sample check (the model was fitted or tested on this year's outcomes), not a test on new pupils"
)


def scored_in_sample(year: str | None, test_year: str | None, train_years: str | None = None) -> bool:
    """Whether scores of `year` are in sample for a model tested on `test_year`: from its first train
    year (`train_years`, a comma list; unknown: any year) to the test year, the year's outcomes were used
    to fit, choose or test the model (unknown or unreadable years: not known to be). A year before the
    first train year is out of sample: the model never saw its outcomes."""
    try:
        if not (year and test_year) or calendar.start_year(year) > calendar.start_year(test_year):
            return False
        first = min((calendar.start_year(y) for y in (train_years or "").split(",") if y.strip()),
                    default=None)  # fmt: skip
        return first is None or calendar.start_year(year) >= first
    except ValueError:
        return False


def as_recorded(checked: dict[str, Any], test_year: str | None,
                train_years: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A version's `last_checked` tag as it should read: one recorded before `out_of_sample` was (a
    back-test of a year from the first train year to `test_year` tagged "consistent") is marked
    in-sample, unjudged."""
    if "out_of_sample" in checked:
        return checked
    if not scored_in_sample(checked.get("year"), test_year, train_years):
        return {**checked, "out_of_sample": True}
    return {**checked, "out_of_sample": False, "consistent_with_stated": None,
            "verdict": f"not compared: {IN_SAMPLE}"}  # fmt: skip


def _se(low: float | None, high: float | None) -> float | None:
    return None if low is None or high is None else (float(high) - float(low)) / (2 * _Z)


def compare_with_stated(
    realised: dict[str, Any], info: dict[str, Any], out_of_sample: bool = True
) -> dict[str, Any]:
    """Realised precision at 5% against the model's test-year estimate and interval (its version tags).

    Both are estimates: the stated one from the test year's pupils, the realised one from this year's.
    So the verdict judges their difference against the standard error of a difference (COMPARISON_METHOD),
    not the realised point against the stated interval (which, with no change at all, falls outside it
    far more often than 5% of the time). `consistent_with_stated`: True, False (significantly below or
    above), or None when not compared: also when not `out_of_sample` (the scored year's outcomes were
    used to fit or test the model), where agreement would say nothing of how it does on new pupils."""
    stated = (info.get("metrics") or {}).get("precision_at_5pct") or {}
    interval = parse_interval(stated.get("interval"))
    out = {
        "test_year": info.get("test_year"),
        "stated": stated.get("estimate"),
        "stated_ci_low": interval[0] if interval else None,
        "stated_ci_high": interval[1] if interval else None,
        "realised": realised.get("precision"),
        "realised_ci_low": realised.get("ci_low"),
        "realised_ci_high": realised.get("ci_high"),
        "difference": None,
        "difference_se": None,
        "consistent_with_stated": None,
        "out_of_sample": out_of_sample,
        "method": COMPARISON_METHOD,
    }
    se_realised = _se(realised.get("ci_low"), realised.get("ci_high"))
    if interval is None or stated.get("estimate") is None:
        out["verdict"] = "not compared: the model states no interval for precision at 5%"
        return out
    if realised.get("precision") is None or se_realised is None:
        out["verdict"] = "not compared: too few pupils to show the realised precision"
        return out
    difference = float(realised["precision"]) - float(stated["estimate"])
    se = math.hypot(_se(*interval), se_realised)
    out["difference"], out["difference_se"] = difference, se
    if not out_of_sample:
        out["verdict"] = f"not compared: {IN_SAMPLE}"
        return out
    significant = abs(difference) > _Z * se if se > 0 else difference != 0
    out["consistent_with_stated"] = not significant
    out["verdict"] = (
        "significantly " + ("below" if difference < 0 else "above") if significant else "consistent with"
    ) + " the model's stated precision"
    return out
