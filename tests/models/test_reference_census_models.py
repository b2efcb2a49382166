"""A model trained at the spring census: it records its reference census, and `score` scores that
census only (an autumn scoring, or a census the extracts lack, is refused with one plain line).

One `exclusion-risk train --census spring` (logistic only) on the small synthetic authority feeds the
tests; the store lives in a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models import tracking
from exclusion_risk.models.config import ConfigError, load_config
from exclusion_risk.models.score_runs import RUN_FILE, RunFolder
from exclusion_risk.synth.truth import write_truth_links

CONFIG = {
    "n_jobs": 1,
    "metrics": {"capacities": [0.01, 0.05, 0.1], "bootstrap": 50, "level": 0.95},
    "models": {"random_forest": {"enabled": False}, "lightgbm": {"enabled": False},
               "logistic": {"params": {"max_iter": 500, "C": 1.0}}},
}  # fmt: skip


@pytest.fixture(scope="module")
def spring_store(small_authority, tmp_path_factory):
    """(tracking URI, data folder, links folder, train output) after `train --census spring`."""
    root = tmp_path_factory.mktemp("spring_store")
    links = write_truth_links(small_authority, root / "links").parent
    config = root / "experiment.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        args = ["train", "--data", str(small_authority), "--links", str(links), "--config", str(config),
                "--census", "Spring", "--quiet"]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        promoted = CliRunner().invoke(app, ["promote", "1"])
        assert promoted.exit_code == 0, promoted.output
        yield uri, Path(small_authority), links, result.output


@pytest.fixture()
def spring(spring_store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", spring_store[0])
    return spring_store


def _score(spring, tmp_path, *extra):
    _, data, links, _ = spring
    out = tmp_path / "scores.csv"
    args = ["score", "--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out),
            "--no-reasons", *extra]  # fmt: skip
    return CliRunner().invoke(app, args), out


def test_the_trained_model_records_its_reference_census(spring):
    from mlflow import MlflowClient

    assert "spring census" in spring[3]
    (version,) = MlflowClient().search_model_versions("name = 'exclusion-risk'")
    assert version.tags["census"] == "spring"
    assert MlflowClient().get_run(version.run_id).data.tags["census"] == "spring"
    parent = MlflowClient().get_run(version.tags["train_id"])
    assert parent.data.params["census"] == "spring"
    assert tracking.read_model_info(version)["census"] == "spring"
    # a spring model takes this year's attendance so far (the autumn term, from the termly files)
    assert "absence_rate_this_year" in version.tags["features"].split(",")


def test_a_version_registered_before_the_census_was_recorded_is_autumns():
    old = SimpleNamespace(version="3", tags={"model_type": "logistic", "label": "any"})
    assert tracking.read_model_info(old)["census"] == "autumn"


def test_score_refuses_another_census_than_the_models(spring, tmp_path):
    for extra in ([], ["--census", "autumn"], ["--census", "summer"]):
        result, out = _score(spring, tmp_path, *extra)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: --census ") and len(result.output.splitlines()) == 1
        assert "was trained for the spring census" in result.output and "Traceback" not in result.output
        assert not out.exists()
    result, _ = _score(spring, tmp_path, "--census", "winter")
    assert result.exit_code == 2 and "--census: census 'winter' is not one of autumn, spring, summer" in (
        result.output
    )


def test_score_at_the_models_census_scores_and_records_it(spring, tmp_path):
    first, out = _score(spring, tmp_path, "--census", "spring")
    assert first.exit_code == 0, first.output
    assert "(2018/19 spring census)" in first.output
    census = pd.read_csv(spring[1] / "census.csv", dtype=str)
    on_spring = census[(census["AcademicYear"] == "2018/19") & (census["CensusTerm"] == "SPR")]
    scores = pd.read_csv(out, dtype=str)
    assert len(scores) == on_spring["UPN"].nunique()
    assert set(scores["upn"]) <= set(on_spring["UPN"])  # named by the UPN recorded on that census
    assert "2018/19 spring census" in out.with_suffix(".html").read_text()
    (run,) = RunFolder(out.parent / "score_runs").runs()
    assert run.census == "spring"
    assert json.loads((out.parent / "score_runs" / run.run_id / RUN_FILE).read_text())["census"] == "spring"
    # `last` is the latest scoring of the same year and census
    second, _ = _score(spring, tmp_path, "--census", "spring", "--compare-with", "last")
    assert second.exit_code == 0, second.output
    assert f"since the 2018/19 spring scoring of {run.scored_on} (run {run.short_id})" in second.output


def test_score_refuses_a_census_the_extracts_lack_and_says_what_they_have(spring, tmp_path):
    census = pd.read_csv(spring[1] / "census.csv", dtype=str, keep_default_na=False)
    data = tmp_path / "extracts"
    data.mkdir()
    census[~((census["AcademicYear"] == "2018/19") & (census["CensusTerm"] != "AUT"))].to_csv(
        data / "census.csv", index=False
    )
    for name in ("exclusions.csv", "social_care.csv"):
        (data / name).write_bytes((spring[1] / name).read_bytes())
    result, _ = _score((spring[0], data, spring[2], ""), tmp_path, "--census", "spring")
    assert result.exit_code == 2, result.output
    assert "no spring census for 2018/19" in result.output and "Traceback" not in result.output
    assert "spring censuses: 2015/16, 2016/17, 2017/18; 2018/19: autumn" in result.output


def test_the_config_names_the_reference_census(tmp_path):
    assert load_config().census == "autumn" and load_config().census_term == "AUT"
    path = tmp_path / "summer.yaml"
    path.write_text("census: summer\n")
    assert load_config(path).census_term == "SUM"
    path.write_text("census: winter\n")
    with pytest.raises(ConfigError, match="census"):
        load_config(path)


def test_only_a_model_for_a_later_census_takes_this_years_attendance_so_far():
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.train import model_features

    so_far = {"absence_rate_this_year", "unauthorised_absence_rate_this_year", "persistent_absence_this_year"}
    for census, takes in (("autumn", False), ("spring", True), ("summer", True)):
        config = load_config().model_copy(update={"census": census})
        assert (so_far <= set(model_features(config))) is takes, census
        assert not so_far & set(model_features(config)) or takes


def test_a_spring_scoring_without_the_termly_attendance_files_is_refused(spring, tmp_path):
    # Without attendance/ this year's absence is missing for every pupil (1% in training): a reviewer's
    # spring list rated 1,958 of 3,054 pupils red, against 149 with the files, and exited 0
    data = tmp_path / "no_attendance"
    data.mkdir()
    for name in ("census.csv", "exclusions.csv", "social_care.csv"):
        (data / name).write_bytes((spring[1] / name).read_bytes())
    assert (spring[1] / "attendance").is_dir()  # the authority has them: this copy leaves them out
    result, out = _score((spring[0], data, spring[2], ""), tmp_path, "--census", "spring")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: no pupil on the 2018/19 spring census has ")
    assert "absence" in result.output and "termly attendance files" in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
    assert not out.exists()
