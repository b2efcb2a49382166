"""Issue #13: SHAP by group, and the decomposition of a group's gap in mean raw score into its inputs."""

from __future__ import annotations

from html import unescape

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.explain import Explainer
from exclusion_risk.models.fairness_shap import score_gaps, shap_by_group
from exclusion_risk.models.reasons import REGISTRY_NAMES, feature_label


def _model_raw_score(pipeline, frame: pd.DataFrame) -> np.ndarray:
    """The model's own raw score, asked of the model itself and not of the explanation (whose raw_score
    is its contributions plus expected value, so a check against it would check the sum with itself):
    LightGBM's booster with raw_score=True (log-odds), the forest's own predict_proba (probability)."""
    explainer = Explainer(pipeline)
    X = explainer.matrix(frame)
    estimator = explainer.parts.estimator
    if explainer.kind == "lightgbm":
        return np.asarray(estimator.booster_.predict(X, raw_score=True), dtype=np.float64)
    return estimator.predict_proba(X)[:, list(estimator.classes_).index(1)]


@pytest.mark.parametrize(
    ("model_type", "scale"), [("lightgbm", "log-odds"), ("random_forest", "probability")]
)
def test_gap_parts_add_up_to_the_gap_in_mean_raw_score(training, test_year, model_type, scale):
    result, _ = training
    explanation = Explainer(result.models[model_type].pipeline).explain(test_year)
    assert explanation.scale == scale
    groups = fairness.review_groups(test_year)
    references = {attribute: fairness.reference_group(labels) for attribute, labels in groups.items()}
    shap = shap_by_group(explanation.frame(), groups, references)
    gaps = score_gaps(shap).set_index(["attribute", "group"])
    raw = pd.Series(_model_raw_score(result.models[model_type].pipeline, test_year))
    checked = 0
    for attribute, labels in groups.items():
        labels = labels.astype(str).reset_index(drop=True)
        mean_raw = raw.groupby(labels).mean()
        for group in mean_raw.index:
            gap = mean_raw[group] - mean_raw[references[attribute]]
            parts = shap[(shap["attribute"] == attribute) & (shap["group"] == group)]
            assert parts["gap_part"].sum() == pytest.approx(gap, abs=1e-9)
            assert gaps.loc[(attribute, group), "gap"] == pytest.approx(gap, abs=1e-9)
            # each part: the group's mean contribution minus the reference's, feature by feature
            mean = explanation.frame()[(labels == group).to_numpy()].mean()
            assert np.allclose(parts.set_index("feature")["mean"].loc[mean.index], mean.to_numpy())
            checked += group != references[attribute]
    assert checked >= 5
    # some attribute's gap is not zero, and the parts are not all one feature's
    sex = shap[(shap["attribute"] == "sex") & (shap["group"] != references["sex"])]
    assert abs(sex["gap_part"].sum()) > 1e-3 and (sex["gap_part"].abs() > 1e-6).sum() > 1


def test_report_shows_shap_by_group_with_its_scale(training, test_year):
    result, _ = training
    pipeline = result.models["lightgbm"].pipeline
    explanation = Explainer(pipeline).explain(test_year)
    p = pipeline.predict_proba(test_year[result.feature_cols])[:, 1]
    review = fairness.review(
        test_year["label"].to_numpy(), p, test_year, 0.05, {"model_type": "lightgbm", "year": "x"},
        contributions=explanation.frame(), protected_used=["sex"], n_boot=20, shap_scale=explanation.scale,
    )  # fmt: skip
    context = fairness_report.report_context(review)
    sex = next(a for a in context["shap"] if a["name"] == "sex")
    assert sex["others"] == ["girls"] and sex["groups"][0] == "boys"
    gap = float(sex["gaps"][0])
    raw = pd.Series(_model_raw_score(pipeline, test_year)).groupby(test_year["sex"].to_numpy()).mean()
    assert gap == pytest.approx(raw["F"] - raw["M"], abs=1e-4)
    # the rows shown (leading features and "all other features") add up to the gap too
    assert sum(float(r["parts"][0]) for r in sex["rows"]) == pytest.approx(gap, abs=1e-3)
    html = " ".join(fairness_report.render_report(review).split())
    assert "SHAP by group" in html and "mean raw score (log-odds)" in html
    # inputs in words, with the column name fairness.json keeps (a reviewer read "fsm_ever6", "nc_year")
    named = [r for r in sex["rows"] if r["feature"] in REGISTRY_NAMES]
    assert named and all(r["input"] == f"{feature_label(r['feature'])} ({r['feature']})" for r in named)
    section = unescape(html.split("SHAP by group: which inputs")[1].split("SHAP attribution of protected")[0])
    assert all(f"<td>{r['input']}</td>" in section for r in named)
    assert not any(f"<td>{r['feature']}</td>" in section for r in named)
