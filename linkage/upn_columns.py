"""UPN columns in their tidy form (exclusion_risk.upn.upn_key: separators removed, upper case), each
distinct value tidied once, and which rows repeat a UPN: what the readers, the linkage's ids, the
features and the service's uploads read a UPN column through.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.arrow_text import as_arrow, encoded, per_distinct
from exclusion_risk.upn import tidy_upn_array, upn_key


def tidy_upns(values: pd.Series) -> np.ndarray:
    """UPNs in their tidy form (exclusion_risk.upn.upn_key: separators removed, upper case; object array,
    None for missing), each distinct value once: a history's termly rows repeat each pupil's UPN a dozen
    times."""
    def tidy(distinct: pd.Series) -> pd.Series:
        # object, so that spreading back to the rows copies pointers, not a string array
        try:
            tidied = _tidy_upn_text(as_arrow(distinct))[0].to_numpy(zero_copy_only=False)
        except (UnicodeError, pa.ArrowException):  # text arrow cannot hold (a lone surrogate): all by Python
            tidied = _tidy_by_python(distinct)
        return pd.Series(tidied, index=distinct.index, dtype=object)

    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("string")  # as text first: 1 and 1.0 are one value to factorize
    return per_distinct(values, tidy).to_numpy(dtype=object, na_value=None)


def _tidy_upn_text(text: pa.Array) -> tuple[pa.Array, bool]:
    """(`text` tidied as upn_key tidies each value, whether any value needed it): tidy_upn_array, which
    tidies only the values that need it (three string copies of every distinct UPN were about 0.5 GB
    above a 2,000,000-row termly file) and returns `text` as it is when every value is already tidy."""
    tidied = tidy_upn_array(text)
    return tidied, tidied is not text


def _tidy_by_python(values: pd.Series) -> np.ndarray:
    """upn_key of each value (object array, None for missing)."""
    return np.array([None if pd.isna(v) else upn_key(str(v)) for v in values], dtype=object)


def repeated_upns(values: pd.Series) -> np.ndarray:
    """Which rows' UPN (tidied as tidy_upns tidies it) is on another row too (missing is never).

    Counted on arrow dictionary codes: the object array of tidy_upns and pandas' hash table over it
    were the read's peak at national size (a 2,000,000-row termly file: about 0.5 GB above the rest).
    Text arrow cannot hold (a lone surrogate) is counted through tidy_upns.
    """
    tidied = _tidied_in_arrow(values)
    if tidied is None:
        upn = pd.Series(tidy_upns(values))
        return (upn.notna() & upn.duplicated(keep=False)).to_numpy()
    dictionary, indices, distinct = tidied
    if not distinct:  # raw values tidied to one UPN (" a1" and "A1"): the tidied dictionary's own codes
        indices = pc.take(pc.dictionary_encode(dictionary).indices, indices)
    ids = pc.fill_null(indices, -1).to_numpy(zero_copy_only=False)
    counts = np.bincount(ids + 1)  # missing rows (-1) are counted at 0, and never repeated
    return (ids >= 0) & (counts[ids + 1] > 1)


def _tidied_in_arrow(values: pd.Series) -> tuple[pa.Array, pa.Array, bool] | None:
    """(each distinct value tidied (_tidy_upn_text), each row's index into them (null where missing),
    whether the tidied values are still distinct), or None when the text is not arrow's to hold."""
    categorical = isinstance(values.dtype, pd.CategoricalDtype)  # categories 1 and "1" are one text
    if not (categorical or isinstance(values.dtype, pd.StringDtype)):
        values = values.astype("string")  # as text first, as tidy_upns reads it
    try:
        dictionary, indices = encoded(values)
        dictionary, tidied_any = _tidy_upn_text(dictionary)
    except (UnicodeError, pa.ArrowException):
        return None
    return dictionary, indices, not (tidied_any or categorical)


def tidy_upn_column(values: pd.Series) -> pd.Series:
    """tidy_upns as a "string" Series with the column's index and name."""
    return pd.Series(tidy_upns(values), index=values.index, dtype="string", name=values.name)
