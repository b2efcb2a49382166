"""A blank line in an extract: no record, counted and placed in the read's note like a line of only
commas, so that an analyst can find a rejected row in a spreadsheet.

Rows are numbered as data records, from 1 after the header (csv_records: a record over several lines
is one row; an empty line is none), and a RecordID left out is that number. A fully empty line was
dropped without a word, both by arrow's parse and by the line parser, while a line of blanks or commas
was counted: with one after file line 5, the row rejected as `exclusions.csv,10` was on spreadsheet
row 12, and nothing said why row 11 held another pupil."""

from __future__ import annotations

import pytest

from exclusion_risk.linkage.readers import read_exclusions
from exclusion_risk.upn import make_upn

ROWS = 20


def upn(i: int) -> str:
    return make_upn(330, 4001, 2010, i)


@pytest.fixture
def lines(exclusion_row, csv_text) -> list[str]:
    """An exclusions log of ROWS records without RecordID, as lines (header first); data row 10's
    Category is BADCAT."""
    rows = [exclusion_row(upn(i), Surname=f"Surname{i:02d}") for i in range(ROWS)]
    rows[9]["Category"] = "BADCAT"
    return csv_text(rows).splitlines()


def read(tmp_path, body: list[str], line_end: str = "\n"):
    path = tmp_path / "exclusions.csv"
    path.write_bytes((line_end.join(body) + line_end).encode())
    result = read_exclusions(path)
    assert result.rows_read == ROWS and len(result.clean) + len(result.rejects) == ROWS
    return result


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("ragged", [False, True], ids=["arrow's parse", "the line parser"])
def test_an_empty_line_before_a_bad_row_is_counted_and_said_where(tmp_path, lines, ragged, line_end):
    body = [*lines[:5], "", *lines[5:]]  # after file line 5 (data row 4)
    if ragged:  # a surplus field on data row 2: arrow refuses the file, the line parser reads it
        body[2] += ",surplus"
    result = read(tmp_path, body, line_end)
    bad = result.rejects[result.rejects["column"] == "Category"]
    assert bad["row"].tolist() == [10]  # the tenth record, as rows are numbered
    note = " ".join(result.notes)
    assert "1 empty line (blank) skipped after row 4:" in note
    assert "row 5 is on spreadsheet row 7" in note
    # what the note says holds: row 10, one empty line above it, is on spreadsheet row 10 + 1 + 1
    assert "BADCAT" in body[12 - 1]
    # the RecordID a file without one is given is the row number, as if the empty line were not there
    id_of = dict(zip(result.clean["UPN"], result.clean["RecordID"], strict=True))
    assert [id_of[upn(3)], id_of[upn(4)], id_of[upn(10)]] == ["4", "5", "11"]


@pytest.mark.parametrize("ragged", [False, True], ids=["arrow's parse", "the line parser"])
def test_blank_and_comma_lines_are_counted_together_each_place_named(tmp_path, lines, ragged):
    commas = "," * (len(lines[0].split(",")) - 1)
    spaced = " ," * (len(lines[0].split(",")) - 1) + "\t"  # each value blank
    body = [lines[0], "", *lines[1:3], commas, "", *lines[3:8], spaced, *lines[8:]]
    if ragged:
        body[3] += ",surplus"
    result = read(tmp_path, body)
    note = " ".join(result.notes)
    places = "before row 1, after row 2 (2 lines) and after row 7"
    assert f"4 empty lines (blank or only commas) skipped {places}:" in note
    assert "row 1 is on spreadsheet row 3" in note
    assert result.rejects[result.rejects["column"] == "Category"]["row"].tolist() == [10]
    assert "BADCAT" in body[10 + 1 + 4 - 1]  # all four above it


@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_empty_lines_at_the_end_are_counted_and_move_no_row(tmp_path, lines, line_end):
    result = read(tmp_path, [*lines, "", ""], line_end)
    note = " ".join(result.notes)
    assert "2 empty lines (blank) skipped after the last row" in note and "spreadsheet" not in note
    assert result.rejects[result.rejects["column"] == "Category"]["row"].tolist() == [10]


def test_a_file_without_empty_lines_says_nothing_of_them(tmp_path, lines):
    result = read(tmp_path, lines)
    assert "empty line" not in " ".join(result.notes)
