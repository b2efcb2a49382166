"""SHAP explanations of a registered model: each registry feature's contribution to each pupil's score.

What is explained is the *raw model score* (LightGBM and logistic: log-odds; random forest: the
forest's uncalibrated probability). Calibration then maps that raw score to the probability shown to
users by a monotonic function, so a factor that raises the raw score raises the calibrated
probability too, and the ranking of factors is the ranking that matters. Contributions are therefore
additive on the raw scale: contributions + expected value = raw score (checked on every call).

Per model type:
- LightGBM: the Booster's own TreeSHAP (`pred_contrib`), exact and multithreaded. shap's own tree
  parser is not used: with categorical splits it cannot do interventional SHAP, and the path-dependent
  values it gives equal `pred_contrib` (tested).
- random forest: the same path-dependent TreeSHAP, by the forest rewritten as a LightGBM Booster
  (`models.forest_booster`): multithreaded, and equal to `shap.TreeExplainer`'s values (tested).
- logistic regression: exact linear contributions coef x (x - reference), where the reference is the
  mean model input of the calibration pupils (`background_mean_`, stored on the calibrated step by
  models.train).

Contributions of the transformed columns (one-hot, ordinal, scaled) are summed back to the registry
feature they came from, so a pupil's factors are registry features, never raw columns; `models.reasons`
puts them into the registry's plain English.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.features.preprocess import output_feature_map
from exclusion_risk.models.forest_booster import as_float32_rows, forest_booster

# Additivity tolerance on the raw scale (float32/64 round-off only; real mismatches are >> this).
ADDITIVITY_TOLERANCE = 1e-5
_SMALL_BATCH = 256
# Rows checked against the model's own raw prediction on every explain call (cheap, catches drift).
_ADDITIVITY_SAMPLE = 256


class AdditivityError(AssertionError):
    """Contributions + expected value did not reproduce the model's raw score."""


class UnsupportedModelError(TypeError):
    """The pipeline's final estimator is not a model type this module can explain exactly."""


# ---------------------------------------------------------------------------------------------
# Taking a registered pipeline apart
# ---------------------------------------------------------------------------------------------


def _unwrap_estimator(est):
    """The fitted raw classifier inside a calibration wrapper (sklearn's or the project's own)."""
    seen = 0
    while seen < 8:
        seen += 1
        name = type(est).__name__
        if name == "FrozenEstimator":
            est = est.estimator
            continue
        calibrated = getattr(est, "calibrated_classifiers_", None)
        if calibrated is not None:
            if len(calibrated) != 1:
                raise UnsupportedModelError(
                    "calibration with several cross-validated models has no single raw score to explain; "
                    "calibrate a prefit model instead"
                )
            est = calibrated[0].estimator
            continue
        if _model_kind(est) is not None or hasattr(est, "steps"):
            return est
        for attr in ("estimator_", "base_estimator_", "estimator", "classifier", "base_estimator", "model"):
            inner = getattr(est, attr, None)
            if inner is not None and inner is not est and hasattr(inner, "predict_proba"):
                est = inner
                break
        else:
            return est
    return est


def _model_kind(est) -> str | None:
    name = type(est).__name__
    if hasattr(est, "booster_") or name == "Booster":
        return "lightgbm"
    if name in {"RandomForestClassifier", "ExtraTreesClassifier"}:
        return "random_forest"
    if name in {"LogisticRegression", "LogisticRegressionCV", "SGDClassifier"} and hasattr(est, "coef_"):
        return "logistic"
    return None


@dataclass
class ModelParts:
    """A registered pipeline taken apart: transforms, raw classifier, and column -> feature map."""

    transform_steps: list  # fitted transformers applied in order to the registry feature frame
    estimator: object  # the raw fitted classifier
    kind: str  # lightgbm | random_forest | logistic
    input_features: list[str]  # registry feature columns the pipeline reads, in order
    column_sources: np.ndarray  # for each transformed column, the index into input_features

    def transform(self, features: pd.DataFrame):
        data = features[self.input_features]
        for step in self.transform_steps:
            data = step.transform(data)
        return data

    def to_matrix(self, transformed) -> np.ndarray:
        if hasattr(transformed, "toarray"):
            transformed = transformed.toarray()
        if isinstance(transformed, pd.DataFrame):
            # category dtype columns become their codes; LightGBM saw the same codes when fitted
            transformed = (
                np.column_stack(
                    [
                        transformed[c].cat.codes.to_numpy(np.float64, copy=False)
                        if isinstance(transformed[c].dtype, pd.CategoricalDtype)
                        else transformed[c].to_numpy(np.float64, na_value=np.nan)
                        for c in transformed.columns
                    ]
                )
                if len(transformed.columns)
                else np.empty((len(transformed), 0))
            )
        return np.asarray(transformed, dtype=np.float64)

    def aggregation(self) -> np.ndarray:
        """(n transformed columns x n features) 0/1 matrix summing columns back to features."""
        agg = np.zeros((len(self.column_sources), len(self.input_features)))
        agg[np.arange(len(self.column_sources)), self.column_sources] = 1.0
        return agg


