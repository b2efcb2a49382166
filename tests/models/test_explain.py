"""SHAP explanations: additivity on every model type, agreement with shap, registry-language factors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap

from exclusion_risk.features import registry
from exclusion_risk.models.explain import AdditivityError, Explainer, check_additivity
from exclusion_risk.models.reasons import reason_columns, top_factors

KINDS = ("lightgbm", "random_forest", "logistic")


@pytest.mark.parametrize("kind", KINDS)
def test_contributions_add_up_to_the_raw_score(training, test_year, kind):
    result, _ = training
    explainer = Explainer(result.models[kind].pipeline)
    X = explainer.matrix(test_year)
    explanation = explainer.explain_matrix(X, check=False)
    own = explainer.raw_score(X)
    assert check_additivity(explanation, own) < 1e-6
    assert explanation.contributions.shape == (len(test_year), len(explainer.features))
    # the check is not vacuous: a shifted expected value is caught
    explanation.raw_score = explanation.raw_score + 0.01
    with pytest.raises(AdditivityError):
        check_additivity(explanation, own)


@pytest.mark.parametrize("kind", KINDS)
def test_calibration_keeps_the_order_of_the_explained_score(training, test_year, kind):
    result, _ = training
    pipeline = result.models[kind].pipeline
    explainer = Explainer(pipeline)
    raw = explainer.explain(test_year).raw_score
    probability = pipeline.predict_proba(test_year[explainer.features])[:, 1]
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(probability[order]) >= -1e-12)


def test_lightgbm_pred_contrib_agrees_with_shap(training, test_year):
    result, _ = training
    explainer = Explainer(result.models["lightgbm"].pipeline)
    X = explainer.matrix(test_year.head(300))
    booster = explainer.parts.estimator.booster_
    ours = booster.predict(X, pred_contrib=True)
    theirs = shap.TreeExplainer(booster).shap_values(X)
    assert np.abs(np.asarray(theirs) - ours[:, :-1]).max() < 1e-8


def test_lightgbm_categorical_splits_trap():
    """shap 0.51 cannot do interventional SHAP on categorical LightGBM splits; pred_contrib stays exact."""
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    n = 1000
    X = pd.DataFrame({"a": rng.normal(size=n), "c": pd.Categorical(rng.choice(list("pqrstu"), n))})
    y = (X["a"] + 1.5 * X["c"].isin(["p", "q"]) + rng.normal(size=n) > 1).astype(int)
    model = lgb.LGBMClassifier(n_estimators=30, num_leaves=15, verbose=-1, n_jobs=1).fit(X, y)
    raw = model.booster_.predict(X, raw_score=True)
    contrib = model.booster_.predict(X, pred_contrib=True)
    assert np.abs(contrib.sum(axis=1) - raw).max() < 1e-9
    path_dependent = np.asarray(shap.TreeExplainer(model).shap_values(X.head(200)))
    assert np.abs(path_dependent - contrib[:200, :-1]).max() < 1e-9
    try:
        background = shap.TreeExplainer(model, data=X.head(100), feature_perturbation="interventional")
        values = np.asarray(background.shap_values(X.head(200), check_additivity=False))
        error = np.abs(values.sum(axis=1) + background.expected_value - raw[:200]).max()
        assert error > 1e-3  # misread splits: not additive
    except Exception as exc:  # noqa: BLE001 - refusing is the other documented outcome
        assert "categorical" in str(exc)


def test_logistic_contributions_are_exact_linear_terms(training, test_year):
    result, _ = training
    explainer = Explainer(result.models["logistic"].pipeline)
    X = explainer.matrix(test_year)
    columns, expected = explainer.column_contributions(X)
    est = explainer.parts.estimator
    reference = explainer.background_mean
    assert np.allclose(columns, (X - reference) * est.coef_.ravel())
    assert expected == pytest.approx(float(est.intercept_[0] + reference @ est.coef_.ravel()))


def test_one_hot_columns_are_summed_back_to_registry_features(training, test_year):
    result, _ = training
    explainer = Explainer(result.models["logistic"].pipeline)
    names = [str(n) for n in explainer.parts.transform_steps[0].get_feature_names_out()]
    assert any(n.startswith("sen_type_") for n in names)  # one-hot really happened
    assert any(n.startswith("missingindicator_") for n in names)
    X = explainer.matrix(test_year.head(50))
    columns, _ = explainer.column_contributions(X)
    explanation = explainer.explain_matrix(X)
    j = explainer.features.index("sen_type")
    sen_columns = [i for i, n in enumerate(names) if n.startswith("sen_type_")]
    assert np.allclose(explanation.contributions[:, j], columns[:, sen_columns].sum(axis=1))


def test_factors_speak_the_registry_language(training, test_year):
    result, _ = training
    explainer = Explainer(result.models["lightgbm"].pipeline)
    explanation = explainer.explain(test_year)
    factors = top_factors(explanation, test_year, n=3)
    raw_names = {str(n) for n in explainer.parts.transform_steps[0].get_feature_names_out()}
    raw_names |= set(explainer.features)
    semh = test_year["sen_type"].eq("SEMH").to_numpy()
    seen_semh = False
    for row, pupil_factors in enumerate(factors):
        assert len(pupil_factors) <= 3
        contributions = [f["contribution"] for f in pupil_factors]
        assert contributions == sorted(contributions, reverse=True) and all(c > 0 for c in contributions)
        for f in pupil_factors:
            assert f["value"] not in raw_names
            assert not registry.get(f["feature"]).protected  # protected characteristics are never reasons
            assert f["value"] == registry.describe(f["feature"], test_year[f["feature"]].iloc[row])
        text = "; ".join(f["value"] for f in pupil_factors)
        seen_semh |= semh[row] and "SEMH needs (social, emotional and mental health)" in text
    assert seen_semh
    # the cohort path renders the same text (the child's own factors) without building a dict per factor
    child = top_factors(explanation, test_year, n=3, context=False)
    joined = ["; ".join(f["value"] for f in pupil_factors) for pupil_factors in child]
    assert reason_columns(explanation, test_year, n=3)["reasons"] == joined
    assert reason_columns(explanation, test_year.to_dict("records"), n=3)["reasons"] == joined
    with_protected = top_factors(explanation, test_year, n=30, include_protected=True, min_contribution=0.0)
    assert any(registry.get(f["feature"]).protected for fs in with_protected for f in fs)
    lowering = top_factors(explanation, test_year, n=2, direction="lowering")
    assert all(f["contribution"] < 0 for fs in lowering for f in fs)


def test_global_plots_are_logged(training, test_year, tmp_path, monkeypatch):
    import mlflow

    from exclusion_risk.models.training_log import log_global_explanations

    result, _ = training
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.create_experiment("explain-test", artifact_location=(tmp_path / "artifacts").as_uri())
    explainer = Explainer(result.models["lightgbm"].pipeline)
    with mlflow.start_run(experiment_id=experiment) as run:
        importance = log_global_explanations(explainer, test_year, "lightgbm", sample_size=500)
    files = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "shap")}
    assert {"shap/summary_beeswarm.png", "shap/mean_abs_shap.png", "shap/mean_abs_shap.json"} <= files
    assert max(importance, key=importance.get) in {
        "suspensions_last_year",
        "absence_rate_last_year",
        "sen_type",
        "suspensions_this_year",
        "fsm",
    }
