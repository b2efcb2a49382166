"""Structure an export tool leaves in a CSV that is no record: Excel's empty rows (a line of only
delimiters), a DOS end-of-file mark (Ctrl-Z) at the end, a properly quoted value over several lines,
and one stray quote. Each case is read through the linkage reader and through the service's upload
(the same reader), and every record is accounted for: clean + rejected = the records in the file,
counted here from how the file was written, not through any parser."""

from __future__ import annotations

import pytest

from exclusion_risk.linkage import csv_records
from exclusion_risk.linkage.readers import read_census
from exclusion_risk.serving.scoring import read_census_bytes
from exclusion_risk.upn import make_upn

PUPILS = 30


def upn(i: int) -> str:
    return make_upn(330, 4001, 2010, i)


@pytest.fixture
def lines(census_row, csv_text, mis_header) -> list[str]:
    """A census of PUPILS pupils as lines (header first), each with its own UPN and surname."""
    rows = [census_row(upn(i), Surname=f"Surname{i:02d}") for i in range(PUPILS)]
    return csv_text(rows, mis_header).splitlines()


def read_both(tmp_path, data: bytes, records: int):
    """`data` read as census.csv by the linkage reader and as the service's upload; both checked to
    account for `records`: the linkage reader's result and the upload's (clean, rejects)."""
    path = tmp_path / "census.csv"
    path.write_bytes(data)
    result = read_census(path)
    assert result.rows_read == records
    assert len(result.clean) + len(result.rejects) == records
    assert result.rejects["row"].is_unique
    clean, rejects = read_census_bytes(data, "census.csv")
    assert len(clean) + len(rejects) == records
    assert rejects["row"].tolist() == result.rejects["row"].tolist()
    return result, (clean, rejects)


# --- 1. a line of only delimiters is no record ------------------------------------------------------


@pytest.mark.parametrize("ragged", [False, True], ids=["arrow's parse", "the line parser"])
def test_lines_of_only_delimiters_are_skipped_and_counted(tmp_path, lines, mis_header, ragged):
    empty = "," * (len(mis_header) - 1)  # Excel's empty row: one comma fewer than the columns
    spaced = " ," * (len(mis_header) - 1) + "\t"  # the header's width, each value blank
    body = [*lines[:10], empty, *lines[10:], empty, spaced, empty]
    if ragged:  # a row with a surplus field: arrow refuses the file, the line parser reads it
        body[3] += ",surplus"
        body[-2:] = [" , ,\t,", "," * (len(mis_header) + 1)]  # other widths: only the line parser
    data = ("\n".join(body) + "\n").encode()
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS - ragged and len(clean) == PUPILS - ragged
    assert result.rejects["row"].tolist() == ([3] if ragged else [])
    row_of = dict(zip(result.clean["UPN"], result.clean["_row"], strict=True))
    assert [row_of[upn(9)], row_of[upn(10)]] == [10, 11]  # the empty line between took no row number
    assert "4 empty lines (only commas) skipped" in " ".join(result.notes)


def test_a_line_of_quoted_empty_values_is_still_a_record(tmp_path, lines, mis_header):
    # a JSON row of nothing but nulls is written so by the service: it is a record, and rejected
    quoted = ",".join(['""'] * len(mis_header))
    data = ("\n".join([*lines, quoted]) + "\n").encode()
    result, _ = read_both(tmp_path, data, PUPILS + 1)
    assert result.rejects["row"].tolist() == [PUPILS + 1]
    assert "skipped" not in " ".join(result.notes)


# --- 2. a DOS end-of-file mark at the end ----------------------------------------------------------


@pytest.mark.parametrize("final_newline", [True, False], ids=["after the final newline", "no newline"])
def test_a_trailing_ctrl_z_is_dropped_and_counted(tmp_path, lines, final_newline):
    data = ("\n".join(lines) + ("\n" if final_newline else "") + "\x1a").encode()
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS and result.rejects.empty and rejects.empty
    assert "end-of-file mark (Ctrl-Z) at the end dropped" in " ".join(result.notes)


