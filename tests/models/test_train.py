"""Training on a small feature table with a known logit: config, temporal scheme, calibration, baselines."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.features.preprocess import make_preprocessor
from exclusion_risk.models.calibration import CalibratedClassifier
from exclusion_risk.models.checklist import ChecklistBaseline, checklist_points
from exclusion_risk.models.config import ConfigError, load_config
from exclusion_risk.models.metrics import point_metrics
from exclusion_risk.models.train import TrainingError, calibration_pupils, resolve_split, train_models

SMALL = {
    "n_jobs": 1,
    "metrics": {"capacities": [0.01, 0.05, 0.1], "bootstrap": 100, "level": 0.95},
    "models": {
        "random_forest": {"class_weight": "balanced_subsample",
                          "params": {"n_estimators": 40, "min_samples_leaf": 20, "max_features": 0.5},
                          "grid": {"max_depth": [4, 8]}},
        "lightgbm": {"params": {"learning_rate": 0.1, "n_estimators": 400, "min_child_samples": 30},
                     "grid": {"num_leaves": [7, 15]}, "early_stopping_rounds": 20},
        "logistic": {"params": {"max_iter": 500}, "grid": {"C": [0.1, 1.0]}},
    },
}  # fmt: skip


def small_config(tmp_path: Path, **overrides):
    import yaml

    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump({**SMALL, **overrides}))
    return load_config(path)


@pytest.fixture(scope="module")
def table(feature_table):
    return feature_table(pupils=3000, seed=3)


@pytest.fixture(scope="module")
def trained(table, tmp_path_factory, model_features):
    frame, truth = table
    config = small_config(tmp_path_factory.mktemp("cfg"))
    return train_models(frame, config, model_features, make_preprocessor), frame, truth


# --- config --------------------------------------------------------------------------------------


def test_default_config_is_the_documented_experiment():
    config = load_config()
    # the years follow the data (the demo's 2015/16-2018/19 give train 2016/17, validation 2017/18,
    # test 2018/19: test_auto_split_takes_the_latest_labelled_year_as_test)
    assert (config.splits.train, config.splits.validation, config.splits.test) == ("auto", "auto", "auto")
    assert config.splits.refit
    assert set(config.enabled_models()) == {"random_forest", "lightgbm", "logistic"}
    assert config.models["random_forest"].grid["class_weight"] == [None, "balanced_subsample"]
    assert config.models["lightgbm"].class_weight is None
    assert len(config.models["random_forest"].grid_points()) == 2
    assert config.features.include_protected is False


def test_user_config_replaces_named_sections_and_keeps_other_models(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("label: repeat\nmodels:\n  logistic:\n    grid: {C: [0.5, 1, 2]}\n")
    config = load_config(path)
    assert config.label == "repeat"
    assert [p["C"] for p in config.models["logistic"].grid_points()] == [0.5, 1, 2]
    assert config.models["lightgbm"].early_stopping_rounds == 50  # default model kept
    assert config.fingerprint() != load_config().fingerprint()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("splits: {train: ['2017/18'], validation: '2016/17', test: '2018/19'}", "train < validation < test"),
        ("splits: {train: ['2016-17'], validation: '2017/18', test: '2018/19'}", "written like 2016/17"),
        ("splits: {validation: '2017/18'}", "all three"),
        ("label: everything", "label"),
        ("models: {xgboost: {}}", "unknown model types"),
        ("calibration: {method: magic}", "calibration.method"),
        ("featurs: {}", "featurs"),
        ("models: {random_forest: {grid: {max_depth: []}}}", "non-empty"),
        ("- a\n- list", "mapping"),
        ("a: [unclosed", "not valid YAML"),
    ],
)
def test_bad_configs_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


# --- splits and hold-outs ------------------------------------------------------------------------


def test_auto_split_takes_the_latest_labelled_year_as_test(table, tmp_path):
    frame, _ = table
    config = small_config(tmp_path, splits={"train": "auto", "validation": "auto", "test": "auto"})
    split = resolve_split(frame, config)
    assert split.train == ("2016/17",) and split.validation == "2017/18" and split.test == "2018/19"
    unlabelled_latest = frame.assign(
        label=np.where(frame["AcademicYear"] == "2018/19", np.nan, frame["label"])
    )
    with pytest.raises(TrainingError, match="at least three labelled years") as refused:
        resolve_split(unlabelled_latest, config)
    assert str(refused.value).endswith("the data have 2: 2016/17, 2017/18")  # not a Python list's repr


def test_explicit_split_must_exist_in_the_data(table, tmp_path):
    frame, _ = table
    config = small_config(tmp_path, splits={"train": ["2019/20"], "validation": "2020/21", "test": "2021/22"})
    with pytest.raises(TrainingError, match="2019/20"):
        resolve_split(frame, config)


def test_calibration_pupils_are_a_stable_pupil_level_share():
    upns = pd.Series([f"X{n:012d}" for n in range(5000)] * 2)  # every pupil in two years
    held = calibration_pupils(upns, 0.3, seed=7)
    assert 0.27 < held.mean() < 0.33
    assert (held[:5000] == held[5000:]).all()  # a pupil is held out in every year or in none
    assert (calibration_pupils(upns, 0.3, seed=7) == held).all()
    assert (calibration_pupils(upns, 0.3, seed=8) != held).any()


# --- calibration and the checklist ---------------------------------------------------------------


def test_sigmoid_calibration_undoes_class_weighting():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 3))
    truth = 1 / (1 + np.exp(-(X @ np.array([1.0, -0.5, 0.8]) - 3.0)))
    y = (rng.random(truth.size) < truth).astype(int)
    fit, cal, test = slice(0, 8000), slice(8000, 14000), slice(14000, None)
    weighted = LogisticRegression(class_weight="balanced").fit(X[fit], y[fit])
    raw = weighted.predict_proba(X[test])[:, 1]
    calibrated = CalibratedClassifier(weighted, "sigmoid").fit(X[cal], y[cal])
    p = calibrated.predict_proba(X[test])[:, 1]
    assert np.mean(raw) > 3 * np.mean(truth[test])  # weighting inflates probabilities...
    assert abs(np.mean(p) - np.mean(truth[test])) < 0.01  # ...and calibration brings them back
    assert np.abs(p - truth[test]).mean() < 0.01
    assert np.array_equal(np.argsort(p), np.argsort(raw))  # ranking untouched
    iso = CalibratedClassifier(weighted, "isotonic").fit(X[cal], y[cal]).predict_proba(X[test])[:, 1]
    assert np.all(np.diff(iso[np.argsort(raw)]) >= -1e-12)  # monotone in the raw score


def test_calibration_needs_both_outcomes():
    from sklearn.dummy import DummyClassifier

    est = DummyClassifier(strategy="prior").fit(np.zeros((4, 1)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="both outcomes"):
        CalibratedClassifier(est).fit(np.zeros((3, 1)), [0, 0, 0])


def test_checklist_points_add_up(table):
    frame, _ = table
    one = frame.iloc[[0]].copy()
    for col in (
        "suspensions_this_year",
        "suspensions_earlier",
        "permanent_exclusions_prior",
        "cla_open",
        "cpp_open",
        "cin_open",
        "fsm",
        "school_moves_last_year",
        "persistent_absence_last_year",
    ):
        one[col] = 0.0
    one["suspensions_last_year"] = 2.0
    one["sen_provision"], one["sen_type"] = "K", "SEMH"
    assert checklist_points(one)[0] == 3 + 2 + 1
    model = ChecklistBaseline().fit(frame[frame["label"].notna()], frame["label"].dropna())
    p = model.predict_proba(frame)
    points = checklist_points(frame)
    assert np.all(np.diff(p[np.argsort(points, kind="stable")]) >= 0)  # more points, never less risk
    with pytest.raises(ValueError, match="suspensions_last_year"):
        checklist_points(frame.drop(columns="suspensions_last_year"))


# --- the whole training scheme -------------------------------------------------------------------


def test_training_respects_the_temporal_scheme(trained):
    result, frame, _ = trained
    counts = result.counts
    per_year = frame.groupby("AcademicYear").size()
    assert counts["train"]["rows"] == per_year["2016/17"]
    assert counts["test"]["rows"] == per_year["2018/19"]
    # refit = train + validation years less the calibration pupils (all their years)
    held = calibration_pupils(frame["upn"], 0.3, 7)
    expected_refit = (~held & frame["AcademicYear"].isin(["2016/17", "2017/18"]).to_numpy()).sum()
    assert counts["refit"]["rows"] == expected_refit
    assert counts["calibration"]["rows"] == (held & (frame["AcademicYear"] == "2017/18").to_numpy()).sum()
    lgb = result.models["lightgbm"]
    assert lgb.params["n_estimators"] == max(lgb.search, key=lambda s: s.score).facts["best_iteration"]
    assert lgb.params["n_estimators"] < 400  # early stopping chose the rounds


def test_search_picks_the_best_validation_score(trained):
    result, _, _ = trained
    for model in result.models.values():
        assert len(model.search) == 2
        best = max(model.search, key=lambda s: s.score)
        for key in best.params:
            if key != "n_estimators":
                assert model.params[key] == best.params[key]


def test_models_beat_the_checklist_and_approach_the_truth(trained):
    result, frame, truth = trained
    test = (frame["AcademicYear"] == "2018/19").to_numpy()
    oracle = point_metrics(frame.loc[test, "label"], truth[test])
    best = result.best("roc_auc")
    assert result.evaluations[best].metrics["roc_auc"].estimate > 0.93 * oracle["roc_auc"]
    assert result.gains[best]["roc_auc"].estimate > 0
    for name in result.models:
        brier = result.evaluations[name].metrics["brier"].estimate
        assert brier < 1.1 * oracle["brier"], name  # calibrated on held-out pupils
        mean_p = result.test_scores[name].mean()
        assert abs(mean_p - frame.loc[test, "label"].mean()) < 0.02


def test_pipeline_is_one_object_with_fixed_categories(trained, model_features):
    result, frame, _ = trained
    pipeline = result.models["lightgbm"].pipeline
    assert [name for name, _ in pipeline.steps] == ["preprocess", "model"]
    assert list(pipeline[0].feature_names_in_) == model_features
    rows = frame[model_features].head(5).copy()
    rows["sen_type"] = "a category never seen in training"
    p = pipeline.predict_proba(rows)[:, 1]
    assert np.all((p > 0) & (p < 1))
    assert result.models["logistic"].pipeline[-1].background_mean_.ndim == 1


def test_no_refit_keeps_the_search_model(table, tmp_path, model_features):
    frame, _ = table
    config = small_config(
        tmp_path,
        splits={"train": ["2016/17"], "validation": "2017/18", "test": "2018/19", "refit": False},
        models={"logistic": {"params": {"max_iter": 500}, "grid": {"C": [1.0]}},
                "random_forest": {"enabled": False}, "lightgbm": {"enabled": False}},
    )  # fmt: skip
    result = train_models(frame, config, model_features, make_preprocessor)
    assert list(result.models) == ["logistic"]
    assert result.counts["refit"]["rows"] == result.counts["train"]["rows"]


def test_training_refuses_unusable_data(table, tmp_path, model_features):
    frame, _ = table
    config = small_config(tmp_path)
    with pytest.raises(TrainingError, match="lacks column"):
        train_models(frame.drop(columns="fsm"), config, model_features, make_preprocessor)
    no_positives = frame.assign(label=np.where(frame["label"].notna(), 0.0, np.nan))
    with pytest.raises(TrainingError, match="only one outcome"):
        train_models(no_positives, config, model_features, make_preprocessor)


def test_capacity_thresholds_count_the_top_share_as_the_review_does():
    """The threshold logged for the top 7% of 100 calibration pupils is the 7th pupil's probability, not
    the 8th's (0.07 x 100 is 7.000000000000001 in floating point)."""
    from exclusion_risk.models.fairness import select_top
    from exclusion_risk.models.train import _thresholds

    p = np.linspace(0.9, 0.01, 100)
    for k in (0.07, 0.14, 0.05):
        threshold = _thresholds(p, [k])[f"{round(k * 100, 4):g}pct"]
        assert int((p >= threshold).sum()) == int(select_top(p, k).sum())
