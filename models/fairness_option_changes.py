"""What the options' findings name (`fairness_summary`): the groups whose selection ratio or calibration
changes most between the model as is and an option, and those an option leaves worse calibrated; each
only where the tables show the numbers it rests on."""

from __future__ import annotations

import math

import numpy as np

from exclusion_risk.models.fairness import BASE_RATE, FAIR_RANGE, FairnessReview, rate_withheld
from exclusion_risk.models.fairness_options import RECALIBRATION_ATTRIBUTES
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
