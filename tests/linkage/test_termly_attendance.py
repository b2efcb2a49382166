"""Termly attendance files: which term a file is, one file per term, rows no census pupil has, and the
history's attendance so far by pupil id (a UPN changed in-year, a term with a blank count)."""

from __future__ import annotations

import pandas as pd
import pytest
from rich.console import Console

from exclusion_risk.linkage.check_cli import run_check
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.extract_frames import ATTENDANCE_TO_DATE, apply_attendance
from exclusion_risk.linkage.history import TERMLY_COLUMNS, pupil_history
from exclusion_risk.linkage.readers import (
    _termly_rows_without_census,
    read_attendance,
    read_census,
    read_extracts,
)
from exclusion_risk.upn import make_temporary_upn, make_upn

TERMLY = ["UPN", "TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised"]
PUPIL = make_upn(330, 4001, 2010, 7)
OTHER = make_upn(330, 4001, 2010, 8)
THIRD = make_upn(330, 4001, 2010, 9)
TEMPORARY = make_temporary_upn(330, 4001, 2016, 5, "A")
FOURTH = make_upn(330, 4001, 2010, 10)
NO_LINKS = pd.DataFrame({"source": [], "record_id": [], "upn": []}, dtype="string")


def _termly(upn: str, possible: str, authorised: str = "4", unauthorised: str = "1") -> dict[str, str]:
    return {"UPN": upn, "TermlySessionsPossible": possible, "TermlySessionsAuthorised": authorised,
            "TermlySessionsUnauthorised": unauthorised}  # fmt: skip


def _terms(folder) -> list[tuple[str, str]]:
    clean = read_attendance(folder).clean
    return sorted(set(zip(clean["AcademicYear"].astype(str), clean["Term"].astype(str), strict=True)))


def test_an_explicit_year_and_term_beat_a_date_in_the_name(tmp_path, csv_text, write):
    """An autumn file exported in January is the autumn term's, not spring's; a summer file exported in
    September is that year's summer, not next year's autumn. A date alone still names a term."""
    folder = tmp_path / "attendance"
    write(folder / "attendance_2016-17_AUT_2017-01-09.csv", csv_text([_termly(PUPIL, "140")], TERMLY))
    write(folder / "attendance_2016-17_summer_2017-09-04.csv", csv_text([_termly(PUPIL, "110")], TERMLY))
    write(folder / "attendance_2017-12-18.csv", csv_text([_termly(PUPIL, "130")], TERMLY))
    assert _terms(folder) == [("2016/17", "AUT"), ("2016/17", "SUM"), ("2017/18", "AUT")]


def test_two_files_for_one_term_are_an_error_naming_both(tmp_path, csv_text, write):
    """They would be summed into one term (double the sessions); the error names files, no values."""
    folder = tmp_path / "attendance"
    write(folder / "attendance_2016-17_AUT.csv", csv_text([_termly(PUPIL, "140")], TERMLY))
    write(folder / "autumn_2016-12-16.csv", csv_text([_termly(PUPIL, "140")], TERMLY))  # dated: autumn too
    with pytest.raises(ExtractError) as raised:
        read_attendance(folder)
    message = str(raised.value)
    assert "attendance/autumn_2016-12-16.csv" in message
    assert "attendance/attendance_2016-17_AUT.csv" in message
    assert "2016/17 AUT" in message and PUPIL not in message and "140" not in message
    # not "keep one file per term", which lost the other MIS's half of the pupils (a data officer's find)
    assert "where each holds some of its pupils, join them into one (one header line)" in message


def test_termly_rows_no_census_pupil_of_their_year_has_are_counted(
    tmp_path, census_row, csv_text, write, mis_header
):
    """Not an error (a pupil who left before census day), but said: their terms reach no feature."""
    census = write(tmp_path / "census.csv", csv_text([census_row(PUPIL)], mis_header))  # 2016/17 AUT
    folder = tmp_path / "attendance"
    rows = [_termly(PUPIL, "140"), _termly(OTHER, "120"), _termly(THIRD, "100", authorised="")]
    write(folder / "attendance_2016-17_AUT.csv", csv_text(rows, TERMLY))
    write(folder / "attendance_2015-16_SUM.csv", csv_text([_termly(PUPIL, "100")], TERMLY))  # no 2015/16 row
    result = read_census(census, folder)
    assert result.termly.counts["rows matching no census pupil of their year"] == 3
    assert any("3 termly attendance row(s)" in note for note in result.termly.notes)
    assert len(result.attendance) == 4 and result.termly.rows_rejected == 0


