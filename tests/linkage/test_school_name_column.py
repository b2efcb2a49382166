"""The census's optional school-name column: read under the contract's name or an alias, text like the
other text columns (stripped, blank -> missing, broken text rejects the row), absent without harm."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.contract import HEADER_ALIASES, READ_COLUMNS, SCHOOL_NAME
from exclusion_risk.linkage.extract_frames import CENSUS_FRAME_COLUMNS
from exclusion_risk.linkage.fields import FIELDS
from exclusion_risk.linkage.readers import read_census, read_extracts
from exclusion_risk.upn import make_upn

UPNS = [make_upn(330, 4001, 2010, n) for n in range(1, 5)]


def _census(tmp_path, census_row, csv_text, write, mis_header, header: str | None, names: list[str]):
    rows = [census_row(upn) for upn in UPNS[: len(names)]]
    columns = list(mis_header)
    if header is not None:
        columns.insert(1, header)  # beside Estab, as an MIS export puts it
        for row, name in zip(rows, names, strict=True):
            row[header] = name
    return write(tmp_path / "census.csv", csv_text(rows, columns))


def assert_every_row_accounted_for(result, rows: int) -> None:
    assert sorted([*result.clean["_row"], *result.rejects["row"]]) == list(range(1, rows + 1))
    assert len(result.clean) + len(result.rejects) == result.rows_read == rows


def test_the_column_is_optional_text_listed_beside_the_urn():
    field = next(f for f in FIELDS["census"] if f.name == SCHOOL_NAME)
    assert (field.kind, field.required, field.nullable) == ("text", False, True)
    for columns in (READ_COLUMNS["census"], CENSUS_FRAME_COLUMNS):
        assert columns[columns.index("SchoolURN") + 1] == SCHOOL_NAME
    assert {"School", "EstablishmentName", "EstabName"} <= set(HEADER_ALIASES["census"][SCHOOL_NAME])


@pytest.mark.parametrize("header", ["SchoolName", "School Name", "school_name", "EstabName",
                                    "Establishment Name", "SCHOOL"])  # fmt: skip
def test_a_census_with_a_school_name_under_any_accepted_header_reads_it(
    tmp_path, census_row, csv_text, write, mis_header, header
):
    names = ["  Ashfield Primary School ", "St Chad's C of E Primary School", "", "Ashfield Primary School"]
    path = _census(tmp_path, census_row, csv_text, write, mis_header, header, names)
    result = read_census(path)
    assert_every_row_accounted_for(result, 4)
    assert result.rejects.empty
    read = result.clean[SCHOOL_NAME]
    # stripped as other text is, blank -> missing, case kept (not a code)
    assert read.tolist()[:2] == ["Ashfield Primary School", "St Chad's C of E Primary School"]
    assert pd.isna(read.iloc[2]) and read.iloc[3] == "Ashfield Primary School"
    if header != SCHOOL_NAME:
        assert any(f"-> {SCHOOL_NAME}" in note for note in result.notes) == (
            "".join(c for c in header.lower() if c.isalnum()) != SCHOOL_NAME.lower()
        )


def test_a_census_without_the_column_still_reads_with_the_name_missing(
    tmp_path, census_row, csv_text, write, mis_header
):
    path = _census(tmp_path, census_row, csv_text, write, mis_header, None, ["", "", ""])
    result = read_census(path)
    assert_every_row_accounted_for(result, 3)
    assert result.rejects.empty and len(result.clean) == 3
    assert SCHOOL_NAME in result.clean.columns and result.clean[SCHOOL_NAME].isna().all()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("Ash" * 400, "longer than 1,000 characters"), ("Ash\x01field School", "holds control characters")],
    ids=["over-long", "control character"],
)
def test_a_broken_school_name_rejects_its_row_like_other_text(
    tmp_path, census_row, csv_text, write, mis_header, bad, reason
):
    names = ["Ashfield Primary School", bad, "Brookley Academy"]
    path = _census(tmp_path, census_row, csv_text, write, mis_header, "School Name", names)
    result = read_census(path)
    assert_every_row_accounted_for(result, 3)
    assert result.rejects["row"].tolist() == [2]
    assert result.rejects["file"].tolist() == ["census.csv"]
    assert result.rejects["column"].tolist() == ["School Name"]
    assert result.rejects["reason"].iloc[0].startswith(reason)
    assert len(result.rejects["value"].iloc[0]) <= 200  # only the start of an over-long value is kept
    assert result.clean[SCHOOL_NAME].tolist() == ["Ashfield Primary School", "Brookley Academy"]


def test_the_name_is_kept_in_the_read_extracts_for_later_stages(
    tmp_path, census_row, csv_text, write, mis_header, exclusion_row, social_care_row
):
    """The school name is not a pupil's identifier: the folder reader keeps it with the census rows."""
    _census(tmp_path, census_row, csv_text, write, mis_header, "EstabName", ["Millbrook Academy"])
    write(tmp_path / "exclusions.csv", csv_text([exclusion_row()]))
    write(tmp_path / "social_care.csv", csv_text([social_care_row()]))
    extracts = read_extracts(tmp_path)
    assert extracts.census[SCHOOL_NAME].tolist() == ["Millbrook Academy"]
