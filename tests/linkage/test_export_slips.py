"""What a spreadsheet does to an export on its way to the readers: the census saved as Excel's "Unicode
Text" (census.txt) or as a workbook, a workbook renamed .csv, every row of a file rejected, and school
URNs written as decimals (3354028.0). Each is said plainly, naming the file, never a pupil's value."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import (
    find_extracts,
    read_census,
    read_exclusions,
    read_extracts,
    read_social_care,
)
from exclusion_risk.upn import make_upn

runner = CliRunner()


def check(*args: str):
    return runner.invoke(app, ["check", *args], catch_exceptions=False, terminal_width=200)


def _zip(first: str, body: bytes, stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(first, body)
        archive.writestr("content.xml" if stored else "xl/workbook.xml", b"<workbook/>")
    return buffer.getvalue()


XLSX = _zip("[Content_Types].xml", b"<Types/>")
ODS = _zip("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", stored=True)
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def _unicode_text(path, rows: list[dict[str, str]], header: list[str]) -> None:
    """What Excel's "Unicode Text (*.txt)" writes: UTF-16 with its BOM, tab-separated, CRLF."""
    lines = ["\t".join(header)] + ["\t".join(row.get(c, "") for c in header) for row in rows]
    path.write_bytes("\r\n".join(lines).encode("utf-16") + "\r\n".encode("utf-16-le"))


# --- 1. the census saved under another extension -------------------------------------------------


def test_census_saved_as_unicode_text_is_read_and_the_file_named(
    tmp_path, extracts_folder, census_row, mis_header
):
    folder = extracts_folder(tmp_path / "la")
    (folder / "census.csv").unlink()
    rows = [census_row(make_upn(330, 4001, 2010, i), Surname="Zqsurname") for i in range(4)]
    _unicode_text(folder / "census.txt", rows, mis_header)
    assert find_extracts(folder)["census"] == folder / "census.txt"
    result = check("--data", str(folder))
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "census.txt" in out and "read as the census" in out and "not found" not in out
    assert "Zqsurname" not in out
    extracts = read_extracts(folder)  # link's read: the same file
    assert len(extracts.census) == 4
    notes = extracts.results["census"].notes
    assert any("census.txt" in note and "read as the census" in note for note in notes)


def test_two_stand_ins_for_one_extract_are_never_guessed_between(tmp_path, extracts_folder):
    folder = extracts_folder(tmp_path / "la")
    text = (folder / "census.csv").read_text()
    (folder / "census.csv").unlink()
    (folder / "census.txt").write_text(text)
    (folder / "census.tsv").write_text(text.replace(",", "\t"))
    with pytest.raises(ExtractError) as caught:
        find_extracts(folder)
    assert "census.tsv" in str(caught.value) and "census.txt" in str(caught.value)
    result = check("--data", str(folder))
    assert result.exit_code == 2
    assert "census.tsv" in result.output and "census.txt" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("suffix", "body"), [(".xlsx", XLSX), (".xls", XLS), (".ods", ODS)])
def test_census_saved_as_a_workbook_is_named_with_what_to_do(tmp_path, extracts_folder, suffix, body):
    folder = extracts_folder(tmp_path / "la")
    (folder / "census.csv").unlink()
    (folder / f"census{suffix}").write_bytes(body)
    result = check("--data", str(folder))
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert f"census{suffix}" in out and "save it as CSV" in out and "(skipped)" not in out
    assert "exclusions" in out and "rows read" in out  # the other extracts are still checked
    with pytest.raises(ExtractError) as caught:  # link's read
        read_extracts(folder)
    assert f"census{suffix}" in str(caught.value) and "save it as CSV" in str(caught.value)


def test_a_missing_extract_with_no_stand_in_is_still_skipped_by_check(tmp_path, extracts_folder):
    folder = extracts_folder(tmp_path / "la")
    (folder / "social_care.csv").unlink()
    (folder / "notes.txt").write_text("not an extract\n")
    result = check("--data", str(folder))
    assert result.exit_code == 0, result.output
    assert "social_care: not found" in result.output and "(skipped)" in result.output


