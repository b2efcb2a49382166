"""The fairness review as a report: one HTML page for a reviewer, and the same aggregates as data.

Conventions (stated in the report): any count of fewer than 10 pupils is shown as "<10", a rate whose
denominator is under 10 pupils is not shown, and a flag is explained as a prompt to look closer
(`FLAG_MEANING`), never as a finding.
"""

from __future__ import annotations

import numpy as np

from exclusion_risk.models.fairness import FAIR_RANGE, METRICS, FairnessReview, denominator
from exclusion_risk.models.plots import calibration_by_group_png
from exclusion_risk.models.rendering import render
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE, SUPPRESSION_THRESHOLD, suppress_count

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


def report_context(result: FairnessReview) -> dict:
    """Plain values for the template: every count suppressed, every small-denominator rate hidden."""
    attributes = []
    for a in result.attributes:
        rows = []
        for _, r in a.table.iterrows():
            rows.append({
                "group": r["group"], "reference": bool(r["is_reference"]), "n": shown_count(r["n"]),
                "selected": shown_count(r["selected"]), "positives": shown_count(r["positives"]),
                "metrics": [
                    {"rate": _rate_text(r, m), "ratio": _ratio_text(r, m),
                     "flagged": bool(r[f"{m}_flagged"]) and denominator(r, m) >= SUPPRESSION_THRESHOLD}
                    for m in METRICS
                ],
            })  # fmt: skip
        summary, _ = result.calibration[a.attribute]
        calibration = [
            {"group": c["group"], "n": shown_count(c["n"]),
             "predicted": shown_rate(c["predicted"], int(c["n"])),
             "observed": shown_rate(c["observed"], int(c["n"])),
             "ratio": shown_rate(c["observed_over_predicted"], int(c["n"]), digits=2)}
            for _, c in summary.iterrows()
        ]  # fmt: skip
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
        attribution = [
            {"attribute": r["attribute"], "group": r["group"], "n": shown_count(r["n"]),
             "shap": [shown_rate(r[f], int(r["n"]), digits=4) for f in result.protected_used],
             "share": shown_rate(100 * r["protected_share"], int(r["n"]), digits=1)}
            for _, r in result.attribution.iterrows()
        ]  # fmt: skip
    ablation = None
    if result.ablation is not None:
        ab = result.ablation
        changes = [
            {"attribute": r["attribute"], "group": r["group"], "metric": METRIC_LABELS[r["metric"]],
             "model": shown_rate(r["model"], r["denominator"]),
             "ablated": shown_rate(r["ablated"], r["denominator"]),
             "change": shown_rate(r["change"], r["denominator"]) if r["denominator"] >= SUPPRESSION_THRESHOLD
             else "<10"}
            for _, r in ab.groups.iterrows()
        ]  # fmt: skip
        ablation = {
            "direction": ab.direction,
            "precision": {k: str(v) for k, v in ab.precision.items()},
            "changes": changes,
        }
    return {
        "notice": DECISION_SUPPORT_NOTICE, "model": result.model,
        "capacity_pct": f"{100 * result.capacity:g}",
        "pupils": shown_count(result.pupils), "positives": shown_count(result.positives),
        "metric_labels": [METRIC_LABELS[m] for m in METRICS], "fair_range": FAIR_RANGE,
        "flag_meaning": FLAG_MEANING, "attributes": attributes, "attribution": attribution,
        "protected_used": result.protected_used, "ablation": ablation, "risk_matrix": result.risk_matrix,
    }  # fmt: skip


def render_report(result: FairnessReview) -> str:
    """The review as one HTML page (`templates/fairness.html.j2`)."""
    return render("fairness.html.j2", **report_context(result))


def summary_json(result: FairnessReview) -> dict:
    """Suppressed aggregates for MLflow (what the HTML shows, as data)."""
    context = report_context(result)
    for attribute in context["attributes"]:
        attribute.pop("figure")
    return context
