"""The fairness review's plain-English summary: the few findings that matter, each with what it means and
a suggested action.

A finding is a group whose rate is outside 0.8-1.25 times its reference group's (or whose observed /
predicted is, over all pupils'), or the model's calibration across the whole year where all pupils'
observed / predicted is. Differences are kept apart by kind:

- base rate: the group is excluded more or less often in the data. Not the model's error; a model that
  predicts well selects such a group more (or less) often too.
- selection beyond the base rate: the selection ratio is further from 1 than the base-rate ratio (one
  threshold widens the difference in risk) or points the other way; selection that follows the base
  rate (closer to 1: one threshold narrows the difference) is context.
- selection, base rate withheld: the selection ratio is outside 0.8-1.25 where the group's or its
  reference's base rate is withheld: still a finding (ranked and adjusted as the others are), saying that
  how much of the gap the base rate explains cannot be stated here.
- calibration across the year: all pupils' observed / predicted, stated first (`year_calibration`); a
  finding, ranked before every other, where it is outside 0.8-1.25 with its 95% interval excluding 1:
  the model as a whole needs recalibrating on a recent year, not group by group.
- calibration: the model's probabilities are too high or too low for the group against the year's (the
  group's observed / predicted divided by all pupils', outside 0.8-1.25 with its 95% interval, from the
  same bootstrap replicates, excluding 1; a reference group has one too). A model-wide scale is the
  year's finding, not each group's (`models.fairness_calibration`). A group is calibrated only when that
  interval lies within 0.8-1.25; otherwise its calibration is uncertain. Where the year's is not stated
  (its pupils or excluded withheld), the group's own observed / predicted is judged.
- error rate, follows the base rate: the model is calibrated for the group (against the year's) and the
  error-rate gap points the way the base rate does. With one threshold, a calibrated model cannot give
  groups with different base rates equal error rates, so this gap is the base-rate difference seen
  through the threshold.
- error rate in the base rate's direction, with miscalibration or with calibration uncertain: part of it
  may be the model's.
- error rate, not explained by the base rate: the gap points against the base rate, or the base rates do
  not differ. This one is the model's.
- options: per option measured (retrained, recalibrated), its precision change and the largest changes
  in group selection ratio and calibration.

Ranking: the year's calibration, then the model's findings (calibration, error not explained by the base
rate, the options), then the mixed ones, then base-rate context; within each, the ratio's 95% interval
excluding 1 before not, then by size (|log ratio|); and before all, the findings that hold once the number
of ratios compared is allowed for (`models.fairness_chance`: many ratios are compared, and 1 in 20
intervals excludes 1 by chance alone), the rest after them. The summary's top list keeps at most
one base-rate context line per group and always the options' trade-offs; every finding is in
`fairness.json` (summary.all).

A rate is summarised only where the tables show it: where every count it rests on is shown
(`rate_withheld`: the base rate's pupils and excluded, the selection rate's pupils and selected, an
error rate's every count) and 10 or more (`rate_support`, counting tp, fp, fn, tn), for the group and
for its reference (a ratio to a hidden rate gives it back); a group's calibration where its observed rate
is shown; the year's where its pupils and excluded are. So the summary reveals nothing the tables
withhold, and states what they show.
"""

from __future__ import annotations

import math

import numpy as np

from exclusion_risk.models.fairness import (
    BASE_RATE,
    METRIC_LABELS,
    FairnessReview,
    rate_support,
)
from exclusion_risk.models.fairness_calibration import (
    YEAR,
    group_calibration,
    interval_text,
    outside,
    reading_direction,
    year_calibration,
)
from exclusion_risk.models.fairness_chance import comparison_key, mark, qualify_cited_calibration
from exclusion_risk.models.fairness_intersections import SEPARATOR, intersection_parts
from exclusion_risk.models.fairness_option_changes import (
    calibration_advice,
    largest_changes,
    options_measured,
    rate_shown,
    ratios_withheld,
    worsened_calibration,
)
from exclusion_risk.models.fairness_options import AS_IS
from exclusion_risk.models.fairness_words import group_phrase, outcome_words
from exclusion_risk.models.fairness_zero import row_pupils
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD

MAX_FINDINGS = 10
# recall is 1 - FNR: summarising both would say one thing twice
_ERROR_METRICS = ("fpr", "fnr", "precision")
# The direction an error rate moves when the base rate rises, at one threshold with calibrated scores.
_BASE_RATE_DIRECTION = {"fpr": 1, "fnr": -1, "precision": 1}

KINDS = {
    "year calibration": "the model's calibration across the year",
    "base rate": "difference in outcomes (base rate)",
    "selection": "selection beyond the base rate",
    "selection, base rate": "selection that follows the base rate",
    "selection, base rate withheld": "selection, base rate withheld",
    "calibration": "calibration",
    "error, base rate": "error rate that follows the base rate",
    "error, mixed": "error rate in the base rate's direction, with miscalibration",
    "error, uncertain": "error rate in the base rate's direction, calibration uncertain",
    "error, model": "error rate not explained by the base rate",
    "option": "trade-off measured by the options",
}
# -1: the whole model's (first); 0: the model's doing; 1: possibly the model's; 2: the base rate's (context)
_TIER = {"year calibration": -1, "calibration": 0, "error, model": 0, "option": 0, "selection": 1,
         "selection, base rate withheld": 1, "error, mixed": 1, "error, uncertain": 1, "base rate": 2,
         "selection, base rate": 2, "error, base rate": 2}  # fmt: skip
CONTEXT = 2
_ACTIONS = {
    "year calibration": (
        "Recalibrate the model on a recent year (the whole model, not group by group) and review again; "
        "until then read every pupil's probability as {direction} than stated. Group calibration findings "
        "are judged against this year's ratio."
    ),
    "base rate": (
        "Read it as context, not as the model's error: check whether the recorded outcome itself reflects "
        "unequal treatment (exclusion practice) before relying on scores for this group; do not equalise "
        "selection by hand."
    ),
    "selection": (
        "Look at SHAP by group for the inputs that carry the gap and at this group's calibration; weigh the "
        "options below."
    ),
    "selection, base rate withheld": (
        "Look at SHAP by group for the inputs that carry the gap; the group's or its reference's base rate "
        "is withheld here, so this report cannot say whether the gap is the base rate's or the model's: "
        "weigh the options below and monitor the group."
    ),
    "selection, base rate": (
        "Context: selection follows the group's exclusion rate, less than in proportion. No action on the "
        "model is indicated by this alone."
    ),
    "calibration": (
        "Consider per-group recalibration or protected characteristics as inputs (options below); until then "
        "read this group's probabilities as {direction}."
    ),
    "error, base rate": (
        "No recalibration for the group is indicated. Equal error rates would need a different threshold "
        "per group: a policy decision to record, not a model fix."
    ),
    "error, mixed": (
        "Recalibrate for the group (options below) and look again: what remains then is the base rate's "
        "doing; what goes was the model's."
    ),
    "error, uncertain": (
        "Do not put it down to the base rate yet: the group's calibration is too uncertain to tell. Look at "
        "the recalibrated option below and monitor the group over more years."
    ),
    "error, model": (
        "Investigate: SHAP by group shows which inputs carry the difference; weigh the options below "
        "(recalibration, protected inputs) and monitor this group."
    ),
    "option": (
        "Decide with the options' numbers (precision, calibration and selection by group); record why."
    ),
}


def _same_direction(ratio: float, base: float, sign: int) -> bool:
    """Whether a rate ratio moves the way a base-rate difference (outside 0.8-1.25) would move it."""
    return outside(base) and np.sign(ratio - 1) == sign * np.sign(base - 1)  # 0 too: no log