def test_a_ctrl_z_inside_the_file_still_rejects_its_row(tmp_path, lines):
    body = list(lines)
    body[5] = body[5].replace("Surname04", "Sur\x1aname")
    result, _ = read_both(tmp_path, ("\n".join(body) + "\n").encode(), PUPILS)
    assert result.rejects["row"].tolist() == [5]


# --- 3. a properly quoted value over several lines is one record ------------------------------------


def _with_notes(lines: list[str], notes: dict[int, str]) -> list[str]:
    """`lines` with a Notes column (an extra column: read, not kept), quoted as pandas writes it."""
    out = [lines[0] + ",Notes"]
    for i, line in enumerate(lines[1:], start=1):
        note = notes.get(i, "")
        out.append(line + "," + ('"' + note.replace('"', '""') + '"' if note else ""))
    return out


@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_a_quoted_value_with_a_line_break_and_a_comma_is_one_record(tmp_path, lines, line_end):
    body = _with_notes(lines, {4: 'Oak, "The" Academy\nAnnex', 20: "a, b\nc, d\ne"})
    data = (line_end.join(body) + line_end).encode()
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS and result.rejects.empty and rejects.empty
    assert result.clean["_row"].tolist() == list(range(1, PUPILS + 1))
    assert result.clean["UPN"].tolist() == [upn(i) for i in range(PUPILS)]


def test_a_multi_line_record_that_must_be_rejected_is_one_rejected_row(tmp_path, lines):
    body = _with_notes(lines, {4: 'Oak, "The" Academy\nAnnex'})
    body[4] = body[4].replace(",Surname03,", ",", 1)  # one field short: the record is rejected whole
    result, _ = read_both(tmp_path, ("\n".join(body) + "\n").encode(), PUPILS)
    assert result.rejects["row"].tolist() == [4] and len(result.clean) == PUPILS - 1
    reason = result.rejects["reason"].iloc[0]
    assert reason.startswith("wrong number of fields")
    assert "data lines 4 to 5" in reason and "line 6" not in reason  # numbered as rows are
    assert result.clean["_row"].tolist()[3:5] == [5, 6]


# --- 4. a stray quote loses only its own line --------------------------------------------------------


def test_a_stray_quote_rejects_only_its_line(tmp_path, lines):
    body = list(lines)
    body[12] = body[12].replace(",M,", ',"M,', 1)  # data row 12: its Gender opens a quote never closed
    result, (clean, rejects) = read_both(tmp_path, ("\n".join(body) + "\n").encode(), PUPILS)
    assert result.rejects["row"].tolist() == [12] and rejects["row"].tolist() == [12]
    assert result.rejects["column"].tolist() == ["Gender"]
    assert "stray quote" in result.rejects["reason"].iloc[0]
    assert result.clean["UPN"].tolist() == [upn(i) for i in range(PUPILS) if i != 11]
    assert result.clean["_row"].tolist() == [r for r in range(1, PUPILS + 1) if r != 12]


def test_after_a_stray_quote_a_proper_multi_line_value_is_still_one_record(tmp_path, lines):
    body = _with_notes(lines, {20: 'Oak, "The" Academy\nAnnex'})
    body[12] = body[12].replace(",M,", ',"M,', 1)
    body[25] = body[25].replace(",M,", ',"M,', 1)  # a second stray quote, after the multi-line value
    result, _ = read_both(tmp_path, ("\n".join(body) + "\n").encode(), PUPILS)
    assert result.rejects["row"].tolist() == [12, 25]
    assert len(result.clean) == PUPILS - 2 and upn(19) in set(result.clean["UPN"])


def test_stray_quotes_on_every_line_are_read_in_linear_time():
    header = ["UPN", "Surname", "Forename"]
    text = "UPN,Surname,Forename\n" + "".join(f'A{i},"Brien,X\n' for i in range(20_000))
    parsed = csv_records.parse_records(text, ",", header)
    assert parsed.rows == 20_000 and len(parsed.bad_rows) == 20_000
