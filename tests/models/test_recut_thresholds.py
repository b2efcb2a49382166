"""`exclusion-risk score --capacity`: the likelihood bands re-cut for another capacity on the pupils the
stored thresholds were cut on, the validation year's held-out calibration pupils (`models.held_out`).

Training cuts the stored thresholds on the calibration pupils, held out of the refit; the re-cut took
every validation-year pupil, about 70% of whom the refit model was fitted on: a partly in-sample cut,
and at the stored capacity not the stored thresholds.
"""

from __future__ import annotations

import functools
import logging
import os

import pytest

from exclusion_risk.models import tracking
from exclusion_risk.models.risk_matrix import ScoringConfig, load_risk_matrix
from exclusion_risk.models.score_report import summary_html
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.models.train import calibration_pupils


def _register(result, table, tmp_path, monkeypatch) -> dict[str, str]:
    """Every model of `result` registered in a fresh store; model type -> version."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    from exclusion_risk.models.fingerprint import data_fingerprint
    from exclusion_risk.models.training_log import log_training

    return log_training(result, data_fingerprint([], table, result.feature_cols)).versions


@pytest.fixture(scope="module")
def registered_store(training, tmp_path_factory):
    """(tracking URI, model type -> version): `training`'s models registered once for the module's tests
    (registering all three took each test 20-30 s); they only read the store: a re-cut changes the
    loaded scorer, never the stored version."""
    result, table = training
    with pytest.MonkeyPatch.context() as mp:  # the URI set only while registering; each test sets its own
        versions = _register(result, table, tmp_path_factory.mktemp("recut_store"), mp)
        uri = os.environ["MLFLOW_TRACKING_URI"]
    return uri, versions


@pytest.fixture()
def registered(registered_store, monkeypatch) -> dict[str, str]:
    """Model type -> version of `registered_store`, with the tracking URI pointed at it for this test."""
    uri, versions = registered_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return versions


def _same(model_type: str, got, expected) -> bool:
    """Equal thresholds: exactly, but for the random forest, whose predict_proba sums its trees over
    threads in no fixed order (n_jobs 2), so the same pupil's probability can differ in the 16th digit
    from one call to the next (placing pupils allows for it: risk_matrix.THRESHOLD_TOLERANCE)."""
    if model_type != "random_forest":
        return got == expected
    return got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def _validation(result, table):
    return table[table["AcademicYear"] == result.split.validation]


def _cut(pipeline, rows, capacity: float) -> dict[str, float]:
    """Thresholds cut on `rows` (every validation-year pupil: the old re-cut)."""
    columns = list(pipeline[0].feature_names_in_)
    return load_risk_matrix().fit_thresholds(pipeline.predict_proba(rows[columns])[:, 1], capacity).thresholds


def _without_cut_on(monkeypatch):
    """Scoring configs as versions stored before `cut_on` was recorded hold them."""
    load = tracking.load_scoring_config

    def older(run_id):
        stored = load(run_id)
        return {k: v for k, v in stored.items() if k != "cut_on"}

    monkeypatch.setattr(tracking, "load_scoring_config", older)


def test_a_recut_at_the_stored_capacity_gives_the_stored_thresholds_back(training, registered):
    result, table = training
    versions = registered
    validation = _validation(result, table)
    for model_type, version in versions.items():
        stored = ScoringConfig.from_dict(result.models[model_type].scoring_config)
        scorer = CohortScorer.load(alias=version)
        assert scorer.matrix.thresholds == stored.thresholds
        caveat = scorer.refit_thresholds(validation, stored.capacity, result.split.validation)
        assert caveat is None  # the same procedure as training's: nothing to warn of
        assert _same(model_type, scorer.matrix.thresholds, stored.thresholds), model_type  # the same pupils
        assert scorer.matrix.thresholds != _cut(scorer.pipeline, validation, stored.capacity)
        source = f"validation year {result.split.validation} (held-out calibration pupils)"
        assert scorer.matrix.thresholds_source == source
    # scores.html says where the bands were cut
    page = _page(scorer, validation)
    assert f"top 5%, as the {source} was cut." in page
    assert f"the top 15% as the {source} was cut)" in page


def _page(scorer, features) -> str:
    """scores.html for a few of `features`' pupils, white space collapsed."""
    cohort = features.head(40)
    page = summary_html(scorer.score(cohort, reasons=False), cohort, scorer, "2018/19")
    return " ".join(page.split())