def _distance(ratio: float) -> float:
    """How far a ratio is from 1 (|log ratio|; a zero ratio infinitely)."""
    return abs(math.log(ratio)) if ratio > 0 else float("inf")


def _finding(attribute, group, reference, kind, metric, ratio, low, high, meaning, direction="") -> dict:
    return {
        "attribute": attribute,
        "group": group,
        "reference": reference,
        "kind": KINDS[kind],
        "tier": _TIER[kind],
        "metric": metric,
        "ratio": float(ratio),
        "low": float(low),
        "high": float(high),
        # none of the group: at least as far from 1 as its exact interval's upper end
        "size": _distance(ratio) if ratio > 0 else -math.log(min(1.0, high)) if high > 0 else float("inf"),
        "meaning": meaning[:1].upper() + meaning[1:],
        "action": _ACTIONS[kind].format(direction=direction),
    }


def _year_finding(year: dict | None) -> list[dict]:
    """The model's calibration across the year, where miscalibrated: one model-wide finding."""
    if year is None or not year["miscalibrated"]:
        return []
    return [_finding(YEAR, YEAR, "", "year calibration", "observed / predicted", year["ratio"], year["low"],
                     year["high"], year["text"], reading_direction(year["ratio"]))]  # fmt: skip


def _calibration_finding(attribute: str, group, judged: dict | None, advice=None, outcome="") -> list[dict]:
    """The group's calibration finding, if miscalibrated against the year's (`judged`:
    `fairness_calibration.group_calibration`). Observed / predicted is the group's own, not a ratio to a
    reference: a reference group (boys, White British) has one too. `advice(attribute, group)`: what the
    options measured did for the group (`fairness_option_changes.calibration_advice`), or None."""
    if judged is None or not judged["miscalibrated"]:
        return []
    ratio, own = judged["ratio"], judged["own"]
    against = " relative to the whole year" if judged["relative"] else ""
    reading = f"{reading_direction(own)} than stated"
    if judged["relative"] and (own > 1) != (ratio > 1):  # boys 1.24 against the year's 1.55: 0.80
        reading += f", though {'more' if ratio > 1 else 'less'} so than the year's as a whole"
    side = "under" if ratio > 1 else "over"
    said = (f"For {group_phrase(attribute, group)} the model {side}-predicts{against}: {judged['text']}, so "
            f"a 20% score means about {20 * own:.0f}% for them.")  # fmt: skip
    if own == 0:  # its pupils are shown, and the mean predicted its expected count rests on
        said = (f"None of the {judged['pupils']:,} {group_phrase(attribute, group)} was "
                f"{outcome or 'counted'}, against about {judged['expected']:.0f} predicted: the model "
                f"{side}-predicts for them{against} ({judged['text']}), so a 20% score means at most about "
                f"{20 * judged['own_high']:.0f}% for them (the 95% interval's upper end).")  # fmt: skip
    found = _finding(attribute, group, "", "calibration", judged["metric"], ratio, judged["low"],
                     judged["high"], said, reading)  # fmt: skip
    measured = advice(attribute, group) if advice else None
    if measured:
        found["action"] = f"{measured} Meanwhile read this group's probabilities as {reading}."
    return [{**found, "observed_over_predicted": own}]


