"""Readers on real-shaped and broken extracts: nothing lost, everything normalised, clear errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.contract import REJECT_COLUMNS
from exclusion_risk.linkage.codes import CATEGORY_HINT
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.extract_frames import (
    ATTENDANCE_TO_DATE,
    CENSUS_FRAME_COLUMNS,
    EXCLUSION_FRAME_COLUMNS,
    SESSION_COLUMNS,
    SOCIAL_CARE_FRAME_COLUMNS,
    apply_attendance,
)
from exclusion_risk.linkage.history import pupil_history
from exclusion_risk.linkage.readers import (
    read_census,
    read_exclusions,
    read_extracts,
    read_social_care,
)
from exclusion_risk.upn import make_upn

UPN_A = make_upn(330, 4001, 2010, 1)  # also the UPN of `census_row()` and `exclusion_row()`
UPN_B = make_upn(330, 4001, 2010, 2)
UPN_C = make_upn(330, 4001, 2010, 3)
BAD_CHECK_LETTER = ("B" if UPN_C[0] != "B" else "C") + UPN_C[1:]
NO_LINKS = pd.DataFrame({"source": [], "record_id": [], "upn": []}, dtype="string")


def assert_nothing_lost(result, rows: int) -> None:
    """Every input row is clean or rejected, exactly once."""
    clean_rows = set(result.clean["_row"])
    rejected_rows = list(result.rejects["row"])
    assert len(rejected_rows) == len(set(rejected_rows)), "one rejects line per rejected row"
    assert clean_rows.isdisjoint(rejected_rows)
    assert clean_rows | set(rejected_rows) == set(range(1, rows + 1))
    assert len(result.clean) + len(result.rejects) == result.rows_read == rows


# --- headers and normalisation -------------------------------------------------------------------


def test_mis_export_header_reads_as_it_is_and_values_are_normalised(
    tmp_path, census_row, csv_text, write, mis_header
):
    rows = [
        census_row(f" {UPN_A.lower()} ", Gender="F", DoB="01/03/2008", Ethnicity="WENG", SENprovision="K",
                   SENNeed1="BESD", Postcode="ws11aa", **{"FSME on Census Day": "Y"}),
        census_row(UPN_B, Gender="1", DoB="2008-03-02 00:00:00", NCyearActual="07", Ethnicity="APKA",
                   **{"FSME on Census Day": "false"}),
        census_row(BAD_CHECK_LETTER, Gender="2", DoB="5/3/2008", NCyearActual="R", Postcode="not a postcode"),
    ]  # fmt: skip
    path = write(tmp_path / "census.csv", csv_text(rows, mis_header))
    result = read_census(path)
    assert_nothing_lost(result, 3)
    census = result.clean
    assert list(census.columns) == CENSUS_FRAME_COLUMNS + ["_file", "_row"]
    assert census["UPN"].tolist() == [UPN_A, UPN_B, BAD_CHECK_LETTER]
    # an invalid check letter is reported and the pupil kept
    assert census["UPNvalid"].tolist() == [True, True, False]
    assert result.counts["invalid UPN (kept)"] == 1
    assert census["Sex"].tolist() == ["F", "M", "F"]
    assert census["DOB"].tolist() == [pd.Timestamp(d) for d in ("2008-03-01", "2008-03-02", "2008-03-05")]
    assert census["DOB"].dtype == "datetime64[ns]"
    assert census["Ethnicity"].tolist() == ["WBRI", "APKN", "BAFR"]
    assert census["SENtype"].tolist()[0] == "SEMH" and census["SENtype"].isna().tolist()[1:] == [True, True]
    assert census["FSMeligible"].tolist() == [True, False, False] and census["FSMeligible"].dtype == "boolean"
    assert census["NCyearActual"].tolist() == ["4", "7", "R"]
    assert census["SchoolURN"].tolist() == ["3304001"] * 3
    assert census["Postcode"].tolist()[:2] == ["WS1 1AA", "WS1 1AA"] and pd.isna(census["Postcode"][2])
    assert census["_file"].tolist() == ["census.csv"] * 3 and census["_row"].tolist() == [1, 2, 3]
    # attendance columns absent from the export: missing, never zero
    assert census["SessionsPossible"].isna().all() and census["SessionsPossible"].dtype == "Int64"
    assert any(
        "Gender -> Sex" in note and "FSME on Census Day -> FSMeligible" in note for note in result.notes
    )


def test_blank_optional_number_is_missing_not_zero(tmp_path, census_row, csv_text, write, mis_header):
    header = mis_header + ["SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"]
    rows = [
        census_row(
            UPN_A, SessionsPossible="380", SessionsAuthorisedAbsence="12.0", SessionsUnauthorisedAbsence="0"
        ),
        census_row(UPN_B, SessionsPossible="", SessionsAuthorisedAbsence="", SessionsUnauthorisedAbsence=""),
    ]
    census = read_census(write(tmp_path / "census.csv", csv_text(rows, header))).clean
    assert census["SessionsPossible"].tolist()[0] == 380 and pd.isna(census["SessionsPossible"][1])
    assert census["SessionsAuthorisedAbsence"].tolist()[0] == 12
    assert census["SessionsUnauthorisedAbsence"].tolist()[0] == 0  # a real zero stays zero


def test_header_case_and_spacing_do_not_matter_and_extra_columns_are_ignored(
    tmp_path, census_row, csv_text, write
):
    rows = [
        {k.upper().replace("SENNEED1", "sen need 1"): v for k, v in census_row().items()} | {"Shoe size": "5"}
    ]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows)))
    assert len(result.clean) == 1 and "Shoe size" not in result.clean.columns


def test_missing_required_column_is_one_clear_error_naming_file_and_column(
    tmp_path, census_row, csv_text, write, mis_header
):
    header = [c for c in mis_header if c != "DoB"]
    path = write(tmp_path / "census.csv", csv_text([census_row()], header))
    with pytest.raises(ExtractError) as caught:
        read_census(path)
    message = str(caught.value)
    assert message.startswith("census.csv") and "'DOB'" in message and "missing" in message
    assert "\n" not in message
    assert caught.value.column == "DOB"


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "empty"), (b"\n  \n", "empty"), (None, "no data rows")],  # None: the MIS header line alone
)
def test_empty_and_header_only_files_are_clear_errors(tmp_path, content, expected, mis_header):
    if content is None:
        content = (",".join(mis_header) + "\n").encode()
    path = tmp_path / "census.csv"
    path.write_bytes(content)
    with pytest.raises(ExtractError, match=expected) as caught:
        read_census(path)
    assert str(caught.value).startswith("census.csv")


# --- encodings -----------------------------------------------------------------------------------


# UTF-32 (with its byte-order mark; either byte order): read before as UTF-16, every row rejected
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-32", "utf-32-be"])
def test_each_encoding_reads_names_with_accents(tmp_path, encoding, census_row, csv_text, write, mis_header):
    rows = [census_row(UPN_A, Surname="Zoë-Müller", Forename="Renée")]
    text = csv_text(rows, mis_header)
    if encoding == "utf-32-be":  # Python writes no byte-order mark for a named byte order
        text = "\ufeff" + text
    result = read_census(write(tmp_path / "census.csv", text, encoding))
    assert result.clean["Surname"].tolist() == ["Zoë-Müller"] and result.clean["Forename"].tolist() == [
        "Renée"
    ]
    assert result.clean["SchoolURN"].tolist() == ["3304001"]  # the BOM did not stick to the first header


def test_bytes_undefined_in_windows_1252_reject_their_rows_only(tmp_path, census_row, csv_text, mis_header):
    text = csv_text(
        [census_row(UPN_A, Surname="Zoë"), census_row(UPN_B, Surname="XX"), census_row(UPN_C)], mis_header
    )
    data = text.encode("cp1252").replace(b"XX", b"X\x81")  # 0x81 means nothing in Windows-1252
    path = tmp_path / "census.csv"
    path.write_bytes(data)
    result = read_census(path)
    assert_nothing_lost(result, 3)
    assert result.clean["Surname"].tolist() == ["Zoë", "Okafor"]
    (reject,) = result.rejects.to_dict("records")
    assert reject["row"] == 2 and reject["column"] == "Surname" and "undecodable" in reject["reason"]
    assert any("Windows-1252" in note for note in result.notes)


def test_utf8_file_with_one_windows_1252_row_reads_that_row_as_windows_1252(
    tmp_path, census_row, csv_text, mis_header
):
    """A "Zoë" pasted in Windows-1252 into a UTF-8 file was rejected as "neither UTF-8 nor Windows-1252",
    which 0xEB is, and the pupil lost. The row is read as Windows-1252, and the note counts it."""
    rows = [census_row(UPN_A, Surname="Zoë"), census_row(UPN_B, Surname="XX"), census_row(UPN_C)]
    path = tmp_path / "census.csv"
    path.write_bytes(csv_text(rows, mis_header).encode("utf-8").replace(b"XX", b"Zo\xebtest"))
    result = read_census(path)
    assert_nothing_lost(result, 3)
    assert result.rejects.empty
    assert result.clean["Surname"].tolist() == ["Zoë", "Zoëtest", "Okafor"]  # the other rows as UTF-8
    (note,) = [n for n in result.notes if "census.csv" in n]
    assert "1 row was not UTF-8 and read as Windows-1252 (a file mixing encodings)" in note
    assert any("Windows-1252" in remark for remark in result.remarks)  # the service's warnings too


def test_utf8_file_with_a_row_undefined_in_windows_1252_rejects_that_row_only(
    tmp_path, census_row, csv_text, mis_header
):
    text = csv_text([census_row(UPN_A, Surname="Zoë"), census_row(UPN_B, Surname="XX")], mis_header)
    path = tmp_path / "census.csv"
    path.write_bytes(text.encode("utf-8").replace(b"XX", b"X\x81"))  # 0x81: nothing in Windows-1252
    result = read_census(path)
    assert_nothing_lost(result, 2)
    assert result.clean["Surname"].tolist() == ["Zoë"]  # not mojibake: the file was judged UTF-8
    assert result.rejects["row"].tolist() == [2] and "undecodable" in result.rejects["reason"].iloc[0]


def test_mixed_encoding_note_counts_and_names_only_the_rows_read_as_windows_1252(
    tmp_path, census_row, csv_text, mis_header
):
    """The note counted a row whose bytes are undefined in Windows-1252 too (0x81), rejected as
    undecodable: it counts only the rows read, and names them as the rejects number rows (an empty line
    above is no row)."""
    names = ["Zoëë", "XX", "YY"]
    rows = [census_row(u, Surname=n) for u, n in zip([UPN_A, UPN_B, UPN_C], names, strict=True)]
    text = csv_text(rows, mis_header)  # two UTF-8 characters to two broken bytes: the file is UTF-8
    first_end = text.index("\n", text.index("\n") + 1) + 1  # after the first data row
    text = text[:first_end] + "\n" + text[first_end:]
    path = tmp_path / "census.csv"
    path.write_bytes(text.encode("utf-8").replace(b"XX", b"Zo\xeb").replace(b"YY", b"X\x81"))
    result = read_census(path)
    assert result.clean["Surname"].tolist() == ["Zoëë", "Zoë"]
    assert result.rejects["row"].tolist() == [3] and "undecodable" in result.rejects["reason"].iloc[0]
    (note,) = [n for n in result.notes if "census.csv" in n]
    assert "1 row was not UTF-8 and read as Windows-1252 (a file mixing encodings)" in note
    assert "check its name at row 2" in note


def test_mixed_encoding_note_numbers_rows_past_a_value_over_two_lines(
    tmp_path, census_row, csv_text, mis_header
):
    """A quoted value over two lines is one row (the line-by-line parse): the note's rows are the
    rejects' rows, not the file's lines."""
    upns = [UPN_A, UPN_B, UPN_C, make_upn(330, 4001, 2010, 9)]
    names = ["Zoëëë", "XX", "YY", "XX"]
    rows = [census_row(u, Surname=n) for u, n in zip(upns, names, strict=True)]
    rows[0]["Forename"] = "QQQ"
    data = csv_text(rows, mis_header).encode("utf-8").replace(b"QQQ", b'"Ann\nMarie"')
    path = tmp_path / "census.csv"
    path.write_bytes(data.replace(b"XX", b"Zo\xeb").replace(b"YY", b"X\x81"))
    result = read_census(path)
    assert result.rejects["row"].tolist() == [3] and "undecodable" in result.rejects["reason"].iloc[0]
    (note,) = [n for n in result.notes if "census.csv" in n]
    assert "2 rows were not UTF-8 and read as Windows-1252" in note and "their names at rows 2, 4" in note


# --- broken rows ---------------------------------------------------------------------------------


def test_bad_dates_unknown_codes_and_duplicates_are_rejected_with_row_and_reason(
    tmp_path, census_row, csv_text, write, mis_header
):
    rows = [
        census_row(UPN_A),
        census_row(UPN_B, DoB="31/02/2008"),  # no such day
        census_row(UPN_C, DoB="2008-13-01"),  # no such month
        census_row(UPN_A, DoB="yesterday"),
        census_row(UPN_A, DoB="1900-01-01"),  # an MIS placeholder, not a birth date
        census_row(UPN_B, Ethnicity="ZZZZ"),
        census_row(UPN_B, SENprovision="X", Gender="Q"),  # two failures, one line
        census_row(UPN_A),  # exact duplicate of row 1
        census_row(UPN_A, Forename="Chidie"),  # differs in one field: not a duplicate
        census_row(UPN_C, AcademicYear="2016/18"),
    ]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    assert_nothing_lost(result, len(rows))
    assert result.clean["_row"].tolist() == [1, 9]
    rejects = result.rejects.set_index("row")
    assert list(result.rejects.columns) == REJECT_COLUMNS
    assert rejects.loc[2, "column"] == "DOB" and rejects.loc[2, "value"] == "31/02/2008"
    assert rejects.loc[2, "reason"].startswith("not a date")
    assert rejects.loc[3, "value"] == "2008-13-01" and rejects.loc[4, "value"] == "yesterday"
    assert rejects.loc[5, "reason"].startswith("not a date")
    assert (rejects.loc[6, "column"], rejects.loc[6, "value"]) == ("Ethnicity", "ZZZZ")
    assert rejects.loc[6, "reason"] == "unknown Ethnicity code"
    assert rejects.loc[7, "column"] == "Sex | SENprovision" and rejects.loc[7, "value"] == "Q | X"
    assert rejects.loc[8, "reason"] == "exact duplicate of row 1"
    assert rejects.loc[10, "column"] == "AcademicYear"


def test_duplicates_name_the_first_copy_and_threaded_encoding_changes_nothing(
    tmp_path, monkeypatch, census_row, csv_text, write, mis_header
):
    import exclusion_risk.linkage.raw_file as raw_file

    rows = [census_row(UPN_A), census_row(UPN_B), census_row(UPN_A), census_row(UPN_B), census_row(UPN_A)]
    rows += [census_row(UPN_C, Postcode=""), census_row(UPN_C, Postcode=""), census_row(UPN_C, Postcode=" ")]
    path = write(tmp_path / "census.csv", csv_text(rows, mis_header))
    sequential = read_census(path)
    monkeypatch.setattr(raw_file, "PARALLEL_ROWS", 0)  # big-file path: columns encoded on threads
    threaded = read_census(path)
    for result in (sequential, threaded):
        assert_nothing_lost(result, len(rows))
        reasons = result.rejects.set_index("row")["reason"].to_dict()
        # blank and " " are different text: not a duplicate (both read as missing afterwards)
        assert reasons == {3: "exact duplicate of row 1", 4: "exact duplicate of row 2",
                           5: "exact duplicate of row 1", 7: "exact duplicate of row 6"}  # fmt: skip
    pd.testing.assert_frame_equal(sequential.clean, threaded.clean)
    pd.testing.assert_frame_equal(sequential.rejects, threaded.rejects)


def test_required_value_blank_is_rejected_but_invalid_upn_is_kept(
    tmp_path, census_row, csv_text, write, mis_header
):
    rows = [census_row(""), census_row("NOT-A-UPN"), census_row(UPN_B, SENprovision="")]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    assert_nothing_lost(result, 3)
    # kept in its tidy form (upn.upn_key: separators removed, as from `E330-205709725`), still invalid
    assert result.clean["UPN"].tolist() == ["NOTAUPN"] and not result.clean["UPNvalid"].any()
    assert set(result.rejects["reason"]) == {"missing value"}
    assert result.rejects["column"].tolist() == ["UPN", "SENprovision"]


def test_rows_with_the_wrong_number_of_fields_are_rejected_and_numbering_holds(
    tmp_path, census_row, csv_text, write, mis_header
):
    text = csv_text([census_row(UPN_A), census_row(UPN_B), census_row(UPN_C)], mis_header)
    lines = text.splitlines()
    lines[2] += ",surplus"  # data row 2
    lines.insert(3, "")  # a blank line is not a row
    lines.append("")
    lines[1] += ","  # a stray trailing delimiter with nothing after it is tolerated
    result = read_census(write(tmp_path / "census.csv", "\n".join(lines) + "\n"))
    assert_nothing_lost(result, 3)
    assert result.clean["UPN"].tolist() == [UPN_A, UPN_C] and result.clean["_row"].tolist() == [1, 3]
    width = len(mis_header)
    assert result.rejects["reason"].tolist() == [
        f"wrong number of fields ({width + 1}; the header has {width})"
    ]


def test_a_stray_delimiter_at_the_header_end_is_dropped_as_at_a_rows_end(
    tmp_path, census_row, csv_text, write, mis_header
):
    """An export whose header line ends in a comma (an empty last name) lost every row before."""
    lines = csv_text([census_row(UPN_A), census_row(UPN_B)], mis_header).splitlines()
    lines[0] += ","
    lines[2] += ","  # a row may end in the stray delimiter too
    result = read_census(write(tmp_path / "census.csv", "\n".join(lines) + "\n"))
    assert_nothing_lost(result, 2)
    assert result.clean["UPN"].tolist() == [UPN_A, UPN_B] and result.rejects.empty


def test_an_untitled_last_column_with_values_keeps_its_rows(
    tmp_path, census_row, csv_text, write, mis_header
):
    """An untitled notes column (empty last header name, values in the rows): dropping the name, as a
    stray delimiter's, left every row one field wider than the header, and all were rejected."""
    lines = csv_text([census_row(UPN_A), census_row(UPN_B)], mis_header).splitlines()
    lines[0] += ","
    lines[1] += ",note"
    lines[2] += ",another"
    result = read_census(write(tmp_path / "census.csv", "\n".join(lines) + "\n"))
    assert_nothing_lost(result, 2)
    assert result.clean["UPN"].tolist() == [UPN_A, UPN_B] and result.rejects.empty


