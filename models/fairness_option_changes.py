"""What the options' findings name (`fairness_summary`): the groups whose selection ratio or calibration
changes most between the model as is and an option, and those an option leaves worse calibrated; and what
each option measured does to a miscalibrated group, which its calibration finding's action says; each only
where the tables show the numbers it rests on."""

from __future__ import annotations

import math

import numpy as np

from exclusion_risk.models.fairness import BASE_RATE, FAIR_RANGE, FairnessReview, rate_withheld
from exclusion_risk.models.fairness_calibration import outside
from exclusion_risk.models.fairness_options import AS_IS, RECALIBRATION_ATTRIBUTES
from exclusion_risk.models.fairness_words import group_phrase
from exclusion_risk.models.group_counts import shown_attribute_counts
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, TOTAL

MOST_WORSENED = 5  # groups an option's finding names as left worse calibrated, furthest first


def rate_shown(shown: dict, attribute: str, group, metric: str) -> bool:
    """The counts the group's `metric` rests on are all shown in `shown` (`rate_withheld`)."""
    counts = shown.get(attribute, {}).get(group)
    return counts is not None and not rate_withheld(counts, metric)


def ratios_withheld(option, result: FairnessReview) -> set[tuple[str, str]]:
    """(attribute, group) whose selection ratio under `option` is not shown: it gives back the option's
    selected of the group and of its reference, withheld there by its table (`shown_attribute_counts`)."""
    shown = shown_attribute_counts(option.tables, result.nesting)
    out = set()
    for a in result.attributes:
        counts = shown.get(a.attribute, {})
        withheld = {g for g, c in counts.items() if g != TOTAL and rate_withheld(c, "selection_rate")}
        for group in a.table["group"]:
            if group in withheld or a.reference in withheld:
                out.add((a.attribute, group))
    return out


def largest_changes(option, as_is, shown: dict, column: str, hidden=frozenset()) -> str:
    """The groups whose `column` changes most (|log| of new / old) between as is and `option`, in words:
    the largest of each protected characteristic (sex, ethnic group) and of free school meals, and the
    largest of all where another attribute's; among groups with 10+ pupils behind both values, both shown
    (a selection ratio not `hidden`, observed / predicted where the group's observed rate is shown)."""
    best: dict[str, tuple[float, str]] = {}
    before = as_is.groups.set_index(["attribute", "group"])
    for _, r in option.groups.iterrows():
        old = before.loc[(r["attribute"], r["group"])]
        if r["n"] < SUPPRESSION_THRESHOLD:
            continue
        small = min(r["support"], old["support"]) < SUPPRESSION_THRESHOLD
        if column == "selection_ratio" and (small or (r["attribute"], r["group"]) in hidden):
            continue
        if column != "selection_ratio" and not rate_shown(shown, r["attribute"], r["group"], BASE_RATE):
            continue
        a, b = float(old[column]), float(r[column])
        if not (np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0):
            continue
        size = abs(math.log(b / a))
        if r["attribute"] not in best or size > best[r["attribute"]][0]:
            best[r["attribute"]] = (size, f"{group_phrase(r['attribute'], r['group'])} {a:.2f} → {b:.2f}")
    if not best:
        return "no shown group changes"
    named = [best[a][1] for a in RECALIBRATION_ATTRIBUTES if a in best]
    largest = max(best.values())[1]
    return ", ".join(named + ([f"largest of all {largest}"] if largest not in named else []))


def worsened_calibration(option, as_is, shown: dict) -> str:
    """The shown groups an option leaves outside FAIR_RANGE in observed / predicted that were nearer 1 as
    is, furthest first (at most MOST_WORSENED): the largest changes alone named the groups it mends (Indian
    0.31 -> 0.76 on the demo) and not those it breaks (Pakistani 0.72 -> 1.56, any other Asian 0.93 ->
    2.20)."""
    worse: list[tuple[float, str]] = []
    before = as_is.groups.set_index(["attribute", "group"])
    for _, r in option.groups.iterrows():
        old = before.loc[(r["attribute"], r["group"])]
        if not rate_shown(shown, r["attribute"], r["group"], BASE_RATE) or r["n"] < SUPPRESSION_THRESHOLD:
            continue
        a, b = float(old["observed_over_predicted"]), float(r["observed_over_predicted"])
        if not (np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0) or FAIR_RANGE[0] <= b <= FAIR_RANGE[1]:
            continue
        if abs(math.log(b)) > abs(math.log(a)):
            worse.append((abs(math.log(b)) - abs(math.log(a)),
                          f"{group_phrase(r['attribute'], r['group'])} {a:.2f} → {b:.2f}"))  # fmt: skip
    if not worse:
        return "no shown group is left outside 0.8-1.25 further from 1 than as is"
    named = [words for _, words in sorted(worse, reverse=True)[:MOST_WORSENED]]
    more = len(worse) - len(named)
    return ", ".join(named) + (f" and {more} more" if more else "")


