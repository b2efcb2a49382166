"""Broken structure in an extract: every line accounted for, no error but ExtractError, nothing quoted.

Each test counts the file's lines itself (not through any parser), so "read = clean + rejected" is
checked against the records really in the file, not against what a parser chose to return.
"""

from __future__ import annotations

import re

import pytest

import exclusion_risk.linkage.loading as loading
from exclusion_risk.files import write_csv
from exclusion_risk.linkage import csv_records
from exclusion_risk.linkage.decoding import SHOWN_CHARS
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census, read_exclusions, read_social_care
from exclusion_risk.upn import make_upn

PUPILS = 3_000


def upn(i: int) -> str:
    return make_upn(330, 4000 + i // 1000, 2010, i % 1000)


def surname(i: int) -> str:
    return f"Surname{i:04d}"


@pytest.fixture
def census_lines(census_row, csv_text, mis_header) -> list[str]:
    """A 3,000-pupil census as lines (header first), each pupil with its own UPN and surname."""
    rows = [census_row(upn(i), Surname=surname(i)) for i in range(PUPILS)]
    return csv_text(rows, mis_header).splitlines()


def data_lines(data: bytes) -> int:
    """Non-empty lines after the header, LF, CRLF or CR ended: counted without any CSV parser."""
    lines = re.split(rb"\r\n|\r|\n", data)
    return sum(1 for line in lines[1:] if line)


def assert_accounted(result, data: bytes) -> None:
    assert result.rows_read == data_lines(data)
    assert len(result.clean) + len(result.rejects) == result.rows_read
    assert result.rejects["row"].is_unique


def read_lines(tmp_path, lines: list[str], line_end: str = "\n"):
    """`lines` written as census.csv, read, and checked to account for every line: the result."""
    data = (line_end.join(lines) + line_end).encode()
    path = tmp_path / "census.csv"
    path.write_bytes(data)
    result = read_census(path)
    assert_accounted(result, data)
    return result


def assert_no_pupil_value(text: str, values) -> None:
    for value in values:
        assert value not in text


def test_an_unclosed_quote_rejects_only_its_line_and_loses_nothing(tmp_path, census_lines):
    lines = list(census_lines)
    lines[101] = lines[101].replace(surname(100), '"Brien')  # data row 101, file line 102
    result = read_lines(tmp_path, lines)
    assert len(result.clean) == PUPILS - 1
    assert result.clean["UPN"].tolist() == [upn(i) for i in range(PUPILS) if i != 100]
    assert result.rejects["row"].tolist() == [101]
    assert set(result.rejects["column"]) == {"Surname"}
    assert set(result.rejects["reason"]) == {csv_records.STRAY_QUOTE}


def test_a_runaway_quote_that_closes_later_rejects_only_its_line(tmp_path, census_lines):
    lines = list(census_lines)
    lines[11] = lines[11].replace(surname(10), '"Brien')
    lines[21] = lines[21].replace(surname(20), 'Surname"0020')  # a later quote closes the runaway value
    result = read_lines(tmp_path, lines, "\r\n")
    assert result.rejects["row"].tolist() == [11]  # row 21's quote, mid-value, is a character of it
    assert upn(9) in set(result.clean["UPN"]) and upn(21) in set(result.clean["UPN"])


@pytest.mark.parametrize("line_end", ["\r", "\r\n", "mixed"], ids=["CR only", "CRLF", "mixed"])
def test_any_line_ending_reads_every_row(tmp_path, census_lines, line_end):
    ends = ["\r\n", "\r", "\n"] if line_end == "mixed" else [line_end]
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(census_lines))
    path = tmp_path / "census.csv"
    path.write_bytes(text.encode())
    result = read_census(path)
    assert_accounted(result, text.encode())
    assert len(result.clean) == PUPILS and result.rejects.empty


def test_a_stray_carriage_return_inside_a_value_rejects_both_halves(tmp_path, census_lines):
    lines = list(census_lines)
    lines[51] = lines[51].replace(surname(50), "Sur\rname")
    result = read_lines(tmp_path, lines)
    assert result.rejects["row"].tolist() == [51, 52]
    assert len(result.clean) == PUPILS - 1


@pytest.mark.parametrize("size", [200_000, 20_000_000], ids=["200 KB", "20 MB"])
def test_an_oversized_field_is_rejected_and_only_its_start_kept(tmp_path, census_lines, size):
    lines = list(census_lines)
    lines[51] = lines[51].replace(surname(50), "X" * size)
    result = read_lines(tmp_path, lines)
    assert result.rejects["row"].tolist() == [51] and result.rejects["column"].tolist() == ["Surname"]
    assert result.rejects["reason"].iloc[0].startswith("longer than 1,000 characters")
    assert len(result.rejects["value"].iloc[0]) <= 200


