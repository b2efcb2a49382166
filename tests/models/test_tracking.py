"""train -> MLflow -> compare -> promote -> load from the registry alias, on the small synthetic authority.

One training run (the CLI, real linkage output format, real features) feeds every test here; the store
lives in a temporary folder. The privacy test reads every file of the store for the inputs' UPNs and names.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models import tracking
from exclusion_risk.synth.truth import write_truth_links

TEST_CONFIG = {
    "n_jobs": 1,  # xdist runs two workers on two cores: one thread each
    "metrics": {"capacities": [0.001, 0.01, 0.05, 0.1], "bootstrap": 100, "level": 0.95},  # 0.1%: 7 pupils
    "models": {
        "random_forest": {"class_weight": "balanced_subsample",
                          "params": {"n_estimators": 30, "min_samples_leaf": 20, "max_features": 0.5,
                                     "max_depth": 6}},
        "lightgbm": {"params": {"learning_rate": 0.1, "n_estimators": 300, "min_child_samples": 30},
                     "grid": {"num_leaves": [7, 15]}, "early_stopping_rounds": 20},
        "logistic": {"params": {"max_iter": 500, "C": 1.0}},
    },
}  # fmt: skip
NAME_COLUMNS = ("Surname", "Forename", "MiddleNames", "PreferredSurname", "FormerSurname")
UPN_SHAPE = re.compile(r"[A-Z][0-9]{11}[0-9A-Z]")


def build_store(small_authority: Path, root: Path) -> tuple[Path, Path, Path, str]:
    """(store folder, data folder, links folder, CLI output) after one `exclusion-risk train` in `root`:
    the session's `tracking_store` (tests/models/conftest.py), shared with test_validation_withheld."""
    links = write_truth_links(small_authority, root / "links").parent
    config = root / "experiment.yaml"
    config.write_text(yaml.safe_dump(TEST_CONFIG))
    mlruns = root / "mlruns"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{mlruns / 'mlflow.db'}")
        result = CliRunner().invoke(
            app, ["train", "--data", str(small_authority), "--links", str(links), "--config", str(config)]
        )
    assert result.exit_code == 0, result.output
    return mlruns, Path(small_authority), links, result.output


