"""The forest rewritten as a LightGBM Booster (models.forest_booster) gives shap's TreeSHAP values and the
forest's own probabilities: on the trained forest, on sample weights, on missing values, on thresholds
that fall between a value and its float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
import shap
from sklearn.ensemble import RandomForestClassifier

from exclusion_risk.models.explain import Explainer
from exclusion_risk.models.forest_booster import as_float32_rows, forest_booster


def _shap_values(forest, X: np.ndarray) -> np.ndarray:
    values = np.asarray(shap.TreeExplainer(forest).shap_values(X, check_additivity=False))
    return values[:, :, list(forest.classes_).index(1)]


def _booster_values(forest, X: np.ndarray) -> np.ndarray:
    return forest_booster(forest).predict(as_float32_rows(X), pred_contrib=True)


def test_the_trained_forest_explained_as_shap_explains_it(training, test_year):
    result, _ = training
    explainer = Explainer(result.models["random_forest"].pipeline)
    X = explainer.matrix(test_year.head(400))
    forest = explainer.parts.estimator
    ours = _booster_values(forest, X)
    assert np.abs(ours[:, :-1] - _shap_values(forest, X)).max() < 1e-9
    assert np.abs(ours.sum(axis=1) - forest.predict_proba(X)[:, 1]).max() < 1e-9
    # What the explainer reports is that, summed back to registry features.
    columns, expected = explainer.column_contributions(X)
    assert np.abs(columns - ours[:, :-1]).max() == 0 and expected == pytest.approx(ours[0, -1])


def test_weights_missing_values_and_float32_thresholds():
    rng = np.random.default_rng(3)
    n = 3000
    X = rng.normal(size=(n, 5))
    X[:, 4] = np.round(X[:, 4], 1)  # many ties, thresholds between neighbours
    X[rng.random(n) < 0.1, 2] = np.nan  # scikit-learn routes NaN by each node's missing_go_to_left
    y = ((X[:, 0] + np.nan_to_num(X[:, 2]) + rng.normal(size=n)) > 0.5).astype(int)
    forest = RandomForestClassifier(
        n_estimators=15, max_depth=7, min_samples_leaf=5, class_weight="balanced_subsample",
        max_samples=0.6, random_state=0,
    ).fit(X, y)
    probe = np.vstack([X[:500], X[:200] + 1e-9])  # values just past a float32 threshold
    ours = _booster_values(forest, probe)
    assert np.abs(ours.sum(axis=1) - forest.predict_proba(probe)[:, 1]).max() < 1e-9
    assert np.abs(ours[:, :-1] - _shap_values(forest, probe)).max() < 1e-8


def test_a_float64_row_is_rounded_as_the_forest_rounds_it():
    """Without the float32 rounding a value between float32(x) and x crosses a threshold the forest
    does not: the guard that makes the rounding necessary."""
    X = np.array([[0.0], [1.0], [0.1], [0.2]] * 50)
    y = np.array([0, 1, 0, 1] * 50)
    forest = RandomForestClassifier(n_estimators=1, bootstrap=False, random_state=0).fit(X, y)
    threshold = float(forest.estimators_[0].tree_.threshold[0])
    below = np.float32(threshold)
    if float(below) > threshold:
        below = np.nextafter(below, np.float32(-np.inf))
    middle = (float(below) + float(np.nextafter(below, np.float32(np.inf)))) / 2
    # A float64 value on the other side of the threshold from its float32 rounding.
    value = (threshold + middle) / 2
    between = np.array([[value]])
    assert (float(np.float32(value)) <= threshold) != (value <= threshold)
    booster = forest_booster(forest)
    expected = forest.predict_proba(between)[:, 1]
    assert booster.predict(as_float32_rows(between)) == pytest.approx(expected)
    assert booster.predict(between) != pytest.approx(expected)


def test_single_leaf_trees_keep_their_value():
    """A tree fitted on one class only is a single leaf: written with its value alone."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.zeros(40, dtype=int)
    y[:2] = 1
    forest = RandomForestClassifier(n_estimators=20, max_samples=8, random_state=0).fit(X, y)
    assert any(tree.tree_.node_count == 1 for tree in forest.estimators_)
    ours = _booster_values(forest, X)
    assert np.abs(ours.sum(axis=1) - forest.predict_proba(X)[:, 1]).max() < 1e-12
    assert np.abs(ours[:, :-1] - _shap_values(forest, X)).max() < 1e-12
