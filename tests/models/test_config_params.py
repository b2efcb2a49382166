"""A model's `params` or `grid` its estimator refuses is a config error naming the file, the model and the
setting (exit 2 from `train`, before any data is read), not a traceback after the data are loaded (a
reviewer's find: `random_forest: {params: {n_estimators: -5}}` ended in sklearn's InvalidParameterError,
exit 1, and `n_estimatorz: 5` in a TypeError)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models.config import ConfigError, load_config
from exclusion_risk.models.estimators import check_model_settings


def _load(path):
    """The config as `train` reads it: its sections, then each enabled model's settings."""
    config = load_config(path)
    check_model_settings(config, path)
    return config


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("models:\n  random_forest:\n    params: {n_estimators: -5}\n", "random_forest.params.n_estimators"),
        ("models:\n  random_forest:\n    params: {n_estimatorz: 5}\n", "random_forest.params.n_estimatorz"),
        ("models:\n  random_forest:\n    grid: {max_depth: [4, -1]}\n", "random_forest.grid.max_depth"),
        ("models:\n  logistic:\n    grid: {C: [-1.0]}\n", "logistic.grid.C"),
        ("models:\n  logistic:\n    params: {penalti: l2}\n", "logistic.params.penalti"),
        ("models:\n  lightgbm:\n    params: {n_estimatorz: 5}\n", "lightgbm.params.n_estimatorz"),
        ("models:\n  lightgbm:\n    grid: {num_leaves: [1]}\n", "lightgbm"),
        ("models:\n  lightgbm:\n    params: {n_estimators: -5}\n", "lightgbm"),
        # the experiment's `seed` sets it: given again, a TypeError traceback (the diff reviewer's find)
        ("models:\n  random_forest:\n    params: {random_state: 1}\n", "random_forest.params.random_state"),
        ("models:\n  lightgbm:\n    grid: {random_state: [1, 2]}\n", "lightgbm.grid.random_state"),
        # the leaf size under LightGBM's other names was never sized to a small authority's rows (leaf_share)
        ("models:\n  lightgbm:\n    params: {min_data_in_leaf: 50}\n", "lightgbm.params.min_data_in_leaf"),
        ("models:\n  lightgbm:\n    grid: {min_samples_leaf: [20, 50]}\n", "lightgbm.grid.min_samples_leaf"),
    ],
)
def test_a_setting_the_estimator_refuses_is_a_config_error(tmp_path, text, named):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        _load(path)
    message = str(info.value)
    assert str(path) in message and f"models.{named}" in message and "\n" not in message


def test_settings_the_estimators_take_are_kept(tmp_path):
    path = tmp_path / "c.yaml"  # LightGBM's own names and aliases are its settings too
    path.write_text("models:\n  lightgbm:\n    params: {max_bin: 63, feature_fraction: 0.8}\n"
                    "  random_forest:\n    params: {max_samples: 30000}\n  logistic:\n    enabled: false\n")
    config = _load(path)
    assert config.models["lightgbm"].params["max_bin"] == 63
    # a disabled model is not fitted, so its settings are not checked
    path.write_text("models:\n  logistic:\n    enabled: false\n    params: {C: -1}\n")
    assert not _load(path).models["logistic"].enabled


def test_train_says_so_in_one_line_with_exit_2_before_reading_data(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("models:\n  random_forest:\n    params: {n_estimators: -5}\n")
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path / "no-such-folder"), "--config",
                                      str(config)])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "no-such-folder" not in result.output
    error = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "random_forest.params.n_estimators" in error[0] and str(config) in error[0]