@pytest.fixture(scope="module")
def store(tracking_store):
    """The session's trained store, with MLFLOW_TRACKING_URI naming it while the module's tests run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tracking_store[0] / 'mlflow.db'}")
        yield tracking_store


@pytest.fixture()
def uri(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store[0] / 'mlflow.db'}")
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store[0] / 'mlflow.db'}")
    return store[0]


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_train_prints_the_comparison_and_registers_three_versions(store, uri):
    from mlflow import MlflowClient

    output = store[3]
    for name in ("random_forest", "lightgbm", "logistic", "checklist", "precision_at_5pct"):
        assert name in output
    versions = MlflowClient().search_model_versions("name = 'exclusion-risk'")
    assert sorted(v.tags["model_type"] for v in versions) == ["lightgbm", "logistic", "random_forest"]
    tags = versions[0].tags
    assert tags["train_years"] == "2016/17" and tags["validation_year"] == "2017/18"
    assert tags["test_year"] == "2018/19" and tags["include_protected"] == "False"
    assert 0.5 < float(tags["metric.roc_auc"]) < 1
    low, high = (float(x) for x in tags["metric.roc_auc.ci"].split("-"))
    assert low <= float(tags["metric.roc_auc"]) <= high
    assert "sex" not in tags["features"].split(",")


def test_runs_hold_params_metrics_plots_config_and_fingerprint(store, uri):
    import mlflow

    exp = mlflow.get_experiment_by_name("exclusion-risk")
    assert Path(exp.artifact_location.removeprefix("file://")) == uri / "artifacts"
    runs = mlflow.search_runs([exp.experiment_id], output_format="list")
    kinds = sorted(r.data.tags["kind"] for r in runs)
    assert kinds == ["baseline", "model", "model", "model", "train"]
    parent = next(r for r in runs if r.data.tags["kind"] == "train")
    files = {p.relative_to(uri / "artifacts" / parent.info.run_id / "artifacts").as_posix()
             for p in (uri / "artifacts" / parent.info.run_id).rglob("*") if p.is_file()}  # fmt: skip
    assert {"config/experiment.yaml", "data/fingerprint.json", "search/search.csv", "plots/evaluation.png",
            "comparison/metrics.csv"} <= files  # fmt: skip
    fingerprint = mlflow.artifacts.load_dict(f"runs:/{parent.info.run_id}/data/fingerprint.json")
    assert set(fingerprint["files"]) == {"census.csv", "exclusions.csv", "social_care.csv"}
    assert fingerprint["feature_table"]["years"]["2018/19"]["positives"] > 0
    lgb = next(r for r in runs if r.data.tags.get("model_type") == "lightgbm")
    assert lgb.data.params["num_leaves"] in {"7", "15"}
    for metric in ("roc_auc", "precision_at_5pct_ci_low", "brier_ci_high", "gain_precision_at_5pct"):
        assert metric in lgb.data.metrics
    search = pd.read_csv(uri / "artifacts" / parent.info.run_id / "artifacts" / "search" / "search.csv")
    assert (search["model_type"] == "lightgbm").sum() == 2
    for model_run in (r for r in runs if r.data.tags["kind"] == "model"):
        root = uri / "artifacts" / model_run.info.run_id / "artifacts"
        assert (root / "shap" / "summary_beeswarm.png").stat().st_size > 10_000
        assert (root / "shap" / "mean_abs_shap.png").is_file()
        importance = mlflow.artifacts.load_dict(f"runs:/{model_run.info.run_id}/shap/mean_abs_shap.json")
        assert max(importance["mean_abs_shap"].values()) > 0
        assert "sex" not in importance["mean_abs_shap"]  # protected characteristics are not inputs here
        card = (root / "model_card.md").read_text()
        assert card.startswith(f"# Model card: exclusion-risk ({model_run.data.tags['model_type']})")
        assert "not decisions" in card and "| roc_auc |" in card and "Test-year performance" in card


def test_compare_and_promote_best_set_the_champion(store, uri):
    out = run("promote", "--best", "--metric", "precision_at_5pct")
    assert out.exit_code == 0, out.output
    assert "has the best validation-year precision_at_5pct (2017/18)" in out.output
    assert "rule: best validation-year precision_at_5pct" in out.output
    from mlflow import MlflowClient

    client = MlflowClient()
    champion = client.get_model_version_by_alias("exclusion-risk", "champion")
    runs = {v.tags["model_type"]: client.get_run(v.run_id).data.metrics["validation_precision_at_5pct"]
            for v in client.search_model_versions("name = 'exclusion-risk'")}  # fmt: skip
    assert runs[champion.tags["model_type"]] == max(runs.values())  # the validation year, not the test year
    chosen = champion.tags["model_type"]
    assert champion.tags["promoted_reason"].startswith(f"{chosen} has the best validation")
    table = run("compare")
    assert table.exit_code == 0
    line = next(row for row in table.output.splitlines() if f"| {champion.version} |" in row)
    assert "| * |" in line

    by_version = run("promote", "1", "--metric", "brier")
    assert by_version.exit_code == 0 and "chosen by hand" in by_version.output
    assert str(client.get_model_version_by_alias("exclusion-risk", "champion").version) == "1"
    assert f"was version {champion.version}" in by_version.output
    lowest = run("promote", "--best", "--metric", "brier")
    assert lowest.exit_code == 0 and "best validation-year brier" in lowest.output


def test_champion_round_trip_from_the_registry_alias(store, uri):
    import mlflow

    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.linkage.history import load_history
    from exclusion_risk.models import tracking
    from exclusion_risk.models.scoring import CohortScorer

    assert run("promote", "--best").exit_code == 0
    _, data, links, _ = store
    table = build_feature_table(load_history(data, links), ["2017/18", "2018/19"])
    frame = table[table["AcademicYear"] == "2018/19"]
    pipeline = mlflow.sklearn.load_model("models:/exclusion-risk@champion")
    columns = list(pipeline[0].feature_names_in_)
    expected = pipeline.predict_proba(frame[columns])[:, 1]
    # the one loading path (the scorer's and the service's) gives MLflow's own champion
    loaded = tracking.load_registered("champion")
    champion = mlflow.MlflowClient().get_model_version_by_alias("exclusion-risk", "champion")
    assert loaded.version == str(champion.version) and loaded.info["run_id"] == champion.run_id
    assert loaded.info["train_years"] == "2016/17" and "roc_auc" in loaded.info["metrics"]
    assert set(loaded.scoring_config["thresholds"]) and loaded.scoring_config["validation_year"] == "2017/18"
    np.testing.assert_array_equal(loaded.pipeline.predict_proba(frame[columns])[:, 1], expected)
    scores = CohortScorer.load("champion").score(frame, reasons=False)
    got = scores.set_index("upn")["probability"].reindex(frame["upn"].astype(str)).to_numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert (scores["model_version"] == loaded.version).all()


def test_a_version_is_named_the_same_way_everywhere(store, uri):
    from exclusion_risk.models import tracking

    assert run("promote", "--best").exit_code == 0
    champion = tracking.resolve_version("champion")
    assert champion is not None and tracking.champion_version() == str(champion.version)
    for name in (str(champion.version), champion.run_id, champion.run_id[:8]):
        assert tracking.resolve_version(name).version == champion.version
    assert tracking.resolve_version(champion.run_id[:7]) is None  # a prefix needs 8+ characters
    assert tracking.resolve_version("no-such-alias") is None and tracking.resolve_version("999") is None
    # promote and review accept the same names
    by_prefix = run("promote", champion.run_id[:8])
    assert by_prefix.exit_code == 0 and f"version {champion.version} " in by_prefix.output
    missing = run("review", champion.run_id[:7], "--data", str(store[1]), "--no-ablation")
    assert missing.exit_code == 2 and "no model run or registry version matches" in missing.output


def _database_text(path: Path) -> str:
    """Every value in every table of a SQLite database, as stored (no SQL quoting)."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        values = []
        for table in tables:
            for row in db.execute(f'select * from "{table}"'):
                values.extend(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row)
        return "\n".join(values)
    finally:
        db.close()