def _selection_finding(attribute, r, outcome: str, base_shown: bool = True) -> dict | None:
    """`base_shown`: the group's and its reference's base rates are shown; where not (a count under 10, or
    withheld so that one cannot be worked out) the gap is a finding still, without the base rate."""
    selection, base = r["selection_rate_ratio"], r[f"{BASE_RATE}_ratio"]
    if not outside(selection):
        return None
    group, reference = group_phrase(attribute, r["group"]), group_phrase(attribute, r["reference"])
    said = f"{group} are selected {selection:.2f} times as often as {reference}"
    if selection == 0:  # none of them: the pupils and selected (0) are shown with the rate
        said = (f"{group} are never selected (none of {r['n']:,}; at most "
                f"{r['selection_rate_ratio_high']:.2f} times as often as {reference}, the 95% interval's "
                "upper end)")  # fmt: skip
    if not base_shown:  # Asian pupils 0.71 [0.52, 0.94] on the demo, their excluded "x": left out before
        said = (said if selection == 0 else f"{group} are selected {'less' if selection < 1 else 'more'} "
                f"often than {reference} ({selection:.2f} times as often)") + (
                f"; how often they or {reference} were {outcome} (a base rate) is withheld in the tables, so "
                "how much of the gap the base rate explains cannot be stated here.")  # fmt: skip
        return _finding(attribute, r["group"], r["reference"], "selection, base rate withheld",
                        METRIC_LABELS["selection_rate"], selection, r["selection_rate_ratio_low"],
                        r["selection_rate_ratio_high"], said)  # fmt: skip
    if np.isfinite(base) and base > 0:
        said += f" and {outcome} {base:.2f} times as often"
    if _same_direction(selection, base, 1) and _distance(selection) <= _distance(base):
        kind = "selection, base rate"
        said += (": in the direction of their different outcome rate, and closer to equal (one threshold "
                 "narrows the difference).") if base else f": none of them was {outcome} either."
    elif _same_direction(selection, base, 1):
        kind = "selection"
        said += ": further from equal than their outcome rate (one threshold widens the difference in risk)."
    else:
        kind = "selection"
        said += ": their outcome rate does not explain it."
    return _finding(attribute, r["group"], r["reference"], kind, METRIC_LABELS["selection_rate"], selection,
                    r["selection_rate_ratio_low"], r["selection_rate_ratio_high"], said)  # fmt: skip


def _group_findings(
    attribute: str, r, judged: dict | None, shown_metric, outcome: str, advice=None
) -> list[dict]:
    """`shown_metric(metric)`: whether the group's and its reference's `metric` rest on 10+ pupils;
    `judged`: the group's calibration against the year's (`fairness_calibration.group_calibration`);
    `advice`: as `_calibration_finding`'s; `advice(..., measured_only=True)`, the options' part alone
    (`fairness_option_changes.options_measured`), which an error gap advising recalibration says too."""
    group, reference = group_phrase(attribute, r["group"]), group_phrase(attribute, r["reference"])
    found = []
    base = r[f"{BASE_RATE}_ratio"]
    base_text = f"{base:.2f}"
    miscalibrated = bool(judged and judged["miscalibrated"])
    calibrated = bool(judged and judged["calibrated"])
    calibration_text = judged["text"] if judged else ""
    against = " against the year's" if judged and judged["relative"] else ""
    if outside(base) and shown_metric(BASE_RATE):
        found.append(_finding(
            attribute, r["group"], r["reference"], "base rate", METRIC_LABELS[BASE_RATE], base,
            r[f"{BASE_RATE}_ratio_low"], r[f"{BASE_RATE}_ratio_high"],
            (f"{group} were {outcome} {base_text} times as often as {reference} in the review year" if base
             else f"None of the {r['n']:,} {group} was {outcome} in the review year (at most "
             f"{r[f'{BASE_RATE}_ratio_high']:.2f} times as often as {reference}, the 95% interval's "
             "upper end)")
            + ": a difference in outcomes, not in the model's errors.",
        ))  # fmt: skip
    if shown_metric("selection_rate"):
        selection = _selection_finding(attribute, r, outcome, shown_metric(BASE_RATE))
        found.extend([selection] if selection else [])
    found.extend(_calibration_finding(attribute, r["group"], judged, advice, outcome))
    for metric in _ERROR_METRICS:
        ratio = r[f"{metric}_ratio"]
        if not outside(ratio) or not shown_metric(metric):
            continue
        same_way = _same_direction(ratio, base, _BASE_RATE_DIRECTION[metric])
        kind = (
            "error, model" if not same_way else "error, base rate" if calibrated
            else "error, mixed" if miscalibrated else "error, uncertain"
        )  # fmt: skip
        why = {
            "error, mixed": f"it points the way the group's outcome rate does ({base_text} times the "
            f"reference's), but the model is not calibrated for the group{against} ({calibration_text}), so "
            "part of "
            "it may be the model's.",
            "error, uncertain": f"it points the way the group's outcome rate does ({base_text} times the "
            f"reference's), but the group's calibration is uncertain{against} ({calibration_text}: the "
            "interval is not within 0.8-1.25), so it cannot be put down to the base rate alone.",
            "error, base rate": f"it follows the group's different outcome rate ({base_text} times the "
            f"reference's): the model is calibrated for the group{against} ({calibration_text}), and "
            "with one threshold a calibrated model cannot give groups with different base rates equal error "
            "rates.",
            "error, model": "the group's outcome rate does not explain it"
            + ("; the model is miscalibrated for the group (see calibration)." if miscalibrated else "."),
        }[kind]
        found.append(_finding(
            attribute, r["group"], r["reference"], kind, METRIC_LABELS[metric], ratio,
            r[f"{metric}_ratio_low"], r[f"{metric}_ratio_high"],
            f"The {METRIC_LABELS[metric]} of {group} is {ratio:.2f} times that of {reference}: {why}",
        ))  # fmt: skip
        if kind == "error, mixed" and advice:  # its advice is to recalibrate: what the options measured did
            measured = advice(attribute, r["group"], measured_only=True)
            found[-1]["action"] += f" Of the options: {measured}" if measured else ""
    return found


