"""A database export's NULL (SQL Server's "save results as" writes every empty cell so) is read as a
blank cell outside free text, and counted in the file's note: every row of such a social-care file was
rejected ("not a date", "unknown Ethnicity code", ...) though each was a clean record."""

from __future__ import annotations

from pathlib import Path

from exclusion_risk.linkage.readers import read_exclusions, read_social_care

EMPTY = {"UPN": "NULL", "Ethnicity": "NULL", "Postcode": "NULL", "EndDate": "NULL", "PrimaryNeed": "null",
         "Factors": "NULL"}  # fmt: skip


def test_null_cells_of_a_database_export_read_as_blank(tmp_path: Path, social_care_row, csv_text, write):
    rows = [social_care_row(f"C{i}", **EMPTY) for i in range(12)]
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert len(result.clean) == 12 and result.rejects.empty
    for column in ("UPN", "Ethnicity", "Postcode", "EndDate", "PrimaryNeed", "Factors"):
        assert result.clean[column].isna().all(), column
    (note,) = result.notes
    assert ("cells written NULL (a database export's empty cell) read as blank: 12 in UPN, 12 in Ethnicity, "
            "12 in Postcode, 12 in EndDate, 12 in PrimaryNeed, 12 in Factors") in note
    assert note in result.remarks  # the service's warnings say it too


def test_a_name_written_null_is_a_name(tmp_path: Path, social_care_row, csv_text, write):
    """Null is a surname: free text keeps the word, and a file without NULL cells says nothing of them."""
    rows = [social_care_row("C1", Surname="Null"), social_care_row("C2", Surname="NULL")]
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert list(result.clean["Surname"]) == ["Null", "NULL"]
    assert "NULL" not in result.notes[0]


def test_a_required_cell_written_null_is_missing(tmp_path: Path, exclusion_row, csv_text, write):
    """A NULL where a value is required is a missing value, rejected as one (not "not a date")."""
    rows = [exclusion_row(StartDate="NULL"), exclusion_row(StartDate="2017-02-01")]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert len(result.clean) == 1 and len(result.rejects) == 1
    assert "not a date" not in result.rejects["reason"].iloc[0]
    assert "1 in StartDate" in result.notes[0]


def test_a_far_future_end_date_is_an_open_episode(tmp_path: Path, social_care_row, csv_text, write):
    """A social-care system that cannot leave EndDate blank writes an open episode's as 9999-12-31 (or
    31/12/2999): every such row was rejected as "not a date", and the open episodes were lost (a data
    officer's find: 85 rows, 24 of them looked after). Read as open, counted in the file's note; a real
    end date, and a StartDate so written, are read as before."""
    ends = ["9999-12-31", "31/12/9999", "2999-12-31 00:00:00", "2018-03-01", ""]
    rows = [social_care_row(f"C{i}", StartDate="2017-09-01", EndDate=e) for i, e in enumerate(ends)]
    rows.append(social_care_row("C9", StartDate="9999-12-31"))
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert len(result.clean) == 5 and len(result.rejects) == 1  # the StartDate is no placeholder
    assert result.clean["EndDate"].isna().sum() == 4
    assert ("EndDate written as a far-future date (such as 31/12/9999, a system's \"still open\") read as "
            "blank, the episode open: 3 row(s)") in result.notes[0]