def _store_texts(folder: Path):
    """Every piece of text the store holds: database values, text files, zip members, PNG metadata."""
    from PIL import Image

    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".db":
            yield path, _database_text(path)
        elif path.suffix == ".png":
            with Image.open(path) as image:
                yield path, " ".join(f"{k} {v}" for k, v in image.info.items() if isinstance(v, str))
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    data = archive.read(member)
                    if member.endswith(".npy"):
                        array = np.load(BytesIO(data), allow_pickle=False)
                        if array.dtype.kind in "US":
                            yield path, " ".join(map(str, array.ravel()))
                    else:
                        yield path, data.decode("utf-8", errors="replace")
        else:
            yield path, path.read_bytes().decode("utf-8", errors="replace")


def leaks(folder: Path, upns: set[str], names: set[str]) -> list[str]:
    """Files of `folder` holding any of `upns` or `names` (whole words, as written in the inputs)."""
    found = []
    for path, text in _store_texts(folder):
        hits = (set(UPN_SHAPE.findall(text)) & upns) | (set(re.findall(r"[A-Za-z']+", text)) & names)
        if hits:
            found.append(f"{path.name}: {len(hits)} identifiers")
    return found


def input_identifiers(data: Path) -> tuple[set[str], set[str]]:
    census = pd.read_csv(data / "census.csv", dtype=str)
    others = [pd.read_csv(data / f, dtype=str) for f in ("exclusions.csv", "social_care.csv")]
    upns = set(census["UPN"].dropna()) | set(census.get("FormerUPN", pd.Series(dtype=str)).dropna())
    names: set[str] = set()
    for frame in [census, *others]:
        for column in NAME_COLUMNS:
            if column in frame:
                for value in frame[column].dropna():
                    names.update(w for w in re.split(r"[^A-Za-z']+", value) if len(w) >= 3)
    return upns, names


