"""SHAP explanations of a registered model, in the feature registry's plain English.

What is explained is the *raw model score* (LightGBM and logistic: log-odds; random forest: the
forest's uncalibrated probability). Calibration then maps that raw score to the probability shown to
users by a monotonic function, so a factor that raises the raw score raises the calibrated
probability too, and the ranking of factors is the ranking that matters. Contributions are therefore
additive on the raw scale: contributions + expected value = raw score (checked on every call).

Per model type:
- LightGBM: the Booster's own TreeSHAP (`pred_contrib`), exact and multithreaded. shap's own tree
  parser is not used: with categorical splits it cannot do interventional SHAP, and the path-dependent
  values it gives equal `pred_contrib` (tested).
- random forest: `shap.TreeExplainer` (path-dependent, exact; costly for deep forests: see bench/scoring.py).
- logistic regression: exact linear contributions coef x (x - reference), where the reference is the
  mean model input of the calibration pupils (`background_mean_`, stored on the calibrated step by
  models.train).

Contributions of the transformed columns (one-hot, ordinal, scaled) are summed back to the registry
feature they came from, so a pupil's factors are registry features ("SEMH needs ..."), never raw columns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.features import registry

# Additivity tolerance on the raw scale (float32/64 round-off only; real mismatches are >> this).
ADDITIVITY_TOLERANCE = 1e-5
# A factor is given as a reason only when it moves the raw score by at least this much.
MIN_REASON_CONTRIBUTION = {"log-odds": 0.05, "probability": 0.002}
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
    transformed_names: list[str]

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
    sources, names = _column_sources(transforms, input_features)
    return ModelParts(transforms, estimator, kind, input_features, sources, names)


def _column_sources(transforms: list, input_features: list[str]) -> tuple[np.ndarray, list[str]]:
    """Map each transformed column back to the registry feature it encodes (features.preprocess's map)."""
    from exclusion_risk.features.preprocess import output_feature_map

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
    return sources, names


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
        self._tree_explainer = None
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
            return est.predict_proba(X)[:, 1].astype(np.float64)
        return est.decision_function(X).astype(np.float64)

    def column_contributions(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """Contributions per transformed column and the expected value, on the raw scale."""
        est = self.parts.estimator
        if self.kind == "lightgbm":
            booster = est.booster_ if hasattr(est, "booster_") else est
            # LightGBM's thread start-up costs more than a few rows' TreeSHAP: one thread for small batches.
            threads = {"num_threads": 1} if len(X) < _SMALL_BATCH else {}
            out = np.asarray(booster.predict(X, pred_contrib=True, **threads), dtype=np.float64)
            if out.shape[1] != X.shape[1] + 1:
                raise UnsupportedModelError("only binary LightGBM models are explained")
            if not len(out):  # the expected value is the same for every row: ask with one empty pupil
                empty = np.full((1, X.shape[1]), np.nan)
                return out[:, :-1], float(booster.predict(empty, pred_contrib=True)[0, -1])
            expected = float(out[0, -1])
            return out[:, :-1], expected
        if self.kind == "random_forest":
            if self._tree_explainer is None:
                import shap

                self._tree_explainer = shap.TreeExplainer(est)  # path-dependent: exact, no background
            values = np.asarray(self._tree_explainer.shap_values(X, check_additivity=False))
            positive = list(est.classes_).index(1)
            expected = float(np.ravel(self._tree_explainer.expected_value)[positive])
            return values[:, :, positive], expected
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


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


# ---------------------------------------------------------------------------------------------
# Plain-English factors
# ---------------------------------------------------------------------------------------------


class Describer:
    """registry.describe with a cache: a cohort repeats the same (feature, value) pairs many times."""

    def __init__(self):
        self._cache: dict[tuple[str, object], str] = {}

    def __call__(self, name: str, value) -> str:
        key = (name, _cache_key(value))
        phrase = self._cache.get(key)
        if phrase is None:
            phrase = registry.describe(name, value)
            if len(self._cache) < 200_000:
                self._cache[key] = phrase
        return phrase


def _cache_key(value):
    if registry.is_missing(value):
        return None
    if isinstance(value, (float, np.floating)):
        return round(float(value), 6)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def _select_top(
    explanation: Explanation,
    n: int,
    direction: str,
    include_protected: bool,
    min_contribution: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per pupil, the column indices of the `n` largest qualifying contributions (largest first) and
    their values on the signed scale; places with no qualifying factor hold -inf."""
    if direction not in ("raising", "lowering"):
        raise ValueError("direction must be 'raising' or 'lowering'")
    floor = MIN_REASON_CONTRIBUTION[explanation.scale] if min_contribution is None else min_contribution
    contributions = explanation.contributions if direction == "raising" else -explanation.contributions
    usable = np.array(
        [
            include_protected or not registry.get(f).protected if f in _REGISTRY_NAMES else True
            for f in explanation.features
        ]
    )
    masked = np.where(usable[None, :] & (contributions >= floor), contributions, -np.inf)
    k = min(n, masked.shape[1])
    if k == 0 or masked.shape[0] == 0:
        empty = np.empty((masked.shape[0], 0))
        return empty.astype(int), empty
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(masked, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    return top, np.take_along_axis(masked, top, axis=1)


def _value_columns(explanation: Explanation, values: pd.DataFrame | list[dict]) -> dict[str, np.ndarray]:
    if isinstance(values, pd.DataFrame):
        return {f: values[f].to_numpy(dtype=object) for f in explanation.features}
    # a list of records (feature name -> value), the service's one-pupil path
    return {f: np.array([record.get(f) for record in values], dtype=object) for f in explanation.features}


def top_factors(
    explanation: Explanation,
    values: pd.DataFrame | list[dict],
    n: int = 3,
    direction: str = "raising",
    include_protected: bool = False,
    describer: Describer | None = None,
    min_contribution: float | None = None,
) -> list[list[dict]]:
    """For each pupil, up to `n` factors raising (or lowering) the raw score, largest first.

    Each factor: feature, label, value phrase (plain English), contribution (raw scale).
    Protected characteristics are left out unless asked for: they are reported in the fairness review,
    not offered to a practitioner as reasons about a child.
    """
    describer = describer or Describer()
    top, chosen = _select_top(explanation, n, direction, include_protected, min_contribution)
    if top.shape[1] == 0:
        return [[] for _ in range(top.shape[0])]
    value_columns = _value_columns(explanation, values)
    sign = 1.0 if direction == "raising" else -1.0
    out = []
    for row in range(top.shape[0]):
        factors = []
        for j, c in zip(top[row], chosen[row], strict=True):
            if not np.isfinite(c):
                break
            name = explanation.features[j]
            factors.append(
                {
                    "feature": name,
                    "label": registry.get(name).label if name in _REGISTRY_NAMES else name,
                    "value": describer(name, value_columns[name][row]),
                    "contribution": float(sign * c),
                }
            )
        out.append(factors)
    return out


def reason_texts(
    explanation: Explanation,
    values: pd.DataFrame | list[dict],
    n: int = 3,
    describer: Describer | None = None,
) -> list[str]:
    """Each pupil's top raising factors as one "; "-joined phrase string (scores.csv `reasons`).

    The same text as joining `top_factors(...)` values, without building a dict per factor: a cohort's
    reasons repeat the same few (feature, value) phrases, so each feature's phrases are
    rendered once per distinct value and placed with array indexing: on 100,000 pupils the per-factor
    dicts cost as much as the TreeSHAP call itself.
    """
    describer = describer or Describer()
    top, chosen = _select_top(explanation, n, "raising", False, None)
    rows_total, k = top.shape
    if k == 0:
        return [""] * rows_total
    value_columns = _value_columns(explanation, values)
    phrases = np.full((rows_total, k), None, dtype=object)
    present = np.isfinite(chosen)
    for j, name in enumerate(explanation.features):
        rows, ranks = np.nonzero((top == j) & present)
        if rows.size == 0:
            continue
        column = pd.Series(value_columns[name][rows], dtype=object)
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        words = np.array([describer(name, value) for value in uniques], dtype=object)
        phrases[rows, ranks] = words[codes]
    return ["; ".join(p for p in row if p is not None) for row in phrases.tolist()]


_REGISTRY_NAMES = frozenset(f.name for f in registry.FEATURES)


# ---------------------------------------------------------------------------------------------
# Global plots and MLflow
# ---------------------------------------------------------------------------------------------


def plot_values(values: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Numbers to colour a beeswarm by: numeric/binary as they are, categories as NaN (grey)."""
    out = np.full((len(values), len(features)), np.nan)
    for j, name in enumerate(features):
        kind = registry.get(name).kind if name in _REGISTRY_NAMES else "numeric"
        if kind in ("numeric", "binary"):
            out[:, j] = pd.to_numeric(values[name], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
    return out


def global_figures(explanation: Explanation, values: pd.DataFrame, title: str, max_display: int = 15):
    """(beeswarm figure, mean |SHAP| bar figure) labelled with registry labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    labels = [registry.get(f).label if f in _REGISTRY_NAMES else f for f in explanation.features]
    shap_exp = shap.Explanation(
        values=explanation.contributions,
        base_values=np.full(len(explanation.contributions), explanation.expected_value),
        data=plot_values(values, explanation.features),
        feature_names=labels,
    )
    beeswarm = plt.figure(figsize=(9, 6))
    shap.plots.beeswarm(shap_exp, max_display=max_display, show=False, plot_size=None)
    beeswarm.axes[0].set_title(f"{title}: SHAP values ({explanation.scale}); grey = category")
    beeswarm.tight_layout()

    importance = explanation.mean_abs().head(max_display)[::-1]
    bar, ax = plt.subplots(figsize=(9, 6))
    ax.barh([labels[explanation.features.index(f)] for f in importance.index], importance.to_numpy())
    ax.set_xlabel(f"mean |SHAP value| ({explanation.scale})")
    ax.set_title(f"{title}: average impact on the raw model score")
    bar.tight_layout()
    return beeswarm, bar


def log_global_explanations(
    explainer: Explainer, features: pd.DataFrame, title: str, sample_size: int = 5000, seed: int = 0
) -> dict[str, float]:
    """Beeswarm + bar chart + mean |SHAP| table to the active MLflow run. Returns mean |SHAP|.

    Only aggregates and plots are logged; no pupil row leaves the process.
    """
    import matplotlib.pyplot as plt
    import mlflow

    sample = features if len(features) <= sample_size else features.sample(sample_size, random_state=seed)
    explanation = explainer.explain(sample)
    beeswarm, bar = global_figures(explanation, sample, title)
    mlflow.log_figure(beeswarm, "shap/summary_beeswarm.png")
    mlflow.log_figure(bar, "shap/mean_abs_shap.png")
    plt.close(beeswarm)
    plt.close(bar)
    importance = explanation.mean_abs()
    mlflow.log_dict(
        {
            "scale": explanation.scale,
            "explained": "raw model score (calibration maps it monotonically to the probability)",
            "pupils": int(len(sample)),
            "mean_abs_shap": {k: float(v) for k, v in importance.items()},
        },
        "shap/mean_abs_shap.json",
    )
    return {k: float(v) for k, v in importance.items()}