def _census_folder(folder, extracts_folder, census_row, csv_text, write, mis_header, names: dict):
    """An input folder whose census is a census/ folder: file name -> its rows' (year, term, overrides)."""
    extracts_folder(folder)
    (folder / "census.csv").unlink()
    for i, (name, (year, term, changes)) in enumerate(names.items()):
        rows = [census_row(make_upn(330, 4001, 2010, 10 * i + j), AcademicYear=year, CensusTerm=term,
                           Surname="Zqsurname", **changes) for j in range(3)]  # fmt: skip
        write(folder / "census" / name, csv_text(rows, mis_header))
    return folder


def test_a_census_folder_of_text_files_is_read_and_the_files_named(
    tmp_path, extracts_folder, census_row, csv_text, write, mis_header
):
    # census/census.txt alone was "census/: the folder holds no .csv or .parquet files", though a
    # census.txt beside the other extracts is read and named (linkage.extract_files).
    names = {"census_2016-10-06.txt": ("2016/17", "AUT", {}), "census_2017-01-19.TSV": ("2016/17", "SPR", {})}
    folder = _census_folder(tmp_path / "la", extracts_folder, census_row, csv_text, write, mis_header, names)
    result = check("--data", str(folder))
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "census_2016-10-06.txt" in out and "census_2017-01-19.TSV" in out
    assert "read as the census" in out and "rename" in out and "Zqsurname" not in out
    extracts = read_extracts(folder)  # link's read: the same files, and the same words
    assert len(extracts.census) == 6
    said = extracts.results["census"].stand_in
    assert said is not None and "census_2016-10-06.txt" in said and "census_2017-01-19.TSV" in said
    assert said in extracts.results["census"].notes


def test_text_files_beside_a_census_folders_csv_files_are_named_as_not_read(
    tmp_path, extracts_folder, census_row, csv_text, write, mis_header
):
    names = {"census_2016-10-06.csv": ("2016/17", "AUT", {}), "census_2017-01-19.txt": ("2016/17", "SPR", {})}
    folder = _census_folder(tmp_path / "la", extracts_folder, census_row, csv_text, write, mis_header, names)
    result = read_census(folder / "census")
    assert len(result.clean) == 3  # the .csv only: a folder's text files stand in only where it has none
    assert any("census_2017-01-19.txt" in note and "not read" in note for note in result.notes)


def test_a_census_folder_of_workbooks_names_them(tmp_path, extracts_folder):
    folder = extracts_folder(tmp_path / "la")
    (folder / "census.csv").unlink()
    (folder / "census").mkdir()
    (folder / "census" / "census_2016-10-06.xlsx").write_bytes(XLSX)
    with pytest.raises(ExtractError) as caught:
        read_census(folder / "census")
    assert "census_2016-10-06.xlsx" in str(caught.value) and "save" in str(caught.value)


# --- 2. a workbook (or other binary file) named .csv ---------------------------------------------


def _refusal(tmp_path, body: bytes) -> str:
    """The read's refusal of `body` saved as census.csv."""
    path = tmp_path / "census.csv"
    path.write_bytes(body)
    with pytest.raises(ExtractError) as caught:
        read_census(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("body", "kind"),
    [(XLSX, "Excel workbook"), (XLS, "Excel 97-2003 workbook"), (ODS, "OpenDocument spreadsheet"),
     (PDF, "PDF")],
)  # fmt: skip
def test_a_workbook_named_csv_is_said_to_be_one(tmp_path, body, kind):
    message = _refusal(tmp_path, body)
    assert "census.csv" in message and kind in message and "save it as CSV" in message
    assert "missing" not in message and "required" not in message


HTML_TABLE = "<html><body><table><tr><td>UPN</td><td>Surname</td></tr><tr><td>X</td><td>Y</td></tr></table>"


@pytest.mark.parametrize(
    "body",
    [HTML_TABLE.encode(), b"\xef\xbb\xbf\r\n  " + HTML_TABLE.upper().encode(),
     b"<!DOCTYPE html>\n" + HTML_TABLE.encode(), HTML_TABLE[12:].encode(),
     ("\ufeff" + HTML_TABLE).encode("utf-16")],
)  # fmt: skip
def test_an_html_table_named_csv_is_said_to_be_one(tmp_path, body):
    # A web MIS's "Export to Excel" saves an HTML table: it was read as a header with no data rows.
    message = _refusal(tmp_path, body)
    assert "census.csv" in message and "HTML" in message and "CSV UTF-8" in message
    assert "no data rows" not in message and "missing" not in message


