"""`score --backend spark` (issue 15): the champion broadcast to mapInPandas scores as the in-process
scorer does: probabilities to 1e-12, identical reasons and ranks, and a byte-identical scores.csv.

The Spark tests (marked `spark`) share one local[2] session per module; they skip where pyspark or Java
is missing, and fail there when CI=true (CI installs both). The refusals at the end need neither.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk import spark_session
from exclusion_risk.cli import app
from exclusion_risk.models.fingerprint import data_fingerprint
from exclusion_risk.models.promotion import promote
from exclusion_risk.models.scoring import SCORED_COLUMNS, CohortScorer, ScoringInputError
from exclusion_risk.models.spark_scoring import collect_scores, score_spark_frame
from exclusion_risk.models.training_log import log_training
from exclusion_risk.spark_session import local_session, unavailable_reason
from exclusion_risk.upn import make_upn

KINDS = ("lightgbm", "random_forest", "logistic")
# Small Arrow chunks and several partitions: every cohort below is scored in many pieces.
CHUNK_ROWS = 97
PARTITIONS = 3
TEXT_COLUMNS = [
    "likelihood_band",
    "rag",
    "matrix_cell",
    "reasons",
    "model_version",
    "reasons_lowering",
    "context",
]


@pytest.fixture(scope="module")
def spark():
    """One local[2] session for this module's Spark tests (the CLI's `--backend spark` joins it)."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true runs the Spark tests, but {reason}")
        pytest.skip(reason)
    session = local_session()
    session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(CHUNK_ROWS))
    yield session
    session.stop()


def _on_spark(spark, scorer: CohortScorer, features: pd.DataFrame, **kwargs) -> pd.DataFrame:
    frame = spark.createDataFrame(features[[*scorer.feature_names, "upn"]]).repartition(PARTITIONS)
    return collect_scores(score_spark_frame(scorer, frame, **kwargs))


def _assert_same_scores(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns) == SCORED_COLUMNS
    assert got["upn"].tolist() == expected["upn"].tolist()  # the same pupils in the same ranks
    error = np.max(np.abs(got["probability"].to_numpy() - expected["probability"].to_numpy()))
    assert error <= 1e-12, error
    assert got["need_level"].tolist() == expected["need_level"].tolist()
    for column in TEXT_COLUMNS:
        assert got[column].tolist() == expected[column].tolist(), column


@pytest.mark.spark
@pytest.mark.parametrize("kind", KINDS)
def test_spark_scores_equal_in_process_scores(spark, training, test_year, kind):
    result, _ = training
    scorer = CohortScorer(result.models[kind].pipeline, "4")
    expected = scorer.score(test_year)
    assert len(test_year) > 5 * CHUNK_ROWS  # many chunks, each scored on its own
    got = _on_spark(spark, scorer, test_year)
    _assert_same_scores(got, expected)
    assert (got["reasons"] != "").sum() > len(got) / 2 and (got["context"] != "").any()


@pytest.mark.spark
def test_spark_scores_without_reasons_equal_in_process(spark, training, test_year):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "4")
    got = _on_spark(spark, scorer, test_year, reasons=False)
    _assert_same_scores(got, scorer.score(test_year, reasons=False))
    assert (got["reasons"] == "").all()


@pytest.mark.spark
def test_spark_refusals_are_the_scorers_own(spark, training, test_year):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "4")
    features = test_year[[*scorer.feature_names, "upn"]].head(300)
    with pytest.raises(ScoringInputError, match="suspensions_last_year"):  # named on the driver
        score_spark_frame(scorer, spark.createDataFrame(features.drop(columns=["suspensions_last_year"])))
    with pytest.raises(ScoringInputError, match="upn"):
        score_spark_frame(scorer, spark.createDataFrame(features.drop(columns=["upn"])))
    # a chunk the scorer refuses stops the job with the scorer's one line, not a worker's traceback
    bad = spark.createDataFrame(features.assign(need_level=7))
    with pytest.raises(ScoringInputError) as refused:
        collect_scores(score_spark_frame(scorer, bad))
    assert str(refused.value) == "Spark scoring stopped: need levels must be 0-3, got [7]"


