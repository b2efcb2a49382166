"""A file of another kind (or a damaged one) named census.csv is refused as not text: read as CSV, the
bytes' first line was a header missing all 13 required columns, with advice about a title line."""

from __future__ import annotations

import random

import pytest

from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census, read_social_care


def test_random_bytes_named_csv_are_refused_as_not_text(tmp_path):
    path = tmp_path / "census.csv"
    path.write_bytes(random.Random(7).randbytes(4096))
    with pytest.raises(ExtractError) as caught:
        read_census(path)
    message = str(caught.value)
    assert "this is not CSV text" in message and "missing" not in message


def test_text_in_utf16_and_windows_1252_is_still_read(tmp_path, social_care_row, csv_text, write):
    """UTF-16 text is half NUL bytes and Windows-1252 uses 0x80-0x9F: neither is a control byte here."""
    rows = [social_care_row("C1", Surname="Œuvre"), social_care_row("C2", Surname="Zoë")]
    for encoding in ("utf-16", "cp1252"):
        result = read_social_care(write(tmp_path / encoding / "social_care.csv", csv_text(rows), encoding))
        assert list(result.clean["Surname"]) == ["Œuvre", "Zoë"], encoding
