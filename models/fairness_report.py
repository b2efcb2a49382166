"""The fairness review as a report: one HTML page for a reviewer (the summary's findings first, then
rates, calibration, intersections, SHAP by group and the options), and the same numbers as data
(`summary_json`, written as `fairness.json`). The summary opens with the model's calibration across the
year (`fairness_calibration.year_calibration`).

Conventions (stated in the report): any count of fewer than 10 pupils is shown as "<10", a group count
that could be worked out from the page's totals is withheld too ("x", `suppress_table`; detailed
ethnicity against the broad groups it nests in), and so is the smaller of two counts of a row whose
difference would be 1-9 (the pupils less the excluded: `group_counts.nested_small`); a rate is shown
exactly where every count it rests on or gives back is shown (`fairness.rate_withheld`: the base rate and
observed with the pupils and excluded, the selection rate with the pupils and selected, an error rate
with all of them and tp, fp, fn, tn) and 10 or more (`rate_support`), else it reads "<10" where one of
those is under 10 and "-" where they are withheld as "x" only (the ablation and options tables: "-"), nor
is its ratio shown (nor any ratio to a reference whose rate is hidden), and a flag is explained as a
prompt to look closer (`FLAG_MEANING`), never as a finding.
"""

from __future__ import annotations

import numpy as np

from exclusion_risk.models.fairness import (
    BASE_RATE,
    FAIR_RANGE,
    METRIC_LABELS,
    METRICS,
    FairnessReview,
    rate_counts,
    rate_support,
    rate_withheld,
)
from exclusion_risk.models.fairness_calibration import interval_text
from exclusion_risk.models.fairness_chance import comparisons_line
from exclusion_risk.models.fairness_intersections import (
    INTERSECTIONS,
    intersection_name,
    shown_intersection_counts,
)
from exclusion_risk.models.fairness_red_list import red_list_context
from exclusion_risk.models.fairness_shap import leading_features, score_gaps
from exclusion_risk.models.fairness_summary import summary
from exclusion_risk.models.fairness_words import holding_line, outcome_words
from exclusion_risk.models.group_counts import (
    COUNTS,
    PROTECTED,
    closed,
    shown_attribute_counts,
    shown_total,
    withheld_among,
)
from exclusion_risk.models.plots import calibration_by_group_png
from exclusion_risk.models.reasons import feature_label
from exclusion_risk.models.rendering import render
from exclusion_risk.privacy import (
    DECISION_SUPPORT_NOTICE,
    SUPPRESSED,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    is_withheld,
    suppress_count,
)

FLAG_MEANING = (
    "A flag means this group's rate, at the team's capacity, is outside 0.8-1.25 times the reference "
    "group's (Aequitas' convention). It is a prompt for a person to look closer, not a finding of "
    "unfairness: groups differ in how often exclusion actually happens (so equal selection rates would mean "
    "unequal error rates, and the reverse), and where the 95% interval of the ratio includes 1 the "
    "difference may be chance. A flag does not say why the rates differ, nor that the model caused it."
)


def shown_count(n: int) -> int | str:
    return suppress_count(int(n))


def shown_rate(value: float, denominator: int, digits: int = 3) -> str:
    """A rate for a report: hidden when fewer than 10 pupils stand behind it or when undefined."""
    if denominator < SUPPRESSION_THRESHOLD:
        return "<10" if denominator > 0 else "-"
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def withheld_rate(value: float, support: int, digits: int = 3) -> str:
    """A rate or ratio in the ablation and options tables: as `shown_rate`, but "-" (not shown), never
    "<10", where fewer than 10 pupils stand behind it: "<10" is a count."""
    shown = shown_rate(value, support, digits)
    return "-" if shown == SUPPRESSED else shown


def _ratio_text(row, metric: str, reference) -> str:
    """A ratio to the reference's rate: hidden where either rate is (it would give the other back)."""
    support = min(rate_support(row, metric), rate_support(reference, metric)) if reference is not None else 0
    if support < SUPPRESSION_THRESHOLD or not np.isfinite(row[f"{metric}_ratio"]):
        return "-"
    low, high = row[f"{metric}_ratio_low"], row[f"{metric}_ratio_high"]
    return f"{row[f'{metric}_ratio']:.2f}{interval_text(low, high)}"