def _calibration_under(option, as_is, shown: dict, attribute: str, group) -> tuple[float, float] | None:
    """The group's observed / predicted as is and under `option`, where the options' findings would show
    them (as `worsened_calibration`: 10+ pupils, the group's observed rate shown); None where not measured."""
    rows = []
    for o in (as_is, option):
        match = o.groups[(o.groups["attribute"] == attribute) & (o.groups["group"] == group)]
        rows.append(None if match.empty else match.iloc[0])
    if rows[1] is None or rows[0] is None or rows[1]["n"] < SUPPRESSION_THRESHOLD:
        return None
    if not rate_shown(shown, attribute, group, BASE_RATE):
        return None
    a, b = (float(r["observed_over_predicted"]) for r in rows)
    return (a, b) if np.isfinite(a) and np.isfinite(b) and a >= 0 and b >= 0 else None


def calibration_advice(result: FairnessReview, shown: dict, attribute: str, group) -> str | None:
    """A calibration finding's advice from the options measured (None where none is, beside as is): what
    each did to the group's observed / predicted. Advising per-group recalibration unqualified read wrong
    where the option measured moved girls 0.68 -> 1.31 and Black pupils 1.61 -> 3.45 on the demo."""
    if not [o for o in result.options if o.name != AS_IS]:
        return None
    return options_measured(result, shown, attribute, group) or (
        f"Consider per-group recalibration or protected characteristics as inputs (the options below are not "
        f"measured for {group_phrase(attribute, group)}: check an option's effect on them before using it).")


def options_measured(result: FairnessReview, shown: dict, attribute: str, group) -> str | None:
    """What each option measured did to the group's observed / predicted, in words; None where no option
    is measured for the group (or none beside as is)."""
    as_is = next((o for o in result.options if o.name == AS_IS), None)
    options = [o for o in result.options if o.name != AS_IS]
    if as_is is None:
        return None
    phrase, low, high = group_phrase(attribute, group), *FAIR_RANGE
    said = []
    for option in options:
        measured = _calibration_under(option, as_is, shown, attribute, group)
        if measured is None:
            continue
        a, b = measured
        if a == 0 or b == 0:  # none of them had the outcome: no option changes what was observed
            return (f"No option can change this: none of {phrase} had the outcome, so their observed / "
                    "predicted stays 0 under every option measured; read their probabilities as higher than "
                    "what happened to them, and check the next year's.")  # fmt: skip
        name, moved = f"{option.name[0].upper()}{option.name[1:]} as measured below", f"{a:.2f} → {b:.2f}"
        if not outside(b) and not outside(a):  # miscalibrated against the year's only
            said.append(f"{name} leaves {phrase} within {low}-{high} (observed / predicted {moved}).")
        elif not outside(b):
            said.append(f"{name} brings {phrase} within {low}-{high} (observed / predicted {moved}): "
                        "consider it, checking it on another year first.")  # fmt: skip
        elif not outside(a):  # within the range as is (miscalibrated against the year's), outside it under it
            said.append(f"{name} takes {phrase} outside {low}-{high} (observed / predicted {moved}): do not "
                        "use it as it is for them.")  # fmt: skip
        elif (a > 1) != (b > 1):
            said.append(f"{name} overshoots for {phrase} (observed / predicted {moved}, past "
                        f"{high if b > 1 else low} the other way): do not use it as it is; check it on "
                        "another year before using it.")  # fmt: skip
        elif abs(math.log(b)) > abs(math.log(a)):
            said.append(f"{name} leaves {phrase} further from 1 (observed / predicted {moved}): do not use "
                        "it as it is for them.")  # fmt: skip
        else:
            said.append(f"{name} moves {phrase} nearer 1 but not within {low}-{high} (observed / predicted "
                        f"{moved}): not enough on its own.")  # fmt: skip
    return " ".join(said) or None
