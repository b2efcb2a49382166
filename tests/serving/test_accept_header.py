"""`POST /score/file`'s answer follows the Accept header's q-values (an integrator's findings): it had
looked for "text/csv" anywhere in the header, so `text/csv;q=0.5, application/json` got CSV and the
workbook's own type got JSON."""

from __future__ import annotations

import pytest

from exclusion_risk.serving.answer_format import XLSX_TYPE, accepted_format


@pytest.mark.parametrize(("accept", "expected"), [
    ("", "json"), ("*/*", "json"), ("application/xml", "json"), ("text/csv", "csv"),
    ("text/csv;q=0.5, application/json", "json"), ("application/json;q=0.1, text/csv", "csv"),
    (XLSX_TYPE, "xlsx"), (f"{XLSX_TYPE};q=0.9, text/csv;q=0.8", "xlsx"), ("text/csv;q=0", "json"),
    ("text/csv, application/json", "json"), ("text/csv; q=bad", "json"), ("TEXT/CSV", "csv"),
])  # fmt: skip
def test_the_answers_format_is_the_one_the_accept_header_prefers(accept, expected):
    assert accepted_format(accept) == expected
