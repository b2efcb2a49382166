"""The review's calibration judgements: the model's calibration across the whole reviewed year, stated
first, and each group's judged against it.

A model whose probabilities run low for every pupil alike (observed / predicted 1.26 for the year) is one
model-wide finding with one remedy, recalibrating the model on a recent year; judged by each group's own
ratio it read as four group findings (boys 1.41, White British 1.38, not FSM 1.35, no social care 1.25)
and the year's ratio was never said. So a group's calibration is its observed / predicted divided by the
year's (`relative` of `fairness.calibration_summary`, with its interval from the same bootstrap
replicates as the year's), and a group is miscalibrated only where that is outside 0.8-1.25 with an
interval excluding 1: a uniform scale is not a group difference.

The year's ratio rests on all pupils and those excluded, as the report's totals show them: it is stated
where both are shown (`group_counts.shown_total`) and neither is 1-9, as a group's observed / predicted is
where its pupils and excluded are. Where it is not stated, a group is judged by its own ratio (its ratio
to the year's would give the year's back).
"""

from __future__ import annotations

import numpy as np

from exclusion_risk.models.fairness import FAIR_RANGE, FairnessReview
from exclusion_risk.models.group_counts import shown_total
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, is_withheld

YEAR = "all pupils"  # the year finding's attribute and group
RELATIVE_METRIC = "observed / predicted against the year's"
OWN_METRIC = "observed / predicted"


def certain(low: float, high: float, null: float = 1.0) -> bool:
    return bool(np.isfinite(low) and np.isfinite(high) and (low > null or high < null))


def outside(ratio: float) -> bool:
    """Outside 0.8-1.25: 0 too (none of a group's 549 pupils excluded against about 7 predicted; its
    exact interval, `fairness_zero`, says whether that is more than chance)."""
    return bool(np.isfinite(ratio) and ratio >= 0 and not FAIR_RANGE[0] <= ratio <= FAIR_RANGE[1])


def within(low: float, high: float) -> bool:
    """The interval lies within 0.8-1.25: calibrated, whatever the estimate."""
    return bool(np.isfinite(low) and np.isfinite(high) and FAIR_RANGE[0] <= low and high <= FAIR_RANGE[1])


def interval_text(low: float, high: float) -> str:
    return f" [{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else ""


def reading_direction(observed_over_predicted: float) -> str:
    """How to read a miscalibrated group's probabilities: "higher" than stated where the model
    under-predicts (observed / predicted above 1), else "lower" (the finding's action; a scoring's note)."""
    return "higher" if observed_over_predicted > 1 else "lower"


def year_calibration(result: FairnessReview, shown: dict[str, dict]) -> dict | None:
    """All pupils' observed / predicted with its interval, whether it is miscalibrated (outside 0.8-1.25,
    the interval excluding 1) or calibrated (the interval within 0.8-1.25), and the line that says so;
    None where the review has none or its pupils or excluded are withheld or 1-9 (`shown`: the tables'
    counts as shown)."""
    if result.year_calibration is None or not len(result.year_calibration):
        return None
    totals = [shown_total(shown, c, v) for c, v in (("n", result.pupils), ("positives", result.positives))]
    counts = [c for c in (result.pupils, result.positives) if c > 0]
    if any(is_withheld(t) for t in totals) or not counts or min(counts) < SUPPRESSION_THRESHOLD:
        return None
    row = result.year_calibration.iloc[0]
    ratio, low, high = (float(row[k]) for k in ("observed_over_predicted", "ratio_low", "ratio_high"))
    if not np.isfinite(ratio):
        return None
    miscalibrated, calibrated = outside(ratio) and certain(low, high), within(low, high)
    figures = (f"observed / predicted {ratio:.2f}{interval_text(low, high)} ({row['observed']:.2%} "
               f"observed against {row['predicted']:.2%} predicted)")  # fmt: skip
    if miscalibrated:
        ran = "low" if ratio > 1 else "high"
        text = (f"Across all pupils in the year the model's probabilities ran {ran}: {figures}; a 20% score "
                f"meant about {20 * ratio:.0f}%.")  # fmt: skip
    elif calibrated:
        text = f"Across all pupils in the year the model is calibrated: {figures}, within 0.8-1.25."
    else:
        text = (f"Across all pupils in the year {figures}: too uncertain to call the model calibrated for "
                "the year (the interval is not within 0.8-1.25).")  # fmt: skip
    return {"ratio": ratio, "low": low, "high": high, "observed": float(row["observed"]),
            "predicted": float(row["predicted"]), "miscalibrated": miscalibrated, "calibrated": calibrated,
            "text": text}  # fmt: skip


def group_calibration(calibration, year: dict | None) -> dict | None:
    """A group's calibration as judged (`calibration`: its `calibration_summary` row; None where not
    shown): against the year's where the year's is stated and the row has it (`relative`), else its own.
    Keys: ratio, low, high (what is judged), own (its own observed / predicted) and own_high (its upper
    end), relative (judged against the year's), miscalibrated, calibrated, text (the numbers in words),
    metric, pupils and expected (their probabilities' sum: the excluded the model predicts)."""
    if calibration is None:
        return None
    own, own_low, own_high = (float(calibration[k]) for k in ("observed_over_predicted", "ratio_low",
                                                              "ratio_high"))  # fmt: skip
    own_text = f"observed / predicted {own:.2f}{interval_text(own_low, own_high)}"
    relative = year is not None and "relative" in calibration.index and np.isfinite(calibration["relative"])
    if relative:
        ratio, low, high = (float(calibration[k]) for k in ("relative", "relative_low", "relative_high"))
        text = (f"{own_text} against {year['ratio']:.2f} for all pupils, "
                f"{ratio:.2f}{interval_text(low, high)} times the year's")  # fmt: skip
    else:
        ratio, low, high, text = own, own_low, own_high, own_text
    return {"ratio": ratio, "low": low, "high": high, "own": own, "relative": relative,
            "miscalibrated": outside(ratio) and certain(low, high), "calibrated": within(low, high),
            "text": text, "metric": RELATIVE_METRIC if relative else OWN_METRIC, "own_high": own_high,
            "pupils": int(calibration["n"]), "expected": float(calibration["n"] * calibration["predicted"])}