def _rate_text(row, metric: str) -> str:
    shown = shown_rate(row[metric], rate_support(row, metric))
    if shown in ("<10", "-"):
        return shown
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    return f"{shown} [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else shown


REPORT_METRICS = (BASE_RATE, *METRICS)
# Features shown by name in each SHAP-by-group table; the rest are summed into one row.
SHAP_FEATURES = 8


def _shown_counts(result: FairnessReview) -> dict[str, dict]:
    """Per attribute, the group counts as shown (`shown_attribute_counts`); each intersection as a
    two-way table whose totals are the single attributes' groups as shown."""
    shown = shown_attribute_counts({a.attribute: a.table for a in result.attributes}, result.nesting)
    names = {intersection_name(first, second): (first, second) for first, second in INTERSECTIONS}
    for a in result.intersections:
        first, second = names[a.attribute]
        shown[a.attribute] = closed(lambda forced, a=a, first=first, second=second: (
            shown_intersection_counts(a.table, first, second, shown, PROTECTED, forced)))
    return shown


def _metric(r, m: str, counts: dict, reference=None, reference_counts: dict | None = None) -> dict:
    """A rate and its ratio as shown: hidden where a count it rests on is withheld in `counts` (the
    group's counts as shown: `fairness.rate_withheld`), whatever its other counts; its ratio also where
    the reference's rate is (`reference`: the reference group's row, `reference_counts` its counts as
    shown): a ratio to a hidden rate would give that rate back."""
    hidden = rate_withheld(counts, m)
    if hidden:
        return {"rate": hidden, "ratio": "-", "flagged": False, **_numbers(r, m, False, False)}
    if reference_counts is None or rate_withheld(reference_counts, m):
        reference = None
    rate, ratio = _rate_text(r, m), _ratio_text(r, m, reference)
    return {"rate": rate, "ratio": ratio, "flagged": bool(r[f"{m}_flagged"]) and ratio != "-",
            **_numbers(r, m, rate not in ("<10", "-"), ratio != "-")}  # fmt: skip


def _numbers(r, m: str, rate: bool, ratio: bool) -> dict:
    """The shown rate and ratio as numbers with their intervals, for fairness.json (None where hidden or
    undefined)."""
    keys = {"value": m, "low": f"{m}_low", "high": f"{m}_high"}
    ratios = {"ratio_value": f"{m}_ratio", "ratio_low": f"{m}_ratio_low", "ratio_high": f"{m}_ratio_high"}
    return {**{k: _number(r[c]) if rate else None for k, c in keys.items()},
            **{k: _number(r[c]) if ratio else None for k, c in ratios.items()}}  # fmt: skip


# fairness.json's calibration numbers -> calibration_summary's columns
_CALIBRATION_NUMBERS = {
    "predicted_value": "predicted", "observed_value": "observed", "ratio_value": "observed_over_predicted",
    "ratio_low": "ratio_low", "ratio_high": "ratio_high",
}  # fmt: skip


# fairness.json's numbers of a group's calibration against the year's -> calibration_summary's columns
_RELATIVE_NUMBERS = {
    "relative_value": "relative", "relative_low": "relative_low", "relative_high": "relative_high",
}  # fmt: skip
NOT_STATED = "not stated"  # a ratio to the year's where the year's is withheld


