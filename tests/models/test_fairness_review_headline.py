"""The fairness review's summary and headline against what its page shows: reference groups'
calibration, the count of flags, withheld rates in the ablation and options tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models import fairness, fairness_report

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