def test_a_recut_at_another_capacity_is_cut_on_the_calibration_pupils(training, registered):
    """The very high band at 10% starts at the calibrated probability of the calibration pupils' top 10%,
    which training records for each model (`threshold_at_10pct`), not at all the validation pupils'."""
    result, table = training
    versions = registered
    validation = _validation(result, table)
    for model_type, version in versions.items():
        scorer = CohortScorer.load(alias=version)
        scorer.refit_thresholds(validation, 0.10, result.split.validation)
        top = result.models[model_type].capacity_thresholds["10pct"]
        assert scorer.matrix.capacity == 0.10
        assert _same(model_type, scorer.matrix.thresholds["very_high"], top), model_type
        assert _cut(scorer.pipeline, validation, 0.10)["very_high"] != top
    # exactly the rows training held out: the seeded share of pupils, picked again here from the seed
    config = result.config
    held = validation[calibration_pupils(validation["upn"], config.calibration.holdout, config.seed)]
    assert len(held) == result.counts["calibration"]["rows"]
    scorer = CohortScorer.load(alias=versions["lightgbm"])
    scorer.refit_thresholds(validation, 0.10, result.split.validation)
    assert scorer.matrix.thresholds == _cut(scorer.pipeline, held, 0.10)


def test_an_older_version_takes_the_pupils_from_its_train_run(training, registered, monkeypatch, caplog):
    """Versions stored before `cut_on`: the share and seed are the train run's `calibration_holdout` and
    `seed` params; without a train run to read them from, every pupil, with a warning that says the cut is
    partly in sample."""
    result, table = training
    versions = registered
    _without_cut_on(monkeypatch)
    validation = _validation(result, table)
    stored = ScoringConfig.from_dict(result.models["lightgbm"].scoring_config)
    scorer = CohortScorer.load(alias=versions["lightgbm"])
    assert scorer.refit_thresholds(validation, stored.capacity, result.split.validation) is None
    assert scorer.matrix.thresholds == stored.thresholds

    monkeypatch.setattr(tracking, "get_run", lambda run_id: None)  # no train run in the store
    scorer = CohortScorer.load(alias=versions["lightgbm"])
    with caplog.at_level(logging.WARNING):
        caveat = scorer.refit_thresholds(validation, 0.10, result.split.validation)
    assert scorer.matrix.thresholds == _cut(scorer.pipeline, validation, 0.10)
    assert "partly in sample" in caveat and caveat in caplog.text
    assert "all pupils" in scorer.matrix.thresholds_source
    assert "partly in sample" in scorer.matrix.thresholds_source
    page = _page(scorer, validation)
    assert "top 10%, as the validation year" in page and "(all pupils, partly in sample) was cut." in page


@pytest.fixture(scope="module")
def not_refit(feature_table):
    """(TrainingResult, table): a logistic model fitted on the train years only (`refit: false`)."""
    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.train import train_models
    from exclusion_risk.synth.feature_table import FEATURES

    config = load_config(None)
    models = {name: spec.model_copy(update={"enabled": name == "logistic"})
              for name, spec in config.models.items()}  # fmt: skip
    config = config.model_copy(update={
        "models": models, "splits": config.splits.model_copy(update={"refit": False}),
        "metrics": config.metrics.model_copy(update={"bootstrap": 50}),
    })  # fmt: skip
    table, _ = feature_table(1500)
    result = train_models(table, config, FEATURES, functools.partial(make_preprocessor, missing="impute"))
    return result, table


def test_without_refit_the_recut_is_training_s_cut_too(not_refit, tmp_path, monkeypatch, caplog):
    """With `refit: false` no validation-year pupil was fitted on; training still cut the stored thresholds
    on the calibration pupils, so the re-cut does too (and gives them back). An older version without a
    train run to read falls back to every pupil: out of sample, so no in-sample warning."""
    result, table = not_refit
    versions = _register(result, table, tmp_path, monkeypatch)
    validation = _validation(result, table)
    stored = ScoringConfig.from_dict(result.models["logistic"].scoring_config)
    scorer = CohortScorer.load(alias=versions["logistic"])
    assert scorer.refit_thresholds(validation, stored.capacity, result.split.validation) is None
    assert scorer.matrix.thresholds == stored.thresholds
    scorer.refit_thresholds(validation, 0.10, result.split.validation)
    assert scorer.matrix.thresholds["very_high"] == result.models["logistic"].capacity_thresholds["10pct"]

    _without_cut_on(monkeypatch)
    monkeypatch.setattr(tracking, "get_run", lambda run_id: None)
    scorer = CohortScorer.load(alias=versions["logistic"])
    with caplog.at_level(logging.WARNING):
        caveat = scorer.refit_thresholds(validation, 0.10, result.split.validation)
    assert scorer.matrix.thresholds == _cut(scorer.pipeline, validation, 0.10)
    source = scorer.matrix.thresholds_source
    assert "in sample" not in source and "all pupils" in source
    assert caveat is not None and "in sample" not in caveat and "not fitted on" in caveat