def test_excels_trailing_empty_columns_are_dropped_reading_the_first_row_once(
    tmp_path, census_row, csv_text, write, mis_header, monkeypatch
):
    """Excel writes a comma for every column of a sheet's used range: 2,000 empty ones on each line
    took 30 s to read (the first data row was parsed again, from a 1 MB slice, for each name dropped)."""
    from exclusion_risk.linkage import loading

    widths, first_row_width = [], loading._first_row_width

    def counted(*args):
        widths.append(first_row_width(*args))
        return widths[-1]

    monkeypatch.setattr(loading, "_first_row_width", counted)
    text = csv_text([census_row(UPN_A), census_row(UPN_B)], mis_header)
    lines = [line + "," * 2000 for line in text.splitlines()]
    result = read_census(write(tmp_path / "census.csv", "\n".join(lines) + "\n"))
    assert_nothing_lost(result, 2)
    assert result.clean["UPN"].tolist() == [UPN_A, UPN_B] and result.rejects.empty
    assert widths == [len(mis_header)]


def test_quoted_commas_and_line_breaks_in_values(tmp_path, census_row, csv_text, write, mis_header):
    header = ",".join(mis_header)
    first = csv_text([census_row(UPN_A)], mis_header).splitlines()[1].replace("Okafor", '"Okafor, Jr"')
    second = csv_text([census_row(UPN_B)], mis_header).splitlines()[1].replace("Okafor", '"Oka\nfor"')
    result = read_census(write(tmp_path / "census.csv", "\n".join([header, first, second]) + "\n"))
    assert_nothing_lost(result, 2)
    assert result.clean["Surname"].tolist() == ["Okafor, Jr", "Oka\nfor"]