def _option_findings(result: FairnessReview, shown: dict) -> list[dict]:
    """One finding per option measured beside the model as is (or, without options, the ablation)."""
    found = []
    if len(result.options) > 1:
        as_is = next(o for o in result.options if o.name == AS_IS)
        as_is_hidden = ratios_withheld(as_is, result)  # the same for every option
        for option in result.options:
            if option.name == AS_IS or option.change is None or not as_is.precision.estimate > 0:
                continue  # (`not > 0`: a withheld precision is NaN, and no finding is made of it)
            if math.isnan(option.precision.estimate) or math.isnan(option.change.estimate):
                continue
            change, model = option.change, as_is.precision.estimate
            hidden = ratios_withheld(option, result) | as_is_hidden
            ratios = largest_changes(option, as_is, shown, "selection_ratio", hidden)
            calibration = largest_changes(option, as_is, shown, "observed_over_predicted")
            worsened = worsened_calibration(option, as_is, shown)
            found.append(_finding(
                "all pupils", option.name, AS_IS, "option", "precision at capacity",
                option.precision.estimate / model, (model + change.low) / model,
                (model + change.high) / model,
                f"{option.name[0].upper()}{option.name[1:]}: precision at capacity changes by "
                f"{change.estimate:+.3f} [{change.low:+.3f}, {change.high:+.3f}] ({model:.3f} → "
                f"{option.precision.estimate:.3f}); the largest changes in group selection ratios: "
                f"{ratios}; in observed / predicted: {calibration}; left outside 0.8-1.25 and further "
                f"from 1 than as is: {worsened}.",
            ))  # fmt: skip
        return found
    if result.ablation is not None:
        change = result.ablation.precision["change"]
        model, ablated = result.ablation.precision["model"], result.ablation.precision["ablated"]
        if model.estimate > 0 and ablated.estimate > 0 and not math.isnan(change.estimate):
            found.append(_finding(
                "all pupils", f"retrained {result.ablation.direction}", AS_IS, "option",
                "precision at capacity",
                ablated.estimate / model.estimate, (model.estimate + change.low) / model.estimate,
                (model.estimate + change.high) / model.estimate,
                f"Retrained {result.ablation.direction}, the model's precision at capacity changes by "
                f"{change.estimate:+.3f} [{change.low:+.3f}, {change.high:+.3f}]: a trade-off between "
                "accuracy and using protected characteristics.",
            ))  # fmt: skip
    return found


