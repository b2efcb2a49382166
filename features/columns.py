"""Reading a feature frame's columns, vectorised and tolerant of what callers hand in.

Frames reach the feature builder and the need level from the readers (typed), from the service
(JSON values, strings) and from analysts (CSV); these helpers read any of them the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.values import FALSE_WORDS, TRUE_WORDS

_FLAG_VALUES = {**dict.fromkeys(TRUE_WORDS, 1.0), **dict.fromkeys(FALSE_WORDS, 0.0)}


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column, or all-missing when an optional column is absent."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def as_float(series: pd.Series) -> pd.Series:
    """Booleans, nullable ints and '1'/'Y'/'true' strings -> float64 with NaN for missing."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return pd.Series(
            series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan), index=series.index
        )
    text = series.astype("string").str.strip().str.lower()
    mapped = text.map(_FLAG_VALUES)
    return mapped.astype("float64").fillna(pd.to_numeric(text, errors="coerce")).astype("float64")


def on_distinct(series: pd.Series, transform) -> pd.Series:
    """Apply a Series -> Series `transform` to the distinct non-missing values only; missing stay NA."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    done = transform(pd.Series(uniques, dtype="object"))
    values = np.append(done.to_numpy(dtype=object, na_value=pd.NA), pd.NA)  # codes of -1 hit the NA
    return pd.Series(values[codes], index=series.index, dtype="object")


def as_code(series: pd.Series) -> pd.Series:
    """Stripped, upper-case strings (NA kept)."""
    return on_distinct(series, lambda u: u.astype("string").str.strip().str.upper()).astype("string")


def stripped(series: pd.Series) -> pd.Series:
    """Stripped strings, blank -> NA."""
    return on_distinct(series, lambda u: u.astype("string").str.strip().replace("", pd.NA)).astype("string")
