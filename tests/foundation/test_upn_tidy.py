"""One rule for a UPN's tidy form (exclusion_risk.upn): spaces (no-break ones too), hyphens and dashes
removed wherever they are, and upper case. MIS exports and hand-keyed sheets write `E330 205709725`
or `E330-205709725`; read as they were, such a pupil lost their whole history (probe: a score of 0.833
red fell to 0.098 amber). A value that still fails the UPN's shape or check letter stays invalid."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.upn import (
    UPN_SEPARATORS,
    is_valid_upn,
    make_temporary_upn,
    make_upn,
    tidy_upn_array,
    upn_key,
    valid_upn_mask,
)

UPN = make_upn(330, 2057, 2009, 725)
WRITTEN = [
    UPN[:4] + " " + UPN[4:],  # as an MIS export groups it
    UPN[:4] + "-" + UPN[4:],
    UPN[:4] + "\u00a0" + UPN[4:],  # a no-break space, from a spreadsheet
    f" {UPN[:1]} {UPN[1:4]} {UPN[4:8]} {UPN[8:]} ",
    UPN[:4] + "\u2013" + UPN[4:8] + "\u2011" + UPN[8:],  # en dash, non-breaking hyphen
    (UPN[:4] + "\t-\u2003" + UPN[4:]).lower(),
]


@pytest.mark.parametrize("written", WRITTEN)
def test_a_upn_written_with_separators_is_the_upn(written):
    assert upn_key(written) == UPN
    assert is_valid_upn(written)
    assert valid_upn_mask(pd.Series([written], dtype="string")).tolist() == [True]


def test_a_value_still_not_a_upn_is_tidied_and_stays_invalid():
    wrong_letter = "Z" + UPN[1:]
    assert not is_valid_upn(wrong_letter)
    assert upn_key(wrong_letter[:4] + " " + wrong_letter[4:]) == wrong_letter
    assert not is_valid_upn(wrong_letter[:4] + " " + wrong_letter[4:])
    assert upn_key("NOTAUPN-Wilson") == "NOTAUPNWILSON" and not is_valid_upn("NOTAUPN-Wilson")
    assert not is_valid_upn(UPN[:4] + " " + UPN[4:] + "1")  # 14 characters once tidied


@pytest.mark.parametrize("alone", ["-", " - ", "\u2013", "\u200b"])
def test_separators_alone_are_left_as_they_were(alone):
    """Not a UPN written with separators: a placeholder, read (and reported) as it was."""
    assert upn_key(alone) == alone.strip().upper()


def test_the_separators_are_whitespace_and_dashes():
    import unicodedata

    for ch in UPN_SEPARATORS:
        assert ch.isspace() or unicodedata.category(ch) in ("Pd", "Cf") or ch == "\u2212", hex(ord(ch))
    every = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    assert {c for c in every if c.isspace() or unicodedata.category(c) == "Pd"} <= set(UPN_SEPARATORS)


def python_rule(value: str) -> str:
    tidied = "".join(c for c in value if c not in UPN_SEPARATORS).upper()
    return tidied or value.strip().upper()


ALPHABET = "aAzZ09 -\t\n\x1c\x1f\x85\u00a0\u2003\u2010\u2013\u2212\u200b\ufeffßǆé"
values = st.one_of(
    st.none(), st.text(alphabet=ALPHABET, max_size=8), st.from_regex(r"[A-Z0-9]{0,13}", fullmatch=True)
)


@settings(max_examples=300, deadline=None)
@given(upns=st.lists(values, max_size=20), large=st.booleans())
def test_the_vectorised_tidy_is_the_scalar_rule(upns, large):
    array = pa.array(upns, type=pa.large_string() if large else pa.string())
    got = tidy_upn_array(array)
    assert got.type == array.type
    assert got.to_pylist() == [None if v is None else python_rule(v) for v in upns]
    assert [None if v is None else upn_key(v) for v in upns] == got.to_pylist()


def test_clean_upns_come_back_as_they_are():
    array = pa.array([UPN, make_temporary_upn(330, 2057, 2009, 7, "A"), None, ""])
    assert tidy_upn_array(array) is array
