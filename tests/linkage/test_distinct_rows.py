"""distinct_rows: frame.drop_duplicates() built one column at a time (issue #15: the census's identity
rows are de-duplicated without holding every column's codes at once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.linkage.arrow_text import TEXT, distinct_rows

# few distinct values, so that rows repeat, and missing values of every kind pandas treats as one
texts = st.sampled_from(["a", "b", "ab", "", None])
numbers = st.sampled_from([0, 1, 2, None])


@st.composite
def frames(draw):
    n = draw(st.integers(0, 40))
    width = draw(st.integers(1, 4))
    columns = {}
    for i in range(width):
        kind = draw(st.sampled_from(["arrow", "object", "Int64", "float"]))
        values = draw(st.lists(numbers if kind in ("Int64", "float") else texts, min_size=n, max_size=n))
        if kind == "arrow":
            columns[f"c{i}"] = pd.Series(values, dtype=TEXT)
        elif kind == "object":  # None and NaN: one value to drop_duplicates over several columns
            columns[f"c{i}"] = pd.Series([np.nan if v == "" else v for v in values], dtype=object)
        else:
            columns[f"c{i}"] = pd.Series(values, dtype=kind if kind == "Int64" else "float64")
    frame = pd.DataFrame(columns)
    # a shuffled, gapped index: the index of each first occurrence is kept
    frame.index = draw(st.permutations(range(0, 3 * n, 3))) if n else pd.RangeIndex(0)
    return frame


@given(frames())
@settings(max_examples=300, deadline=None)
def test_the_same_rows_in_the_same_order_with_their_index_as_drop_duplicates(frame):
    pd.testing.assert_frame_equal(distinct_rows(frame), frame.drop_duplicates())


def test_rows_differing_only_in_a_later_column_are_both_kept():
    # A running row code that dropped a column's codes (or overflowed) would merge these.
    frame = pd.DataFrame({"a": ["x"] * 4, "b": ["y", "y", "z", "z"], "c": ["1", "2", "1", "1"]}, dtype=TEXT)
    assert distinct_rows(frame).index.tolist() == [0, 1, 2]


def test_a_repeated_column_name_is_two_columns():
    frame = pd.DataFrame([[1, 2], [1, 3], [1, 2]], columns=["a", "a"])
    pd.testing.assert_frame_equal(distinct_rows(frame), frame.drop_duplicates())