def _family(finding: dict) -> str:
    """The ratios a finding is one of, adjusted together for the number compared (`fairness_chance`)."""
    kind = next(k for k, words in KINDS.items() if words == finding["kind"])
    families = {"year calibration": "the year's calibration", "calibration": "calibration",
                "option": "options' precision"}  # fmt: skip
    return families.get(kind, finding["metric"])


def findings(result: FairnessReview, shown: dict[str, dict], year: dict | None) -> tuple[list[dict], list]:
    """Every finding, ranked (those holding once the number of ratios compared is allowed for first; then
    model's first, then interval excluding 1, then largest), from the rates the tables show (`shown`:
    attribute -> group -> count -> value as published): where the counts a rate rests on are shown and 10
    or more, the group's and its reference's. `year`: `year_calibration(result, shown)`, which the
    groups' calibration is judged against (None where withheld). Also returns the families of ratios
    compared (`fairness_chance.mark`)."""
    found = _year_finding(year)
    tested: dict[str, set] = {}  # every ratio shown, finding or not: what chance is weighed against

    def compared(family: str, ratio, low, high, pupils: str) -> None:
        if np.isfinite(ratio):
            tested.setdefault(family, set()).add(comparison_key(ratio, low, high, pupils))
    outcome = outcome_words(result.model.get("label"))

    def advice(attribute: str, group, measured_only: bool = False) -> str | None:
        return (options_measured if measured_only else calibration_advice)(result, shown, attribute, group)
    for a in [*result.attributes, *result.intersections]:
        calibration = result.calibration[a.attribute][0].set_index("group")
        rows = a.table.set_index("group")
        for _, r in a.table.iterrows():
            cal = calibration.loc[r["group"]] if r["group"] in calibration.index else None
            # observed / predicted is the group's own, not a ratio to a reference: shown with observed
            if r["n"] < SUPPRESSION_THRESHOLD or not rate_shown(shown, a.attribute, r["group"], BASE_RATE):
                cal = None
            judged = group_calibration(cal, year)
            own = row_pupils(a.attribute, r)
            if judged is not None:
                compared("calibration", judged["ratio"], judged["low"], judged["high"], own)
            if r["is_reference"]:
                found.extend(_compares(_calibration_finding(a.attribute, r["group"], judged, advice, outcome),
                                       own, ""))
            if r["is_reference"] or r["n"] < SUPPRESSION_THRESHOLD or r["reference"] not in rows.index:
                continue
            ref = rows.loc[r["reference"]]
            pair = f"{own} against {row_pupils(a.attribute, ref.rename(r['reference']))}"

            def shown_metric(metric, r=r, ref=ref, attribute=a.attribute) -> bool:
                # a ratio to a hidden rate would give it back: the reference's must be shown too
                if not all(rate_shown(shown, attribute, g, metric) for g in (r["group"], r["reference"])):
                    return False
                return min(rate_support(r, metric), rate_support(ref, metric)) >= SUPPRESSION_THRESHOLD

            for metric in (BASE_RATE, "selection_rate", *_ERROR_METRICS):
                if shown_metric(metric):
                    ends = ("", "_low", "_high")
                    compared(METRIC_LABELS[metric], *(r[f"{metric}_ratio{end}"] for end in ends), pair)
            found.extend(_compares(_group_findings(a.attribute, r, judged, shown_metric, outcome, advice),
                                   own, pair))
    found.extend(_option_findings(result, shown))
    # An intersection whose second attribute has one group here restates the first's group: keep one; two
    # groups (or options) that read alike are two.
    seen, unique = set(), []
    for f in found:
        who = f.get("compares", f["group"])
        key = (f["kind"], f["metric"], *comparison_key(f["ratio"], f["low"], f["high"], who))
        if key not in seen:
            seen.add(key)
            unique.append(f)
    families = mark(unique, _family, tested)
    qualify_cited_calibration(unique, KINDS["calibration"], {KINDS["error, mixed"], KINDS["error, model"]})
    unique = [{k: v for k, v in f.items() if k != "compares"} for f in unique]  # a digest: not for the page
    unique.sort(key=lambda f: (not f["beyond_chance"], f["tier"], not f["excludes_1"], -f["size"]))
    return [{"rank": i + 1, **f} for i, f in enumerate(unique)], families