@pytest.fixture
def in_year_upn_change(
    tmp_path, census_row, exclusion_row, social_care_row, csv_text, write, mis_header, exclusions_header
):
    """The history of an authority where a pupil's autumn census is under a temporary UPN, the spring
    and summer census (and next autumn's) under the permanent UPN with the temporary one as FormerUPN,
    and the autumn termly file still names the temporary UPN."""
    folder = tmp_path / "la"
    header = [c for c in mis_header if c not in ("AcademicYear", "CensusTerm")] + ["FormerUPN"]
    write(folder / "census" / "census_2016-10-06.csv", csv_text([census_row(TEMPORARY)], header))
    for day in ("2017-01-19", "2017-05-18", "2017-10-05"):
        row = census_row(PUPIL, FormerUPN=TEMPORARY)
        write(folder / "census" / f"census_{day}.csv", csv_text([row], header))
    write(folder / "attendance" / "attendance_2016-17_AUT.csv", csv_text([_termly(TEMPORARY, "140")], TERMLY))
    for term, possible in (("SPR", "120"), ("SUM", "110")):
        rows = [_termly(PUPIL, possible, "2", "3")]
        write(folder / "attendance" / f"attendance_2016-17_{term}.csv", csv_text(rows, TERMLY))
    write(folder / "exclusions.csv", csv_text([exclusion_row(PUPIL)], exclusions_header))
    write(folder / "social_care.csv", csv_text([social_care_row()]))
    return pupil_history(read_extracts(folder), NO_LINKS)


def test_a_pupil_whose_upn_changed_in_year_keeps_the_terms_under_the_old_upn(in_year_upn_change):
    """Termly rows are joined on the pupil id, not the UPN as recorded: the spring census under the
    permanent UPN gets the autumn term recorded under the temporary one, and next year's census the
    whole year (previous-year fill)."""
    history = in_year_upn_change
    assert set(history.attendance["UPN"]) == {PUPIL}
    assert list(history.attendance.columns) == TERMLY_COLUMNS  # what nothing reads is not held
    rows = history.census.set_index(["AcademicYear", "CensusTerm"])
    spring = rows.loc[("2016/17", "SPR")]
    assert [spring[c] for c in ATTENDANCE_TO_DATE] == [140, 4, 1]
    summer = rows.loc[("2016/17", "SUM")]
    assert [summer[c] for c in ATTENDANCE_TO_DATE] == [260, 6, 4]
    later = rows.loc[("2017/18", "AUT")]
    assert [later[c] for c in ("SessionsPossible", "SessionsAuthorisedAbsence")] == [370, 8]


def test_a_term_with_a_blank_count_is_left_out_of_attendance_so_far():
    """A blank authorised or unauthorised count is not zero: that term leaves all three sums, and a
    pupil with no complete term ended has none."""
    census = pd.DataFrame({
        "UPN": ["A", "B"], "AcademicYear": ["2016/17"] * 2, "CensusTerm": ["SUM", "SPR"],
        **{c: pd.array([pd.NA] * 2, dtype="Int64") for c in
           ("SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence")},
    })  # fmt: skip
    termly = pd.DataFrame({
        "UPN": ["A", "A", "B"], "AcademicYear": ["2016/17"] * 3, "Term": ["AUT", "SPR", "AUT"],
        "TermlySessionsPossible": pd.array([140, 120, 140], dtype="Int64"),
        "TermlySessionsAuthorised": pd.array([4, 30, pd.NA], dtype="Int64"),
        "TermlySessionsUnauthorised": pd.array([1, pd.NA, 2], dtype="Int64"),
    })  # fmt: skip
    out = apply_attendance(census, termly)
    assert [out.loc[0, c] for c in ATTENDANCE_TO_DATE] == [140, 4, 1]
    assert out.loc[1, list(ATTENDANCE_TO_DATE)].isna().all()


def test_last_years_fill_sums_only_complete_terms():
    """130/10/5 then 120 and 110 with blank absences: the fill is the complete term's 130/10/5, not
    360/10/5 (a year of possible sessions against one term's absences); no complete term: missing."""
    census = pd.DataFrame({
        "UPN": ["A", "B"], "AcademicYear": ["2017/18"] * 2, "CensusTerm": ["AUT"] * 2,
        **{c: pd.array([pd.NA] * 2, dtype="Int64") for c in
           ("SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence")},
    })  # fmt: skip
    termly = pd.DataFrame({
        "UPN": ["A", "A", "A", "B"], "AcademicYear": ["2016/17"] * 4, "Term": ["AUT", "SPR", "SUM", "AUT"],
        "TermlySessionsPossible": pd.array([130, 120, 110, 140], dtype="Int64"),
        "TermlySessionsAuthorised": pd.array([10, pd.NA, pd.NA, 3], dtype="Int64"),
        "TermlySessionsUnauthorised": pd.array([5, pd.NA, pd.NA, pd.NA], dtype="Int64"),
    })  # fmt: skip
    out = apply_attendance(census, termly)
    previous = ["SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"]
    assert out.loc[0, previous].tolist() == [130, 10, 5]
    assert out.loc[1, previous].isna().all()