# --- the other extracts --------------------------------------------------------------------------


def test_exclusions_categories_reasons_years_and_default_record_id(
    tmp_path, exclusion_row, csv_text, write, exclusions_header
):
    rows = [
        exclusion_row(UPN_A, Category="FIXD", Reason="PD; va", StartDate="31/08/2017"),
        exclusion_row("", Category="LUNC", Reason="MT;OW;LG", StartDate="2017-09-01", Sessions="1"),
        exclusion_row(UPN_B, Category="PERM", Reason="DS;DB1;ZZ", Sessions=""),
        exclusion_row(UPN_B, Category="EXPL"),
        exclusion_row(UPN_B, Reason=""),
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert_nothing_lost(result, 5)
    ex = result.clean
    assert list(ex.columns) == EXCLUSION_FRAME_COLUMNS + ["_file", "_row"]
    assert ex["RecordID"].tolist() == ["1", "2", "3", "5"]  # the data row number when the file has none
    assert ex["Category"].tolist() == ["SUSP", "SUSP", "PERM", "SUSP"]
    assert ex["CategoryRaw"].tolist() == ["FIXD", "LUNC", "PERM", "SUSP"]
    assert ex["AcademicYear"].tolist() == ["2016/17", "2017/18", "2016/17", "2016/17"]
    assert ex["Reason"].tolist()[:3] == ["PD;VA", "MT;OW;LG", "DS;DB1;ZZ"]
    assert ex["ReasonGroups"].tolist()[:3] == [
        "persistent_disruption;verbal_abuse",
        "misuse_of_technology;offensive_weapon;discrimination",
        "discrimination;persistent_disruption;other",
    ]
    assert pd.isna(ex["Reason"].iloc[3]) and pd.isna(ex["Sessions"].iloc[2])
    assert ex["Sessions"].dtype == "Float64" and ex["UPNvalid"].tolist() == [True, False, True, True]
    assert result.counts["unknown reason code ZZ (group other)"] == 1  # counted, not rejected
    assert result.rejects["reason"].tolist() == [f"unknown exclusion category code ({CATEGORY_HINT})"]


def test_reason_codes_split_at_a_slash_a_line_break_or_a_space_between_codes(
    tmp_path, exclusion_row, csv_text, write, exclusions_header
):
    """'PD/PA' and a line break inside the cell read both codes as 'other' (a data officer's find);
    a space inside one code ('DB 1') still joins it."""
    rows = [exclusion_row(UPN_A, Reason=r, RecordID=str(i), StartDate=f"2017-10-1{i}")
            for i, r in enumerate(["PD/PA", "PD PA", "DB 1"])]  # fmt: skip
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert result.clean["Reason"].tolist() == ["PD;PA", "PD;PA", "DB1"]
    assert "other" not in ";".join(result.clean["ReasonGroups"])
    from exclusion_risk.linkage.codes import split_codes

    assert split_codes("PD;\nPA") == split_codes("PD;\r\nPA") == ["PD", "PA"]  # a line break in the cell


def test_different_rows_under_one_record_id_are_all_rejected_naming_each_other(
    tmp_path, exclusion_row, csv_text, write
):
    # Two children's suspensions under one RecordID: links and histories are keyed by the id, so
    # keeping either would put one child's suspension in the other's history. Exact copies are
    # still one row kept and the copy rejected.
    rows = [
        exclusion_row(UPN_A, RecordID="EX-1"),
        exclusion_row(UPN_B, RecordID="EX-2"),
        exclusion_row(UPN_C, RecordID="EX-1", Surname="Foster"),
        exclusion_row(UPN_B, RecordID="EX-3", StartDate="2017-02-01"),  # not row 2 under another id
        exclusion_row(UPN_B, RecordID="EX-3", StartDate="2017-02-01"),
        exclusion_row(UPN_A, RecordID="EX-1", Category="PERM"),
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert_nothing_lost(result, len(rows))
    assert result.clean["RecordID"].tolist() == ["EX-2", "EX-3"]
    reasons = result.rejects.set_index("row")["reason"].to_dict()
    assert reasons == {
        1: "RecordID also on row 3: a record id must name one row",
        3: "RecordID also on row 1: a record id must name one row",
        5: "exact duplicate of row 4",
        6: "RecordID also on row 1: a record id must name one row",
    }
    assert set(result.rejects.loc[result.rejects["row"] != 5, "column"]) == {"RecordID"}


def test_rows_of_one_record_id_equal_once_tidied_are_one_record(tmp_path, exclusion_row, csv_text, write):
    # Not exact copies (case, a trailing space), but the same record: the first stays, the other is
    # rejected naming it; nothing of the record is lost.
    rows = [
        exclusion_row(UPN_A, RecordID="EX-1", Sex="M"),
        exclusion_row(UPN_A, RecordID="EX-1", Sex="m"),
        exclusion_row(UPN_B, RecordID="EX-2", Sessions="2"),
        exclusion_row(UPN_B, RecordID="EX-2", Sessions="2 "),
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert_nothing_lost(result, len(rows))
    assert result.clean["RecordID"].tolist() == ["EX-1", "EX-2"]
    reasons = result.rejects.set_index("row")["reason"].to_dict()
    said = "once read (dates, codes, numbers)"
    assert reasons == {2: f"repeats row 1 {said}", 4: f"repeats row 3 {said}"}


def test_exclusions_keep_their_own_record_id(tmp_path, exclusion_row, csv_text, write):
    rows = [exclusion_row(RecordID="EX-7"), exclusion_row(RecordID="EX-9", Category="PERM")]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-7", "EX-9"]


def test_social_care_sex_codes_open_episodes_and_end_before_start(tmp_path, social_care_row, csv_text, write):
    rows = [
        social_care_row("C1", Sex="1"),
        social_care_row("C2", Sex="2", EndDate="2016-01-01", Status="LAC", Factors=" 3a ; 21 "),
        social_care_row("C3", Sex="0", Status="CP"),
        social_care_row("C4", Sex="9", StartDate="2016-01-01", EndDate="2015-01-01"),
        social_care_row("C5", Status="XYZ"),
    ]
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert_nothing_lost(result, 5)
    sc = result.clean
    assert list(sc.columns) == SOCIAL_CARE_FRAME_COLUMNS + ["_file", "_row"]
    assert sc["Sex"].tolist()[:2] == ["M", "F"] and pd.isna(sc["Sex"].iloc[2])
    assert sc["Status"].tolist() == ["CIN", "CLA", "CPP"]
    assert pd.isna(sc["EndDate"].iloc[0]) and sc["EndDate"].iloc[1] == pd.Timestamp("2016-01-01")
    assert sc["Factors"].tolist()[:2] == ["3A;4A", "3A;21"]
    assert sc["Postcode"].tolist()[0] == "WS1 1AA"
    rejects = result.rejects.set_index("row")
    assert rejects.loc[4, "reason"] == "EndDate before StartDate" and rejects.loc[4, "column"] == "EndDate"
    assert rejects.loc[5, "reason"] == "unknown social-care status code"


def test_a_start_date_beyond_next_academic_year_is_rejected(
    tmp_path, exclusion_row, social_care_row, csv_text, write
):
    """A 2099 exclusion was read as academic year 2098/99; the census's horizon (next year) holds now."""
    from exclusion_risk import calendar

    last = calendar.year_end(calendar.latest_year())
    after = (last + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    rows = [exclusion_row(StartDate="2099-01-01"), exclusion_row(StartDate=after),
            exclusion_row(StartDate=last.strftime("%d/%m/%Y"))]  # fmt: skip
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert_nothing_lost(result, 3)
    assert result.clean["_row"].tolist() == [3]
    assert result.rejects["row"].tolist() == [1, 2] and set(result.rejects["column"]) == {"StartDate"}
    assert result.rejects["reason"].str.contains("after next academic year").all()
    episode = [social_care_row("C1", StartDate=after)]
    care = read_social_care(write(tmp_path / "social_care.csv", csv_text(episode)))
    assert_nothing_lost(care, 1)
    assert care.rejects["column"].tolist() == ["StartDate"] and care.clean.empty


# --- folders, Parquet, attendance ----------------------------------------------------------------


def test_read_extracts_returns_all_three_and_requires_each(tmp_path, extracts_folder):
    folder = extracts_folder(tmp_path / "la")
    extracts = read_extracts(folder)
    assert len(extracts.census) == 3 and len(extracts.exclusions) == 1 and len(extracts.social_care) == 1
    assert list(extracts.rejects.columns) == REJECT_COLUMNS and extracts.rejects.empty
    (folder / "social_care.csv").unlink()
    with pytest.raises(ExtractError, match="no social_care extract"):
        read_extracts(folder)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["census_2018-10-04.csv", "census_2019-13-45.csv"], r"census_2019-13-45.csv: .*not a real date"),
        (
            ["census_2018-10-04.csv", "census_2018-10-04 (copy).csv"],
            r"census/census_2018-10-04.csv: a copy of census/census_2018-10-04 \(copy\).csv",
        ),
        (["autumn2018.csv", "autumn2018 (copy).csv"], r"autumn2018.csv: a copy of"),  # no date in the names
    ],
)
def test_a_census_folder_refuses_an_impossible_date_and_a_collection_given_twice(
    tmp_path, census_row, csv_text, write, mis_header, names, message
):
    """census_2019-13-45.csv was read as a collection, and a copy of a collection doubled its pupils."""
    header = [c for c in mis_header if c not in ("AcademicYear", "CensusTerm")]
    header = mis_header if names[0].startswith("autumn") else header  # no date: the rows say the year
    for name in names:
        write(tmp_path / "census" / name, csv_text([census_row(UPN_A)], header))
    with pytest.raises(ExtractError, match=message):
        read_census(tmp_path / "census")


def test_one_collection_split_over_files_is_read(tmp_path, census_row, csv_text, write, mis_header):
    """A collection given as a file per school (census_2018-10-04_primary.csv, ..._secondary.csv) read
    clean before the copy check, which then refused it as 'the same collection'; it reads again."""
    header = [c for c in mis_header if c not in ("AcademicYear", "CensusTerm")]
    write(tmp_path / "census" / "census_2018-10-04_primary.csv", csv_text([census_row(UPN_A)], header))
    write(tmp_path / "census" / "census_2018-10-04_secondary.csv", csv_text([census_row(UPN_B)], header))
    result = read_census(tmp_path / "census")
    assert result.rows_read == 2 and result.rejects.empty
    assert sorted(result.clean["UPN"]) == sorted([UPN_A, UPN_B])


def test_census_folder_of_collections_and_termly_attendance(
    tmp_path, census_row, exclusion_row, social_care_row, csv_text, write, mis_header, exclusions_header
):
    folder = tmp_path / "la"
    header = [c for c in mis_header if c not in ("AcademicYear", "CensusTerm")]
    write(
        folder / "census" / "census_2016-10-06.csv", csv_text([census_row(UPN_A), census_row(UPN_B)], header)
    )
    write(folder / "census" / "census_2017-01-19.csv", csv_text([census_row(UPN_A)], header))
    write(
        folder / "census" / "census_2017-10-05.csv", csv_text([census_row(UPN_A), census_row(UPN_B)], header)
    )
    termly = ["UPN", "TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised"]
    for term, possible in (("AUT", "140"), ("SPR", "120"), ("SUM", "120")):
        rows = [{"UPN": UPN_A, "TermlySessionsPossible": possible, "TermlySessionsAuthorised": "4",
                 "TermlySessionsUnauthorised": "1"}]  # fmt: skip
        if term == "AUT":
            rows.append({"UPN": UPN_B, "TermlySessionsPossible": "oops"})
        write(folder / "attendance" / f"attendance_2016-17_{term}.csv", csv_text(rows, termly))
    write(folder / "exclusions.csv", csv_text([exclusion_row()], exclusions_header))
    write(folder / "social_care.csv", csv_text([social_care_row()]))

    extracts = read_extracts(folder)
    assert extracts.census[["AcademicYear", "CensusTerm"]].apply(tuple, axis=1).tolist() == [
        ("2016/17", "AUT"), ("2016/17", "AUT"), ("2016/17", "SPR"), ("2017/18", "AUT"), ("2017/18", "AUT"),
    ]  # fmt: skip
    assert extracts.census["_file"].tolist()[2] == "census/census_2017-01-19.csv"
    # the termly rows travel to the history, which applies them by pupil id
    assert len(extracts.attendance) == 3 and "Surname" not in extracts.attendance
    census = pupil_history(extracts, NO_LINKS).census
    # 2016/17 attendance (3 terms) fills the 2017/18 census; nothing for 2016/17 itself
    later = census[(census["AcademicYear"] == "2017/18") & (census["UPN"] == UPN_A)].iloc[0]
    assert (later["SessionsPossible"], later["SessionsAuthorisedAbsence"]) == (380, 12)
    assert later["SessionsUnauthorisedAbsence"] == 3
    assert census.loc[census["AcademicYear"] == "2016/17", "SessionsPossible"].isna().all()
    assert (
        census.loc[(census["AcademicYear"] == "2017/18") & (census["UPN"] == UPN_B), "SessionsPossible"]
        .isna()
        .all()
    )
    bad = extracts.rejects[extracts.rejects["file"] == "attendance/attendance_2016-17_AUT.csv"]
    assert bad["row"].tolist() == [2] and bad["column"].tolist() == ["TermlySessionsPossible"]
    # this year's attendance so far: at spring the autumn term only (spring's own term is still running
    # on census day), at autumn nothing of the year; a pupil whose autumn row was rejected has none
    so_far = census[["UPN", "AcademicYear", "CensusTerm", *ATTENDANCE_TO_DATE]]
    spring = so_far[so_far["CensusTerm"] == "SPR"].iloc[0]
    assert (spring["SessionsPossibleToDate"], spring["SessionsAuthorisedToDate"]) == (140, 4)
    assert spring["SessionsUnauthorisedToDate"] == 1
    assert so_far.loc[so_far["CensusTerm"] == "AUT", list(ATTENDANCE_TO_DATE)].isna().all().all()


def test_parquet_reads_like_csv(tmp_path, census_row, csv_text, write, mis_header):
    rows = [census_row(UPN_A), census_row(UPN_B, DoB="31/02/2008")]
    from_csv = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    frame = pd.DataFrame(rows)
    frame["DoB"] = frame["DoB"].replace({"2008-03-01": None})
    frame.loc[0, "DoB"] = pd.Timestamp("2008-03-01")  # a real date column in one row, text in the other
    frame["DoB"] = frame["DoB"].astype(str).replace({"NaT": None})
    frame["Estab"] = frame["Estab"].astype(int)  # numbers typed as numbers
    frame.to_parquet(tmp_path / "census.parquet")
    from_parquet = read_census(tmp_path / "census.parquet")
    pd.testing.assert_frame_equal(
        from_csv.clean.drop(columns="_file"), from_parquet.clean.drop(columns="_file"), check_dtype=True
    )
    assert from_parquet.rejects[["row", "column", "value"]].values.tolist() == [[2, "DOB", "31/02/2008"]]


# --- a large file --------------------------------------------------------------------------------


def _bench_io(repo: Path):
    spec = importlib.util.spec_from_file_location("bench_io", repo / "bench" / "io.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_50_mb_file_loses_nothing(tmp_path, repo_root):
    bench = _bench_io(repo_root)
    path = tmp_path / "census.csv"
    rows = 560_000
    bench.make_census(path, rows, seed=3)  # ~0.5% broken: bad dates, unknown codes, duplicates
    assert path.stat().st_size > 50e6
    result = read_census(path)
    assert result.rows_read == rows
    assert len(result.clean) + len(result.rejects) == rows
    assert not set(result.clean["_row"]) & set(result.rejects["row"])
    reasons = result.rejects["reason"].str.replace(r"\d+", "N", regex=True).value_counts()
    # the generator's random UPNs give a few pupils of other dates of birth one UPN in a collection
    conflict = reasons.index.str.startswith("UPN also on row(s) N")
    expected = {"not a date (YYYY-MM-DD or DD/MM/YYYY, N to N)", "unknown Ethnicity code",
                "exact duplicate of row N"}
    assert set(reasons.index[~conflict]) == expected
    assert reasons[conflict].sum() < rows // 2000
    assert np.isclose(len(result.rejects) - reasons[conflict].sum(), rows // 200, rtol=0.02)


@pytest.mark.parametrize("extract", ["census", "exclusions", "social_care", "attendance"])
def test_the_readers_fields_are_the_contracts_columns(extract):
    """The fields the readers validate are the data contract's columns, in the contract's order."""
    from exclusion_risk.contract import READ_COLUMNS
    from exclusion_risk.linkage.fields import FIELDS

    assert [f.name for f in FIELDS[extract]] == READ_COLUMNS[extract]


def test_attendance_so_far_sums_the_terms_ended_before_each_census():
    """Spring: the autumn term; summer: autumn and spring; never the census's own (running) term, nor
    another year's or another pupil's terms. A pupil with no ended term of the year has none."""
    census = pd.DataFrame({
        "UPN": ["A", "A", "A", "B", "A"], "AcademicYear": ["2016/17"] * 4 + ["2017/18"],
        "CensusTerm": ["AUT", "SPR", "SUM", "SUM", "SPR"],
        **{c: pd.array([pd.NA] * 5, dtype="Int64") for c in SESSION_COLUMNS},
    })  # fmt: skip
    termly = pd.DataFrame({
        "UPN": ["A", "A", "A", "B", "A"], "AcademicYear": ["2016/17"] * 4 + ["2015/16"],
        "Term": ["AUT", "SPR", "SUM", "SUM", "SPR"],
        "TermlySessionsPossible": pd.array([140, 120, 110, 100, 90], dtype="Int64"),
        "TermlySessionsAuthorised": pd.array([4, 2, 1, 0, 9], dtype="Int64"),
        "TermlySessionsUnauthorised": pd.array([1, 3, 0, 0, 9], dtype="Int64"),
    })  # fmt: skip
    out = apply_attendance(census, termly)
    assert out["SessionsPossibleToDate"].tolist() == [pd.NA, 140, 260, pd.NA, pd.NA]
    summer = out.iloc[2]
    assert (summer["SessionsAuthorisedToDate"], summer["SessionsUnauthorisedToDate"]) == (6, 4)


def test_a_windows_1252_file_with_one_utf8_looking_pair_is_read_as_windows_1252(
    tmp_path, census_row, csv_text, mis_header
):
    """Fifty 'Zoë' in Windows-1252 and one surname whose bytes C3 A9 spell a UTF-8 'é': the file was
    judged UTF-8 with undecodable bytes and every accented row rejected. Now the fifty broken bytes
    outweigh the one character, and the file reads as Windows-1252 with nothing rejected."""
    upns = [make_upn(330, 4001, 2010, i) for i in range(51)]
    rows = [census_row(upn, Forename="Zoë") for upn in upns[:50]] + [census_row(upns[50], Surname="JosÃ©")]
    path = tmp_path / "census.csv"
    path.write_bytes(csv_text(rows, mis_header).encode("cp1252"))
    result = read_census(path)
    assert_nothing_lost(result, 51)
    assert result.rejects.empty and result.clean["Forename"].eq("Zoë").sum() == 50
    assert result.clean["Surname"].iloc[-1] == "JosÃ©"  # as the file's own bytes say, in Windows-1252
    assert any("Windows-1252" in note for note in result.notes)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_its_bom_is_read(tmp_path, encoding, census_row, csv_text, mis_header):
    """Read as UTF-8, each line split in two at its NULs and every row was rejected (4,789 records read
    as 9,604 rows)."""
    rows = [census_row(UPN_A, Surname="Zoë-Müller"), census_row(UPN_B)]
    path = tmp_path / "census.csv"
    path.write_bytes(csv_text(rows, mis_header).encode(encoding))  # no byte-order mark
    result = read_census(path)
    assert_nothing_lost(result, 2)
    assert result.rejects.empty and result.clean["Surname"].tolist() == ["Zoë-Müller", "Okafor"]
    assert any("UTF-16" in note and "no BOM" in note for note in result.notes)
