"""Cohort scoring with the champion model: calibrated probability, risk-matrix cell and plain-English reasons.

One object, `CohortScorer`, used by `exclusion-risk score` and by the service:
- `CohortScorer.load(alias="champion")` loads `models:/exclusion-risk@champion` once, with the risk-matrix
  thresholds fitted on that model's validation year (stored with the model version, see
  `fit_scoring_config` / `log_scoring_config`).
- `score(features)` returns the data contract's `scores.csv` columns, sorted by risk.
- `explain(features)` returns each pupil's factors raising and lowering the risk.
- `score_records(records)` is the service's path for one or a few pupils: records are encoded straight
  to a numpy row (`RecordEncoder`), skipping the DataFrame round trip.

With reasons, the model is evaluated once: the Booster's TreeSHAP contributions sum to the raw score,
and the calibration map turns that raw score into the probability, so reasons cost one `pred_contrib`
call plus a small, measured overhead (bench/scoring.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.contract import SCORE_COLUMNS
from exclusion_risk.features.need import need_level, need_level_of
from exclusion_risk.models.explain import Describer, Explainer, reason_texts, top_factors
from exclusion_risk.models.risk_matrix import RiskMatrix, load_risk_matrix
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.values import FLAG_NUMBERS, sigmoid

log = logging.getLogger("exclusion_risk.models.scoring")

MODEL_NAME = "exclusion-risk"
DEFAULT_ALIAS = "champion"
SCORING_ARTIFACT = "scoring/scoring_config.json"
N_REASONS = 3
# Rows of every score call re-checked against the full pipeline's predict_proba (guards the fast path).
_GUARD_ROWS = 32
_GUARD_TOLERANCE = 1e-9


class ScoringInputError(ValueError):
    """The features handed to the scorer cannot be scored; the message names what is wrong."""


@dataclass
class ScoringConfig:
    """What is stored with a model version so that every scorer of it places pupils the same way."""

    risk_matrix_version: str
    capacity: float
    thresholds: dict[str, float]
    validation_year: str | None
    validation_pupils: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "risk_matrix_version": self.risk_matrix_version,
            "capacity": self.capacity,
            "thresholds": self.thresholds,
            "validation_year": self.validation_year,
            "validation_pupils": self.validation_pupils,
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringConfig:
        known = {"risk_matrix_version", "capacity", "thresholds", "validation_year", "validation_pupils"}
        return cls(
            risk_matrix_version=str(data["risk_matrix_version"]),
            capacity=float(data["capacity"]),
            thresholds={k: float(v) for k, v in data["thresholds"].items()},
            validation_year=data.get("validation_year"),
            validation_pupils=int(data.get("validation_pupils", 0)),
            extra={k: v for k, v in data.items() if k not in known},
        )


def scoring_config_from_probabilities(
    probabilities,
    validation_year: str | None,
    capacity: float | None = None,
    matrix: RiskMatrix | None = None,
) -> dict[str, Any]:
    """Risk-matrix thresholds fitted on validation-year probabilities (no labels needed), as a plain dict.

    Called by models.train on the calibration pupils' validation-year rows; only thresholds and counts
    are kept, so the result may be logged to MLflow.
    """
    matrix = matrix or load_risk_matrix()
    fitted = matrix.fit_thresholds(probabilities, capacity, source=f"validation year {validation_year}")
    return ScoringConfig(
        risk_matrix_version=matrix.version,
        capacity=fitted.capacity,
        thresholds=fitted.thresholds,
        validation_year=validation_year,
        validation_pupils=int(np.size(probabilities)),
    ).to_dict()


def fit_scoring_config(
    pipeline,
    validation_features: pd.DataFrame,
    capacity: float | None = None,
    matrix: RiskMatrix | None = None,
    validation_year: str | None = None,
) -> ScoringConfig:
    """Thresholds for `pipeline` fitted on a validation year's feature rows at `capacity`."""
    columns = list(pipeline[0].feature_names_in_)
    missing = [c for c in columns if c not in validation_features.columns]
    if missing:
        raise ScoringInputError(f"validation features lack columns: {', '.join(missing)}")
    if len(validation_features) == 0:
        raise ScoringInputError("no validation-year pupils to fit the risk-matrix thresholds on")
    probabilities = pipeline.predict_proba(validation_features[columns])[:, 1]
    if validation_year is None and "AcademicYear" in validation_features:
        years = validation_features["AcademicYear"].dropna().unique()
        validation_year = str(years[0]) if len(years) == 1 else None
    return ScoringConfig.from_dict(
        scoring_config_from_probabilities(probabilities, validation_year, capacity, matrix)
    )