@pytest.mark.parametrize("ragged", [False, True], ids=["arrow's parse", "the line parser"])
def test_an_over_long_value_keeps_a_bounded_start_said_to_be_cut(tmp_path, census_lines, ragged):
    # A field past the line parser's line cap kept nothing of its line in rejects.csv (the supplier could
    # not tell which record it was), and arrow's path kept its first 200 characters with no word that
    # they were not all of it. Now a bounded start (the line parser: of the line, UPN first), and a
    # marker saying it was cut and how long it was.
    lines = list(census_lines)
    lines[51] = lines[51].replace(surname(50), "X" * 300_000)
    if ragged:
        lines[61] += ",surplus"  # arrow refuses the file: the line parser reads it
    result = read_lines(tmp_path, lines)
    reject = result.rejects.iloc[0]
    assert reject["row"] == 51 and reject["column"] == "Surname"
    assert reject["reason"].startswith("longer than 1,000 characters")
    start, total = (lines[51][:60], len(lines[51])) if ragged else ("X" * 60, 300_000)
    assert reject["value"].startswith(start)
    assert reject["value"].endswith(f"... [cut: {total:,} characters in all]")
    assert len(reject["value"]) <= SHOWN_CHARS


def test_rejected_values_show_control_characters_visibly(tmp_path, census_lines):
    # A rejected row's ESC, BEL, DEL and C1 characters went raw into rejects.csv: `cat rejects.csv`
    # ran them as terminal commands. Escaped as \xNN (\n and \r for line ends), tab kept; the rest of the
    # value as it was.
    lines = list(census_lines)
    lines[6] = lines[6].replace(surname(5), "Sur\x07name\x1b[2J\x7f\x9b")  # rejected: control characters
    lines[8] += ",surplus\x1b]0;title\x07\ttab"  # rejected: a field too many (the line parser's reject)
    result = read_lines(tmp_path, lines)
    values = dict(zip(result.rejects["row"], result.rejects["value"], strict=True))
    assert values[6] == "Sur\\x07name\\x1b[2J\\x7f\\x9b"
    assert values[8].endswith(",surplus\\x1b]0;title\\x07\ttab") and surname(7) in values[8]
    out = tmp_path / "rejects.csv"
    write_csv(result.rejects, out, private=True)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out.read_text(encoding="utf-8"))


def test_a_header_read_under_an_alias_is_named_with_its_control_characters_escaped(tmp_path, census_lines):
    # Headers are matched ignoring anything but letters and digits, so "Estab<BEL>" was read as SchoolURN and
    # named raw in the note ("headers read as: Estab<BEL> -> SchoolURN") that `check` prints and the service
    # returns among an upload's warnings. Now written as rejects.csv writes it.
    lines = list(census_lines)
    header = lines[0].split(",")
    assert header[0] == "Estab"  # an MIS export's header: read as SchoolURN
    header[0] = "Estab\x07\x1b"
    lines[0] = ",".join(header)
    note = " ".join(read_lines(tmp_path, lines).notes)
    assert "headers read as: " in note and "Estab\\x07\\x1b -> SchoolURN" in note
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", note)


def test_an_oversized_field_with_a_ragged_row_goes_through_the_line_parser(tmp_path, census_lines):
    lines = list(census_lines)
    lines[51] = lines[51].replace(surname(50), "X" * 300_000)  # past the csv module's default limit
    lines[61] += ",surplus"  # arrow refuses the file: the line-by-line parser must cope with both
    result = read_lines(tmp_path, lines)
    assert result.rejects["row"].tolist() == [51, 61]


def test_control_characters_reject_the_row(tmp_path, census_lines):
    lines = list(census_lines)
    lines[6] = lines[6].replace(surname(5), "Sur\x00name")
    lines[8] = lines[8].replace(surname(7), "Sur\x1bname")
    result = read_lines(tmp_path, lines)
    assert result.rejects["row"].tolist() == [6, 8]
    assert set(result.rejects["reason"]) == {"holds control characters (binary data, not text)"}


def test_random_bytes_after_the_header_are_rejected_row_by_row(tmp_path, census_lines):
    noise = bytes(range(256)) * 40
    data = (census_lines[0] + "\n").encode() + noise + ("\n".join(census_lines[1:]) + "\n").encode()
    path = tmp_path / "census.csv"
    path.write_bytes(data)
    result = read_census(path)
    assert len(result.clean) + len(result.rejects) == result.rows_read
    assert len(result.clean) >= PUPILS - 1  # the noise may run into the first pupil's line


