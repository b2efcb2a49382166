"""The one Jaro-Winkler similarity of the project, registered as the same SQL function on every engine.

DuckDB's built-in counts bytes (a non-ASCII name scores lower than jellyfish gives it) and Spark's
gives 1 for two empty strings where DuckDB gives 0, so the engines would link different pairs from
one model. Every comparison therefore calls `er_jaro_winkler(a, b)`, which is jellyfish's
`jaro_winkler_similarity` on each engine: a vectorised DuckDB Python UDF (arrow in, arrow out) and a
Spark pandas UDF. NULL on either side gives NULL (the comparisons test for missing values first).
Names repeat heavily, so each distinct pair is computed once and remembered (up to CACHE_LIMIT pairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jellyfish
import numpy as np
import pandas as pd
import pyarrow as pa

# The SQL name of the function on every engine (not a built-in of any, so nothing shadows it).
UDF_NAME = "er_jaro_winkler"
CACHE_LIMIT = 2_000_000  # distinct pairs remembered across calls before the memory is cleared

_cache: dict[tuple[str, str], float] = {}


def _pairs(xs: list[Any], ys: list[Any]) -> list[float | None]:
    """Jaro-Winkler of each pair (None where either side is not a string), each distinct pair computed
    once: names repeat, so most pairs are found in the cache rather than computed."""
    if len(_cache) >= CACHE_LIMIT:
        _cache.clear()
    cached, jw = _cache.get, jellyfish.jaro_winkler_similarity
    out: list[float | None] = []
    append = out.append
    for x, y in zip(xs, ys, strict=True):
        if not (isinstance(x, str) and isinstance(y, str)):
            append(None)
            continue
        value = cached((x, y))
        if value is None:
            value = _cache[(x, y)] = jw(x, y)
        append(value)
    return out


def similarities(a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
    """Jaro-Winkler of each pair (a[i], b[i]); NaN where either side is not a string."""
    return np.array(_pairs(list(a), list(b)), dtype=float)


def arrow_similarities(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The DuckDB UDF: two arrow string columns in, a double column out (null where either is null)."""
    return pa.array(_pairs(a.to_pylist(), b.to_pylist()), type=pa.float64())


def register_duckdb(connection: Any) -> None:
    """Register `er_jaro_winkler` on a DuckDB connection."""
    connection.create_function(
        UDF_NAME,
        arrow_similarities,
        ["VARCHAR", "VARCHAR"],
        "DOUBLE",
        type="arrow",
        null_handling="special",
        side_effects=False,
    )


def spark_similarities(a: pd.Series, b: pd.Series) -> pd.Series:
    """The Spark pandas UDF body: a batch of pairs in, their similarities out (NaN -> null where missing)."""
    values = _pairs(a.astype(object).tolist(), b.astype(object).tolist())
    return pd.Series(values, index=a.index, dtype=float)


def register_spark(session: Any, pyspark: Any) -> None:
    """Register `er_jaro_winkler` as a pandas UDF on a Spark session (`pyspark`: the loaded module)."""
    udf = pyspark.sql.functions.pandas_udf(spark_similarities, returnType=pyspark.sql.types.DoubleType())
    session.udf.register(UDF_NAME, udf)