def _number(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _group_n(shown: dict, attribute: str, group, n: int) -> tuple[int | str, int]:
    """A group's pupils as its counts table shows them, and the denominator its means may use: `n`
    itself (shown as "<10") for a group of under 10; 0 (not shown) where its pupils are withheld as "x".
    A rate resting on other counts is hidden where they are too (`_support_shown`)."""
    pupils = shown.get(attribute, {}).get(group, {}).get("n", shown_count(n))
    return pupils, 0 if is_withheld(pupils) and pupils != SUPPRESSED else int(n)


def _ratio_interval(value: float, low: float, high: float, base: int) -> str:
    shown = shown_rate(value, base, digits=2)
    return shown if shown in ("<10", "-") else shown + interval_text(low, high)


def _attribute_context(result: FairnessReview, a, shown: dict, year: dict | None) -> dict:
    """A table's rates by group and its calibration by group (`year`: the year's calibration as the
    summary states it, None where withheld: then no group's ratio to it is stated either)."""
    rows = []
    table, groups = a.table.set_index("group"), shown[a.attribute]
    for _, r in a.table.iterrows():
        counts, ref = groups[r["group"]], r["reference"]
        reference = table.loc[ref] if ref in table.index else None
        rows.append({
            "group": r["group"], "reference": bool(r["is_reference"]), "compared_with": ref,
            **{c: counts[c] for c in COUNTS},
            "metrics": [_metric(r, m, counts, reference, groups.get(ref)) for m in REPORT_METRICS],
        })  # fmt: skip
    calibration = []
    for _, c in result.calibration[a.attribute][0].iterrows():
        n, base = _group_n(shown, a.attribute, c["group"], c["n"])
        # observed is the base rate, shown with it; a mean of scores gives no count back
        observed = _support_shown(base, [groups.get(c["group"])], rate_counts(BASE_RATE))
        calibration.append({
            "group": c["group"], "n": n, "predicted": shown_rate(c["predicted"], base),
            "observed": shown_rate(c["observed"], observed),
            "ratio": _ratio_interval(c["observed_over_predicted"], c["ratio_low"], c["ratio_high"], observed),
            **{key: _number(c[column]) if (base if key == "predicted_value" else observed)
               >= SUPPRESSION_THRESHOLD else None for key, column in _CALIBRATION_NUMBERS.items()},
            **_relative(c, observed, year),
        })  # fmt: skip
    return {"name": a.attribute, "reference": a.reference, "rows": rows, "calibration": calibration}


def _relative(c, observed: int, year: dict | None) -> dict:
    """A group's observed / predicted divided by the year's, as the summary's findings judge it
    (`fairness_calibration.group_calibration`), so the reader can check a finding in the table: shown
    where the group's own ratio is; "not stated" where the year's is withheld (it would give it back)."""
    if year is None:
        return {"relative": NOT_STATED, **dict.fromkeys(_RELATIVE_NUMBERS)}
    numbers = observed >= SUPPRESSION_THRESHOLD and np.isfinite(c["relative"])
    return {"relative": _ratio_interval(c["relative"], c["relative_low"], c["relative_high"], observed),
            **{key: _number(c[column]) if numbers else None for key, column in _RELATIVE_NUMBERS.items()}}


def _cells(table, column: str, groups: list[str], bases: dict) -> list[str]:
    """`table`'s `column` for each group (index: group), hidden where the group's pupils are."""
    return [shown_rate(table.loc[g, column], bases[g][1], digits=4) for g in groups]


def _shap_context(result: FairnessReview, shown: dict) -> list[dict] | None:
    """Per attribute: mean contribution per feature per group, and each group's gap to the reference in
    mean raw score split into per-feature parts (the leading features by name, the rest as one row)."""
    if result.shap is None:
        return None
    out = []
    gaps = score_gaps(result.shap)
    for a in result.attributes:
        part = result.shap[result.shap["attribute"] == a.attribute]
        gap = gaps[gaps["attribute"] == a.attribute].set_index("group")
        groups = [g for g in a.table["group"] if g in gap.index]
        others = [g for g in groups if g != a.reference]
        # Means of contributions give no count back: hidden only where the group's pupils are.
        bases = {g: _group_n(shown, a.attribute, g, int(gap.loc[g, "n"])) for g in groups}
        leading = leading_features(result.shap, a.attribute, SHAP_FEATURES)
        rows = []
        for feature in leading:
            values = part[part["feature"] == feature].set_index("group")
            rows.append({"feature": feature, "input": _input_words(feature),
                         "means": _cells(values, "mean", groups, bases),
                         "parts": _cells(values, "gap_part", others, bases)})  # fmt: skip
        rest = part[~part["feature"].isin(leading)].groupby("group")[["mean", "gap_part"]].sum()
        if len(rest):
            rows.append({"feature": "all other features", "input": "all other features",
                         "means": _cells(rest, "mean", groups, bases),
                         "parts": _cells(rest, "gap_part", others, bases)})  # fmt: skip
        out.append({
            "name": a.attribute, "reference": a.reference, "groups": groups, "others": others,
            "n": [bases[g][0] for g in groups], "rows": rows, "gaps": _cells(gap, "gap", others, bases),
        })  # fmt: skip
    return out


def _input_words(feature: str) -> str:
    """A model input as the page names it: the registry's plain-English label, with the column name an
    analyst finds in fairness.json and the feature table ("Free school meals in the last six years
    (fsm_ever6)"); the name alone where the registry has no label."""
    label = feature_label(feature)
    return feature if label == feature else f"{label} ({feature})"


def _support_shown(support: int, tables: list[dict | None], cells) -> int:
    """`support` (the pupils a rate rests on), or what `shown_rate` takes to hide the rate where one of
    `tables` (a group's counts as shown, None where not tabled) withholds one of `cells`: "<10" where one
    of them is under 10, as the tables say; "-" (0) where withheld as secondary."""
    hidden = withheld_among(tables, cells)
    if hidden is None:
        return support
    return min(support, SUPPRESSION_THRESHOLD - 1) if hidden == SUPPRESSED and support > 0 else 0


def _ablation_context(result: FairnessReview, shown: dict) -> dict | None:
    if result.ablation is None:
        return None
    ab = result.ablation
    # The ablated model's counts by group, suppressed by the model's rule: its rates give them back.
    ablated = shown_attribute_counts(ab.tables, result.nesting)
    changes = []
    for _, r in ab.groups.iterrows():
        # 0 (nothing shown) for a group whose pupils are withheld as secondary, as in its other tables;
        # else the fewest pupils the model's rate rests on (its tp, fp, fn, tn included): as is, its own
        # (as the model's table shows it); retrained, that model's; the change, both models'.
        base = _group_n(shown, r["attribute"], r["group"], r["n"])[1]
        # A rate would give back the counts it rests on (precision x selected = tp; recall and the
        # false-positive rate with pupils and excluded give selected): hidden where its model's are
        # withheld, as in the model's own table (`_metric`, `rate_counts`: the selection rate needs the
        # pupils and selected shown, an error rate all of PROTECTED).
        cells = rate_counts(r["metric"])
        own, other = (t.get(r["attribute"], {}).get(r["group"]) for t in (shown, ablated))
        columns = {"model": ("support_model", [own]), "ablated": ("support_ablated", [own, other]),
                   "change": ("support", [own, other])}  # fmt: skip
        support = {
            column: _support_shown(base if base < SUPPRESSION_THRESHOLD else r[key], tables, cells)
            for column, (key, tables) in columns.items()
        }
        changes.append({
            "attribute": r["attribute"], "group": r["group"], "metric": METRIC_LABELS[r["metric"]],
            **{column: withheld_rate(r[column], d) for column, d in support.items()},
        })  # fmt: skip
    return {
        "direction": ab.direction,
        "reviewed": "with" if result.model.get("include_protected") else "without",
        "precision": {k: str(v) for k, v in ab.precision.items()},
        "changes": changes,
    }


def _options_context(result: FairnessReview, shown: dict) -> dict | None:
    """The options side by side: precision at capacity, and by group selection ratio and observed /
    predicted (each hidden where a count it rests on is)."""
    if not result.options:
        return None
    attributes = []
    # each option's counts by group as the model's are suppressed: its selection ratio gives them back
    counts = [shown_attribute_counts(option.tables, result.nesting) for option in result.options]
    for a in result.attributes:
        groups = []
        for group in a.table["group"]:
            n, base = _group_n(shown, a.attribute, group, int(a.table.set_index("group").loc[group, "n"]))
            # observed / predicted: observed is the base rate, shown with the group's pupils and excluded
            observed = _support_shown(base, [shown.get(a.attribute, {}).get(group)], rate_counts(BASE_RATE))
            cells = []
            for option, option_counts in zip(result.options, counts, strict=True):
                r = option.groups.set_index(["attribute", "group"]).loc[(a.attribute, group)]
                # the option's selected pupils (of the group and its reference) count too
                support = min(base, int(r["support"])) if base >= SUPPRESSION_THRESHOLD else base
                table = option_counts.get(a.attribute, {})
                support = _support_shown(support, [table.get(group), table.get(a.reference)],
                                         rate_counts("selection_rate"))  # fmt: skip
                cells.append({
                    "selection_ratio": withheld_rate(r["selection_ratio"], support, 2),
                    "calibration": withheld_rate(r["observed_over_predicted"], observed, 2),
                })  # fmt: skip
            groups.append({"group": group, "n": n, "cells": cells})
        attributes.append({"name": a.attribute, "reference": a.reference, "groups": groups})
    return {
        "names": [o.name for o in result.options],
        "precision": [
            {"name": o.name, "precision": str(o.precision), "change": str(o.change or "-")}
            for o in result.options
        ],
        "attributes": attributes,
    }  # fmt: skip


def _red_list_context(result: FairnessReview, shown: dict, capacity_pct: str) -> dict | None:
    """The risk matrix's red list by group beside the top k% (`models.fairness_red_list`), its rates shown
    as the review's tables show a rate (`_metric`)."""
    if result.red_list is None:
        return None
    return red_list_context(result.red_list, result.attributes, shown, result.nesting, _metric, capacity_pct)


def _finding_context(finding: dict) -> dict:
    interval = interval_text(finding["low"], finding["high"])
    return {**finding, "ratio_text": f"{finding['ratio']:.2f}{interval}"}


def report_context(result: FairnessReview, figures: bool = True) -> dict:
    """Plain values for the template: every count suppressed, every small-denominator rate hidden
    (`figures`: draw the calibration plots, which only the HTML shows)."""
    shown = _shown_counts(result)
    found = summary(result, shown)
    year = found["year_calibration"]
    attributes = []
    for a in result.attributes:
        context = _attribute_context(result, a, shown, year)
        if figures:  # groups whose observed rate is hidden are not drawn (their curves would show it)
            hidden = [g for g, c in shown[a.attribute].items() if g != TOTAL and rate_withheld(c, BASE_RATE)]
            bins = result.calibration[a.attribute][1]
            context["figure"] = calibration_by_group_png(bins, a.attribute, hidden)
        attributes.append(context)
    attribution = None
    if result.attribution is not None and result.protected_used:
        attribution = []
        for _, r in result.attribution.iterrows():
            n, base = _group_n(shown, r["attribute"], r["group"], r["n"])
            attribution.append({
                "attribute": r["attribute"], "group": r["group"], "n": n,
                "shap": [shown_rate(r[f], base, digits=4) for f in result.protected_used],
                "share": shown_rate(100 * r["protected_share"], base, digits=1),
            })  # fmt: skip
    capacity_pct = f"{100 * result.capacity:g}"
    intersections = [_attribute_context(result, a, shown, year) for a in result.intersections]
    flagged = _flagged(attributes, intersections)
    return {
        "notice": DECISION_SUPPORT_NOTICE, "model": result.model,
        "capacity_pct": capacity_pct,
        # Pupils and excluded close every attribute's columns: withheld if any table withholds them.
        "pupils": shown_total(shown, "n", result.pupils),
        "positives": shown_total(shown, "positives", result.positives),
        "metric_labels": [METRIC_LABELS[m] for m in REPORT_METRICS], "fair_range": FAIR_RANGE,
        "flag_meaning": FLAG_MEANING, "attributes": attributes, "attribution": attribution,
        "protected_used": result.protected_used,
        "protected_words": [_input_words(f) for f in result.protected_used],
        "ablation": _ablation_context(result, shown),
        "risk_matrix": result.risk_matrix,
        "findings": [_finding_context(f) for f in found["top"]], "flagged": flagged["all"],
        "flagged_where": flagged, "flagged_words": flagged_words(flagged),
        "findings_all": [_finding_context(f) for f in found["all"]], "omitted": found["omitted"],
        "year_calibration": found["year_calibration"], "comparisons": found["comparisons"],
        "comparisons_line": comparisons_line(found["comparisons"]),
        "holding_line": holding_line(found["comparisons"]),
        "outcome": outcome_words(result.model.get("label")),
        "intersections": intersections,
        "shap": _shap_context(result, shown), "shap_scale": result.shap_scale or "the model's raw scale",
        "options": _options_context(result, shown), "linkage": result.linkage,
        "red_list": _red_list_context(result, shown, capacity_pct),
    }  # fmt: skip


def _flagged(attributes: list[dict], intersections: list[dict]) -> dict[str, int]:
    """The ratios the page flags (every flagged cell of its rates tables): "all", of them "groups" (the
    tables by sex, ethnic group, ...) and "intersections", and "base_rate", those that are base rates (a
    difference in outcomes, not the model's error: metrics[0])."""

    def flags(tables: list[dict], metrics: slice = slice(None)) -> int:
        return sum(bool(m["flagged"]) for a in tables for r in a["rows"] for m in r["metrics"][metrics])

    groups, crossed = flags(attributes), flags(intersections)
    base = flags(attributes, slice(0, 1)) + flags(intersections, slice(0, 1))
    return {"all": groups + crossed, "groups": groups, "intersections": crossed, "base_rate": base}


def flagged_words(counts: dict[str, int]) -> str:
    """The flags counted in words, as the page's summary and the `review` command say them."""
    return (
        f"{counts['all']} group rate(s) outside {FAIR_RANGE[0]}-{FAIR_RANGE[1]} of their reference are "
        f"flagged in the report's tables: {counts['groups']} in the tables by group and "
        f"{counts['intersections']} in the intersections; {counts['base_rate']} of the {counts['all']} are "
        "base rates (how often a group is excluded: a difference in outcomes, not the model's error)"
    )


def render_report(result: FairnessReview, context: dict | None = None) -> str:
    """The review as one HTML page (`templates/fairness.html.j2`); `context`: report_context(result),
    where the caller has built it already."""
    return render("fairness.html.j2", **(context if context is not None else report_context(result)))


def summary_json(result: FairnessReview, context: dict | None = None) -> dict:
    """`fairness.json`: the report's numbers as published (suppressed as in the HTML), in the sections
    audits read: summary, groups, intersections, shap_by_group, calibration, options, red_list.
    `context`: report_context(result), with or without its figures, where the caller has built it (the
    figures are not read: building the numbers twice ran the red list's withholding twice)."""
    context = context if context is not None else report_context(result, figures=False)
    tables = [*context["attributes"], *context["intersections"]]
    calibration = {a["name"]: a["calibration"] for a in tables}

    def rates(a: dict) -> dict:
        return {k: v for k, v in a.items() if k not in ("figure", "calibration")}

    options = {"as_is": {"protected_characteristics": context["model"].get("include_protected")},
               "ablation": context["ablation"], "measured": context["options"]}  # fmt: skip
    return {
        "model": context["model"], "capacity_pct": context["capacity_pct"], "pupils": context["pupils"],
        "positives": context["positives"], "metrics": context["metric_labels"], "notice": context["notice"],
        "summary": {
            "flagged": context["flagged"], "flagged_where": context["flagged_where"],
            "year_calibration": context["year_calibration"], "comparisons": context["comparisons"],
            "top": context["findings"], "all": context["findings_all"], "omitted": context["omitted"],
            "red_list": context["red_list"]["summary"] if context["red_list"] else None,
        },
        "groups": [rates(a) for a in context["attributes"]],
        "intersections": [rates(a) for a in context["intersections"]],
        "shap_by_group": {"scale": context["shap_scale"], "attributes": context["shap"]},
        "calibration": calibration, "options": options,
        "protected_attribution": context["attribution"], "linkage": context["linkage"],
        "red_list": context["red_list"],
    }  # fmt: skip