def test_a_third_party_failure_becomes_an_extract_error_without_the_row(
    tmp_path, census_lines, monkeypatch
):
    def leaky_parse(name, utf8, delimiter, header):
        raise ValueError(f"could not parse {census_lines[1]}")  # as arrow's and csv's messages do

    monkeypatch.setattr(loading, "_parse_forgiving", leaky_parse)
    lines = list(census_lines)
    lines[2] += ",surplus"  # arrow refuses: the (failing) forgiving parser runs
    path = tmp_path / "census.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ExtractError) as caught:
        read_census(path)
    message = str(caught.value)
    assert message.startswith("census.csv: cannot be read") and "ValueError" in message
    assert_no_pupil_value(message, [upn(0), surname(0), "Chidi", "WS1 1AA"])
    assert caught.value.__suppress_context__  # the chained message is never printed


def test_a_header_line_that_is_not_a_header_is_an_extract_error(tmp_path):
    path = tmp_path / "census.csv"
    path.write_bytes(b"X" * 50_000 + b"\n" + b"1,2,3\n")
    with pytest.raises(ExtractError, match="not a header row"):
        read_census(path)
    path.write_bytes(b"\n\nUPN,Surname\n")
    with pytest.raises(ExtractError, match="first line is blank"):
        read_census(path)


def test_an_extract_path_that_is_a_folder_is_said_to_be_one(tmp_path):
    (tmp_path / "exclusions.csv").mkdir()
    with pytest.raises(ExtractError, match="a folder, not a file"):
        read_exclusions(tmp_path / "exclusions.csv")
    with pytest.raises(ExtractError, match="file not found"):
        read_exclusions(tmp_path / "social_care.csv")


def test_a_census_file_that_is_not_there_is_said_to_be_missing(tmp_path):
    # census.csv a link to a file moved away: `check` and `link` ended in a FileNotFoundError traceback
    # (the census's copy check looked at the file's size before the reader's checks)
    (tmp_path / "census.csv").symlink_to(tmp_path / "moved" / "census.csv")
    with pytest.raises(ExtractError, match="^census.csv: file not found$"):
        read_census(tmp_path / "census.csv")
    with pytest.raises(ExtractError, match="file not found"):
        read_census(tmp_path / "census_2018-10-04.csv")


def test_a_census_folders_file_that_is_not_there_stops_the_read_naming_it(tmp_path, census_row, csv_text):
    # census/census_2017-10-05.csv a link to a file moved away: the folder's other collections were read
    # and that one was left out without a word (a whole year's census missing from every history)
    folder = tmp_path / "census"
    folder.mkdir()
    (folder / "census_2016-10-06.csv").write_text(csv_text([census_row()]))
    (folder / "census_2017-10-05.csv").symlink_to(tmp_path / "moved" / "census_2017-10-05.csv")
    with pytest.raises(ExtractError, match="^census/census_2017-10-05.csv: file not found$"):
        read_census(folder)


@pytest.mark.filterwarnings("error::FutureWarning")
def test_a_file_failing_whole_prints_no_library_warning(tmp_path):
    # Every StartDate a timezone-aware timestamp (its text carries the offset) before 1980, so not a
    # date, and one SchoolURN blank: pandera's concat of such failure cases warned on the console of `link`.
    import pandas as pd

    rows = [{"RecordID": f"EX{i}", "UPN": "", "Surname": "A", "Forename": "B", "DOB": "2008-01-01",
             "Sex": "M", "SchoolURN": 123456.0 if i else float("nan"), "Category": "SUSP",
             "StartDate": "1970-01-10", "Sessions": "1", "Reason": "PD"}
            for i in range(3)]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["StartDate"] = pd.to_datetime(frame["StartDate"]).dt.tz_localize("Europe/London")
    frame.to_parquet(tmp_path / "exclusions.parquet", index=False)
    result = read_exclusions(tmp_path / "exclusions.parquet")
    assert result.rows_rejected == 3 and result.clean.empty


# --- identifiers validated at the reader ------------------------------------------------------------


