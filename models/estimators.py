"""The model grid: random forest (the Walsall method), LightGBM and a logistic-regression baseline.

Class imbalance (about 3 in 100 pupils are excluded after census day in a year) is handled deliberately:
the ranking is judged at capacity (precision/recall in the top k%, average precision), leaves must hold
enough pupils to see positives (`min_samples_leaf`, `min_child_samples`), and every model's
probabilities are calibrated on held-out pupils (`models.calibration`), which removes the odds shift any
reweighting causes. Whether to reweight was measured on the 62,536-pupil synthetic authority (validation
year 2017/18 average precision, search fitted on 2016/17):
- LightGBM: no reweighting. `class_weight: balanced` lowered validation AP from 0.412 to 0.393 (and
  test ROC-AUC from 0.873 to 0.861): boosting on log-loss already sees every positive's gradient.
- random forest: the reweighting is a grid dimension, `class_weight: [null, balanced_subsample]`,
  chosen on the validation year; unweighted and per-tree-balanced forests were within 0.005 AP.
- logistic regression: no reweighting; for a convex model it mostly shifts the intercept, which
  calibration sets again.
`class_weight` in a model's `grid` or `params` overrides the spec's own `class_weight`, and `n_jobs` the
config's.
Sizes are chosen for explanation cost as well as accuracy: per-pupil TreeSHAP time grows with
trees x leaves x depth^2, so the forest is depth-limited and LightGBM early-stops.

Each model type asks the shared preprocessor (`features.preprocess`) for what it needs
(`preprocess_options`): the logistic model gets imputed, scaled numerics and one-hot categoricals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from exclusion_risk.models.calibration import CalibratedClassifier
from exclusion_risk.models.config import ModelSpec


def _lightgbm():
    """The lightgbm module, imported on first use: `exclusion-risk --help` and the scorer never need it."""
    import lightgbm

    return lightgbm


def make_estimator(
    model_type: str, spec: ModelSpec, params: dict[str, Any], seed: int, n_jobs: int
) -> BaseEstimator:
    """An unfitted estimator of `model_type` with `params` (one grid point) and the spec's class weight."""
    if model_type == "random_forest":
        return RandomForestClassifier(
            random_state=seed, **{"n_jobs": n_jobs, "class_weight": spec.class_weight, **params}
        )
    if model_type == "lightgbm":
        weight = "balanced" if spec.class_weight is not None else None
        options = {"n_estimators": 1000, "verbose": -1, "class_weight": weight, "n_jobs": n_jobs, **params}
        return _lightgbm().LGBMClassifier(random_state=seed, **options)
    if model_type == "logistic":
        return LogisticRegression(**{"class_weight": spec.class_weight, "max_iter": 2000, **params})
    raise ValueError(f"unknown model type {model_type!r}")


def preprocess_options(model_type: str) -> dict[str, Any]:
    """`features.preprocess.make_preprocessor` options per model type.

    Trees split on missing values natively and need no scaling; the logistic model needs missing
    values imputed (with indicators) and numerics on comparable scales for its L2 penalty.
    Categoricals are one-hot for every model so explanations map columns back the same way.
    """
    if model_type == "logistic":
        return {"missing": "impute", "scale": True, "encoding": "onehot"}
    return {"missing": "keep", "scale": False, "encoding": "onehot"}


def fit_estimator(
    model_type: str,
    estimator: BaseEstimator,
    X: np.ndarray,
    y: np.ndarray,
    spec: ModelSpec,
    eval_set: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[BaseEstimator, dict[str, Any]]:
    """Fit; LightGBM early-stops on `eval_set` when the spec asks. Returns (estimator, fit facts)."""
    facts: dict[str, Any] = {}
    if model_type == "lightgbm" and spec.early_stopping_rounds and eval_set is not None:
        estimator.fit(
            X,
            y,
            eval_X=eval_set[0],
            eval_y=eval_set[1],
            eval_metric="binary_logloss",
            callbacks=[_lightgbm().early_stopping(spec.early_stopping_rounds, verbose=False)],
        )
        facts["best_iteration"] = int(estimator.best_iteration_ or estimator.n_estimators)
    else:
        estimator.fit(X, y)
    return estimator, facts


def refit_params(model_type: str, params: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Settings for the refit: LightGBM keeps the boosting rounds its early stopping chose."""
    if model_type == "lightgbm" and "best_iteration" in facts:
        return {**params, "n_estimators": facts["best_iteration"]}
    return dict(params)


def assemble(preprocess: ColumnTransformer, calibrated: CalibratedClassifier) -> Pipeline:
    """The registered object: fitted preprocessor, then the calibrated classifier."""
    return Pipeline([("preprocess", preprocess), ("model", calibrated)])
