"""The September retrain: once a year's outcomes are in the extracts, `train` tests on it by default.

A small synthetic authority with five years (2015/16-2019/20, exclusions through July 2020, so every
year after the first is complete) is trained twice with the CLI (logistic only): with the default
splits, which follow the data, and with a config naming the old years, which trains as named but says,
and records, that 2019/20 is left out. A copy whose exclusions stop before 1 July 2020 shows that a
year whose outcomes are not complete is neither tested on nor warned of.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.history import load_history
from exclusion_risk.models.config import load_config
from exclusion_risk.synth.truth import write_truth_links

YEARS = ("2015/16", "2016/17", "2017/18", "2018/19", "2019/20")
CONFIG = {
    "n_jobs": 1,
    "metrics": {"capacities": [0.01, 0.05, 0.1], "bootstrap": 50, "level": 0.95},
    "models": {"random_forest": {"enabled": False}, "lightgbm": {"enabled": False},
               "logistic": {"params": {"max_iter": 500, "C": 1.0}}},
}  # fmt: skip
OLD_YEARS = {"train": ["2016/17"], "validation": "2017/18", "test": "2018/19"}


@pytest.fixture(scope="module")
def five_years(synthetic_authority, tmp_path_factory):
    """(extracts, links folder, working folder) of a 2,000-pupil authority over five years."""
    extracts = synthetic_authority(2000, 5, years=YEARS)
    root = tmp_path_factory.mktemp("yearly_retrain")
    links = write_truth_links(extracts, root / "links").parent
    return Path(extracts), links, root


def _config(root: Path, name: str, **settings) -> Path:
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, **settings}))
    return path


def _train(five_years, name: str, **settings):
    """(CLI result, the registered version's tags, its train run's tags) in a store of its own."""
    from mlflow import MlflowClient

    extracts, links, root = five_years
    uri = f"sqlite:///{root / name / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        args = ["train", "--data", str(extracts), "--links", str(links),
                "--config", str(_config(root, name, **settings)), "--quiet"]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        client = MlflowClient(tracking_uri=uri)
        (version,) = client.search_model_versions("name = 'exclusion-risk'")
        parent = client.get_run(version.tags["train_id"])
    return result.output, version.tags, parent.data.tags


def test_the_default_splits_follow_the_data():
    splits = load_config().splits
    assert (splits.train, splits.validation, splits.test) == ("auto", "auto", "auto") and splits.refit


def test_the_september_retrain_tests_on_the_year_just_completed(five_years):
    output, version, run = _train(five_years, "default")
    assert version["test_year"] == "2019/20" and version["validation_year"] == "2018/19"
    assert version["train_years"] == "2016/17,2017/18" and version["splits"] == "auto"
    assert "Test year 2019/20, the latest year with complete outcomes" in output
    assert "(train 2016/17, 2017/18; validation 2018/19; test 2019/20)" in output
    assert run["test_year"] == "2019/20" and "later_complete_years" not in version
    assert "leaves out" not in output


def test_named_old_years_train_as_named_and_say_the_later_year_is_left_out(five_years):
    output, version, run = _train(five_years, "named", splits=OLD_YEARS)
    warnings = [line for line in output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, output  # said, once, beside the figures it concerns
    warning = warnings[0]
    assert "also hold 2019/20 with complete outcomes, which this run leaves out" in warning
    assert "test year 2019/20" in warning  # what the default would have done
    # recorded on the run and on the version, so that `promote` and a reader of MLflow see it
    assert version["later_complete_years"] == "2019/20" and run["later_complete_years"] == "2019/20"
    assert version["splits"] == run["splits"] == "named" and version["test_year"] == "2018/19"
    heading = "Test year 2018/19, as the config names (train 2016/17; validation 2017/18; test 2018/19)"
    assert heading in output


def test_a_later_year_whose_outcomes_are_not_complete_is_not_counted(five_years, tmp_path):
    """The rule `evaluate` and `describe` use: a year is complete once the linked exclusions reach 1 July
    of its second calendar year; exclusions stopping in June 2020 leave 2019/20 incomplete."""
    from exclusion_risk.models.train import complete_years, load_training_data

    extracts, links, _ = five_years
    cut = tmp_path / "extracts"
    cut.mkdir()
    exclusions = pd.read_csv(extracts / "exclusions.csv", dtype=str, keep_default_na=False)
    exclusions[exclusions["StartDate"] < "2020-06-15"].to_csv(cut / "exclusions.csv", index=False)
    for name in ("census.csv", "social_care.csv"):
        (cut / name).write_bytes((extracts / name).read_bytes())
    history = load_history(cut, links)
    assert complete_years(history, list(YEARS)) == list(YEARS[:-1])
    assert complete_years(load_history(extracts, links), list(YEARS)) == list(YEARS)
    named = load_config(_config(tmp_path, "named", splits=OLD_YEARS))
    assert load_training_data(cut, named, links).later_complete_years == []
    assert load_training_data(extracts, named, links).later_complete_years == ["2019/20"]
