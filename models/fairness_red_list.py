"""The red list in the fairness review: whom the risk matrix rates red, by group, beside the top k%.

The review's group tables measure the model's top k% (the team's capacity), but officers act on the
risk matrix's red list, which is not the same pupils: the matrix rates red the cells its file says
(`risk_matrix.yaml` as shipped: the highest likelihood band at every need level, and the next band at
the highest need level), so it adds pupils because of existing need. A group with more of that need
(children looked after or on a child protection plan) is rated red more often than the top k% selects
it, at lower probabilities, so its precision among red tends to be lower. That is the matrix's design,
not the model's scoring: both lists rank the same probabilities.

`review_red_list` places the reviewed pupils with the same code `score` uses (`RiskMatrix.place`, the
model version's stored thresholds, `features.need.need_levels`) and measures each of the review's groups
with the review's own `group_metrics`, the red list as the selection. The report suppresses its counts
by the review's rule (`models.group_counts`), and withholds what, read beside the top k%'s, would give
a count under 10 back (`models.fairness_red_slices`: a group's figures, several groups' together, or the
overall red list's); `red_list_conclusion` says in words which groups the red list rates red more or less
often than the top k% selects them, and why. Where a group's red or top k% count is withheld, the figures
shown may still prove it (`compared`: 16 red against a top k% of "<10" is at least 16/9 times, said as
"at least 1.77", rounded outwards); a group they prove nothing of is named as not shown, never cleared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.features.need import need_levels
from exclusion_risk.models.fairness import (
    DETAILED_ETHNICITY,
    FAIR_RANGE,
    AttributeReview,
    group_metrics,
    review_groups,
    select_top,
)
from exclusion_risk.models.fairness_red_bounds import (
    Bound,
    compared,
    json_bounds,
    not_stated,
    overall_bounds,
    overall_words,
    own_words,
    red_over_top,
    relative_bounds,
)
from exclusion_risk.models.fairness_red_slices import overall_precision, shown_beside_top, total_at_risk
from exclusion_risk.models.fairness_words import group_phrase
from exclusion_risk.models.group_counts import (
    shown_total,
)
from exclusion_risk.models.risk_matrix import NEED_LEVELS, RiskMatrix, need_labels
from exclusion_risk.privacy import SUPPRESSED
from exclusion_risk.values import and_join
from exclusion_risk.values import one_decimal_percent as _pct

Overall = tuple[Bound, Bound]  # the whole red list over the whole top k%, or its bounds
RED = "red"
# Groups named in the conclusion (the largest differences); the rest are in the table.
NAMED = 6


@dataclass
class RedList:
    """The red list's group rates (`group_metrics` with the red list as the selection) and its rule."""

    attributes: list[AttributeReview]  # in the order of the review's own attributes
    red: int  # pupils rated red
    top: int  # pupils in the top k%
    rule: list[str]  # the red cells in words ("very high likelihood at every need level", ...)
    raised: list[str]  # the need levels the matrix raises to red from a lower band, as the file names them
    matrix_version: str
    # "more" / "fewer" where the bands red at every need level (cut on the validation year) hold more /
    # fewer of the reviewed pupils than the top k%: a difference from the top k% that is not need's.
    band_over_top: str = ""


def _rule(matrix: RiskMatrix) -> tuple[list[str], list[str]]:
    """The red cells in words, and the need levels raised to red from a lower band (their labels)."""
    labels = need_labels(matrix.need_levels)
    rule, raised = [], []
    for band in matrix.bands:
        levels = [n for n in NEED_LEVELS if matrix.cells[(band.key, n)][0] == RED]
        if len(levels) == len(NEED_LEVELS):
            rule.append(f"{band.label} likelihood at every need level")
        elif levels:
            named = "; ".join(f"{n} ({labels[n]})" for n in levels)
            rule.append(f"{band.label} likelihood at need level {named}")
            raised.extend(labels[n] for n in levels if labels[n] not in raised)
    return rule, raised


