"""Structure an export tool leaves in a CSV that is no record: Excel's empty rows (a line of only
delimiters), a DOS end-of-file mark (Ctrl-Z) at the end, a properly quoted value over several lines,
and one stray quote. Each case is read through the linkage reader and through the service's upload
(the same reader), and every record is accounted for: clean + rejected = the records in the file,
counted here from how the file was written, not through any parser."""

from __future__ import annotations

import numpy as np
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


def test_a_line_of_delimiters_too_long_for_a_row_is_a_rejected_row_and_within_the_upload_bound(
    tmp_path, lines, mis_header
):
    # A line of only commas longer than any row can be is rejected as a row (broken structure, read no
    # further); the service's bound before it reads an upload subtracted it as an empty row: 30 pupils
    # and one such line were 31 rows read against a bound of 30.
    from exclusion_risk.linkage.record_bound import records_at_most

    over = "," * (csv_records.line_limit(len(mis_header)) + 1)
    data = ("\n".join([*lines[:5], over, *lines[5:], "," * 5]) + "\n").encode()
    result, _ = read_both(tmp_path, data, PUPILS + 1)
    assert len(result.clean) == PUPILS and result.rejects["row"].tolist() == [5]
    assert records_at_most(data) >= result.rows_read
    assert records_at_most(data.replace(over.encode(), b",,")) == PUPILS  # Excel's empty rows: not counted


# --- 2. a DOS end-of-file mark at the end ----------------------------------------------------------


@pytest.mark.parametrize("final_newline", [True, False], ids=["after the final newline", "no newline"])
def test_a_trailing_ctrl_z_is_dropped_and_counted(tmp_path, lines, final_newline):
    data = ("\n".join(lines) + ("\n" if final_newline else "") + "\x1a").encode()
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS and result.rejects.empty and rejects.empty
    assert "end-of-file mark (Ctrl-Z) at the end dropped" in " ".join(result.notes)


@pytest.mark.parametrize(
    "ending", ["\x1a\r\n", "\x1a\n", "\r\n\x1a\r\n", "\n\x1a\x1a\n\n"],
    ids=["Ctrl-Z CRLF", "Ctrl-Z LF", "CRLF Ctrl-Z CRLF", "LF Ctrl-Z Ctrl-Z LF LF"],
)
def test_a_trailing_ctrl_z_followed_by_a_line_end_is_dropped_and_counted(tmp_path, lines, ending):
    # An export that wrote Ctrl-Z and then a line end left a phantom row of one field, rejected for its
    # number of fields: the reader took only a Ctrl-Z at the very last byte for the end-of-file mark.
    data = ("\r\n".join(lines) + ending).encode()
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS and result.rejects.empty and rejects.empty
    marks = ending.count("\x1a")
    said = f"{marks} end-of-file mark{'s' if marks > 1 else ''} (Ctrl-Z) at the end dropped"
    assert said in " ".join(result.notes)


@pytest.mark.parametrize(
    "ending", ["\x1a\r\n  \r\n", "\x1a\r\n\t\r\n\r\n", "\r\n\x1a \r\n"],
    ids=["Ctrl-Z then a line of blanks", "Ctrl-Z then a tab line", "Ctrl-Z then a blank"],
)
def test_a_trailing_ctrl_z_followed_by_blanks_is_dropped_and_counted(tmp_path, lines, ending):
    # After the end-of-file mark, a line of blanks left the mark a phantom rejected row of one field (31
    # rows read of 30 pupils) while the blanks were skipped as an empty line.
    from exclusion_risk.linkage.record_bound import records_at_most

    data = ("\r\n".join(lines) + ending).encode()
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS and result.rejects.empty and rejects.empty
    assert "1 end-of-file mark (Ctrl-Z) at the end dropped" in " ".join(result.notes)
    assert records_at_most(data) == PUPILS


def test_blanks_ending_the_last_row_before_a_ctrl_z_are_the_rows(tmp_path, lines):
    # The last row's own trailing blanks (a tab-delimited file's empty last value) are not the mark's.
    tabbed = [line.replace(",", "\t") + "\t" for line in lines]
    data = ("\r\n".join(tabbed) + "\x1a").encode()
    result, _ = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS


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


