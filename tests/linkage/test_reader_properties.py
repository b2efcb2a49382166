"""Property tests: a valid census or exclusions file, mutated the ways exports break, is read safely.

Whatever hypothesis does to the bytes (quotes, line endings, encodings, truncation, huge fields,
control characters, random bytes), a reader either returns, with read = clean + rejected and no more
rows than the file has lines, or raises ExtractError; and no message, note, count label or reject
reason quotes a pupil's value.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from exclusion_risk.linkage.decoding import utf16_without_bom
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census, read_exclusions
from exclusion_risk.linkage.record_bound import records_at_most
from exclusion_risk.upn import make_upn

PUPILS = 12
UPNS = [make_upn(330, 4001, 2010, i) for i in range(PUPILS)]
SURNAMES = [f"Qzwxsurname{i:02d}" for i in range(PUPILS)]
FORENAMES = [f"Vbnmforename{i:02d}" for i in range(PUPILS)]
POSTCODE = "WS9 9ZZ"
PUPIL_VALUES = [*UPNS, *SURNAMES, *FORENAMES, POSTCODE, "2008-03-01", "01/03/2008"]

INSERTS = ['"', "'", ",", "\r", "\n", "\r\n", "\t", ";", "\x00", "\x1b", "\ufeff", "\u2028", "é", "=", "\\"]


def _valid_text(extract: str, census_row, exclusion_row, csv_text, mis_header) -> str:
    if extract == "census":
        rows = [
            census_row(UPNS[i], Surname=SURNAMES[i], Forename=FORENAMES[i], Postcode=POSTCODE)
            for i in range(PUPILS)
        ]
        return csv_text(rows, mis_header)
    rows = [
        exclusion_row(UPNS[i], RecordID=f"EX{i}", Surname=SURNAMES[i], Forename=FORENAMES[i])
        for i in range(PUPILS)
    ]
    return csv_text(rows)


@st.composite
def mutations(draw):
    """A list of (kind, position fraction, payload) edits applied in order."""
    kinds = st.sampled_from(["insert", "delete", "huge", "bytes", "truncate", "line_ends"])
    edit = st.tuples(
        kinds,
        st.floats(0, 1, allow_nan=False),
        st.sampled_from(INSERTS),
        st.binary(min_size=1, max_size=40),
        st.sampled_from(["\r", "\r\n", "\n"]),
    )
    return draw(st.lists(edit, min_size=1, max_size=5)), draw(
        st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])
    )


def _mutate(text: str, edits, encoding: str) -> bytes:
    for kind, where, insert, _, line_end in edits:
        at = int(where * len(text))
        if kind == "insert":
            text = text[:at] + insert + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + 1 :]
        elif kind == "huge":
            text = text[:at] + "Y" * 150_000 + text[at:]
        elif kind == "truncate":
            text = text[: max(at, 1)]
        elif kind == "line_ends":
            text = re.sub(r"\r\n|\r|\n", line_end, text)
    data = text.encode(encoding, errors="replace")
    for kind, where, _, noise, _ in edits:
        if kind == "bytes":
            at = int(where * len(data))
            data = data[:at] + noise + data[at:]
    return data


def _text_of(data: bytes) -> str:
    """The bytes as text, line breaks where the reader sees them (they are single bytes but in UTF-16)."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if utf16:
        return data.decode("utf-16", errors="replace")
    unmarked = utf16_without_bom(data)  # UTF-16 without its BOM (a mutation can push the BOM inwards)
    return data.decode(unmarked, errors="replace") if unmarked else data.decode("latin-1")


def _lines_in(data: bytes) -> int:
    """An upper bound on the rows: non-empty lines after the first, counted without a CSV parser."""
    return sum(1 for line in re.split(r"\r\n|\r|\n", _text_of(data))[1:] if line)


def _records_in(data: bytes) -> int:
    """Without quotes, every record is one line: the non-empty lines after the first, less those of only
    commas and blanks (Excel's empty rows) and DOS end-of-file marks (Ctrl-Z) at the very end, with or
    without line ends or blanks after or between them."""
    text = _text_of(data)
    tail = len(text.rstrip("\x1a\r\n \t"))
    if "\x1a" in text[tail:]:
        text = text[: text.index("\x1a", tail)]
    lines = re.split(r"\r\n|\r|\n", text)[1:]
    return sum(1 for line in lines if line.strip(", \t"))


def _assert_quotes_nothing(text: str) -> None:
    for value in PUPIL_VALUES:
        assert value.upper() not in text.upper(), "a pupil's value reached a message"


@pytest.mark.parametrize("extract", ["census", "exclusions"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(change=mutations())
# CI's find: a CR before the BOM of a UTF-16 file, which the reader reads as UTF-16 without a BOM
@example(change=([("insert", 0.0, "'", b"\x00", "\r"), ("bytes", 0.0, '"', b"\r", "\r")], "utf-16"))
def test_a_mutated_extract_is_read_or_refused_and_never_leaks(
    tmp_path, extract, change, census_row, exclusion_row, csv_text, mis_header
):
    edits, encoding = change
    data = _mutate(_valid_text(extract, census_row, exclusion_row, csv_text, mis_header), edits, encoding)
    path = tmp_path / f"{extract}.csv"
    path.write_bytes(data)
    reader = read_census if extract == "census" else read_exclusions
    try:
        result = reader(path)
    except ExtractError as exc:
        _assert_quotes_nothing(str(exc))
        return
    assert len(result.clean) + len(result.rejects) == result.rows_read
    assert result.rows_read <= _lines_in(data)
    assert result.rows_read <= records_at_most(data)  # the service's bound before it reads an upload
    if '"' not in _text_of(data):  # no value can run over lines: every line is a row, read or rejected
        assert result.rows_read == _records_in(data)
    _assert_quotes_nothing(" ".join(result.notes) + " ".join(result.counts))
    _assert_quotes_nothing(" ".join(result.rejects["reason"].astype(str)))