def split_pipeline(pipeline) -> ModelParts:
    """Transforms and raw classifier of a fitted `Pipeline(preprocessor..., calibrated classifier)`."""
    if not hasattr(pipeline, "steps"):
        raise UnsupportedModelError(
            "the registered model must be an sklearn Pipeline (preprocessor + classifier)"
        )
    steps = [step for _, step in pipeline.steps if step not in (None, "passthrough")]
    estimator = _unwrap_estimator(steps[-1])
    transforms = list(steps[:-1])
    # A raw estimator may itself be a Pipeline (e.g. a scaler before a logistic regression).
    while hasattr(estimator, "steps"):
        inner = [step for _, step in estimator.steps if step not in (None, "passthrough")]
        transforms += inner[:-1]
        estimator = _unwrap_estimator(inner[-1])
    kind = _model_kind(estimator)
    if kind is None:
        raise UnsupportedModelError(f"cannot explain a {type(estimator).__name__} exactly")
    if not transforms:
        raise UnsupportedModelError("the pipeline has no preprocessing step to read registry features")
    input_features = [str(c) for c in transforms[0].feature_names_in_]
    return ModelParts(
        transforms, estimator, kind, input_features, _column_sources(transforms, input_features)
    )


def _column_sources(transforms: list, input_features: list[str]) -> np.ndarray:
    """Map each transformed column back to the registry feature it encodes (features.preprocess's map)."""
    first = transforms[0]
    if not hasattr(first, "transformers_"):
        raise UnsupportedModelError("the first pipeline step must be a fitted ColumnTransformer")
    try:
        mapping = output_feature_map(first)
    except StopIteration:
        raise UnsupportedModelError("a preprocessor output column names no input feature") from None
    names = [str(n) for n in first.get_feature_names_out()]
    index = {name: i for i, name in enumerate(input_features)}
    sources = np.asarray([index[mapping[n]] for n in names], dtype=np.int64)
    # Later steps (e.g. the logistic model's scaler) must keep columns one-to-one.
    for step in transforms[1:]:
        if len(step.get_feature_names_out(names)) != len(names):
            raise UnsupportedModelError(
                f"{type(step).__name__} changes the number of columns; cannot map back"
            )
    return sources


# ---------------------------------------------------------------------------------------------
# Contributions
# ---------------------------------------------------------------------------------------------


@dataclass
class Explanation:
    """Per-pupil contributions of each registry feature to the raw model score."""

    contributions: np.ndarray  # (n pupils, n features), raw scale
    expected_value: float  # the model's average raw score (what contributions are measured from)
    raw_score: np.ndarray  # (n,) = contributions.sum(1) + expected_value
    features: list[str]
    scale: str  # "log-odds" or "probability"
    kind: str

    def frame(self, index=None) -> pd.DataFrame:
        return pd.DataFrame(self.contributions, columns=self.features, index=index)

    def mean_abs(self) -> pd.Series:
        """Global importance: mean |contribution| per feature, largest first."""
        values = np.abs(self.contributions).mean(axis=0) if len(self.contributions) else 0.0
        return pd.Series(values, index=self.features).sort_values(ascending=False)


