"""sklearn preprocessing of registry features: one ColumnTransformer, fitted with the model, served as is.

Numeric and binary features are coerced to float. Missing values either stay NaN (`missing="keep"`:
LightGBM and scikit-learn's random forest split on them natively) or are median-imputed with a missing
indicator (`missing="impute"`: for the logistic baseline, usually with `scale=True`). Categorical
features are cleaned to strings (missing -> "unknown") and encoded with the categories seen at fit:
one-hot with unknown categories ignored, or ordinal with unknown categories as NaN (for LightGBM's
native categorical handling). Output names are plain (`suspensions_last_year`, `sen_type_SEMH`), and
`output_feature_map` maps each back to its registry feature so SHAP values can be summed per feature.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from exclusion_risk.features import registry
from exclusion_risk.values import FLAG_NUMBERS

MISSING_CATEGORY = "unknown"
INDICATOR_PREFIX = "missingindicator_"


def to_float_frame(X) -> pd.DataFrame:
    """Any column of numbers, booleans or numeric strings -> float64 (unparseable -> NaN)."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            out[column] = values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        else:
            text = values.astype("string").str.strip().str.lower()
            text = text.replace(FLAG_NUMBERS)
            out[column] = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def to_category_frame(X) -> pd.DataFrame:
    """Any column -> Python strings; missing and blank values become "unknown"."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    out = {}
    for column in frame.columns:
        text = frame[column].astype("string").str.strip()
        text = text.mask(text.eq(""), pd.NA).fillna(MISSING_CATEGORY)
        out[column] = text.astype(object).to_numpy()
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def make_preprocessor(
    feature_names: list[str],
    missing: Literal["keep", "impute"] = "keep",
    scale: bool = False,
    encoding: Literal["onehot", "ordinal"] = "onehot",
) -> ColumnTransformer:
    """ColumnTransformer over the named registry features (unknown names raise ValueError)."""
    if missing not in ("keep", "impute"):
        raise ValueError(f"missing must be 'keep' or 'impute', not {missing!r}")
    if encoding not in ("onehot", "ordinal"):
        raise ValueError(f"encoding must be 'onehot' or 'ordinal', not {encoding!r}")
    names = list(dict.fromkeys(feature_names))
    unknown = [n for n in names if n not in {f.name for f in registry.FEATURES}]
    if unknown:
        raise ValueError(f"not registry features: {', '.join(unknown)}")
    numeric = [n for n in names if registry.get(n).kind in ("numeric", "binary")]
    categorical = [n for n in names if registry.get(n).kind == "categorical"]

    numeric_steps: list[tuple[str, object]] = [
        ("to_float", FunctionTransformer(to_float_frame, feature_names_out="one-to-one"))
    ]
    if missing == "impute":
        # keep_empty_features: a column that happens to be all-missing at fit keeps its place.
        numeric_steps.append(
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True))
        )
    if scale:
        numeric_steps.append(("scale", StandardScaler()))

    if encoding == "onehot":
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
    else:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, dtype=np.float64
        )
    categorical_steps = [
        ("to_text", FunctionTransformer(to_category_frame, feature_names_out="one-to-one")),
        ("encode", encoder),
    ]

    transformers = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), numeric))
    if categorical:
        transformers.append(("categorical", Pipeline(categorical_steps), categorical))
    if not transformers:
        raise ValueError("no features given")
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


def output_feature_map(preprocessor: ColumnTransformer) -> dict[str, str]:
    """Fitted preprocessor's output column -> the registry feature it comes from.

    `sen_type_SEMH` -> `sen_type`; `missingindicator_idaci_decile` -> `idaci_decile`.
    """
    mapping: dict[str, str] = {}
    for _name, transformer, columns in preprocessor.transformers_:
        if transformer == "drop" or not len(columns):
            continue
        by_length = sorted(columns, key=len, reverse=True)  # longest prefix wins (ethnicity_group_...)
        for output in transformer.get_feature_names_out(columns):
            stem = output[len(INDICATOR_PREFIX):] if output.startswith(INDICATOR_PREFIX) else output
            mapping[output] = next(c for c in by_length if stem == c or stem.startswith(f"{c}_"))
    return mapping
