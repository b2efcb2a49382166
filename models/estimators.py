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

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from exclusion_risk.models.calibration import CalibratedClassifier
from exclusion_risk.models.config import ConfigError, ExperimentConfig, ModelSpec


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


def _known_settings(model_type: str) -> set[str]:
    """The setting names `model_type`'s estimator takes: its constructor's, and for LightGBM the names
    and aliases of its own parameters, which it takes too (and, misspelt, ignores with a warning)."""
    if model_type == "random_forest":
        return set(RandomForestClassifier().get_params())
    if model_type == "logistic":
        return set(LogisticRegression().get_params())
    from lightgbm.basic import _ConfigAliases

    aliases = _ConfigAliases._get_all_param_aliases()
    native = set(aliases) | {alias for names in aliases.values() for alias in names}
    return set(_lightgbm().LGBMClassifier().get_params()) | native


def settings_problem(
    model_type: str, spec: ModelSpec, params: dict[str, Any], seed: int, n_jobs: int
) -> tuple[str | None, str] | None:
    """(the setting, what is wrong) where `model_type`'s estimator refuses `params` (one grid point; the
    setting None where the estimator does not say which), else None. `train` checks before it reads any
    data, so that a bad setting is a one-line config error, not a traceback from fitting."""
    unknown = sorted(set(params) - _known_settings(model_type))
    if unknown:
        return unknown[0], f"not a setting of {model_type} (a misspelling?)"
    if "random_state" in params and model_type != "logistic":  # make_estimator gives it from `seed`
        return "random_state", "set by the config's `seed` for every model: give `seed` instead"
    leaf_alias = sorted(set(params) & LEAF_ALIASES) if model_type == "lightgbm" else []
    if leaf_alias:  # sized_params sizes the leaf under its one name: under another it stayed as configured
        return leaf_alias[0], "LightGBM's other name for the leaf size: give it as min_child_samples"
    estimator = make_estimator(model_type, spec, params, seed, n_jobs)
    if model_type != "lightgbm":  # scikit-learn checks each setting's type and range when fitting
        try:
            estimator._validate_params()
        except ValueError as exc:  # InvalidParameterError, which names the setting
            named = re.match(r"The '(\w+)' parameter", str(exc))
            return (named.group(1) if named else None), str(exc)
        if model_type == "random_forest":  # a fit on a few rows would refuse e.g. max_samples: 30000
            return None
    # LightGBM checks its settings (and scikit-learn the logistic's combinations) only in fitting: a
    # fit on 20 rows, in one boosting round where the rounds are valid, costs a few milliseconds.
    if model_type == "lightgbm" and isinstance(params.get("n_estimators", 1), int) \
            and params.get("n_estimators", 1) >= 1:
        estimator.set_params(n_estimators=1)
    rows = np.arange(20.0).reshape(20, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a logistic fit of 20 rows may not converge: no matter here
            estimator.fit(rows, (rows[:, 0] >= 10).astype(int))
    except Exception as exc:  # noqa: BLE001 - LightGBMError, ValueError, TypeError: each a refusal
        return None, re.sub(r" at \S+, line \d+ ?\.?", "", str(exc)).strip()
    return None


def check_model_settings(config: ExperimentConfig, source: Path) -> None:
    """Every grid point of every enabled model, as its estimator would be made: a setting it refuses is
    a ConfigError naming the config file, the model and the setting (`settings_problem`)."""
    for name, spec in config.enabled_models().items():
        for point in spec.grid_points():
            problem = settings_problem(name, spec, point, config.seed, config.n_jobs)
            if problem is None:
                continue
            setting, why = problem
            if setting is None:
                shown = ", ".join(f"{k}: {v}" for k, v in point.items())
                raise ConfigError(f"config file {source}: models.{name}: its estimator refuses the settings "
                                  f"{{{shown}}}: {why}")  # fmt: skip
            section = "grid" if setting in spec.grid else "params"
            raise ConfigError(f"config file {source}: models.{name}.{section}.{setting}: {why}")


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


LEAF_FLOOR = 20  # LightGBM's own default leaf size: the least `leaf_share` brings a leaf down to
LEAF_SETTING = {"lightgbm": "min_child_samples", "random_forest": "min_samples_leaf"}
# LightGBM reads the leaf size under these names too (its parameter docs: min_data_in_leaf's aliases)
LEAF_ALIASES = frozenset({"min_data_in_leaf", "min_data_per_leaf", "min_data", "min_samples_leaf"})


def sized_params(model_type: str, spec: ModelSpec, params: dict[str, Any], rows: int) -> dict[str, Any]:
    """`params` with the leaf size at most `spec.leaf_share` of the `rows` fitted on (at least LEAF_FLOOR,
    never above the configured size): on the 62,536-pupil synthetic authority (about 62,000 rows a year)
    the configured 100 stands; on an 8,000-pupil one a leaf of 100 was more than the pupils suspended
    before census day, so this year's suspensions were never split on (importance 0)."""
    setting = LEAF_SETTING.get(model_type)
    configured = params.get(setting)
    # a float leaf size is a share of the rows already (scikit-learn's min_samples_leaf=0.01): as given
    if not spec.leaf_share or not isinstance(configured, int) or isinstance(configured, bool):
        return dict(params)
    sized = max(LEAF_FLOOR, int(rows * spec.leaf_share))
    return {**params, setting: min(configured, sized)}


def refit_params(model_type: str, params: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Settings for the refit: LightGBM keeps the boosting rounds its early stopping chose."""
    if model_type == "lightgbm" and "best_iteration" in facts:
        return {**params, "n_estimators": facts["best_iteration"]}
    return dict(params)


def assemble(preprocess: ColumnTransformer, calibrated: CalibratedClassifier) -> Pipeline:
    """The registered object: fitted preprocessor, then the calibrated classifier."""
    return Pipeline([("preprocess", preprocess), ("model", calibrated)])
