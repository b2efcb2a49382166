"""UPNs tidied by the one rule (exclusion_risk.upn.upn_key: separators removed wherever they are, then
Python's str.upper; a value of separators alone stripped and upper-cased), whichever way the column is
stored: tidy_upns tidies only the values that need it (issue #15: three string copies of every distinct
UPN were about 0.5 GB above a 2,000,000-row termly file). Until the rule removed inner separators, the
reference here was str.strip and str.upper: `E330 205709725` was a pupil apart from E330205709725."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.linkage.upn_columns import repeated_upns, tidy_upns
from exclusion_risk.upn import UPN_SEPARATORS

# Characters where Python and arrow part ways: \x1c-\x1f and \x85 are whitespace to str.strip (not
# to arrow's trim), "ß" upper-cases to "SS" in Python, "ǆ" has a title case.
ALPHABET = "aAzZ09 \t\n\x1c\x1f\x85\u00a0\u2003ßǆé-\u2010"
upn = st.one_of(
    st.none(), st.text(alphabet=ALPHABET, max_size=6), st.from_regex(r"[A-Z0-9]{0,13}", fullmatch=True)
)


def python_tidy(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return "".join(c for c in text if c not in UPN_SEPARATORS).upper() or text.strip().upper()


@settings(max_examples=300, deadline=None)
@given(values=st.lists(upn, max_size=20), storage=st.sampled_from(["string", "string[pyarrow]", "object"]))
def test_tidy_upns_is_pythons_strip_and_upper_of_each_value(values, storage):
    got = tidy_upns(pd.Series(values, dtype=storage))
    assert got.dtype == object
    assert list(got) == [python_tidy(v) for v in values]


@pytest.mark.parametrize(
    ("series", "tidied"),
    [
        (pd.Series([1, 2.0, None], dtype=object), ["1", "2.0", None]),
        (pd.Series(["x ", "Y", None], dtype="category"), ["X", "Y", None]),
        # text arrow cannot hold (a lone surrogate, which JSON can carry) is tidied as before
        (pd.Series([" \ud800a", "B1"], dtype=object), ["\ud800A", "B1"]),
    ],
)
def test_tidy_upns_reads_numbers_and_categories_as_their_text(series, tidied):
    assert list(tidy_upns(series)) == tidied


def python_repeated(values: list) -> list[bool]:
    tidied = pd.Series([python_tidy(v) for v in values], dtype=object)
    return list(tidied.notna() & tidied.duplicated(keep=False))


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(upn, max_size=20),
    storage=st.sampled_from(["string", "string[pyarrow]", "object", "category"]),
)
def test_repeated_upns_are_the_rows_whose_tidied_upn_is_on_another_row(values, storage):
    """The attendance check's repeated UPNs, counted on arrow codes, are pandas' duplicated over
    Python's tidy: " a1" and "A1" are one UPN, missing values repeat nothing."""
    got = repeated_upns(pd.Series(values, dtype=storage))
    assert got.dtype == bool
    assert list(got) == python_repeated(values)


@pytest.mark.parametrize(
    "values",
    [
        [" a1", "A1", None, None, "B2"],
        [1, 1.0, "1", None],  # numbers read as their text: 1 and "1" are one, 1.0 is another
        [" \ud800a", "\ud800A ", "B1"],  # text arrow cannot hold: counted through tidy_upns
        [],
    ],
)
def test_repeated_upns_read_numbers_and_odd_text_as_tidy_upns_does(values):
    assert list(repeated_upns(pd.Series(values, dtype=object))) == python_repeated(values)


def test_repeated_upns_read_categories_as_their_text():
    # categories 1 and "1" are distinct categories but one text: one UPN on two rows
    values = pd.Series([1, "1", "2"], dtype="category")
    assert list(repeated_upns(values)) == [True, True, False]
