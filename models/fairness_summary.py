"""The fairness review's plain-English summary: the few findings that matter, each with what it means and
a suggested action.

A finding is a group whose rate is outside 0.8-1.25 times its reference group's (or whose observed /
predicted ratio is), ranked by certainty first (the 95% interval of the ratio excludes 1) and then by size
(|log ratio|). Differences are kept apart by kind:

- base rate: the group is excluded more or less often in the data. Not the model's error; a model that
  predicts well selects such a group more (or less) often too.
- selection: selected more or less often than the group's exclusion rate alone explains.
- calibration: the model's probabilities are too high or too low for the group (observed / predicted).
- error rate, follows the base rate: the model is calibrated for the group and the error-rate gap points
  the way the base rate does. With one threshold, a calibrated model cannot give groups with different
  base rates equal error rates, so this gap is the base-rate difference seen through the threshold.
- error rate in the base rate's direction, with miscalibration: the gap points the way the base rate does,
  but the model is not calibrated for the group, so part of it may be the model's.
- error rate, not explained by the base rate: the gap points against the base rate, or the base rates do
  not differ. This one is the model's.

Only groups whose counts are all shown (none "<10" or withheld) and whose rates rest on 10+ pupils are
summarised, so the summary reveals nothing the tables withhold.
"""

from __future__ import annotations

import math

import numpy as np

from exclusion_risk.models.fairness import BASE_RATE, FAIR_RANGE, METRIC_LABELS, FairnessReview, denominator
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, is_withheld

MAX_FINDINGS = 10
# recall is 1 - FNR: summarising both would say one thing twice
_ERROR_METRICS = ("fpr", "fnr", "precision")
# The direction an error rate moves when the base rate rises, at one threshold with calibrated scores.
_BASE_RATE_DIRECTION = {"fpr": 1, "fnr": -1, "precision": 1}

KINDS = {
    "base rate": "difference in outcomes (base rate)",
    "selection": "selection beyond the base rate",
    "calibration": "calibration",
    "error, base rate": "error rate that follows the base rate",
    "error, mixed": "error rate in the base rate's direction, with miscalibration",
    "error, model": "error rate not explained by the base rate",
    "option": "trade-off measured by the options",
}
_ACTIONS = {
    "base rate": (
        "Read it as context, not as the model's error: check whether the recorded outcome itself reflects "
        "unequal treatment (exclusion practice) before relying on scores for this group; do not equalise "
        "selection by hand."
    ),
    "selection": (
        "Look at SHAP by group for the inputs that carry the gap and at this group's calibration; weigh the "
        "options below."
    ),
    "calibration": (
        "Consider per-group recalibration or protected characteristics as inputs (options below); until then "
        "read this group's probabilities as {direction} than stated."
    ),
    "error, base rate": (
        "No recalibration is indicated. Equal error rates would need a different threshold per group: a "
        "policy decision to record, not a model fix."
    ),
    "error, mixed": (
        "Recalibrate for the group (options below) and look again: what remains then is the base rate's "
        "doing; what goes was the model's."
    ),
    "error, model": (
        "Investigate: SHAP by group shows which inputs carry the difference; weigh the options below "
        "(recalibration, protected inputs) and monitor this group."
    ),
    "option": (
        "Decide with the options' numbers (precision, calibration and selection by group); record why."
    ),
}


def _certain(low: float, high: float, null: float = 1.0) -> bool:
    return bool(np.isfinite(low) and np.isfinite(high) and (low > null or high < null))


def _outside(ratio: float) -> bool:
    return bool(np.isfinite(ratio) and ratio > 0 and not FAIR_RANGE[0] <= ratio <= FAIR_RANGE[1])


def _same_direction(ratio: float, base: float, sign: int) -> bool:
    """Whether a rate ratio moves the way a base-rate difference (outside 0.8-1.25) would move it."""
    return _outside(base) and np.sign(math.log(ratio)) == sign * np.sign(math.log(base))


def _interval(low: float, high: float) -> str:
    return f" [{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else ""


def _finding(attribute, group, reference, kind, metric, ratio, low, high, meaning, direction="") -> dict:
    return {
        "attribute": attribute,
        "group": group,
        "reference": reference,
        "kind": KINDS[kind],
        "metric": metric,
        "ratio": float(ratio),
        "low": float(low),
        "high": float(high),
        "certain": _certain(low, high),
        "size": abs(math.log(ratio)) if ratio > 0 else float("inf"),
        "meaning": meaning,
        "action": _ACTIONS[kind].format(direction=direction),
    }