def review_red_list(
    y,
    probabilities,
    frame: pd.DataFrame,
    matrix: RiskMatrix,
    capacity: float,
    references: dict[str, str] | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> RedList:
    """Each of the review's groups' share rated red and precision among red, with the review's intervals
    and reference groups (`references`: attribute -> its reference, as the top k% tables use)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    placed = matrix.place(p, need_levels(frame))  # as `score` places them
    red = np.asarray(placed["rag"] == RED, dtype=bool)
    groups = review_groups(frame)
    attributes = group_metrics(y, p, groups, capacity, n_boot=n_boot, seed=seed, selected=red,
                               references=references)  # fmt: skip
    rule, raised = _rule(matrix)
    top = int(select_top(p, capacity).sum())
    whole = [b.key for b in matrix.bands if all(matrix.cells[(b.key, n)][0] == RED for n in NEED_LEVELS)]
    in_band = int(np.isin(placed["band_key"], whole).sum()) if whole else top
    return RedList(
        attributes=attributes, red=int(red.sum()), top=top, rule=rule, raised=raised,
        matrix_version=matrix.version,
        band_over_top="more" if in_band > top else "fewer" if in_band < top else "",
    )  # fmt: skip


def _band_words(band_over_top: str, capacity_pct: str) -> str:
    """The band red at every need level against the top k%, where it holds more or fewer pupils."""
    return f"cut on the validation year, holds {band_over_top} pupils this year than the top {capacity_pct}%"


def _value(metric: dict) -> float | None:
    return metric.get("value")


def _precisions(red: dict, top: dict, capacity_pct: str) -> str:
    """Precision among red against the top k%'s in words, or why it is not shown."""
    red, top = _value(red), _value(top)
    if red is None and top is None:
        return "precision not shown: a count it rests on is under 10 or withheld"
    if top is None:  # "against not shown in the top 3%" read as a figure
        return f"precision among red {red:.3f} (not shown in the top {capacity_pct}%)"
    if red is None:
        return f"precision among red not shown ({top:.3f} in the top {capacity_pct}%)"
    return f"precision among red {red:.3f} against {top:.3f} in the top {capacity_pct}%"


def _named(rows: list[dict], which: str, capacity_pct: str, overall: Overall) -> str:
    """The groups the red list rates red more (`which`: "more") or less often than the whole list, in
    words with their rates, the largest differences first, at most NAMED of them."""
    chosen = sorted((r for r in rows if r["direction"] == which), key=lambda r: _size(r, overall))
    words = [
        f"{group_phrase(r['attribute'], r['group'])} ({_against(r, capacity_pct, overall)}; "
        f"{_precisions(r['red_precision'], r['top_precision'], capacity_pct)})"
        for r in chosen[:NAMED]
    ]
    more = f", and {len(chosen) - NAMED} more in the table" if len(chosen) > NAMED else ""
    return "; ".join(words) + more


def _side(share: dict, count, where: str) -> str:
    """One side of a group's red list against the top k% in words: its share, or its count as shown."""
    value = _value(share)
    if value is not None:
        return f"{_pct(value)} {where}"
    return f"none {where}" if count == 0 else f"under 10 pupils {where}" if count == SUPPRESSED else (
        f"not shown {where}")  # fmt: skip


def _against(row: dict, capacity_pct: str, overall: Overall) -> str:
    """A group's share rated red against its share in the top k%, that ratio (or the bound the shown
    figures give, "at least 1.77") and the same over the whole list's ("0.80 times the whole list's
    1.84")."""
    red = _side(row["red_share"], row.get("red"), "red")
    words = f"{red} against {_side(row['top_share'], row.get('top'), f'in the top {capacity_pct}%')}"
    own, relative = own_words(row), compared(row, overall)[2]
    if not relative or relative.startswith("none"):  # the sides say it: "none in the top 5%"
        return words
    whole = f"{relative} times the whole list's {overall_words(overall)}"
    return f"{words}: {own} times as often, {whole}" if own else f"{words}: {whole}"


def _size(row: dict, overall: Overall) -> float:
    """Larger differences from the whole list first (a group with none red, or none in the top k%,
    first)."""
    ratio = compared(row, overall)[1]
    return -math.inf if ratio in (0, math.inf) else -abs(math.log(ratio))


def flagged_rows(attributes: list[dict], overall: Overall) -> list[dict]:
    """The groups whose red ÷ top k% differs from the whole list's beyond the flag range, with their
    attribute: a detailed ethnicity code only where its broad group (`within`) is not itself named so
    (it then says it; a code flagged in the table beside a broad group not shown was named nowhere)."""
    said = {(a["name"], r["group"]): compared(r, overall)[0] for a in attributes for r in a["rows"]}

    def named(attribute: str, row: dict) -> bool:
        broad = tuple(row.get("within") or ())
        which = said[(attribute, row["group"])]
        # a code flagged the other way to its broad group (Asian more, Pakistani fewer) is its own finding
        return bool(which) and (attribute != DETAILED_ETHNICITY or said.get(broad) != which)

    return [{**r, "attribute": a["name"], "direction": said[(a["name"], r["group"])]} for a in attributes
            for r in a["rows"] if named(a["name"], r)]  # fmt: skip


def not_shown_rows(attributes: list[dict], overall: Overall) -> list[dict]:
    """The groups (of every table, detailed ethnicity included) whose red list against the whole list's
    the section cannot state or bound (`not_stated`), with their attribute."""
    return [{**r, "attribute": a["name"]} for a in attributes for r in a["rows"] if not_stated(r, overall)]


def _not_shown_phrase(rows: list[dict]) -> str:
    """The groups not shown in words, detailed ethnicity's codes after the rest."""
    broad = [group_phrase(r["attribute"], r["group"]) for r in rows if r["attribute"] != DETAILED_ETHNICITY]
    codes = [group_phrase(r["attribute"], r["group"]) for r in rows if r["attribute"] == DETAILED_ETHNICITY]
    codes = "by detailed ethnicity, " + ", ".join(codes) if codes else ""
    return "; ".join(w for w in (", ".join(broad), codes) if w)


def _phrases(rows: list[dict], overall: Overall) -> str:
    """The groups in words, the largest differences first, at most NAMED of them."""
    rows = sorted(rows, key=lambda r: _size(r, overall))
    words = [group_phrase(r["attribute"], r["group"]) for r in rows[:NAMED]]
    if len(rows) > NAMED:
        return ", ".join(words) + f" (and {len(rows) - NAMED} more groups)"
    return and_join(words) if words else ""


def _judged(capacity_pct: str, overall: Overall) -> str:
    """What a group is judged against, in words."""
    return (f"red ÷ top {capacity_pct}% over all pupils: {overall_words(overall)}; a group's outside "
            f"{FAIR_RANGE[0]}-{FAIR_RANGE[1]} times that")  # fmt: skip


def red_list_summary(attributes: list[dict], totals: dict, capacity_pct: str, band_over_top: str = "") -> str:
    """One line for the review's summary: how big the red list is and which groups it rates red more or
    less often than it rates pupils overall, beside the top k%, and why: need, and (`band_over_top`) a red
    band that holds more or fewer pupils than the top k%."""
    overall = overall_bounds(totals)
    rows, hidden = flagged_rows(attributes, overall), not_shown_rows(attributes, overall)
    more, fewer = (_phrases([r for r in rows if r["direction"] == which], overall)
                   for which in ("more", "fewer"))  # fmt: skip
    parts = [f"The risk matrix's red list, which officers act on, {_holds(totals, capacity_pct)}"]
    if more or fewer:
        # "rates" once, before whichever list comes first ("it rates X red more often and Y less often")
        listed = [f"{more} red more often" if more else "", f"{fewer} red less often" if fewer else ""]
        why = "by the matrix's design (it adds need), not the model's ranking" if not band_over_top else (
            f"by the matrix: it adds need, and its likelihood band red at every need level, "
            f"{_band_words(band_over_top, capacity_pct)}, {_band_moves(band_over_top, capacity_pct)} (the "
            "section does not say which of the two moves a group)")  # fmt: skip
        rates = " and ".join(w for w in listed if w)
        parts.append(f"for their share of the top {capacity_pct}%, it rates {rates}"
                     f" than it rates pupils overall ({_judged(capacity_pct, overall)}), {why}")  # fmt: skip
    else:
        shown = "no group shown" if not hidden else (
            f"no group whose red and top {capacity_pct}% figures are shown")  # fmt: skip
        parts.append(f"{shown} has its red ÷ top {capacity_pct}% outside {FAIR_RANGE[0]}-{FAIR_RANGE[1]} "
                     f"times the whole list's ({overall_words(overall)})")  # fmt: skip
    if hidden:
        many = len(hidden) > 1
        groups, they = (f"{len(hidden)} groups", "they are") if many else ("one group", "it is")
        parts.append(f"{groups} cannot be judged from the figures shown (a red or top {capacity_pct}% count "
                     f"under 10 or withheld, or bounds across the range), so {they} neither named nor "
                     "cleared")  # fmt: skip
    return "; ".join(parts) + " (see the red list section)"


def _holds(totals: dict, capacity_pct: str) -> str:
    """The red list's size beside the top k%'s in words, or why it is withheld."""
    if "size" in totals["withheld_beside_top"]:
        return (f"holds a number of pupils not shown here (withheld: beside the {totals['top']} in the top "
                f"{capacity_pct}% these tables measure, it would give a count under 10 back)")  # fmt: skip
    top = totals["top"]
    return f"holds {totals['red']} pupils against {top} in the top {capacity_pct}% these tables measure"


def _overall(totals: dict, overall: Overall, capacity_pct: str) -> str:
    """The red list's size and precision over all pupils beside the top k%'s, or why they are withheld."""
    withheld = totals["withheld_beside_top"]
    if "size" in withheld:
        return (f"; its size is withheld here, with its precision over all pupils: beside the "
                f"{totals['top']} pupils in the top {capacity_pct}% they would give a count under 10 "
                "back (so are the red figures of a group in each table whose groups would add up to "
                "them).")  # fmt: skip
    ratio = overall_words(overall)
    times = f" ({ratio} times as many)" if ratio != "not known" else ""  # an empty list, or no top k%
    size = f": {totals['red']} pupils against {totals['top']}{times}."
    precision = totals["precision"]
    if "precision" in withheld:
        return (f"{size} Over all pupils, precision among red is withheld: beside the top {capacity_pct}%'s "
                "it would give a count under 10 back (pupils with the outcome, or without it).")  # fmt: skip
    if precision["red"] is not None and precision["top"] is not None:
        return (f"{size} Over all pupils, precision among red is {precision['red']:.3f} against "
                f"{precision['top']:.3f} in the top {capacity_pct}%.")  # fmt: skip
    return size


def _band_moves(band_over_top: str, capacity_pct: str) -> str:
    """What a band red at every need level holding more (fewer) pupils than the top k% does, in words."""
    if band_over_top == "more":
        return f"adds the pupils the model ranks just below the top {capacity_pct}%"
    return (f"leaves out pupils the model ranks just inside the top {capacity_pct}% unless their need makes "
            "them red")  # fmt: skip


def _why(red_list: RedList, capacity_pct: str) -> str:
    """Where the red list's differences from the top k% come from, in words: need, and the band red at
    every need level where it is not the top k% (a reviewer's finding: flags the band made, girls and
    Asian pupils at 3%, were put down to need)."""
    raised = " or ".join(red_list.raised) or "a higher need level"
    need = (f"pupils with existing need ({raised}) are rated red at a lower likelihood than other pupils, "
            "so a group with more of that need is rated red more often, and its precision among red tends "
            "to be lower, because the pupils the need adds are less likely to be excluded than those the "
            "model ranks highest")  # fmt: skip
    more = red_list.band_over_top
    if not more:
        return (f"Where a group's red list differs, it is the matrix's design, not the model: both rank "
                f"the same probabilities, and the matrix adds need: {need}. The likelihood band red at every "
                f"need level is the model's ranking alone, and holds the top {capacity_pct}% this "
                "year.")  # fmt: skip
    said = _band_words(more, capacity_pct)
    # Both are cuts of the same probabilities, so one holds the other: no group loses (gains) on that account.
    side, deeper, often = ("fewer", "deeper", "more") if more == "more" else ("more", "shallower", "less")
    whoever = ", with existing need or not," if more == "more" else ""
    return (f"Where a group's red list differs, the matrix makes it in two ways, and this section does not "
            f"split them. It adds need: {need}. And its likelihood band red at every need level, {said}: "
            f"it {_band_moves(more, capacity_pct)}{whoever} so a group with more of those pupils is rated "
            f"red {often} often too (the model's ranking, cut {deeper}; no group has {side} pupils in that "
            f"band than in the top {capacity_pct}%).")  # fmt: skip


def red_list_conclusion(red_list: RedList, attributes: list[dict], totals: dict, capacity_pct: str) -> str:
    """The red list section's conclusion in words: which groups it rates red more (less) often, for their
    share of the top k%, than it rates pupils overall, and where that comes from."""
    overall = overall_bounds(totals)
    rows = flagged_rows(attributes, overall)
    more = _named(rows, "more", capacity_pct, overall)
    fewer = _named(rows, "fewer", capacity_pct, overall)
    found = [f"Each group's red ÷ top {capacity_pct}% (its pupils rated red over its pupils in the top "
             f"{capacity_pct}%) is judged against the red list as a whole "
             f"({_judged(capacity_pct, overall)})."]
    if more:
        found.append(f"It rates these red more often, for their share of the top {capacity_pct}%, than it "
                     f"rates pupils overall: {more}.")  # fmt: skip
    if fewer:
        found.append(f"It rates these red less often: {fewer}.")
    if not more and not fewer:
        found.append(f"No group whose red and top {capacity_pct}% figures are shown has its red ÷ top "
                     f"{capacity_pct}% outside {FAIR_RANGE[0]}-{FAIR_RANGE[1]} times the whole "
                     "list's.")  # fmt: skip
    hidden = not_shown_rows(attributes, overall)
    if hidden:
        found.append(f"Not shown, so neither named nor cleared here: how often the red list rates "
                     f"{_not_shown_phrase(hidden)} red against the top {capacity_pct}% (its red or top "
                     f"{capacity_pct}% figures under 10 or withheld, the red ones also where, read beside "
                     f"the top {capacity_pct}%'s, they would give a count under 10 back, alone or together; "
                     "and the figures shown not enough to put it outside the range or inside "
                     "it).")  # fmt: skip
    return " ".join([
        f"The red list is the risk matrix's red cells ({'; '.join(red_list.rule)}), not the top "
        f"{capacity_pct}%{_overall(totals, overall, capacity_pct)}",
        *found,
        _why(red_list, capacity_pct),
        "Officers act on the red list: read each group's red rate and precision here beside the top "
        f"{capacity_pct}% tables, as support for a professional's judgement, not as a decision.",
    ])  # fmt: skip


def _red_list_rows(top: AttributeReview, own: AttributeReview, shown: dict, listed: dict,
                   metric: Callable[..., dict], overall: Overall) -> list[dict]:  # fmt: skip
    """One attribute's groups: share rated red and precision among red beside the same in the top k%,
    each shown by `metric` against its own selection's counts as shown (`shown`: the top k%'s, `listed`:
    the red list's), and red ÷ top k%, alone and over the whole list's (`overall`)."""
    tables = {"top": (top.table.set_index("group"), shown), "red": (own.table.set_index("group"), listed)}
    rows = []
    for group in top.table["group"]:
        metrics = {}
        for name, (table, counts) in tables.items():
            ref = table.loc[group, "reference"]
            reference = (table.loc[ref], counts[ref]) if ref in table.index else (None, None)
            for m, key in (("selection_rate", "share"), ("precision", "precision")):
                metrics[f"{name}_{key}"] = metric(table.loc[group], m, counts[group], *reference)
        ratio = red_over_top(metrics["red_share"], metrics["top_share"])
        row = {"group": group, "reference": group == top.reference, "n": shown[group]["n"],
               "red": listed[group]["selected"], "top": shown[group]["selected"], **metrics,
               "red_over_top": ratio}  # fmt: skip
        which, _, relative = compared(row, overall)  # a count withheld: the bound the shown figures give
        rows.append({**row, "red_over_top_text": own_words(row) or "-", "against_list_text": relative or "-",
                     "against_list": json_bounds(relative_bounds(row, overall)),
                     "direction": which})  # fmt: skip
    return rows


def red_list_context(
    red_list: RedList,
    top: list[AttributeReview],
    shown: dict[str, dict],
    nesting: dict,
    metric: Callable[..., dict],
    capacity_pct: str,
) -> dict:
    """The report's red list section and fairness.json's `red_list`: by attribute and group, the share
    rated red and precision among red beside the top k%'s (`top`: the review's tables, `shown`: their
    counts as shown), the red list's counts suppressed by the review's rule (`shown_attribute_counts`,
    detailed ethnicity against its broad groups: `nesting`) and withheld where, beside the top k%'s, they
    give 1-9 back (`shown_beside_top`; the overall figures so withheld: `withheld_beside_top`), and its
    rates shown as the review shows a rate (`metric`: `fairness_report._metric`); with the summary line
    and the conclusion in words."""
    listed = shown_beside_top(red_list.attributes, top, shown, nesting)
    # the sizes as published: withheld as any of their tables withholds them
    totals = {"red": shown_total(listed, "selected", red_list.red),
              "top": shown_total(shown, "selected", red_list.top), "precision": {"top": None, "red": None},
              "withheld_beside_top": []}  # fmt: skip
    if top:
        totals["precision"] = {"top": overall_precision(top[0].table, shown),
                               "red": overall_precision(red_list.attributes[0].table, listed)}  # fmt: skip
        # the overall red figures withheld because, beside the top k%'s, they give 1-9 back
        at_risk = total_at_risk(red_list.attributes[0].table, top[0].table)
        totals["withheld_beside_top"] = [w for w, c in (("size", "selected"), ("precision", "tp"))
                                         if c in at_risk]  # fmt: skip
    overall = overall_bounds(totals)
    attributes = [
        {"name": t.attribute, "reference": t.reference,
         "rows": _red_list_rows(t, own, shown[t.attribute], listed[own.attribute], metric, overall)}
        for t, own in zip(top, red_list.attributes, strict=True)
    ]  # fmt: skip
    for attribute in attributes:  # a detailed code's broad group: (its attribute, the group)
        if attribute["name"] in nesting:
            coarser, parents = nesting[attribute["name"]]
            for row in attribute["rows"]:
                row["within"] = [coarser, parents[row["group"]]] if row["group"] in parents else None
    return {
        "rule": red_list.rule, "raised": red_list.raised, "matrix_version": red_list.matrix_version,
        **totals, "whole_list_red_over_top": overall_words(overall),
        "whole_list_bounds": json_bounds(None if overall[1] == math.inf else overall),
        "attributes": attributes,
        "summary": red_list_summary(attributes, totals, capacity_pct, red_list.band_over_top),
        "conclusion": red_list_conclusion(red_list, attributes, totals, capacity_pct),
    }  # fmt: skip