def log_scoring_config(config: ScoringConfig, run_id: str | None = None) -> None:
    """Store the thresholds with a model's run (the active run when `run_id` is None)."""
    import mlflow

    if run_id is None:
        mlflow.log_dict(config.to_dict(), SCORING_ARTIFACT)
    else:
        mlflow.MlflowClient().log_dict(run_id, config.to_dict(), SCORING_ARTIFACT)


def matrix_for(config: ScoringConfig | None, matrix: RiskMatrix | None = None) -> RiskMatrix:
    """The risk matrix with a model version's stored thresholds (file defaults when none are stored)."""
    matrix = matrix or load_risk_matrix()
    if config is None:
        return matrix
    if config.risk_matrix_version != matrix.version:
        log.warning(
            "thresholds were fitted for risk matrix %s; the file is version %s",
            config.risk_matrix_version,
            matrix.version,
        )
    source = f"validation year {config.validation_year}" if config.validation_year else "validation year"
    return matrix.with_thresholds(config.thresholds, config.capacity, source)


class CohortScorer:
    """A registered pipeline ready to score cohorts: probabilities, risk matrix, reasons."""

    def __init__(
        self,
        pipeline,
        model_version: str,
        risk_matrix: RiskMatrix | None = None,
        info: dict[str, Any] | None = None,
        name: str = MODEL_NAME,
        alias: str | None = None,
    ):
        self.pipeline = pipeline
        self.model_version = str(model_version)
        self.matrix = risk_matrix or load_risk_matrix()
        self.name = name
        self.alias = alias
        self._info = dict(info or {})
        self.explainer = Explainer(pipeline)
        self.feature_names = list(self.explainer.features)
        final = pipeline.steps[-1][1]
        # The project's CalibratedClassifier maps the base model's probability; without one we fall
        # back to the pipeline's own predict_proba (slower, but still exact).
        self._calibrate = getattr(final, "calibrate", None)
        self._describer = Describer()
        self._encoder = None

    # ---- loading ----------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        alias: str = DEFAULT_ALIAS,
        name: str = MODEL_NAME,
        capacity: float | None = None,
        matrix_path=None,
    ) -> CohortScorer:
        """Load `models:/<name>@<alias>` with its stored risk-matrix thresholds.

        `capacity`, when given and different from the stored one, is applied to the stored thresholds'
        band only if they were fitted for it; otherwise the stored thresholds are used and the capacity
        is reported (refitting needs the validation year, see `exclusion-risk score`).
        """
        loaded = load_registered(name=name, alias=alias)
        config = None
        if loaded.scoring_config is not None:
            config = ScoringConfig.from_dict(loaded.scoring_config)
        matrix = matrix_for(config, load_risk_matrix(matrix_path))
        if config is None:
            log.warning(
                "model %s version %s has no stored risk-matrix thresholds; using the file's defaults",
                name,
                loaded.version,
            )
        if capacity is not None and config is not None and abs(capacity - config.capacity) > 1e-12:
            log.warning(
                "stored thresholds were fitted for capacity %.3g, not %.3g", config.capacity, capacity
            )
        return cls(loaded.pipeline, loaded.version, matrix, loaded.info, name=name, alias=alias)

    def refit_thresholds(
        self, validation_features: pd.DataFrame, capacity: float, validation_year: str
    ) -> None:
        """Re-cut the likelihood bands for another capacity on the validation year's pupils."""
        config = fit_scoring_config(
            self.pipeline, validation_features, capacity, self.matrix, validation_year
        )
        self.matrix = self.matrix.with_thresholds(
            config.thresholds, config.capacity, f"validation year {validation_year} (all pupils)"
        )

    # ---- descriptions -----------------------------------------------------------------------
    @property
    def risk_matrix(self) -> dict[str, Any]:
        """The risk matrix in use (bands with this model's thresholds), ready for JSON."""
        return self.matrix.to_dict()

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.model_version,
            "alias": self.alias,
            "model_type": self.explainer.kind,
            "features": list(self.feature_names),
            "explained_scale": self.explainer.scale,
            "risk_matrix_version": self.matrix.version,
            "notice": DECISION_SUPPORT_NOTICE,
            **self._info,
        }

    # ---- scoring ----------------------------------------------------------------------------
    def _frame(self, features: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(features, pd.DataFrame):
            raise ScoringInputError("features must be a table (DataFrame) of registry feature columns")
        missing = [c for c in self.feature_names if c not in features.columns]
        if missing:
            raise ScoringInputError(f"features lack model input column(s): {', '.join(missing)}")
        if "need_level" not in features.columns:

            features = features.assign(need_level=need_level(features))
        if "upn" not in features.columns:
            features = features.assign(upn=[str(i) for i in range(len(features))])
        return features

    def probabilities_from_raw(self, raw: np.ndarray) -> np.ndarray:
        base = raw if self.explainer.scale == "probability" else sigmoid(raw)
        return np.asarray(self._calibrate(base), dtype=np.float64)

    def _predict(self, features: pd.DataFrame, with_contributions: bool):
        """(probabilities, Explanation | None) for the model's input columns of `features`."""
        X = self.explainer.matrix(features)
        explanation = None
        if self._calibrate is None:
            probabilities = self.pipeline.predict_proba(features[self.feature_names])[:, 1]
            if with_contributions:
                explanation = self.explainer.explain_matrix(X)
            return probabilities, explanation
        if with_contributions:
            explanation = self.explainer.explain_matrix(X)
            raw = explanation.raw_score
        else:
            raw = self.explainer.raw_score(X)
        probabilities = self.probabilities_from_raw(raw)
        self._guard(features, probabilities)
        return probabilities, explanation

    def _guard(self, features: pd.DataFrame, probabilities: np.ndarray) -> None:
        """The decomposed path must give the pipeline's own probabilities (checked on a few rows)."""
        if not len(features):
            return
        rows = np.linspace(0, len(features) - 1, min(len(features), _GUARD_ROWS)).astype(int)
        expected = self.pipeline.predict_proba(features[self.feature_names].iloc[rows])[:, 1]
        error = float(np.max(np.abs(expected - probabilities[rows])))
        if error > _GUARD_TOLERANCE:
            raise RuntimeError(
                f"scoring fast path differs from the pipeline by {error:.3g}; refusing to score"
            )

    def _score_frame(self, features: pd.DataFrame, reasons: bool, n_reasons: int) -> pd.DataFrame:
        """Scores in input order, with the response tier (score() and score_records() share it)."""
        features = self._frame(features)
        probabilities, explanation = self._predict(features, with_contributions=reasons)
        needs = features["need_level"].to_numpy()
        columns = self._assemble(
            features["upn"].astype(str).to_numpy(),
            probabilities,
            needs,
            explanation,
            features,
            reasons,
            n_reasons,
        )
        return pd.DataFrame(columns)

    def _assemble(
        self, upns, probabilities, needs, explanation, values, reasons: bool, n_reasons: int
    ) -> dict[str, Any]:
        """Output columns (contract order, then `response`) as arrays, input order."""
        placed = self.matrix.place(probabilities, needs)
        if reasons:
            reason_text = reason_texts(explanation, values, n=n_reasons, describer=self._describer)
        else:
            reason_text = [""] * len(probabilities)
        return {
            "upn": upns,
            "probability": probabilities,
            "likelihood_band": placed["likelihood_band"],
            "need_level": np.asarray(needs).astype(int),
            "rag": placed["rag"],
            "matrix_cell": placed["matrix_cell"],
            "reasons": reason_text,
            "model_version": [self.model_version] * len(probabilities),
            "response": placed["response"],
        }

    def score(self, features: pd.DataFrame, reasons: bool = True, n_reasons: int = N_REASONS) -> pd.DataFrame:
        """The contract's scores.csv columns for every row of `features`, highest probability first."""
        out = self._score_frame(features, reasons, n_reasons)
        order = np.lexsort((out["upn"].to_numpy(), -out["probability"].to_numpy()))
        return out.iloc[order].reset_index(drop=True)[SCORE_COLUMNS]

    def explain(
        self, features: pd.DataFrame, n: int = 5, include_protected: bool = True
    ) -> list[dict[str, Any]]:
        """Per pupil (input order): probability, cell, and the top `n` factors raising and lowering risk.

        Protected characteristics are included here (this is the audit view); `score`'s reasons leave
        them out. Contributions are on the raw model scale (`scale`), measured from `expected_value`.
        """
        features = self._frame(features)
        probabilities, explanation = self._predict(features, with_contributions=True)
        placed = self.matrix.place(probabilities, features["need_level"].to_numpy())
        kwargs = {
            "n": n,
            "include_protected": include_protected,
            "describer": self._describer,
            "min_contribution": 1e-12,
        }
        raising = top_factors(explanation, features, direction="raising", **kwargs)
        lowering = top_factors(explanation, features, direction="lowering", **kwargs)
        upns = features["upn"].astype(str).to_numpy()
        return [
            {
                "upn": upns[i],
                "probability": float(probabilities[i]),
                "likelihood_band": placed["likelihood_band"][i],
                "need_level": int(features["need_level"].iloc[i]),
                "rag": placed["rag"][i],
                "matrix_cell": placed["matrix_cell"][i],
                "response": placed["response"][i],
                "raw_score": float(explanation.raw_score[i]),
                "expected_value": explanation.expected_value,
                "scale": explanation.scale,
                "raising": raising[i],
                "lowering": lowering[i],
                "model_version": self.model_version,
            }
            for i in range(len(features))
        ]

    # ---- one pupil, no DataFrame ------------------------------------------------------------
    def score_records(
        self, records: list[dict[str, Any]], reasons: bool = True, n_reasons: int = N_REASONS
    ) -> list[dict[str, Any]]:
        """Score a few pupils given as dicts (feature name -> value); results in input order.

        Each result has the scores.csv fields plus `response`. Records are encoded straight to a numpy
        matrix when the preprocessor is one `RecordEncoder` can mirror (checked against the fitted
        preprocessor when the encoder is built); otherwise they take the DataFrame path.
        """
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ScoringInputError("records must be a list of objects (feature name -> value)")
        if not records:
            return []
        for i, record in enumerate(records):
            missing = [c for c in self.feature_names if c not in record]
            if missing:
                raise ScoringInputError(f"record {i + 1} lacks feature(s): {', '.join(missing)}")
        if self._encoder is None:
            self._encoder = RecordEncoder.build(self.explainer.parts)
        upns = np.array([str(r.get("upn", i)) for i, r in enumerate(records)], dtype=object)
        if not self._encoder.usable or self._calibrate is None:
            frame = pd.DataFrame.from_records(records).assign(upn=upns)
            return self._score_frame(frame, reasons, n_reasons).to_dict("records")
        X = self._encoder.encode(records)
        explanation = self.explainer.explain_matrix(X, check=False) if reasons else None
        raw = explanation.raw_score if reasons else self.explainer.raw_score(X)
        needs = np.array([_need_level(r) for r in records])
        columns = self._assemble(
            upns, self.probabilities_from_raw(raw), needs, explanation, records, reasons, n_reasons
        )
        return [{name: _plain(values[i]) for name, values in columns.items()} for i in range(len(records))]


def _plain(value):
    """numpy scalars -> Python scalars (JSON-ready)."""
    return value.item() if isinstance(value, np.generic) else value


def _need_level(record: dict[str, Any]) -> int:
    value = record.get("need_level")
    if value is not None and not pd.isna(value):
        return int(value)
    return need_level_of(record)


# ---------------------------------------------------------------------------------------------
# Encoding records without pandas
# ---------------------------------------------------------------------------------------------


class RecordEncoder:
    """Mirrors a fitted preprocessing chain for dict records, straight into a float64 matrix.

    Supports what the project's preprocessors use: passthrough, SimpleImputer (no indicator),
    OneHotEncoder (no drop, no infrequent categories), OrdinalEncoder, StandardScaler, and Pipelines of
    these inside the ColumnTransformer, then 1:1 steps after it. Anything else leaves `usable` False so the
    caller takes the DataFrame path. `build` checks the encoder against the fitted preprocessor on probe
    records covering every category, a missing value and numbers, and refuses on any difference.
    """

    def __init__(self, blocks, after, width: int, usable: bool, reason: str = ""):
        self.blocks = blocks  # list of (columns, [step functions on an (n x k) object array])
        self.after = after  # functions on the full float matrix
        self.width = width
        self.usable = usable
        self.reason = reason

    @classmethod
    def build(cls, parts) -> RecordEncoder:
        try:
            encoder = cls._compile(parts)
        except _Unsupported as exc:
            return cls([], [], 0, usable=False, reason=str(exc))
        probes = _probe_records(parts)
        expected = parts.to_matrix(
            parts.transform(pd.DataFrame.from_records(probes, columns=parts.input_features))
        )
        got = encoder.encode(probes)
        same = got.shape == expected.shape and np.allclose(got, expected, rtol=0, atol=1e-12, equal_nan=True)
        if not same:
            return cls([], [], 0, usable=False, reason="encoder output differs from the fitted preprocessor")
        return encoder

    @classmethod
    def _compile(cls, parts) -> RecordEncoder:
        column_transformer = parts.transform_steps[0]
        blocks = []
        width = 0
        for _, trans, cols in column_transformer.transformers_:
            if isinstance(trans, str) and trans == "drop":
                continue
            cols = _column_names(cols)
            if not cols:
                continue
            steps = (
                []
                if isinstance(trans, str)
                else ([s for _, s in trans.steps] if hasattr(trans, "steps") else [trans])
            )
            functions = [_step_function(step) for step in steps]
            blocks.append((cols, functions))
            width += _block_width(steps, len(cols))
        after = [_step_function(step) for step in parts.transform_steps[1:]]
        return cls(blocks, after, width, usable=True)

    def encode(self, records: list[dict[str, Any]]) -> np.ndarray:
        pieces = []
        for cols, functions in self.blocks:
            block = np.array([[_clean(r.get(c)) for c in cols] for r in records], dtype=object)
            for fn in functions:
                block = fn(block)
            pieces.append(np.asarray(block, dtype=np.float64))
        X = np.hstack(pieces) if pieces else np.empty((len(records), 0))
        for fn in self.after:
            X = np.asarray(fn(X), dtype=np.float64)
        return np.ascontiguousarray(X)


class _Unsupported(Exception):
    pass


def _clean(value):
    """JSON-ish scalar -> what pandas would hold: None/NaN/NA -> nan."""
    if value is None:
        return np.nan
    try:
        if pd.isna(value):
            return np.nan
    except (TypeError, ValueError):
        pass
    return value


def _column_names(cols) -> list[str]:
    cols = [cols] if isinstance(cols, str) else list(cols)
    if not all(isinstance(c, str) for c in cols):
        raise _Unsupported("ColumnTransformer columns given by position")
    return cols


def _block_width(steps, n_cols: int) -> int:
    width = n_cols
    for step in steps:
        if type(step).__name__ == "OneHotEncoder":
            width = sum(len(c) for c in step.categories_)
        indicator = getattr(step, "indicator_", None)
        if indicator is not None:
            width += len(indicator.features_)
    return width


def _to_float(value) -> float:
    """One value as features.preprocess.to_float_frame reads it."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    text = str(value).strip().lower()
    text = FLAG_NUMBERS.get(text, text)
    try:
        return float(text)
    except ValueError:
        return np.nan


def _to_category(value) -> str:
    """One value as features.preprocess.to_category_frame reads it."""
    from exclusion_risk.features.preprocess import MISSING_CATEGORY

    if _is_nan(value):
        return MISSING_CATEGORY
    text = str(value).strip()
    return text or MISSING_CATEGORY


def _step_function(step):
    from exclusion_risk.features import preprocess

    name = type(step).__name__
    if name == "FunctionTransformer":
        if step.func is None:
            return lambda block: block
        if step.func is preprocess.to_float_frame:
            return lambda block: (
                np.vectorize(_to_float, otypes=[np.float64])(block)
                if block.size
                else block.astype(np.float64)
            )
        if step.func is preprocess.to_category_frame:
            return lambda block: np.vectorize(_to_category, otypes=[object])(block) if block.size else block
        raise _Unsupported(f"FunctionTransformer({getattr(step.func, '__name__', step.func)})")
    if name == "SimpleImputer":
        if not (isinstance(step.missing_values, float) and np.isnan(step.missing_values)):
            raise _Unsupported("SimpleImputer with a custom missing marker")
        if not getattr(step, "keep_empty_features", False) and np.isnan(step.statistics_).any():
            raise _Unsupported("SimpleImputer dropping empty features")
        statistics = np.asarray(step.statistics_, dtype=np.float64)
        indicator = getattr(step, "indicator_", None)
        flagged = None if indicator is None else np.asarray(indicator.features_, dtype=np.int64)

        def impute(block):
            block = np.asarray(block, dtype=np.float64)
            missing = np.isnan(block)
            out = np.where(missing, statistics[None, :], block)
            if flagged is not None:
                out = np.hstack([out, missing[:, flagged].astype(np.float64)])
            return out

        return impute
    if name == "StandardScaler":
        mean = step.mean_ if step.with_mean else 0.0
        scale = step.scale_ if step.with_std else 1.0
        return lambda block: (np.asarray(block, dtype=np.float64) - mean) / scale
    if name == "OrdinalEncoder":
        lookups = [_category_lookup(c) for c in step.categories_]
        unknown = step.unknown_value if step.handle_unknown == "use_encoded_value" else None
        missing_code = step.encoded_missing_value

        def ordinal(block):
            out = np.empty(block.shape, dtype=np.float64)
            for j, lookup in enumerate(lookups):
                for i, v in enumerate(block[:, j]):
                    code = lookup.get(_category_key(v))
                    if code is None:
                        if _is_nan(v):
                            code = missing_code
                        elif unknown is None:
                            raise ScoringInputError(f"unknown category {v!r}")
                        else:
                            code = unknown
                    out[i, j] = code
            return out

        return ordinal
    if name == "OneHotEncoder":
        if step.drop_idx_ is not None or getattr(step, "_infrequent_enabled", False):
            raise _Unsupported("OneHotEncoder with drop or infrequent categories")
        lookups = [_category_lookup(c) for c in step.categories_]
        offsets = np.cumsum([0] + [len(c) for c in step.categories_])
        ignore = step.handle_unknown in ("ignore", "infrequent_if_exist", "warn")

        def onehot(block):
            out = np.zeros((block.shape[0], offsets[-1]), dtype=np.float64)
            for j, lookup in enumerate(lookups):
                for i, v in enumerate(block[:, j]):
                    code = lookup.get(_category_key(v))
                    if code is None:
                        if not ignore:
                            raise ScoringInputError(f"unknown category {v!r}")
                        continue
                    out[i, offsets[j] + code] = 1.0
            return out

        return onehot
    if name == "FunctionTransformer" and step.func is None:
        return lambda block: block
    raise _Unsupported(f"{name} is not mirrored")


def _is_nan(value) -> bool:
    return isinstance(value, (float, np.floating)) and np.isnan(value)


def _category_key(value):
    if _is_nan(value):
        return "__nan__"
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _category_lookup(categories) -> dict:
    return {
        _category_key(c if not (isinstance(c, float) and np.isnan(c)) else np.nan): i
        for i, c in enumerate(categories)
    }


def _probe_records(parts) -> list[dict[str, Any]]:
    """Records touching every category of every encoder, a missing value and a few numbers."""
    column_transformer = parts.transform_steps[0]
    values: dict[str, list] = {f: [0.0, 1.0, 2.5, np.nan] for f in parts.input_features}
    for _, trans, cols in column_transformer.transformers_:
        if isinstance(trans, str):
            continue
        cols = _column_names(cols)
        steps = [s for _, s in trans.steps] if hasattr(trans, "steps") else [trans]
        for step in steps:
            categories = getattr(step, "categories_", None)
            if categories is not None:
                for col, cats in zip(cols, categories, strict=True):
                    values[col] = [*list(cats), np.nan]
    n = max(len(v) for v in values.values())
    return [{f: v[i % len(v)] for f, v in values.items()} for i in range(n)]


# ---------------------------------------------------------------------------------------------
# Loading from the MLflow registry
# ---------------------------------------------------------------------------------------------


@dataclass
class LoadedModel:
    pipeline: Any
    version: str
    info: dict[str, Any]
    scoring_config: dict[str, Any] | None


class ModelNotFoundError(LookupError):
    """No registered model behind the alias; the message says how to make one."""


def load_registered(name: str = MODEL_NAME, alias: str = DEFAULT_ALIAS) -> LoadedModel:
    """The pipeline, version, training facts and stored scoring config behind `models:/<name>@<alias>`."""
    import json

    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from exclusion_risk.models import tracking

    mlflow.set_tracking_uri(tracking.tracking_uri())
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        raise ModelNotFoundError(
            f"no model {name}@{alias} in the MLflow store {tracking.tracking_uri()}; "
            "run `exclusion-risk train` and `exclusion-risk promote` first"
        ) from None
    pipeline = mlflow.sklearn.load_model(f"models:/{name}@{alias}")
    info = tracking.read_model_info(version) if hasattr(tracking, "read_model_info") else {}
    info = {**info, "alias": alias, "run_id": version.run_id}
    scoring_config = None
    try:
        path = mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path=SCORING_ARTIFACT)
        with open(path, encoding="utf-8") as handle:
            scoring_config = json.load(handle)
    except (MlflowException, OSError):
        scoring_config = None  # older versions: the file's default thresholds apply (logged by the caller)
    return LoadedModel(pipeline, str(version.version), info, scoring_config)


# ---------------------------------------------------------------------------------------------
# The one-page HTML summary of a scored cohort
# ---------------------------------------------------------------------------------------------


def _rag_counts(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    from exclusion_risk.privacy import suppress_count

    table = frame.groupby([key, "rag"]).size().unstack(fill_value=0)
    rows = []
    for value, counts in table.iterrows():
        rows.append({
            "key": value, "pupils": suppress_count(int(counts.sum())),
            **{rag: suppress_count(int(counts.get(rag, 0))) for rag in ("red", "amber", "green")},
        })  # fmt: skip
    return rows


def summary_html(scores: pd.DataFrame, features: pd.DataFrame, scorer: CohortScorer, year: str) -> str:
    """Counts per matrix cell, by school and by year group (every count under 10 shown as '<10')."""
    import jinja2

    from exclusion_risk.models.risk_matrix import NEED_LEVELS
    from exclusion_risk.privacy import suppress_count

    context_columns = [c for c in ("upn", "SchoolURN", "nc_year") if c in features.columns]
    frame = scores.merge(features[context_columns].astype({"upn": str}), on="upn", how="left")
    frame["SchoolURN"] = frame.get("SchoolURN", pd.Series("unknown", index=frame.index)).fillna("unknown")
    nc = pd.to_numeric(frame.get("nc_year", pd.Series(np.nan, index=frame.index)), errors="coerce")
    frame["year_group"] = nc.map(lambda v: "unknown" if pd.isna(v) else ("R" if v == 0 else f"{int(v)}"))
    counts = frame.groupby(["likelihood_band", "need_level"]).size()
    cell_rows = []
    for band in scorer.matrix.bands:
        cells = [
            {
                "count": suppress_count(int(counts.get((band.label, n), 0))),
                "rag": scorer.matrix.cells[(band.key, n)][0],
            }
            for n in NEED_LEVELS
        ]
        total = int(sum(counts.get((band.label, n), 0) for n in NEED_LEVELS))
        cell_rows.append({"band": band.label, "cells": cells, "total": suppress_count(total)})
    order = {"R": 0, "unknown": 99}
    by_year = sorted(_rag_counts(frame, "year_group"), key=lambda r: order.get(r["key"], _int_or(r["key"])))
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("models", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    info = scorer.info()
    return env.get_template("score_summary.html.j2").render(
        notice=DECISION_SUPPORT_NOTICE, year=year, pupils=suppress_count(len(scores)), model=info,
        capacity_pct=f"{100 * scorer.matrix.capacity:g}",
        red=suppress_count(int((scores["rag"] == "red").sum())),
        levels=NEED_LEVELS, cell_rows=cell_rows, by_school=_rag_counts(frame, "SchoolURN"), by_year=by_year,
        risk_matrix=scorer.risk_matrix,
    )  # fmt: skip


def _int_or(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 50