def test_school_urns_and_record_ids_are_validated(tmp_path, exclusion_row, social_care_row, csv_text):
    rows = [
        exclusion_row(RecordID="EX-1", SchoolURN="3304001"),  # LAEstab
        exclusion_row(RecordID="EX-2", SchoolURN="104001"),  # URN
        exclusion_row(RecordID="EX-3", SchoolURN="=1+1"),
        exclusion_row(RecordID="@SUM(1+1)*cmd|' /C calc'!A0", StartDate="2017-01-11"),  # not row 1 again
        exclusion_row(RecordID="EX-5", SchoolURN="33040011"),
        exclusion_row(RecordID="X" * 65, StartDate="2017-01-12"),
        exclusion_row("@SUM(1+1)*cmd|' /C calc'!A0", RecordID="EX-7"),  # not a mistyped UPN: rejected
        exclusion_row("A12345678901", RecordID="EX-8"),  # a mistyped UPN: kept, flagged invalid
    ]
    path = tmp_path / "exclusions.csv"
    path.write_text(csv_text(rows))
    result = read_exclusions(path)
    assert result.clean["RecordID"].tolist() == ["EX-1", "EX-2", "EX-8"]
    assert not result.clean["UPNvalid"].iloc[-1]
    assert result.rejects["row"].tolist() == [3, 4, 5, 6, 7]
    assert result.rejects["column"].tolist() == ["SchoolURN", "RecordID", "SchoolURN", "RecordID", "UPN"]
    children = [social_care_row("330C1"), social_care_row("-2+3"), social_care_row("+C3")]
    path = tmp_path / "social_care.csv"
    path.write_text(csv_text(children))
    result = read_social_care(path)
    assert result.clean["LAchildID"].tolist() == ["330C1"]
    assert result.rejects["column"].tolist() == ["LAchildID", "LAchildID"]


def test_unknown_reason_codes_are_counted_without_echoing_free_text(tmp_path, exclusion_row, csv_text):
    rows = [exclusion_row(Reason="ZZ"), exclusion_row(RecordID="2", Reason="Okafor hit Smith")]
    path = tmp_path / "exclusions.csv"
    path.write_text(csv_text(rows))
    counts = read_exclusions(path).counts
    assert counts["unknown reason code ZZ (group other)"] == 1
    assert not any("OKAFOR" in label or "SMITH" in label for label in counts)


def test_in_a_one_column_file_a_line_break_in_a_value_always_swallowed_rows():
    parsed = csv_records.parse_records('UPN\nA1\n"Brien\nA2\nA3\n', ",", ["UPN"])
    assert parsed.rows == 4 and parsed.good_rows == [1, 3, 4] and parsed.bad_rows == [2]


def test_data_lines_counts_what_any_parser_could_return_at_most(census_lines, monkeypatch):
    monkeypatch.setattr(csv_records, "_BLOCK", 7)  # line ends and CRLFs across the blocks' edges
    count = csv_records.data_lines
    assert count(b"UPN,X\r\nA,1\rB,2\n\nC,3\r\n\r\n") == 3
    assert count(b'UPN,X\nA,"1\n2"\nB,O"Brien\n') == 3  # quotes are not read: an upper bound
    assert count("UPN,X\nA,1\nB,2\n".encode("utf-16")) == 2
    assert count("UPN,X\nA,1\nB,2\n".encode("utf-32")) == 2
    assert count("\ufeffUPN,X\nA,1\nB,2\n".encode("utf-32-be")) == 2
    assert count(b"UPN,X") == 0 and count(b"") == 0
    mixed = "".join(line + ["\r\n", "\r", "\n", "\r\n\r\n"][i % 4] for i, line in enumerate(census_lines))
    assert count(mixed.encode()) == data_lines(mixed.encode()) == PUPILS


def test_academic_years_outside_1990_to_next_year_are_rejected(tmp_path, census_lines):
    years = ["2261/62", "1899/00", "2016/17"]
    changed = [line.replace("2016/17", y) for line, y in zip(census_lines[1:4], years, strict=True)]
    lines = [census_lines[0], *changed]
    result = read_lines(tmp_path, lines)
    assert result.rejects["row"].tolist() == [1, 2] and set(result.rejects["column"]) == {"AcademicYear"}
    assert "2261" not in " ".join(result.rejects["reason"])


def test_a_runaway_quote_across_arrows_blocks_loses_no_line(tmp_path, census_row, csv_text, mis_header):
    # Past arrow's 1 MB block, its parser drops the lines between a stray quote and the next quote
    # without an error or a long value (98,117 rows read as 90,034 in the finding): only counting
    # the file's lines independently catches it.
    pupils = 40_000
    rows = [census_row(upn(i), Surname=surname(i)) for i in range(pupils)]
    lines = csv_text(rows, mis_header).splitlines()
    lines[5001] = lines[5001].replace(surname(5000), '"Brien')
    lines[13001] = lines[13001].replace(surname(13000), f'"{surname(13000)}"')
    result = read_lines(tmp_path, lines)
    assert result.rows_read == pupils
    assert result.rejects["row"].tolist() == [5001]  # only the stray quote's line
    assert len(result.clean) == pupils - 1 and surname(13000) in set(result.clean["Surname"])