EXCEL_XML = (
    '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">\n<Worksheet ss:Name="Census"><Table>'
    '<Row><Cell><Data ss:Type="String">UPN</Data></Cell></Row></Table></Worksheet></Workbook>\n'
)


@pytest.mark.parametrize(
    ("body", "kind"),
    [(EXCEL_XML.encode(), "an Excel XML Spreadsheet 2003 file"),
     (("\ufeff" + EXCEL_XML).encode("utf-16"), "an Excel XML Spreadsheet 2003 file"),
     (b'<?xml version="1.0" encoding="UTF-8"?>\n<Pupils><Pupil/></Pupils>', "an XML file")],
)  # fmt: skip
def test_an_xml_spreadsheet_named_csv_is_said_to_be_one(tmp_path, body, kind):
    # An MIS report saved as Excel's "XML Spreadsheet 2003" and renamed .csv was read as a CSV whose
    # header is `<?xml version="1.0"?>`: every required column "missing", and advice to remove a title line.
    message = _refusal(tmp_path, body)
    assert "census.csv" in message and kind in message and "CSV UTF-8" in message
    assert "missing" not in message and "title line" not in message


# --- 3. `check` on a file with no clean row ------------------------------------------------------


def test_check_warns_and_fails_when_every_row_of_an_extract_is_rejected(
    tmp_path, extracts_folder, census_row, csv_text, write, mis_header
):
    folder = extracts_folder(tmp_path / "la")
    # dates that are none (Excel's day numbers stop the read with their own words: test_month_first_dates)
    rows = [census_row(make_upn(330, 4001, 2010, i), DoB=f"3{i}/02/2009") for i in range(5)]
    write(folder / "census.csv", csv_text(rows, mis_header))
    result = check("--data", str(folder))
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "census.csv" in out and "no clean row" in out
    assert "DOB: not a date" in out and "5 of 5" in out  # the commonest reason, counted
    assert "/02/2009" not in out
    assert "exclusions" in out and "social_care" in out  # the others are still reported


def test_check_stays_0_when_some_rows_are_clean(
    tmp_path, extracts_folder, census_row, csv_text, write, mis_header
):
    folder = extracts_folder(tmp_path / "la")
    rows = [census_row(make_upn(330, 4001, 2010, i)) for i in range(3)]
    rows[0]["DoB"] = "39500"
    write(folder / "census.csv", csv_text(rows, mis_header))
    result = check("--data", str(folder))
    assert result.exit_code == 0, result.output
    assert "no clean row" not in result.output


def test_check_names_a_census_folders_file_with_no_clean_row(
    tmp_path, extracts_folder, census_row, csv_text, write, mis_header
):
    # The warning was per extract: a folder whose autumn file had every row rejected (and its spring
    # file clean) was checked with no word of it beyond the rejected counts.
    names = {"census_2016-10-06.csv": ("2016/17", "AUT", {"DoB": "31/02/2009"}),  # no such date
             "census_2017-01-19.csv": ("2016/17", "SPR", {})}  # fmt: skip
    folder = _census_folder(tmp_path / "la", extracts_folder, census_row, csv_text, write, mis_header, names)
    result = check("--data", str(folder))
    assert result.exit_code == 0, result.output  # the census has clean rows: link reads it
    out = " ".join(result.output.split())
    assert "census/census_2016-10-06.csv: no clean row" in out and "3 of 3" in out
    assert "census_2017-01-19.csv: no clean row" not in out and "31/02/2009" not in out


# --- 4. school URNs written as decimals ----------------------------------------------------------


def test_a_school_urn_written_as_a_decimal_is_read_as_that_urn(
    tmp_path, census_row, csv_text, write, mis_header, exclusion_row, exclusions_header
):
    written = ["3354028.0", "3354028.00", "3354028", "335/4028", "3354028.5", "104321.0"]
    rows = [census_row(make_upn(330, 4001, 2010, i), Estab=estab) for i, estab in enumerate(written)]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    assert result.clean["SchoolURN"].tolist() == ["3354028", "3354028", "3354028", "104321"]
    assert sorted(result.rejects["row"].tolist()) == [4, 5]
    assert set(result.rejects["reason"]) == {"not a school URN (6 digits) or LAEstab (7 digits)"}
    assert result.counts["school URN written as a decimal (3354028.0) read as a whole number"] == 3
    text = csv_text([exclusion_row(SchoolURN="3304001.0")], exclusions_header)
    excluded = read_exclusions(write(tmp_path / "exclusions.csv", text))
    assert excluded.clean["SchoolURN"].tolist() == ["3304001"] and excluded.rejects.empty
    assert excluded.counts["school URN written as a decimal (3354028.0) read as a whole number"] == 1
    assert pd.api.types.is_string_dtype(excluded.clean["SchoolURN"])


