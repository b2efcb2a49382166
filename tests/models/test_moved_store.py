"""An MLflow store moved away from its artifacts, or one that cannot be made: one line naming the store
and what to do, exit 2, never a traceback (`score`, `review`, `describe --models` load models alike)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models import tracking


@pytest.fixture(scope="module")
def moved_store(tmp_path_factory) -> tuple[Path, Path, str]:
    """(the moved copy's database, the original artifacts folder (now gone), the model run's id): a tiny
    champion registered in a store, its database and artifacts copied elsewhere and the original artifacts
    folder renamed."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    root = tmp_path_factory.mktemp("moved_store")
    original = root / "original"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{original / 'mlflow.db'}")
        experiment = tracking.setup("tiny")
        rows = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
        pipeline = Pipeline([("model", LogisticRegression())]).fit(rows, [0, 0, 1, 1])
        with tracking.start_run(experiment, "model") as run:
            tracking.set_tags({"kind": "model", "model_type": "logistic", "test_year": "2018/19",
                               "validation_year": "2017/18"})  # fmt: skip
            model_uri = tracking.log_model(pipeline, rows)
        version = tracking.register_version(model_uri, {"model_type": "logistic"}, "tiny")
        tracking.set_champion(version, "test")
    moved = root / "moved"
    moved.mkdir()
    shutil.copy2(original / "mlflow.db", moved / "mlflow.db")
    shutil.copytree(original / "artifacts", moved / "artifacts")
    (original / "artifacts").rename(original / "artifacts.hidden")
    return moved / "mlflow.db", original / "artifacts", run.info.run_id


def _score(uri: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    out = tmp_path / "x" / "scores.csv"
    return CliRunner().invoke(app, ["score", "--data", str(tmp_path), "--year", "2018/19", "--out", str(out)])


def test_score_from_a_moved_store_names_the_store_and_its_missing_files(moved_store, tmp_path, monkeypatch):
    database, gone, _ = moved_store
    result = _score(f"sqlite:///{database}", tmp_path, monkeypatch)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"sqlite:///{database}" in result.output and str(gone) in result.output
    assert "moved" in result.output and "README" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_run_model_from_a_moved_store_is_a_lookup_error_review_reports(moved_store, monkeypatch):
    """`review` and `describe --models` load a model run's pipeline: a LookupError they say in one line."""
    database, gone, run_id = moved_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    tracking.setup_read()
    with pytest.raises(tracking.ModelNotFoundError, match="does not exist") as found:
        tracking.load_run_model(run_id)
    assert str(gone) in str(found.value)


def test_describe_models_from_a_moved_store_is_models_unavailable(moved_store, monkeypatch):
    from exclusion_risk.models import describe_models

    database, _, run_id = moved_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    tracking.setup_read()
    monkeypatch.setattr(tracking, "train_runs", lambda experiment: [tracking.get_run(run_id)])
    monkeypatch.setattr(tracking, "child_runs", lambda run: [tracking.get_run(run_id)])
    monkeypatch.setattr(describe_models, "STUDY_MODEL_TYPE", "logistic")
    with pytest.raises(describe_models.ModelsUnavailable, match="does not exist"):
        describe_models._study_pipeline()


def test_score_with_a_store_that_cannot_be_made_names_it(tmp_path, monkeypatch):
    result = _score("sqlite:////proc/nope/x.db", tmp_path, monkeypatch)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert "sqlite:////proc/nope/x.db" in result.output and "MLFLOW_TRACKING_URI" in result.output


def test_any_command_with_a_store_that_cannot_be_made_says_it_in_one_line(monkeypatch, capsys):
    """The app itself says it (`compare` catches no store error of its own)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////proc/nope/x.db")
    with pytest.raises(SystemExit) as stopped:
        app(["compare"], prog_name="exclusion-risk")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the MLflow store sqlite:////proc/nope/x.db") and len(err.splitlines()) == 1


def test_a_text_artifact_of_a_moved_store_is_said_not_read_as_absent(moved_store, monkeypatch):
    """`compare` and `evaluate` read text artifacts (paired differences, stored thresholds): on a moved
    store each read as absent, "logged by an earlier release", so `compare` dropped its model-against-model
    rows and advised training again, and `evaluate` logged into a re-created folder at the old place."""
    database, gone, run_id = moved_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    tracking.setup_read()
    with pytest.raises(tracking.StoreUnavailable, match="does not exist") as said:
        tracking.read_artifact_text(run_id, tracking.SCORING_ARTIFACT)
    assert str(gone) in str(said.value) and not gone.exists()


@pytest.mark.parametrize("command", [["score", "--year", "2018/19"], ["compare"],
                                     ["drift", "--year", "2018/19"]])
def test_a_default_store_that_is_not_there_is_said_and_not_made(tmp_path, monkeypatch, capsys, command):
    """./mlruns moved away: a command that reads models made a fresh empty store at the old path and
    said to train and promote (new version numbers would clash with the recorded runs')."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    args = [*command, "--data", str(tmp_path)] if command[0] != "compare" else command
    with pytest.raises(SystemExit) as stopped:
        app(args, prog_name="exclusion-risk")
    assert stopped.value.code == 2
    assert not (tmp_path / "mlruns").exists()
    out = capsys.readouterr().err
    assert "does not exist (was the store moved?" in out and "MLFLOW_TRACKING_URI" in out


def test_train_still_makes_the_default_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    tracking.setup("tiny")
    assert (tmp_path / "mlruns" / "mlflow.db").is_file()


def test_describe_models_without_a_study_run_names_the_config_file_that_trains_one(monkeypatch):
    """It said `--config study.yaml`, which from an analyst's own folder fails ("does not exist"): the
    file is the package's models/study.yaml."""
    from exclusion_risk.models import describe_models

    def no_runs(experiment):
        raise tracking.RegistryError(f"no train runs in experiment {experiment!r}")

    monkeypatch.setattr(tracking, "train_runs", no_runs)
    with pytest.raises(describe_models.ModelsUnavailable) as refused:
        describe_models._study_pipeline()
    said = str(refused.value)
    path = said.split("--config ", 1)[1].split("`", 1)[0]
    assert path.endswith("models/study.yaml") and Path(path).is_file(), said