class Explainer:
    """Exact SHAP contributions for one registered pipeline.

    `background_mean` (transformed columns) is the logistic model's reference point; tree models use
    the training data cover stored in the trees (path-dependent TreeSHAP) and ignore it.
    """

    def __init__(self, pipeline, background_mean: np.ndarray | None = None):
        self.pipeline = pipeline
        self.parts = split_pipeline(pipeline)
        self.kind = self.parts.kind
        self.scale = "probability" if self.kind == "random_forest" else "log-odds"
        self._aggregation = self.parts.aggregation()
        self._forest_booster = None  # built on the first forest explanation
        self.background_mean = None
        if self.kind == "logistic":
            if background_mean is None:
                # models.train stores the calibration pupils' mean model input on the calibrated step.
                background_mean = getattr(pipeline.steps[-1][1], "background_mean_", None)
            if background_mean is None:
                raise ValueError(
                    "a logistic model's explanation needs a background mean (the validation year's)"
                )
            self.background_mean = np.asarray(background_mean, dtype=np.float64)

    @property
    def features(self) -> list[str]:
        return self.parts.input_features

    def matrix(self, features: pd.DataFrame) -> np.ndarray:
        return self.parts.to_matrix(self.parts.transform(features))

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """The model's own raw score for transformed rows (not via the contributions)."""
        est = self.parts.estimator
        if self.kind == "lightgbm":
            booster = est.booster_ if hasattr(est, "booster_") else est
            return np.asarray(booster.predict(X, raw_score=True), dtype=np.float64)
        if self.kind == "random_forest":
            return _forest_probability(est, X)
        return est.decision_function(X).astype(np.float64)

    def column_contributions(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """Contributions per transformed column and the expected value, on the raw scale."""
        est = self.parts.estimator
        if self.kind == "lightgbm":
            return _tree_contributions(est.booster_ if hasattr(est, "booster_") else est, X)
        if self.kind == "random_forest":
            if self._forest_booster is None:
                self._forest_booster = forest_booster(est)  # TreeSHAP in threads (models.forest_booster)
            return _tree_contributions(self._forest_booster, as_float32_rows(X))
        coef = np.asarray(est.coef_, dtype=np.float64).ravel()
        contributions = (X - self.background_mean) * coef
        expected = float(np.asarray(est.intercept_).ravel()[0] + self.background_mean @ coef)
        return contributions, expected

    def explain_matrix(self, X: np.ndarray, check: bool = True) -> Explanation:
        columns, expected = self.column_contributions(X)
        contributions = columns @ self._aggregation
        raw = contributions.sum(axis=1) + expected
        explanation = Explanation(contributions, expected, raw, list(self.features), self.scale, self.kind)
        if check and len(X):
            sample = np.linspace(0, len(X) - 1, min(len(X), _ADDITIVITY_SAMPLE)).astype(int)
            check_additivity(explanation, self.raw_score(X[sample]), rows=sample)
        return explanation

    def explain(self, features: pd.DataFrame, check: bool = True) -> Explanation:
        return self.explain_matrix(self.matrix(features), check=check)


def _tree_contributions(booster, X: np.ndarray) -> tuple[np.ndarray, float]:
    """A Booster's TreeSHAP contributions per column and its expected value (the last column)."""
    # LightGBM's thread start-up costs more than a few rows' TreeSHAP: one thread for small batches.
    threads = {"num_threads": 1} if len(X) < _SMALL_BATCH else {}
    out = np.asarray(booster.predict(X, pred_contrib=True, **threads), dtype=np.float64)
    if out.shape[1] != X.shape[1] + 1:
        raise UnsupportedModelError("only binary LightGBM models are explained")
    if not len(out):  # the expected value is the same for every row: ask with one empty pupil
        empty = np.full((1, X.shape[1]), np.nan)
        return out[:, :-1], float(booster.predict(empty, pred_contrib=True, num_threads=1)[0, -1])
    return out[:, :-1], float(out[0, -1])


def _forest_probability(forest, X: np.ndarray) -> np.ndarray:
    """The forest's probability of the positive class: sklearn's predict_proba (the mean of its trees'
    probabilities) without its joblib pool, whose start-up costs more than scoring-sized batches."""
    positive = list(forest.classes_).index(1)
    X = np.ascontiguousarray(X, dtype=np.float32)  # the trees' own dtype, as sklearn's forest converts
    total = np.zeros(len(X), dtype=np.float64)
    for tree in forest.estimators_:
        total += tree.predict_proba(X, check_input=False)[:, positive]
    return total / len(forest.estimators_)


def check_additivity(
    explanation: Explanation, model_raw_score: np.ndarray, rows=None, tolerance: float = ADDITIVITY_TOLERANCE
) -> float:
    """Largest |contributions + expected - model raw score|; raises AdditivityError beyond tolerance."""
    reconstructed = explanation.raw_score if rows is None else explanation.raw_score[rows]
    error = float(np.max(np.abs(reconstructed - np.asarray(model_raw_score, dtype=np.float64)), initial=0.0))
    if error > tolerance:
        raise AdditivityError(
            f"{explanation.kind}: contributions + expected value differ from the raw score by {error:.3g} "
            f"({explanation.scale}); the explanation does not describe this model"
        )
    return error