def test_office_lock_files_and_mac_metadata_in_a_census_folder_are_named_not_read(
    tmp_path, extracts_folder, census_row, csv_text, write, mis_header
):
    # A census file open in Excel on a shared drive leaves an owner file beside it (~$census_....csv,
    # the user's name in a few bytes); a folder copied from a Mac leaves ._ files. Both were read as
    # census files of the collection and stopped the read, while the officer had done nothing wrong.
    names = {"census_2016-10-06.csv": ("2016/17", "AUT", {}), "census_2017-01-19.csv": ("2016/17", "SPR", {})}
    folder = _census_folder(tmp_path / "la", extracts_folder, census_row, csv_text, write, mis_header, names)
    (folder / "census" / "~$census_2017-01-19.csv").write_bytes(b"\x05Jones" + b"\x00" * 40)
    (folder / "census" / "._census_2016-10-06.csv").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 60)
    result = read_census(folder / "census")
    assert len(result.clean) == 6 and result.rejects.empty
    said = " ".join(result.notes)
    assert "~$census_2017-01-19.csv" in said and "open in Excel" in said
    assert "._census_2016-10-06.csv" in said and "Mac" in said


def test_a_sub_folder_of_a_census_folder_is_named_as_not_read(
    tmp_path, extracts_folder, census_row, csv_text, write, mis_header
):
    # A year's files put in census/2017-18/ were left out without a word: the read looked complete.
    names = {"census_2016-10-06.csv": ("2016/17", "AUT", {})}
    folder = _census_folder(tmp_path / "la", extracts_folder, census_row, csv_text, write, mis_header, names)
    older = {"census_2017-10-05.csv": ("2017/18", "AUT", {})}
    _census_folder(tmp_path / "other", extracts_folder, census_row, csv_text, write, mis_header, older)
    (tmp_path / "other" / "census").rename(folder / "census" / "2017-18")
    result = read_census(folder / "census")
    assert len(result.clean) == 3
    assert any("2017-18" in note and "not read" in note for note in result.notes), result.notes


# --- 5. flags and code numbers written as decimals -----------------------------------------------


def test_a_flag_or_code_number_written_with_a_zero_decimal_part_reads_as_written_without_it(
    tmp_path, census_row, csv_text, write, mis_header, social_care_row
):
    # A pandas or Excel float export writes FSMeligible 1 as "1.0": it was rejected as an unknown FSM
    # code, while the exclusions' Sessions "2.0" was read as 2. Every code column reads it alike.
    written = [
        {"FSME on Census Day": "1.0"}, {"FSME on Census Day": "0.0"}, {"FSME on Census Day": "1.00"},
        {"NCyearActual": "9.0"}, {"NCyearActual": "10.0", "Gender": "2.0"},
        {"FSME on Census Day": "1.5"}, {"FSME on Census Day": "2"}, {"NCyearActual": "9.5"},
    ]  # fmt: skip
    rows = [census_row(make_upn(330, 4001, 2010, i), **cells) for i, cells in enumerate(written)]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    clean = result.clean
    assert clean["FSMeligible"].tolist()[:5] == [True, False, True, False, False]
    assert clean["NCyearActual"].tolist()[3:5] == ["9", "10"] and clean["Sex"].tolist()[4] == "F"
    assert sorted(result.rejects["row"].tolist()) == [6, 7, 8]
    assert len(result.clean) + len(result.rejects) == result.rows_read == 8
    text = csv_text([social_care_row(Sex="2.0")])  # social care's CIN digits read the same way
    cared = read_social_care(write(tmp_path / "social_care.csv", text))
    assert cared.clean["Sex"].tolist() == ["F"] and cared.rejects.empty
