"""A census folder's collection date (in each file's name) gives AcademicYear and CensusTerm; a file's own
column saying otherwise is a conflict, never a silent override."""

from __future__ import annotations

import pytest

from exclusion_risk.linkage.collection_dates import OFF_COLLECTION_TERM, OFF_COLLECTION_YEAR
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census
from exclusion_risk.upn import make_upn

UPNS = [make_upn(330, 4001, 2010, n) for n in range(1, 5)]


def _folder(tmp_path, census_row, csv_text, write, mis_header, years, terms=None):
    """census/census_2018-10-01.csv with one row per value of `years` (and of `terms`, where given)."""
    terms = terms or [""] * len(years)
    rows = [census_row(u, AcademicYear=y, CensusTerm=t) for u, y, t in zip(UPNS, years, terms, strict=False)]
    write(tmp_path / "census" / "census_2018-10-01.csv", csv_text(rows, mis_header))
    return tmp_path / "census"


def test_a_row_whose_year_or_term_is_not_its_files_collection_is_rejected(
    tmp_path, census_row, csv_text, write, mis_header
):
    """AcademicYear=2017/18 in census_2018-10-01.csv was read as 2017/18 (the name's 2018/19 ignored):
    the collection's pupils were counted twice in 2017/18 and `score --year 2018/19` found no census."""
    folder = _folder(
        tmp_path, census_row, csv_text, write, mis_header,
        years=["2018/19", "2017/18", "", "2018-19"], terms=["AUT", "", "SPR", "autumn"],
    )  # fmt: skip
    result = read_census(folder)
    assert result.rows_read == 4
    assert result.clean["AcademicYear"].tolist() == ["2018/19", "2018/19"]  # agreeing, or the same written
    assert result.clean["CensusTerm"].tolist() == ["AUT", "AUT"]
    assert result.clean["_row"].tolist() == [1, 4]
    rejects = result.rejects.sort_values("row")
    assert rejects["row"].tolist() == [2, 3]
    assert rejects["file"].tolist() == ["census/census_2018-10-01.csv"] * 2
    assert rejects["column"].tolist() == ["AcademicYear", "CensusTerm"]
    assert rejects["reason"].tolist() == [OFF_COLLECTION_YEAR, OFF_COLLECTION_TERM]
    note = " ".join(result.notes)
    assert "2 row(s) rejected" in note and "census_2018-10-01.csv" in note and "file name" in note


def test_a_blank_year_or_term_takes_the_names(tmp_path, census_row, csv_text, write, mis_header):
    folder = _folder(tmp_path, census_row, csv_text, write, mis_header, years=["", "2018/19"], terms=["", ""])
    result = read_census(folder)
    assert result.rejects.empty
    assert result.clean["AcademicYear"].tolist() == ["2018/19"] * 2
    assert result.clean["CensusTerm"].tolist() == ["AUT"] * 2


def test_a_file_whose_every_year_is_another_collections_stops_the_read(
    tmp_path, census_row, csv_text, write, mis_header
):
    """A whole file naming another year is a misnamed file (or the wrong file), not bad rows."""
    folder = _folder(tmp_path, census_row, csv_text, write, mis_header, years=["2017/18", "2017/18"])
    message = r"census/census_2018-10-01.csv: .*AcademicYear.*file name"
    with pytest.raises(ExtractError, match=message) as caught:
        read_census(folder)
    assert "2017/18" not in str(caught.value)  # the message names the column and the name, no row's value


def test_a_file_of_blanks_and_another_year_rejects_that_rows_only(
    tmp_path, census_row, csv_text, write, mis_header
):
    """A blank takes the name's year, so a file of blanks and one 2017/18 row is the name's collection."""
    folder = _folder(tmp_path, census_row, csv_text, write, mis_header, years=["", "2017/18", ""])
    result = read_census(folder)
    assert result.clean["AcademicYear"].tolist() == ["2018/19", "2018/19"]
    assert result.rejects["row"].tolist() == [2]
    assert result.rejects["reason"].tolist() == [OFF_COLLECTION_YEAR]


def test_a_single_files_own_years_stand_whatever_date_its_name_holds(
    tmp_path, census_row, csv_text, write, mis_header
):
    """Only a census folder's file names are collection dates. A single file (an upload keeps the user's
    name: "SIMS census export 2019-01-15.csv") holds several years and terms: checked against its name,
    3,292 of 3,589 rows were rejected (a reviewer's find), and an autumn census exported in January
    stopped the read."""
    years = ["2016/17", "2017/18", "2018/19", "2018/19"]
    rows = [census_row(u, AcademicYear=y, CensusTerm="AUT") for u, y in zip(UPNS, years, strict=True)]
    path = write(tmp_path / "SIMS census export 2019-01-15.csv", csv_text(rows, mis_header))
    result = read_census(path)
    assert result.rejects.empty, result.rejects[["row", "column", "reason"]].to_dict("records")
    assert result.clean["AcademicYear"].tolist() == ["2016/17", "2017/18", "2018/19", "2018/19"]
    assert result.clean["CensusTerm"].tolist() == ["AUT"] * 4
    autumn = [census_row(u, AcademicYear="2018/19", CensusTerm="AUT") for u in UPNS]
    exported = write(tmp_path / "census_2019-01-15.csv", csv_text(autumn, mis_header))
    assert read_census(exported).rejects.empty  # not stopped as "every row another term"