def _compares(found: list[dict], own: str, pair: str) -> list[dict]:
    """Findings with who they compare: a calibration finding its group's pupils (`own`), a rate ratio
    its group's against its reference's (`pair`)."""
    return [{**f, "compares": own if f["kind"] == KINDS["calibration"] else pair} for f in found]


def summary(result: FairnessReview, shown: dict[str, dict], limit: int = MAX_FINDINGS) -> dict:
    """{"top": the findings the page leads with, "all": every finding, "omitted": how many are not in
    top, "year_calibration": the year's calibration and its line (`fairness_calibration.year_calibration`;
    None where withheld), "comparisons": the ratios compared per measure, with how many holding are
    findings and how many lie within 0.8-1.25 (`fairness_chance.mark`)}.
    Top: in rank order, at most one base-rate context line per group, every option's
    trade-off whose precision change holds beyond chance, at most `limit` (more only for those trade-offs)."""
    year = year_calibration(result, shown)  # once: the summary states it and the findings judge by it
    every, families = findings(result, shown, year)
    folded = _fold_into_broader(result, every)
    forced = [f for f in every if f["kind"] == KINDS["option"] and f["beyond_chance"]]
    context, top = set(), []
    for f in every:
        if f in forced or id(f) in folded:
            continue
        if f["tier"] == CONTEXT:
            if (f["attribute"], f["group"]) in context:
                continue
            context.add((f["attribute"], f["group"]))
        top.append(f)
    top = sorted([*forced, *top[: max(0, limit - len(forced))]], key=lambda f: f["rank"])
    return {"top": [{**f, "rank": i + 1} for i, f in enumerate(top)], "all": every,
            "omitted": len(every) - len(top),
            "year_calibration": year, "comparisons": families}  # fmt: skip


def _broader(result: FairnessReview, attribute: str, group: str) -> list[tuple[str, str]]:
    """The broader groups a group lies in: an intersection cell's two groups (girls / Asian: girls,
    Asian), a detailed ethnicity code's broad group (Bangladeshi: Asian)."""
    parts = intersection_parts(attribute)
    if parts is not None:
        return list(zip(parts, str(group).split(SEPARATOR, 1), strict=False))
    if attribute in result.nesting:
        coarser, parents = result.nesting[attribute]
        return [(coarser, parents[group])] if group in parents else []
    return []


def _fold_into_broader(result: FairnessReview, every: list[dict]) -> set[int]:
    """Findings that restate a broader group's finding (same kind, same direction: Asian girls and
    Bangladeshi pupils over-predicted where Asian pupils are) are left out of the top list and named in
    the broader finding's `within` instead, so the top list holds distinct findings. Returns their ids."""
    by_group = {(f["attribute"], f["group"], f["kind"], f["ratio"] < 1): f for f in every}
    folded = set()
    for f in every:
        for attribute, group in _broader(result, f["attribute"], f["group"]):
            parent = by_group.get((attribute, group, f["kind"], f["ratio"] < 1))
            if parent is not None:
                text = f"{group_phrase(f['attribute'], f['group'])} {f['ratio']:.2f}"
                parent.setdefault("within", []).append(text + interval_text(f["low"], f["high"]))
                folded.add(id(f))
                break
    return folded