def _group_findings(attribute: str, reference: str, r, calibration) -> list[dict]:
    group = r["group"]
    found = []
    base, base_text = r[f"{BASE_RATE}_ratio"], f"{r[f'{BASE_RATE}_ratio']:.2f}"
    # miscalibrated: the interval says so; calibrated: the estimate is within 0.8-1.25 (an uncertain
    # small group is neither, and its error-rate gaps are not put down to the base rate)
    miscalibrated = calibration is not None and (
        _outside(calibration["observed_over_predicted"])
        and _certain(calibration["ratio_low"], calibration["ratio_high"])
    )
    calibrated = calibration is not None and not _outside(calibration["observed_over_predicted"])
    if _outside(base):
        found.append(
            _finding(
                attribute,
                group,
                reference,
                "base rate",
                METRIC_LABELS[BASE_RATE],
                base,
                r[f"{BASE_RATE}_ratio_low"],
                r[f"{BASE_RATE}_ratio_high"],
                f"{_pupils(group)} were excluded or suspended {base_text} times as often as "
                f"{_pupils(reference)} in the review year: a difference in outcomes, not in the model's "
                "errors.",
            )
        )
    selection = r["selection_rate_ratio"]
    if _outside(selection) and denominator(r, "selection_rate") >= SUPPRESSION_THRESHOLD:
        beyond = not _same_direction(selection, base, 1)
        found.append(
            _finding(
                attribute,
                group,
                reference,
                "selection" if beyond else "base rate",
                METRIC_LABELS["selection_rate"],
                selection,
                r["selection_rate_ratio_low"],
                r["selection_rate_ratio_high"],
                f"{_pupils(group)} are selected {selection:.2f} times as often as {_pupils(reference)} "
                f"while excluded {base_text} times as often: "
                + (
                    "their exclusion rate does not explain it."
                    if beyond
                    else "in the direction of their exclusion rate (one threshold widens a difference in "
                    "risk)."
                ),
            )
        )
    if miscalibrated:
        ratio = calibration["observed_over_predicted"]
        direction = "higher" if ratio > 1 else "lower"
        found.append(
            _finding(
                attribute,
                group,
                "",
                "calibration",
                "observed / predicted",
                ratio,
                calibration["ratio_low"],
                calibration["ratio_high"],
                f"For {_pupils(group)} the model {'under' if ratio > 1 else 'over'}-predicts: observed / "
                f"predicted {ratio:.2f}{_interval(calibration['ratio_low'], calibration['ratio_high'])}, "
                f"so a 20% score means about {20 * ratio:.0f}% for them.",
                direction,
            )
        )
    for metric in _ERROR_METRICS:
        ratio = r[f"{metric}_ratio"]
        if not _outside(ratio) or denominator(r, metric) < SUPPRESSION_THRESHOLD:
            continue
        same_way = _same_direction(ratio, base, _BASE_RATE_DIRECTION[metric])
        kind = "error, model" if not same_way else "error, base rate" if calibrated else "error, mixed"
        why = (
            f"it points the way the group's exclusion rate does ({base_text} times the reference's), but the "
            "model is not calibrated for the group (see calibration), so part of it may be the model's."
            if kind == "error, mixed"
            else f"it follows the group's different exclusion rate ({base_text} times the reference's): "
            "the model is calibrated for the group, and with one threshold a calibrated model cannot give "
            "groups with different base rates equal error rates."
            if kind == "error, base rate"
            else "the group's exclusion rate does not explain it"
            + ("; the model is miscalibrated for the group (see calibration)." if miscalibrated else ".")
        )
        found.append(
            _finding(
                attribute,
                group,
                reference,
                kind,
                METRIC_LABELS[metric],
                ratio,
                r[f"{metric}_ratio_low"],
                r[f"{metric}_ratio_high"],
                f"The {METRIC_LABELS[metric]} of {_pupils(group)} is {ratio:.2f} times that of "
                f"{_pupils(reference)}: {why}",
            )
        )
    return found


def _pupils(group: str) -> str:
    """A group named as pupils: "girls", "boys" and "... pupils" as they are, "Asian" as "Asian pupils"."""
    return group if group in ("girls", "boys") or group.endswith("pupils") else f"{group} pupils"


def findings(result: FairnessReview, shown: dict[str, dict], limit: int = MAX_FINDINGS) -> list[dict]:
    """The review's findings, most certain and largest first (at most `limit`), from groups whose counts
    are all shown in `shown` (attribute -> group -> count -> value as published)."""
    found = []
    for a in [*result.attributes, *result.intersections]:
        calibration = result.calibration[a.attribute][0].set_index("group")
        if any(map(is_withheld, shown.get(a.attribute, {}).get(a.reference, {}).values())):
            continue  # its ratios are not shown: they would give the reference's hidden rates back
        for _, r in a.table.iterrows():
            counts = shown.get(a.attribute, {}).get(r["group"], {})
            if r["is_reference"] or r["n"] < SUPPRESSION_THRESHOLD or any(map(is_withheld, counts.values())):
                continue
            cal = calibration.loc[r["group"]] if r["group"] in calibration.index else None
            found.extend(_group_findings(a.attribute, a.reference, r, cal))
    if result.ablation is not None:
        change = result.ablation.precision["change"]
        model, ablated = result.ablation.precision["model"], result.ablation.precision["ablated"]
        if _certain(change.low, change.high, null=0.0) and model.estimate > 0 and ablated.estimate > 0:
            found.append(
                _finding(
                    "all pupils",
                    "all",
                    "",
                    "option",
                    "precision at capacity",
                    ablated.estimate / model.estimate,
                    (model.estimate + change.low) / model.estimate,
                    (model.estimate + change.high) / model.estimate,
                    f"Retrained {result.ablation.direction}, the model's precision at capacity changes by "
                    f"{change.estimate:+.3f} [{change.low:+.3f}, {change.high:+.3f}]: a trade-off between "
                    "accuracy and using protected characteristics.",
                )
            )
    # An intersection whose second attribute has one group here repeats the first's numbers: keep one.
    seen, unique = set(), []
    for f in found:
        key = (f["kind"], f["metric"], round(f["ratio"], 9), round(f["low"], 9), round(f["high"], 9))
        if key not in seen:
            seen.add(key)
            unique.append(f)
    unique.sort(key=lambda f: (not f["certain"], -f["size"]))
    return [{"rank": i + 1, **f} for i, f in enumerate(unique[:limit])]