def test_a_line_longer_than_any_row_is_rejected_without_the_csv_module_or_its_value(
    tmp_path, census_lines, monkeypatch
):
    # The security probe's upload: a valid header and one line of 60,000,000 commas held the csv module
    # (and Python's lock) for 4.3 s. Here 5,000,000: the csv module must never see it.
    fed = []
    reader = csv_records.csv.reader

    def spy(lines, **kwargs):
        def lines_fed():
            for line in lines:
                fed.append(len(line))
                yield line
        return reader(lines_fed(), **kwargs)

    monkeypatch.setattr(csv_records.csv, "reader", spy)
    lines = list(census_lines)
    lines[51] = "," * 5_000_000
    result = read_lines(tmp_path, lines)
    assert max(fed) < 1_000_000, "the csv module read the 5,000,000-character line"
    limit = csv_records.line_limit(len(census_lines[0].split(",")))
    assert max(fed) <= limit + 1
    assert result.rejects["row"].tolist() == [51] and len(result.clean) == PUPILS - 1
    reject = result.rejects.iloc[0]
    # only a bounded start of it, said to be cut, for the supplier to find the line
    assert reject["value"].startswith(",,,,") and len(reject["value"]) <= SHOWN_CHARS
    assert reject["value"].endswith("[cut: 5,000,000 characters in all]")
    assert f"over {limit:,} characters" in reject["reason"] and reject["reason"].endswith("not a row)")


def test_the_line_limit_keeps_every_row_a_file_could_hold():
    header = ["UPN", "Surname", "Address"]
    widest = '"' + '""' * 1000 + '"'  # a value of 1,000 quotes, the longest kept, written out
    text = "\n".join([
        ",".join(header),
        'A1,"O""Brien","1 High Street',  # a value with a line break in it: one row over two lines
        'Town"',
        ",".join([widest] * 3),
        'A3,"Brien',  # a quote that never closes before the over-long line: that line ends its run
        "," * 50_000,
        "A4,Smith,Leeds",
    ]) + "\n"
    parsed = csv_records.parse_records(text, ",", header)
    assert parsed.good == [["A1", 'O"Brien', "1 High Street\nTown"], ['"' * 1000] * 3,
                           ["A4", "Smith", "Leeds"]]
    assert parsed.good_rows == [1, 2, 5] and parsed.bad_rows == [3, 4]
    assert parsed.rows == len(parsed.good) + len(parsed.bad_rows)
    assert parsed.bad_values[1].startswith(",,,") and "over 6,009 characters" in parsed.bad_reasons[1]
    one_long_value = csv_records.parse_records(f"UPN,Surname,Address\nA1,{'X' * 9000},Leeds\n", ",", header)
    assert one_long_value.bad_columns == ["Surname"]
    assert one_long_value.bad_values[0].startswith("A1,XXX") and len(one_long_value.bad_values[0]) <= 200
    assert one_long_value.bad_values[0].endswith("XXX... [cut: 9,009 characters in all]")
    assert one_long_value.bad_reasons[0].startswith("longer than 1,000 characters")
    assert len(",".join([widest] * 3)) <= csv_records.line_limit(3)
    assert csv_records.line_limit(20_000) == csv_records.MAX_LINE_CHARS


def test_a_title_line_above_the_header_is_said_to_be_one(tmp_path, census_lines):
    # An export with a report title on line 1 said every required column was missing, though all are on
    # line 2: the message now says what to do
    path = tmp_path / "census.csv"
    path.write_text("\n".join(["Autumn census extract", *census_lines[:20]]) + "\n")
    with pytest.raises(ExtractError, match="required columns missing") as caught:
        read_census(path)
    assert "title line sits above the header row" in str(caught.value)
    assert_no_pupil_value(str(caught.value), [upn(0), surname(0)])
    path.write_text("\n".join([census_lines[0].replace("UPN", "Pupil"), *census_lines[1:20]]) + "\n")
    with pytest.raises(ExtractError, match="required column missing") as caught:
        read_census(path)
    assert "title line" not in str(caught.value)  # a real header lacking a column: no such hint