def _census() -> pd.DataFrame:
    """60 pupils at two schools on the 2018/19 autumn census (tests/models/conftest.py adds the rest)."""
    upns = [make_upn(330, 4001, 2010, i) for i in range(1, 61)]
    return pd.DataFrame(
        {
            "UPN": upns, "Surname": "Okafor", "Forename": [f"Chidi{chr(97 + i % 26)}" for i in range(60)],
            "DOB": "2008-03-01", "Sex": ["M", "F", "M"] * 20, "Ethnicity": ["BAFR", "WBRI", "APKN"] * 20,
            "SENprovision": ["N", "K", "E", "N"] * 15, "SENtype": ["", "SEMH", "ASD", ""] * 15,
            "FSMeligible": ["0", "1", "0", "0"] * 15, "Postcode": "WS1 1AA",
            "SchoolURN": ["104001", "104002"] * 30, "NCyearActual": ["5", "9", "7"] * 20,
            "AcademicYear": "2018/19", "CensusTerm": "AUT",
            "SessionsPossible": "300", "SessionsUnauthorisedAbsence": [str(i % 40) for i in range(60)],
        }
    )  # fmt: skip


@pytest.mark.spark
@pytest.mark.usefixtures("umask_022")
def test_score_backend_spark_writes_the_same_scores_csv(
    spark, training, write_small_extracts, tmp_path, monkeypatch
):
    """The champion loaded from MLflow (a store under tmp_path) scores the same files on both backends."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    result, table = training
    record = log_training(result, data_fingerprint([], table, result.feature_cols))
    promote(result.config.experiment, record.versions["lightgbm"], "average_precision")
    data, links = write_small_extracts(tmp_path / "extracts", _census(), "104002")
    written = {}
    for backend in ("local", "spark"):
        out = tmp_path / backend / "scores.csv"
        args = ["score", "--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out),
                "--backend", backend]  # fmt: skip
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 0, run.output
        written[backend] = out
    local, on_spark = written["local"], written["spark"]
    assert on_spark.read_bytes() == local.read_bytes()
    assert on_spark.with_suffix(".html").read_bytes() == local.with_suffix(".html").read_bytes()
    scores = pd.read_csv(local, dtype=str, keep_default_na=False)
    assert len(scores) == 60 and (scores["reasons"] != "").any()


# --- refusals: no Spark needed --------------------------------------------------------------------


def _score(tmp_path, monkeypatch, backend: str):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    args = ["score", "--data", str(tmp_path), "--year", "2018/19", "--backend", backend]
    return CliRunner().invoke(app, args)


def test_backend_spark_without_java_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    # pyspark is checked first: stand one in, so this runs where pyspark is absent too
    monkeypatch.setattr(spark_session, "pyspark", lambda: ModuleType("pyspark"))
    run = _score(tmp_path, monkeypatch, "spark")
    assert run.exit_code == 2
    assert run.output.strip().splitlines() == [
        f"error: --backend spark: Spark needs Java 17, and there is no java on $JAVA_HOME/bin/java "
        f"({tmp_path / 'no-java'}): e.g. apt-get install openjdk-17-jre-headless"
    ]


def test_backend_spark_without_pyspark_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # `import pyspark` raises ImportError
    run = _score(tmp_path, monkeypatch, "spark")
    assert run.exit_code == 2 and "Traceback" not in run.output
    (line,) = run.output.strip().splitlines()
    assert line.startswith("error: --backend spark: Spark needs pyspark, which is not installed")
    assert line.endswith("make spark (pyspark and py4j from requirements-spark.lock, hash-checked)")


def test_an_unknown_backend_is_refused(tmp_path, monkeypatch):
    run = _score(tmp_path, monkeypatch, "duckdb")
    assert run.exit_code == 2 and "--backend must be local or spark, not 'duckdb'" in run.output
