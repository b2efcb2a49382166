"""The fairness review as a report: one HTML page for a reviewer, and the same aggregates as data.

Conventions (stated in the report): any count of fewer than 10 pupils is shown as "<10", a rate whose
denominator is under 10 pupils is not shown, a group count that could be worked out from the page's
totals is withheld too ("x", `suppress_table`) and a group with a withheld count shows no rates, and a
flag is explained as a prompt to look closer (`FLAG_MEANING`), never as a finding.
"""

from __future__ import annotations

import numpy as np

from exclusion_risk.models.fairness import FAIR_RANGE, METRICS, FairnessReview, denominator
from exclusion_risk.models.plots import calibration_by_group_png
from exclusion_risk.models.rendering import render
from exclusion_risk.privacy import (
    DECISION_SUPPORT_NOTICE,
    SUPPRESSED,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    is_withheld,
    suppress_count,
    suppress_table,
)

METRIC_LABELS = {
    "selection_rate": "selection rate",
    "precision": "precision",
    "recall": "recall (TPR)",
    "fpr": "false-positive rate",
    "fnr": "false-negative rate",
}
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


def _ratio_text(row, metric: str) -> str:
    if denominator(row, metric) < SUPPRESSION_THRESHOLD or not np.isfinite(row[f"{metric}_ratio"]):
        return "-"
    low, high = row[f"{metric}_ratio_low"], row[f"{metric}_ratio_high"]
    interval = f" [{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else ""
    return f"{row[f'{metric}_ratio']:.2f}{interval}"


def _rate_text(row, metric: str) -> str:
    shown = shown_rate(row[metric], denominator(row, metric))
    if shown in ("<10", "-"):
        return shown
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    return f"{shown} [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else shown


COUNTS = ("n", "selected", "positives")


def _shown_counts(result: FairnessReview) -> dict[str, dict]:
    """Per attribute, the group counts as shown: the groups' pupils and excluded pupils sum to the page's
    totals (and selected to the capacity's share), so each table goes through `suppress_table`."""
    return {
        a.attribute: suppress_table(
            a.table.set_index("group")[list(COUNTS)].astype(int), row_totals=False
        ).to_dict("index")
        for a in result.attributes
    }


def _counts_withheld(counts: dict) -> bool:
    # Rates give withheld counts back: selection rate * pupils = selected, observed rate * pupils =
    # excluded, recall and false-positive rate with precision give selected and excluded. So a group
    # with any count withheld ("<10" or "x") shows none of its rates.
    return any(is_withheld(counts[c]) for c in COUNTS)


def _metric(r, m: str, counts: dict) -> dict:
    if _counts_withheld(counts):
        return {"rate": SUPPRESSED if counts["n"] == SUPPRESSED else "-", "ratio": "-", "flagged": False}
    return {"rate": _rate_text(r, m), "ratio": _ratio_text(r, m),
            "flagged": bool(r[f"{m}_flagged"]) and denominator(r, m) >= SUPPRESSION_THRESHOLD}  # fmt: skip


def _group_n(shown: dict, attribute: str, group, n: int) -> tuple[int | str, int]:
    """A group's pupils as its counts table shows them, and the denominator its rates may use.

    `n` itself (rates shown as "<10") for a group of under 10; 0 (rates not shown) for a larger group
    with a withheld count (see `_counts_withheld`).
    """
    counts = shown.get(attribute, {}).get(group)
    if counts is None:
        return shown_count(n), int(n)
    hidden = _counts_withheld(counts) and counts["n"] != SUPPRESSED
    return counts["n"], 0 if hidden else int(n)


def report_context(result: FairnessReview) -> dict:
    """Plain values for the template: every count suppressed, every small-denominator rate hidden."""
    shown = _shown_counts(result)
    attributes = []
    for a in result.attributes:
        rows = []
        for _, r in a.table.iterrows():
            counts = shown[a.attribute][r["group"]]
            rows.append({
                "group": r["group"], "reference": bool(r["is_reference"]), **{c: counts[c] for c in COUNTS},
                "metrics": [_metric(r, m, counts) for m in METRICS],
            })  # fmt: skip
        summary, _ = result.calibration[a.attribute]
        calibration = []
        for _, c in summary.iterrows():
            n, base = _group_n(shown, a.attribute, c["group"], c["n"])
            calibration.append({
                "group": c["group"], "n": n, "predicted": shown_rate(c["predicted"], base),
                "observed": shown_rate(c["observed"], base),
                "ratio": shown_rate(c["observed_over_predicted"], base, digits=2),
            })  # fmt: skip
        attributes.append(
            {
                "name": a.attribute,
                "reference": a.reference,
                "rows": rows,
                "calibration": calibration,
                "figure": calibration_by_group_png(result.calibration[a.attribute][1], a.attribute),
            }
        )
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
    ablation = None
    if result.ablation is not None:
        ab = result.ablation
        changes = []
        for _, r in ab.groups.iterrows():
            # 0 (nothing shown) for a group whose counts are withheld as secondary, as in its other tables.
            d = _group_n(shown, r["attribute"], r["group"], r["denominator"])[1]
            changes.append({
                "attribute": r["attribute"], "group": r["group"], "metric": METRIC_LABELS[r["metric"]],
                "model": shown_rate(r["model"], d), "ablated": shown_rate(r["ablated"], d),
                "change": shown_rate(r["change"], d) if d >= SUPPRESSION_THRESHOLD
                else "<10" if d == r["denominator"] else "-",
            })  # fmt: skip
        ablation = {
            "direction": ab.direction,
            "precision": {k: str(v) for k, v in ab.precision.items()},
            "changes": changes,
        }
    return {
        "notice": DECISION_SUPPORT_NOTICE, "model": result.model,
        "capacity_pct": f"{100 * result.capacity:g}",
        # Pupils and excluded close every attribute's columns: withheld if any table withholds them.
        "pupils": _total(shown, "n", result.pupils),
        "positives": _total(shown, "positives", result.positives),
        "metric_labels": [METRIC_LABELS[m] for m in METRICS], "fair_range": FAIR_RANGE,
        "flag_meaning": FLAG_MEANING, "attributes": attributes, "attribution": attribution,
        "protected_used": result.protected_used, "ablation": ablation, "risk_matrix": result.risk_matrix,
    }  # fmt: skip


def _total(shown: dict[str, dict], column: str, value: int) -> int | str:
    withheld = [t[TOTAL][column] for t in shown.values() if is_withheld(t[TOTAL][column])]
    return withheld[0] if withheld else shown_count(value)


def render_report(result: FairnessReview) -> str:
    """The review as one HTML page (`templates/fairness.html.j2`)."""
    return render("fairness.html.j2", **report_context(result))


def summary_json(result: FairnessReview) -> dict:
    """Suppressed aggregates for MLflow (what the HTML shows, as data)."""
    context = report_context(result)
    for attribute in context["attributes"]:
        attribute.pop("figure")
    return context
