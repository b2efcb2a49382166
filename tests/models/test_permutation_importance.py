"""Permutation importance (issue #13: the Walsall study ranked its predictors by random-forest variable
importance): logged only when the experiment config asks, as the `study` preset does."""

from __future__ import annotations

import numpy as np

from exclusion_risk.models.config import DEFAULT_CONFIG, load_config
from exclusion_risk.models.training_log import PERMUTATION_REPEATS, permutation_importance_table


def test_the_study_preset_asks_for_it_and_the_default_does_not():
    assert load_config(DEFAULT_CONFIG.with_name("study.yaml")).permutation_importance is True
    assert load_config(None).permutation_importance is False  # the demo's train does not pay for it


def test_inputs_are_ranked_by_the_fall_in_average_precision(training, test_year):
    result, _ = training
    pipeline = result.models["random_forest"].pipeline
    features, labels = test_year[result.feature_cols], test_year["label"].to_numpy()
    table = permutation_importance_table(pipeline, features, labels, seed=7, sample_size=800)
    assert table["pupils"] == 800 and table["repeats"] == PERMUTATION_REPEATS
    ranked = list(table["importance"].items())
    assert sorted(name for name, _ in ranked) == sorted(result.feature_cols)
    means = [v["mean"] for _, v in ranked]
    assert means == sorted(means, reverse=True) and means[0] > 0.01  # the strongest input matters
    # Shuffling an input the model does not read cannot change its score: a column of constants.
    flat = features.assign(**{name: features[name].iloc[0] for name, _ in ranked[-3:]})
    again = permutation_importance_table(pipeline, flat, labels, seed=7, sample_size=800)["importance"]
    assert all(abs(again[name]["mean"]) < 1e-12 for name, _ in ranked[-3:])
    # The same seed gives the same table.
    assert permutation_importance_table(pipeline, features, labels, seed=7, sample_size=800) == table
    assert np.isfinite([v["std"] for v in table["importance"].values()]).all()
