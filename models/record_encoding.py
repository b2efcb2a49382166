"""Pupil records (dicts) encoded straight to the model's input matrix, without a DataFrame.

The service scores one or a few pupils per request; building a DataFrame and running the fitted
ColumnTransformer costs more than the model itself for so few rows. `RecordEncoder` mirrors the fitted
preprocessing chain step by step with numpy. It mirrors only the steps the project's preprocessors use
(`features.preprocess`), recognised by their sklearn class; anything else leaves it unusable and the
scorer takes the DataFrame path. `RecordEncoder.build` also checks its output against the fitted
preprocessor on probe records before it is used, so a mirror that drifts from sklearn is never used.
`encode` refuses a record whose numeric or binary feature lies outside the registry's valid range
(`features.registry.range_problem`): a model extrapolates arbitrarily beyond the values it was fitted on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from exclusion_risk.features import registry
from exclusion_risk.features.preprocess import MISSING_CATEGORY, to_category_frame, to_float_frame
from exclusion_risk.models.explain import ModelParts
from exclusion_risk.values import FLAG_NUMBERS

Step = Callable[[np.ndarray], np.ndarray]
MAX_NAMED_PROBLEMS = 5  # out-of-range values named in one error message; the rest are counted
_RANGED = frozenset(registry.feature_names(include_protected=True, kinds=("numeric", "binary")))


class ScoringInputError(ValueError):
    """The features handed to the scorer cannot be scored; the message names what is wrong."""


class _Unsupported(Exception):
    """A preprocessing step the encoder does not mirror (the caller falls back to the DataFrame path)."""


class RecordEncoder:
    """Mirrors a fitted preprocessing chain for dict records, straight into a float64 matrix.

    Supports what the project's preprocessors use: passthrough, SimpleImputer, OneHotEncoder (no drop,
    no infrequent categories), OrdinalEncoder, StandardScaler, and Pipelines of these inside the
    ColumnTransformer, then 1:1 steps after it. Anything else leaves `usable` False so the caller takes
    the DataFrame path. `build` checks the encoder against the fitted preprocessor on probe records
    covering every category, a missing value and numbers, and refuses on any difference.
    """

    def __init__(
        self,
        blocks: list[tuple[list[str], list[Step]]],
        after: list[Step],
        usable: bool,
        reason: str = "",
    ):
        self.blocks = blocks  # per ColumnTransformer block: its columns and step functions on them
        self.after = after  # functions on the full float matrix
        self.usable = usable
        self.reason = reason  # why not usable

    @classmethod
    def build(cls, parts: ModelParts) -> RecordEncoder:
        try:
            encoder = cls._compile(parts)
        except _Unsupported as exc:
            return cls([], [], usable=False, reason=str(exc))
        probes = _probe_records(parts)
        expected = parts.to_matrix(
            parts.transform(pd.DataFrame.from_records(probes, columns=parts.input_features))
        )
        got = encoder.encode(probes)  # probes are arbitrary numbers, not pupils: no range check here
        same = got.shape == expected.shape and np.allclose(got, expected, rtol=0, atol=1e-12, equal_nan=True)
        if not same:
            return cls([], [], usable=False, reason="encoder output differs from the fitted preprocessor")
        return encoder

    @classmethod
    def _compile(cls, parts: ModelParts) -> RecordEncoder:
        blocks = []
        for _, transformer, cols in parts.transform_steps[0].transformers_:
            if isinstance(transformer, str) and transformer == "drop":
                continue
            cols = _column_names(cols)
            if not cols:
                continue
            steps = [] if isinstance(transformer, str) else _steps(transformer)
            blocks.append((cols, [_step_function(step) for step in steps]))
        after = [_step_function(step) for step in parts.transform_steps[1:]]
        return cls(blocks, after, usable=True)

    def encode(self, records: list[dict[str, Any]]) -> np.ndarray:
        """The model's input matrix (the scorer has checked every value against its feature's range)."""
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


def check_ranges(records: list[dict[str, Any]], columns: list[str]) -> None:
    """ScoringInputError naming (record, feature, valid range) of every value outside its registry range,
    read as the model reads it (`_to_float`); missing values are fine. The values are never quoted."""
    problems = []
    for i, record in enumerate(records):
        for name in columns:
            if name not in _RANGED:
                continue
            value = _clean(record.get(name))
            problem = None if _is_nan(value) else registry.range_problem(name, _to_float(value))
            if problem is not None:
                problems.append(f"record {i + 1}, {name}: {problem}")
    if problems:
        more = len(problems) - MAX_NAMED_PROBLEMS
        listed = "; ".join(problems[:MAX_NAMED_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise ScoringInputError(f"{len(problems)} value(s) out of range: {listed}")


def _steps(transformer) -> list:
    """The fitted steps of one ColumnTransformer block, in order."""
    return [s for _, s in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]


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
    if _is_nan(value):
        return MISSING_CATEGORY
    text = str(value).strip()
    return text or MISSING_CATEGORY


def _step_function(step) -> Step:
    """A numpy function doing what the fitted `step` does to a block; _Unsupported if not mirrored."""
    if isinstance(step, FunctionTransformer):
        return _function_transformer(step)
    if isinstance(step, SimpleImputer):
        return _imputer(step)
    if isinstance(step, StandardScaler):
        mean = step.mean_ if step.with_mean else 0.0
        scale = step.scale_ if step.with_std else 1.0
        return lambda block: (np.asarray(block, dtype=np.float64) - mean) / scale
    if isinstance(step, OrdinalEncoder):
        return _ordinal(step)
    if isinstance(step, OneHotEncoder):
        return _onehot(step)
    raise _Unsupported(f"{type(step).__name__} is not mirrored")


def _function_transformer(step: FunctionTransformer) -> Step:
    if step.func is None:
        return lambda block: block
    if step.func is to_float_frame:
        return lambda block: (
            np.vectorize(_to_float, otypes=[np.float64])(block) if block.size else block.astype(np.float64)
        )
    if step.func is to_category_frame:
        return lambda block: np.vectorize(_to_category, otypes=[object])(block) if block.size else block
    raise _Unsupported(f"FunctionTransformer({getattr(step.func, '__name__', step.func)})")


def _imputer(step: SimpleImputer) -> Step:
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


def _ordinal(step: OrdinalEncoder) -> Step:
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


def _onehot(step: OneHotEncoder) -> Step:
    # Infrequent-category grouping is switched on by either setting (sklearn's own test).
    if step.drop_idx_ is not None or step.max_categories is not None or step.min_frequency is not None:
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


def _probe_records(parts: ModelParts) -> list[dict[str, Any]]:
    """Records touching every category of every encoder, a missing value and a few numbers."""
    values: dict[str, list] = {f: [0.0, 1.0, 2.5, np.nan] for f in parts.input_features}
    for _, transformer, cols in parts.transform_steps[0].transformers_:
        if isinstance(transformer, str):
            continue
        cols = _column_names(cols)
        for step in _steps(transformer):
            categories = getattr(step, "categories_", None)
            if categories is not None:
                for col, cats in zip(cols, categories, strict=True):
                    values[col] = [*list(cats), np.nan]
    n = max(len(v) for v in values.values())
    return [{f: v[i % len(v)] for f, v in values.items()} for i in range(n)]