def test_stray_quotes_on_every_line_reject_each_line_alone():
    header = ["UPN", "Surname", "Forename"]
    text = "UPN,Surname,Forename\n" + "".join(f'A{i},"Brien,X\n' for i in range(20_000))
    parsed = csv_records.parse_records(text, ",", header)
    assert parsed.rows == 20_000 and len(parsed.bad_rows) == 20_000


class _CountingLines(list):
    """The parser's lines, counting the lines each slice of them copies."""

    copied = 0

    def __getitem__(self, key):
        if isinstance(key, slice):
            _CountingLines.copied += len(range(*key.indices(len(self))))
        return super().__getitem__(key)


def test_a_stray_quote_does_not_copy_the_rest_of_the_file():
    # each stray quote had sliced lines[start:end], the rest of the file: 20,000 stray quotes copied
    # about 200 million lines (quadratic; 80,000 lines took 11.5 s against 0.065 s before 1d068c3)
    n = 20_000
    lines = _CountingLines(["UPN,Surname,Forename"] + [f'A{i},"Brien,X' for i in range(n)])
    _CountingLines.copied = 0
    parsed = csv_records.ParsedRecords()
    csv_records._parse_lines(parsed, lines, ",", ["UPN", "Surname", "Forename"])
    assert parsed.rows == n and len(parsed.bad_rows) == n
    assert _CountingLines.copied <= 2 * n


class _CountingBytes(bytes):
    """A file's bytes, counting how far each find() looks."""

    scanned = 0

    def find(self, sub, start=0, *args):
        found = super().find(sub, start, *args)
        _CountingBytes.scanned += (len(self) if found < 0 else found) - start
        return found


def test_the_empty_line_check_looks_at_each_line_once():
    # it looked for the next LF and the next CR from every candidate line: in an LF-only file the CR
    # search ran to the end each time (a 200,000-line upload: 28 s)
    n = 20_000
    text = "UPN,Name\n" + "".join(",\n" if i % 2 else f"A{i},x\n" for i in range(n))
    data = _CountingBytes(text.encode())
    _CountingBytes.scanned = 0
    ordinals = np.arange(2, n + 1, 2)  # the comma-only lines (0 is the header)
    empty = csv_records.empty_lines_at(data, ordinals, ",")
    assert empty.all() and len(empty) == n // 2
    assert _CountingBytes.scanned <= 2 * len(data)


def test_a_stray_quote_in_a_two_column_file_does_not_swallow_rows_unrejected():
    # with two columns a swallowed row ("A2,ok") holds one delimiter; two were asked of a row-like line,
    # so A2 and A3 vanished into A1's Notes with nothing rejected
    text = 'UPN,Notes\nA1,"He said\nA2,ok\nA3,fine"\nA4,x\n'
    parsed = csv_records.parse_records(text, ",", ["UPN", "Notes"])
    assert parsed.rows == 4 and parsed.bad_rows == [1]  # A1's line alone, as in a wider file
    assert [record[0] for record in parsed.good] == ["A2", "A3", "A4"]


def test_the_upload_bound_reads_the_header_as_the_reader_does_after_a_byte_order_mark(tmp_path, lines):
    # Excel's "CSV UTF-8" starts with a BOM. Before a quoted first name holding a comma, the reader
    # (which drops the BOM) reads the header's names as written; the service's bound parsed the raw
    # bytes, where the BOM keeps the quote from opening the value, found one name more, and so took a
    # line of commas the reader rejects as too long for a row for an empty one: 31 rows read against a
    # bound of 30.
    import csv

    from exclusion_risk.linkage.record_bound import records_at_most

    header = '"Notes, free text",' + lines[0]
    width = len(next(csv.reader([header])))
    over = "," * (csv_records.line_limit(width) + 1)
    body = ["x," + line for line in lines[1:]]
    data = b"\xef\xbb\xbf" + ("\n".join([header, *body[:5], over, *body[5:]]) + "\n").encode()
    result, _ = read_both(tmp_path, data, PUPILS + 1)
    assert result.rejects["row"].tolist() == [6]
    assert records_at_most(data) >= result.rows_read


