"""The fairness review's summary and headline against what its page shows: reference groups'
calibration, the count of flags, withheld rates in the ablation and options tables."""

from __future__ import annotations

import json
from html import unescape

import numpy as np
import pandas as pd

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.fairness_run import fairness_json

BOYS, GIRLS = 11000, 9000


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "sex": ["M"] * BOYS + ["F"] * GIRLS, "ethnicity_group": "White British", "sen_provision": "N",
        "fsm": 0,
    }, index=range(BOYS + GIRLS))  # fmt: skip


def _review(risk: np.ndarray, predicted: np.ndarray, seed: int = 0):
    y = (np.random.default_rng(seed).random(risk.size) < risk).astype(int)
    model = {"model_type": "lightgbm", "year": "x", "include_protected": False}
    return fairness.review(y, predicted, _frame(), 0.3, model, n_boot=100)


def test_a_reference_groups_calibration_is_a_finding():
    """Observed / predicted is the group's own, not a ratio to a reference: boys (the reference for sex)
    under-predicted by 0.6 are found, as girls would be."""
    rng = np.random.default_rng(3)
    risk = rng.uniform(0, 0.3, BOYS + GIRLS)
    predicted = risk * np.where(np.arange(risk.size) < BOYS, 0.6, 1.0)
    review = _review(risk, predicted)
    calibration = review.calibration["sex"][0].set_index("group").loc["boys"]
    assert calibration["ratio_low"] > 1.25
    found = fairness_report.report_context(review, figures=False)["findings_all"]
    boys = [f for f in found if f["kind"] == "calibration" and f["group"] == "boys"]
    assert len(boys) == 1 and boys[0]["attribute"] == "sex" and boys[0]["ratio"] > 1.25
    assert "boys" in boys[0]["meaning"] and "higher than stated" in boys[0]["action"]


def _mixed_review():
    """Girls and Asian pupils excluded more often, the model calibrated: flags in the tables by group,
    base rates among them, and in the intersections (Asian girls against White British girls)."""
    rng = np.random.default_rng(5)
    frame = _frame()
    frame["ethnicity_group"] = np.where(rng.random(len(frame)) < 0.4, "Asian", "White British")
    girls, asian = frame["sex"].eq("F").to_numpy(), frame["ethnicity_group"].eq("Asian").to_numpy()
    risk = rng.uniform(0, 0.3, len(frame)) * np.where(girls, 2.0, 1.0) * np.where(asian, 1.6, 1.0)
    y = (rng.random(risk.size) < risk).astype(int)
    model = {"model_type": "lightgbm", "year": "x", "include_protected": False}
    return fairness.review(y, risk, frame, 0.3, model, n_boot=50)


def test_the_headline_counts_every_flag_the_page_shows_and_the_command_says_the_same():
    review = _mixed_review()
    context = fairness_report.report_context(review, figures=False)
    where = context["flagged_where"]
    html = unescape(fairness_report.render_report(review))
    cells = html.count('<td class="flag">')
    assert where["groups"] > 0 and where["intersections"] > 0 and where["base_rate"] > 0
    assert context["flagged"] == where["all"] == where["groups"] + where["intersections"] == cells
    counted = json.loads(fairness_json(review))["summary"]["flagged_where"]  # what `review` reads
    assert counted == where
    words = fairness_report.flagged_words(counted)  # what the review command prints
    assert words.startswith(f"{cells} group rate(s) outside 0.8-1.25") and words in html
    assert f"{where['base_rate']} of the {cells} are base rates" in words
    assert json.loads(fairness_json(review))["summary"]["flagged"] == cells


def test_the_ablations_as_is_column_shows_what_the_models_table_shows_and_hidden_rates_read_a_dash():
    """Retrained, the model selects 5 girls: that column's girls' selection rate is hidden, and reads
    "-" ("<10" is a count); as is, 2,000+ girls are selected and their rate is shown, as in the table."""
    rng = np.random.default_rng(7)
    risk = rng.uniform(0, 0.3, BOYS + GIRLS)
    girls = np.arange(risk.size) >= BOYS
    ablated = np.where(girls, 0.0, risk)
    ablated[np.flatnonzero(girls)[:5]] = 0.99
    y = (rng.random(risk.size) < risk).astype(int)
    model = {"model_type": "lightgbm", "year": "x", "include_protected": False}
    review = fairness.review(y, risk, _frame(), 0.3, model, ablated_probabilities=ablated, n_boot=20)
    context = fairness_report.report_context(review, figures=False)
    sex = next(a for a in context["attributes"] if a["name"] == "sex")
    main = next(r for r in sex["rows"] if r["group"] == "girls")
    at = fairness_report.REPORT_METRICS.index("selection_rate")
    row = next(c for c in context["ablation"]["changes"]
               if c["group"] == "girls" and c["metric"] == fairness.METRIC_LABELS["selection_rate"])
    assert main["selected"] >= 10 and main["metrics"][at]["rate"].split(" ")[0] == row["model"]
    assert row["ablated"] == "-" and row["change"] == "-"
    cells = [c[k] for c in context["ablation"]["changes"] for k in ("model", "ablated", "change")]
    assert "<10" not in cells
