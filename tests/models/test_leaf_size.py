"""A small authority's model can split on a signal held by fewer pupils than the configured leaf size.

The SENCO's 8,000-pupil authority: about 70 training pupils had a suspension before the autumn census day,
fewer than LightGBM's `min_child_samples: 100` (models/experiment.yaml), so `suspensions_this_year` had
importance 0 and two suspensions added this term left five pupils green. A leaf is now at most
`leaf_share` of the rows fitted on (0.2%, 20 at least), so the shipped 100 stands at 50,000 rows or more.
"""

from __future__ import annotations

import numpy as np

from exclusion_risk.models import estimators
from exclusion_risk.models.config import load_config


def _lightgbm_spec():
    return load_config().models["lightgbm"]


def test_the_leaf_size_follows_the_rows_fitted_on_within_its_bounds():
    spec = _lightgbm_spec()
    params = spec.grid_points()[0]
    assert params["min_child_samples"] == 100 and spec.leaf_share == 0.002
    sized = {rows: estimators.sized_params("lightgbm", spec, params, rows)["min_child_samples"]
             for rows in (3_000, 8_000, 20_000, 50_000, 62_000, 500_000)}  # fmt: skip
    assert sized == {3_000: 20, 8_000: 20, 20_000: 40, 50_000: 100, 62_000: 100, 500_000: 100}
    # the other settings are as configured; a model without a leaf size, or a spec without a share, as it was
    assert estimators.sized_params("lightgbm", spec, params, 8_000) == {**params, "min_child_samples": 20}
    assert estimators.sized_params("logistic", spec, {"C": 1.0}, 8_000) == {"C": 1.0}
    unshared = spec.model_copy(update={"leaf_share": None})
    assert estimators.sized_params("lightgbm", unshared, params, 8_000) == params


def test_a_small_authoritys_model_splits_on_a_signal_seventy_pupils_hold():
    rng = np.random.default_rng(3)
    rows = 8_000
    suspended = np.zeros(rows)
    suspended[rng.choice(rows, 70, replace=False)] = 1.0  # this year's suspensions: 70 pupils
    other = rng.normal(size=(rows, 3))
    X = np.column_stack([suspended, other])
    y = (rng.random(rows) < np.where(suspended == 1, 0.5, 0.03) * (1 + 0.3 * (other[:, 0] > 1))).astype(int)
    spec = _lightgbm_spec()

    def splits(params) -> int:
        est = estimators.make_estimator("lightgbm", spec, {**params, "n_estimators": 60}, seed=7, n_jobs=1)
        est, _ = estimators.fit_estimator("lightgbm", est, X, y, spec, eval_set=None)
        return int(est.booster_.feature_importance("split")[0])

    configured = spec.grid_points()[0]
    assert splits(configured) == 0  # a leaf of 100: the 70 pupils never fill one (the code before)
    assert splits(estimators.sized_params("lightgbm", spec, configured, rows)) > 0


def test_a_leaf_size_given_as_a_share_of_the_rows_is_left_as_given():
    # a forest's min_samples_leaf of 0.01 (scikit-learn's share of the rows) was cut to int(0.01) = 0
    forest = load_config().models["random_forest"].model_copy(update={"leaf_share": 0.002})
    params = {"min_samples_leaf": 0.01}
    assert estimators.sized_params("random_forest", forest, params, 8_000) == params
    assert estimators.sized_params("random_forest", forest, {"min_samples_leaf": 50}, 8_000) == {
        "min_samples_leaf": 20}
