"""A workbook uploaded as the census (an .xlsx, or one sent as text/csv or named .parquet) is refused
as a workbook, with what to do, not as a CSV missing every required column (the reader says it)."""

from __future__ import annotations

import io
import zipfile

import pytest

from exclusion_risk.serving import scoring
from exclusion_risk.serving.errors import RequestProblem


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("docProps/app.xml", b"<Properties/>")  # Excel's first entry is not always the same
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize("filename", ["census.xlsx", "upload.csv", "census.parquet"])
def test_an_uploaded_workbook_is_said_to_be_one(filename):
    with pytest.raises(RequestProblem) as caught:
        scoring.read_census_bytes(_xlsx(), filename)
    problem = caught.value
    assert problem.status_code == 422
    assert "Excel workbook" in problem.message and "save it as CSV" in problem.message
    assert len(problem.problems) == 1 and problem.problems[0]["field"] == "file"
    assert "save it as CSV" in problem.problems[0]["reason"] and "missing" not in problem.message