@pytest.mark.parametrize(
    ("name", "term"),
    [("attendance_2016-17_AUT.csv", "AUT"), ("la_2016_17_spring.csv", "SPR"),
     ("attendance_2016-2017_Summer.csv", "SUM"), ("attendance_2016-17_autumn2.csv", "AUT")],
)  # fmt: skip
def test_a_term_code_or_word_in_the_name_is_that_term(tmp_path, csv_text, write, name, term):
    write(tmp_path / "attendance" / name, csv_text([_termly(PUPIL, "140")], TERMLY))
    assert _terms(tmp_path / "attendance") == [("2016/17", term)]


@pytest.mark.parametrize("name", ["attendance_2016-17_summary.csv", "attendance_2016-17_springfield.csv"])
def test_a_word_that_only_begins_with_a_term_is_no_term(tmp_path, csv_text, write, name):
    """`summary` is not summer: with no date in the name either, the file's term is unknown (an error)."""
    write(tmp_path / "attendance" / name, csv_text([_termly(PUPIL, "140")], TERMLY))
    with pytest.raises(ExtractError, match="name an attendance file by academic year and term"):
        read_attendance(tmp_path / "attendance")


def test_a_upn_twice_in_a_terms_file_and_more_absent_than_possible_are_rejected(tmp_path, csv_text, write):
    """Two rows of one UPN would be summed into one term (which is right is unknown: both go), and a term
    absent more sessions than it had is no term; each is a reject naming file, row and column, without
    the values, and every row read is clean or rejected."""
    folder = tmp_path / "attendance"
    rows = [_termly(PUPIL, "140"), _termly(OTHER, "120"), _termly(THIRD, "100", "80", "30"),
            _termly(OTHER.lower(), "110", "5", "0"), _termly(TEMPORARY, "100", "", "3"),
            _termly(FOURTH, "100", "", "120")]  # a blank absence is none: 120 alone is too many  # fmt: skip
    write(folder / "attendance_2016-17_AUT.csv", csv_text(rows, TERMLY))
    result = read_attendance(folder)
    assert result.clean["UPN"].tolist() == [PUPIL, TEMPORARY]
    rejects = result.rejects.sort_values("row")
    assert rejects["row"].tolist() == [2, 3, 4, 6]
    assert rejects["column"].tolist() == ["UPN", "TermlySessionsPossible", "UPN", "TermlySessionsPossible"]
    assert set(rejects["file"]) == {"attendance/attendance_2016-17_AUT.csv"}
    assert (rejects["value"].fillna("") == "").all()
    assert "same UPN" in rejects["reason"].iloc[0]
    assert "more than the sessions possible" in rejects["reason"].iloc[1]
    assert len(result.clean) + result.rows_rejected == result.rows_read == 6


def test_check_shows_attendance_as_a_block_of_its_own_that_adds_up(
    tmp_path, extracts_folder, csv_text, write
):
    """The termly files' rejects are theirs: the census block's rows read = clean + rejected, and the
    attendance block has its own rows read, clean and rejected."""
    folder = extracts_folder(tmp_path / "la", census_rows=3)
    rows = [_termly(PUPIL, "140"), _termly(OTHER, "120"), _termly(OTHER, "110"), _termly(THIRD, "100")]
    write(folder / "attendance" / "attendance_2016-17_AUT.csv", csv_text(rows, TERMLY))
    console = Console(record=True, width=200)
    assert run_check(folder, tmp_path / "out", console) == 0
    blocks = _blocks(console.export_text())
    assert blocks["census"][:3] == [3, 3, 0]
    assert blocks["attendance"][:3] == [4, 2, 2]
    assert len(pd.read_csv(tmp_path / "out" / "rejects.csv")) == 2


def _blocks(text: str) -> dict[str, list[int]]:
    """Each printed table's title -> its counts, in order (rows read, clean, rejected first)."""
    blocks: dict[str, list[int]] = {}
    title = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 1 and cells[0] and cells[0][0] not in "┏┡└┌├─╭╰":
            title = cells[0]
        elif len(cells) == 2 and title is not None and cells[1].replace(",", "").isdigit():
            blocks.setdefault(title, []).append(int(cells[1].replace(",", "")))
    return blocks


def test_a_termly_row_matches_a_census_upn_or_former_upn_of_its_year():
    text = lambda *values: pd.Series(values, dtype="string[pyarrow]")  # noqa: E731
    census = pd.DataFrame(
        {"UPN": text("A1 ", None), "FormerUPN": text(None, "B2"), "AcademicYear": text("2018/19", "2018/19")}
    )
    termly = pd.DataFrame(
        {
            # matched: UPN (spaces, case aside), FormerUPN; not: another year, no UPN, no such pupil
            "UPN": text(" a1", "b2", "A1", None, "C3"),
            "AcademicYear": text("2018/19", "2018/19", "2017/18", "2018/19", "2018/19"),
        }
    )
    assert _termly_rows_without_census(termly, census) == 3
    assert _termly_rows_without_census(termly, census.iloc[:0]) == 5
    assert _termly_rows_without_census(termly.iloc[:0], census) == 0