def test_no_upn_or_name_from_the_inputs_reaches_the_store(store, uri):
    upns, names = input_identifiers(store[1])
    assert len(upns) > 1000 and len(names) > 200
    assert sum(1 for _ in _store_texts(uri)) > 20
    assert leaks(uri, upns, names) == []


def test_the_scan_finds_planted_identifiers(store, tmp_path):
    upns, names = input_identifiers(store[1])
    upn, name = sorted(upns)[0], sorted(names)[0]
    (tmp_path / "a.txt").write_text(f"pupil {upn}")
    with zipfile.ZipFile(tmp_path / "model.skops", "w") as archive:
        archive.writestr("schema.json", f'{{"category": "{name}"}}')
    db = sqlite3.connect(tmp_path / "x.db")
    db.execute("create table t (v text)")
    db.execute("insert into t values (?)", (f"note about {name}",))
    db.commit()
    db.close()
    assert len(leaks(tmp_path, upns, names)) == 3


def test_cli_refuses_bad_input_with_exit_2(store, uri, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("label: everyone\n")
    out = run("train", "--data", str(store[1]), "--config", str(bad))
    assert out.exit_code == 2 and "label" in out.output and "Traceback" not in out.output
    out = run("train", "--data", str(tmp_path / "missing"))
    assert out.exit_code == 2 and "not a folder" in out.output
    out = run("train", "--data", str(store[1]), "--links", str(tmp_path))
    assert out.exit_code == 2 and "links.csv" in out.output
    out = run("promote", "nosuchrun")
    assert out.exit_code == 2 and "no registered version" in out.output
    out = run("promote", "--best", "--metric", "happiness")
    assert out.exit_code == 2 and "no metric 'happiness'" in out.output
    assert "train_seconds" not in out.output  # what --best can choose by is listed, not any metric logged
    # logged, but not of the validation year: it said the run was trained before those were logged
    out = run("promote", "--best", "--metric", "train_seconds")
    said = " ".join(out.output.split())
    assert out.exit_code == 2 and "'train_seconds' is not measured on the validation year" in said
    assert "precision_at_5pct" in said and "trained before" not in said
    out = run("compare", "--experiment", "never-made")
    assert out.exit_code == 2 and "never-made" in out.output


def test_a_model_registered_by_the_earlier_layout_is_refused_with_what_to_do(monkeypatch):
    """Pipelines registered before the stages moved under `exclusion_risk` name `models.calibration`,
    `features.preprocess`: loading one says to retrain, not a traceback about a missing module."""
    from types import SimpleNamespace

    from exclusion_risk.models import tracking

    def load_model(uri, **_):
        raise ModuleNotFoundError("No module named 'features'", name="features")

    monkeypatch.setattr(
        tracking, "_mlflow", lambda: SimpleNamespace(sklearn=SimpleNamespace(load_model=load_model))
    )
    with pytest.raises(tracking.ModelNotFoundError, match="earlier release.*exclusion-risk train"):
        tracking.load_run_model("0123456789abcdef")

    def missing_dependency(uri, **_):
        raise ModuleNotFoundError("No module named 'lightgbm'", name="lightgbm")

    monkeypatch.setattr(
        tracking, "_mlflow", lambda: SimpleNamespace(sklearn=SimpleNamespace(load_model=missing_dependency))
    )
    with pytest.raises(ModuleNotFoundError):  # anything else is not ours to reword
        tracking.load_run_model("0123456789abcdef")


def test_the_registry_and_card_say_which_years_the_model_was_fitted_on(store, uri):
    # refit (the default): searched on 2016/17, fitted on 2016/17 + 2017/18 less the calibration pupils
    import mlflow
    from mlflow import MlflowClient

    version = MlflowClient().search_model_versions("name = 'exclusion-risk'")[0]
    assert version.tags["fitted_years"] == "2016/17,2017/18" and version.tags["train_years"] == "2016/17"
    info = tracking.read_model_info(version)
    assert "fitted on 2016/17 + 2017/18 less the calibration pupils" in info["fitting"]
    card = (uri / "artifacts" / version.run_id / "artifacts" / "model_card.md").read_text()
    assert "fitted on 2016/17 + 2017/18 less the calibration pupils" in card and "trained on" not in card
    assert "## What this means" in card and "points checklist" in card
    parent = mlflow.get_run(version.tags["train_id"])
    comparison = (uri / "artifacts" / parent.info.run_id / "artifacts" / "comparison" / "comparison.md")
    assert "Verdict on precision_at_5pct: " in comparison.read_text()
    assert "Verdict on precision_at_5pct: " in store[3]


def test_loading_the_champion_leaves_nothing_in_the_temporary_folder(store, uri, tmp_path, monkeypatch):
    """A reviewer's find: each `score` left three folders (fairness.json, scoring_config.json,
    reference_profile.json) in the system's temporary folder, MLflow making one per download."""
    import tempfile

    from exclusion_risk.models import tracking

    assert run("promote", "--best").exit_code == 0
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    loaded = tracking.load_registered("champion")
    assert loaded.scoring_config
    assert tracking.read_artifact_text(loaded.info["run_id"], "no/such.json") is None
    assert list(scratch.iterdir()) == []


def _artifact_files(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.rglob("*") if p.is_file()}  # fmt: skip


def test_loading_a_model_writes_nothing_into_the_store(store, uri):
    """A security tester's find: every load (the service's start and `/admin/reload`, `score`) wrote
    `registered_model_meta` into the registered model's own folder of a local store, MLflow's
    "download" of a local artifact being the store's folder itself: serving needed write access to
    the signed-off store, and a copied store's `serve` rewrote the original's file."""
    assert run("promote", "--best").exit_code == 0
    artifacts = uri / "artifacts"
    for meta in artifacts.rglob("registered_model_meta"):
        meta.unlink()  # left by a load in an earlier test, on the code before this fix
    before = _artifact_files(artifacts)
    loaded = tracking.load_registered("champion")
    tracking.load_run_model(loaded.info["run_id"])
    assert loaded.pipeline is not None and before
    assert _artifact_files(artifacts) == before


def test_a_store_with_versions_but_no_champion_says_to_promote_not_to_train(monkeypatch):
    """`score` after `train` but before `promote` said to run train and promote, as if nothing were
    trained (a first-time analyst trained again)."""
    monkeypatch.setattr(tracking, "setup_read", lambda: "sqlite:///store/mlflow.db")
    monkeypatch.setattr(tracking, "resolve_version", lambda alias: None)
    monkeypatch.setattr(tracking, "registered_versions",
                        lambda: [SimpleNamespace(version=v) for v in ("3", "1", "2")])
    with pytest.raises(tracking.ModelNotFoundError) as raised:
        tracking.load_registered()
    said = str(raised.value)
    assert "versions 1, 2 and 3 are registered, none of them champion" in said
    assert "`exclusion-risk promote --best` (or `exclusion-risk promote VERSION`)" in said
    assert "exclusion-risk train" not in said
    monkeypatch.setattr(tracking, "registered_versions", lambda: [SimpleNamespace(version=str(v)) for v in
                                                                  range(1, 13)])
    latest = r"12 versions \(the latest 8, 9, 10, 11 and 12\) are registered, none of them champion"
    with pytest.raises(tracking.ModelNotFoundError, match=latest):
        tracking.load_registered()
    monkeypatch.setattr(tracking, "registered_versions", lambda: [SimpleNamespace(version="1")])
    with pytest.raises(tracking.ModelNotFoundError, match="version 1 is registered but is not champion"):
        tracking.load_registered()
    monkeypatch.setattr(tracking, "registered_versions", lambda: [])
    with pytest.raises(tracking.ModelNotFoundError, match="run `exclusion-risk train` and `exclusion-risk "
                                                          "promote` first"):
        tracking.load_registered()
    # a version number or another alias that names nothing: promote would not set it (a reviewer's case)
    monkeypatch.setattr(tracking, "registered_versions", lambda: [SimpleNamespace(version="1")])
    with pytest.raises(tracking.ModelNotFoundError) as raised:
        tracking.load_registered("7")
    assert "no model exclusion-risk@7" in str(raised.value) and "promote --best" not in str(raised.value)
