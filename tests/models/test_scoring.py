"""CohortScorer: contract columns, exact probabilities, reasons, the one-record path, loading from MLflow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exclusion_risk.contract import SCORE_COLUMNS
from exclusion_risk.features import registry
from exclusion_risk.models.record_encoding import RecordEncoder
from exclusion_risk.models.scoring import REASON_EXTRA_COLUMNS, CohortScorer, ScoringInputError
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

KINDS = ("lightgbm", "random_forest", "logistic")


@pytest.mark.parametrize("kind", KINDS)
def test_scores_follow_the_contract(training, test_year, kind):
    result, _ = training
    pipeline = result.models[kind].pipeline
    scorer = CohortScorer(pipeline, "7")
    scores = scorer.score(test_year)
    assert list(scores.columns) == SCORE_COLUMNS + REASON_EXTRA_COLUMNS
    assert len(scores) == len(test_year) and scores["upn"].is_unique
    assert (np.diff(scores["probability"].to_numpy()) <= 0).all()  # sorted by risk
    expected = dict(
        zip(test_year["upn"], pipeline.predict_proba(test_year[scorer.feature_names])[:, 1], strict=True)
    )
    assert np.allclose(scores["probability"], scores["upn"].map(expected), atol=1e-12, rtol=0)
    assert set(scores["rag"]) <= {"red", "amber", "green"}
    assert (scores["model_version"] == "7").all()
    top = scores.head(20)
    assert (top["reasons"].str.len() > 0).all()
    phrases = {p for text in scores["reasons"] for p in text.split("; ") if p}
    raw_names = {str(n) for n in scorer.pipeline[0].get_feature_names_out()}  # the preprocessor's columns
    assert phrases and not phrases & raw_names
    assert not any(p in {"boy", "girl"} or p.startswith("ethnicity") for p in phrases)


def test_need_level_and_cells(training, test_year):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    assert "need_level" not in test_year.columns  # the scorer derives it (features.need)
    scores = scorer.score(test_year, reasons=False)
    from exclusion_risk.features.need import need_level

    expected = dict(zip(test_year["upn"], need_level(test_year), strict=True))
    assert (scores["need_level"] == scores["upn"].map(expected)).all()
    for _, row in scores.head(50).iterrows():
        band = next(b for b in scorer.matrix.bands if row["probability"] >= b.threshold)
        assert row["matrix_cell"] == f"{band.code}-N{row['need_level']}"
        assert row["rag"] == scorer.matrix.cells[(band.key, row["need_level"])][0]
    assert (scores["reasons"] == "").all()


@pytest.mark.parametrize("kind", KINDS)
def test_score_records_matches_the_frame_path(training, test_year, kind):
    result, _ = training
    scorer = CohortScorer(result.models[kind].pipeline, "1")
    sample = test_year.head(40)
    records = sample.to_dict("records")
    assert RecordEncoder.build(scorer.explainer.parts).usable
    fast = scorer.score_records(records)
    frame = scorer.score(sample).set_index("upn")
    assert [r["upn"] for r in fast] == list(sample["upn"])  # input order
    for r in fast:
        row = frame.loc[r["upn"]]
        assert r["probability"] == pytest.approx(row["probability"], abs=1e-12)
        assert (r["reasons"], r["rag"], r["matrix_cell"]) == (row["reasons"], row["rag"], row["matrix_cell"])
        assert (r["reasons_lowering"], r["context"]) == (row["reasons_lowering"], row["context"])
        assert r["band_precision"] is None and r["band_precision_ci"] is None  # no precision stored
    json.dumps(fast, allow_nan=False)
    one = scorer.score_records([{**records[0], "sen_type": None, "absence_rate_last_year": "n/a"}])
    assert 0 < one[0]["probability"] < 1


def test_bad_input_is_named(training, test_year):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    with pytest.raises(ScoringInputError, match="suspensions_last_year"):
        scorer.score(test_year.drop(columns=["suspensions_last_year"]))
    with pytest.raises(ScoringInputError, match="record 1 lacks"):
        scorer.score_records([{"upn": "x"}])


def test_explain_gives_both_directions(training, test_year):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    everything = scorer.explain(test_year.head(5), n=len(scorer.feature_names))
    for pupil in everything:
        total = sum(f["contribution"] for f in pupil["raising"] + pupil["lowering"])
        assert all(f["contribution"] > 0 for f in pupil["raising"])
        assert all(f["contribution"] < 0 for f in pupil["lowering"])
        assert pupil["expected_value"] + total == pytest.approx(pupil["raw_score"], abs=1e-9)
        assert all(registry.get(f["feature"]).label == f["label"] for f in pupil["raising"])
    assert all(len(p["raising"]) <= 2 for p in scorer.explain(test_year.head(5), n=2))


def test_load_champion_with_stored_thresholds(training, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    from exclusion_risk.models.fingerprint import data_fingerprint
    from exclusion_risk.models.promotion import promote
    from exclusion_risk.models.training_log import log_training

    result, table = training
    fingerprint = data_fingerprint([], table, result.feature_cols)
    record = log_training(result, fingerprint)
    promote(result.config.experiment, record.versions["lightgbm"], "average_precision")

    scorer = CohortScorer.load()
    info = scorer.info()
    assert scorer.model_version == record.versions["lightgbm"]
    assert info["model_type"] == "lightgbm" and info["test_year"] == result.split.test
    assert "average_precision" in info["metrics"] and info["notice"] == DECISION_SUPPORT_NOTICE
    matrix = scorer.risk_matrix
    json.dumps(matrix)
    assert matrix["thresholds_source"].startswith(f"validation year {result.split.validation}")
    stored = result.models["lightgbm"].scoring_config["thresholds"]
    assert {b["key"]: b["min_probability"] for b in matrix["likelihood_bands"]} == pytest.approx(
        stored, abs=1e-6
    )
    top5 = result.models["lightgbm"].capacity_thresholds["5pct"]
    assert stored["very_high"] == pytest.approx(top5)  # same pupils, same 5% capacity
    # how sure: each band's test-year precision travels with the version through MLflow
    assert scorer.matrix.precision == result.models["lightgbm"].scoring_config["band_precision"]
    assert scorer.precision_year() == (result.split.test, "any")
    texts = [b["precision"]["text"] for b in matrix["likelihood_bands"]]
    assert all(result.split.test in text for text in texts)
