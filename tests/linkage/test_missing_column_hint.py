"""A required column under a misspelt header: the refusal names the unread header as the likely one, as
the read's note does for an optional column; a file whose first line is a pupil's values (no header
row) is refused without quoting any of them."""

from __future__ import annotations

import pytest

from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census, read_social_care


def _refusal(tmp_path, write, csv_text, rows, header) -> str:
    with pytest.raises(ExtractError) as caught:
        read_social_care(write(tmp_path / "social_care.csv", csv_text(rows, header)))
    return str(caught.value)


def test_a_misspelt_required_header_is_named_as_the_likely_column(tmp_path, social_care_row, write,
                                                                  csv_text):
    row = {("DateOfBrith" if k == "DOB" else k): v for k, v in social_care_row().items()}
    message = _refusal(tmp_path, write, csv_text, [row], list(row))
    assert "required column missing; 'DOB'" in message
    assert "'DateOfBrith' is not read: did you mean DOB?" in message
    assert "2008-03-01" not in message


def test_two_misspelt_required_headers_are_each_named(tmp_path, social_care_row, write, csv_text):
    renamed = {"DOB": "DateOfBrith", "Surname": "Surnme"}
    row = {renamed.get(k, k): v for k, v in social_care_row().items()}
    message = _refusal(tmp_path, write, csv_text, [row], list(row))
    assert "'Surnme' is not read: did you mean Surname?" in message
    assert "'DateOfBrith' is not read: did you mean DOB?" in message


@pytest.mark.parametrize(("column", "header"), [("DOB", "BirthDate"), ("Surname", "LastName"),
                                               ("Surname", "Family Name"), ("Forename", "GivenName"),
                                               ("LAchildID", "ChildReference")])
def test_a_required_column_under_another_common_name_is_named(tmp_path, social_care_row, write, csv_text,
                                                              column, header):
    """Not a misspelling, so difflib never offered it: the refusal said the column was missing and no more."""
    row = {(header if k == column else k): v for k, v in social_care_row().items()}
    message = _refusal(tmp_path, write, csv_text, [row], list(row))
    assert f"{header!r} is not read: did you mean {column}?" in message


def test_a_file_without_its_header_row_quotes_no_value(tmp_path, social_care_row, write, csv_text):
    """The first line is read as the header: it holds a child's name and date of birth, none of which may
    appear in the refusal, and no unread column is offered as a likely one."""
    rows = [social_care_row(Surname="Dobson", Forename="Surnam"), social_care_row("C2")]
    text = csv_text(rows).split("\n", 1)[1]  # the header line dropped
    path = write(tmp_path / "social_care.csv", text)
    with pytest.raises(ExtractError) as caught:
        read_social_care(path)
    message = str(caught.value)
    assert "required column" in message
    assert "did you mean" not in message
    for value in ("Dobson", "'Surnam'", "2008-03-01", "ws11aa"):
        assert value not in message


def _census_folder(tmp_path, census_row, csv_text, write, name):
    header = [h for h in census_row() if h not in ("AcademicYear", "CensusTerm")]
    return write(tmp_path / "census" / name, csv_text([census_row()], header)).parent


def test_a_census_folder_file_without_year_columns_says_to_name_it_by_date(tmp_path, census_row, csv_text,
                                                                           write):
    """Without AcademicYear and CensusTerm a census folder's file needs its collection date in its name:
    the refusal said the columns were missing and nothing of the name that would give them."""
    folder = _census_folder(tmp_path, census_row, csv_text, write, "Spring census 2018.csv")
    with pytest.raises(ExtractError) as caught:
        read_census(folder)
    message = str(caught.value)
    assert "required columns missing: 'AcademicYear'" in message
    assert "name the file with it (census_2018-01-18.csv)" in message


def test_a_census_folder_file_named_by_date_needs_no_year_columns(tmp_path, census_row, csv_text, write):
    folder = _census_folder(tmp_path, census_row, csv_text, write, "census_2018-01-18.csv")
    result = read_census(folder)
    assert list(result.clean["CensusTerm"]) == ["SPR"]


def test_a_single_census_file_is_not_told_to_be_renamed(tmp_path, census_row, csv_text, write):
    """A single file's name is no collection (an upload's neither): no word of naming it."""
    header = [h for h in census_row() if h != "AcademicYear"]
    with pytest.raises(ExtractError) as caught:
        read_census(write(tmp_path / "census.csv", csv_text([census_row()], header)))
    assert "AcademicYear" in str(caught.value) and "name the file" not in str(caught.value)