# --- 5. Excel's "sep=" line before the header -------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "delimiter", "encoding"),
    [("sep=,", ",", "utf-8"), ("SEP=;", ";", "utf-8"), ("sep=,", ",", "utf-8-sig"),
     ("sep=\t", "\t", "utf-16")],
    ids=["comma", "semicolon", "UTF-8 with BOM", "UTF-16 tab"],
)
def test_an_excel_sep_line_before_the_header_is_skipped_and_said(tmp_path, lines, first, delimiter, encoding):
    # A CSV written for Excel can start with "sep=," (Excel hides the line and takes the delimiter from
    # it): read as the header, every required column was said to be missing and no row of it was read.
    body = [line.replace(",", delimiter) for line in lines]
    data = "\r\n".join([first, *body, ""]).encode(encoding)
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS and len(clean) == PUPILS and result.rejects.empty and rejects.empty
    assert result.clean["_row"].tolist() == list(range(1, PUPILS + 1))
    words = {",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter]
    assert f"Excel's delimiter line before the header skipped (it names {words})" in " ".join(result.notes)


# --- 6. a line break in a column name (Alt+Enter in an Excel header cell) -------------------------


@pytest.mark.parametrize(
    ("name", "written"),
    [("FSME on Census Day", '"FSME on\nCensus Day"'), ("CensusTerm", '"Census\r\nTerm"'),
     ("Estab", '"Es\ntab"')],
    ids=["mid-header", "last column, CRLF", "first column"],
)
def test_a_column_name_over_two_lines_is_one_header(tmp_path, lines, name, written):
    # Read as the first line only, the header was cut at the break: mid-header, columns that are there
    # were "missing"; as the last column, the rest of the name became row 1 (a rejected phantom) and
    # every row number after it was one too high.
    body = [lines[0].replace(name, written), *lines[1:]]
    data = ("\r\n".join(body) + "\r\n").encode()
    result, (clean, rejects) = read_both(tmp_path, data, PUPILS)
    assert len(result.clean) == PUPILS and result.rejects.empty and rejects.empty
    assert result.clean["_row"].tolist() == list(range(1, PUPILS + 1))
    assert result.clean["UPN"].tolist() == [upn(i) for i in range(PUPILS)]
    assert "the header runs over 2 lines (a line break in a column name)" in " ".join(result.notes)


def test_a_quote_inside_a_column_name_takes_no_row_into_the_header(tmp_path, lines):
    # A quote inside an unquoted name (Sur"name) is no quoting: the lines after it, to one whose quote
    # balances it, are rows, not the rest of the header.
    body = [lines[0].replace("Surname", 'Sur"name'), *lines[1:]]
    body[4] = body[4].replace("Surname03", 'Surname03"')
    result, _ = read_both(tmp_path, ("\n".join(body) + "\n").encode(), PUPILS)
    assert result.clean["_row"].tolist() == list(range(1, PUPILS + 1))
    assert "header runs over" not in " ".join(result.notes)


def test_a_long_column_name_over_two_lines_is_one_header(tmp_path, lines):
    # an extra notes column whose name (over 60 characters) holds a line break: the header was cut there
    name = '"Notes from the inclusion lead on the pupil\'s support plan\n(free text, optional; not shared)"'
    body = [f"{lines[0]},{name}", *(f"{line},x" for line in lines[1:])]
    result, _ = read_both(tmp_path, ("\n".join(body) + "\n").encode(), PUPILS)
    assert len(result.clean) == PUPILS and result.rejects.empty
    assert result.clean["_row"].tolist() == list(range(1, PUPILS + 1))


def test_an_unclosed_quote_in_the_header_takes_no_row_into_it(tmp_path, lines):
    # `"CensusTerm` never closed, and a later row's stray quote balancing it: the lines between are rows
    body = [lines[0].replace("CensusTerm", '"CensusTerm'), *lines[1:]]
    body[3] = body[3].replace("Surname02", 'Surname02"')
    result, _ = read_both(tmp_path, ("\n".join(body) + "\n").encode(), PUPILS)
    assert result.clean["_row"].tolist() == list(range(1, PUPILS + 1))
    assert "header runs over" not in " ".join(result.notes)
