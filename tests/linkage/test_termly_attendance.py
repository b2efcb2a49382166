"""Termly attendance files: which term a file is, one file per term, rows no census pupil has, and the
history's attendance so far by pupil id (a UPN changed in-year, a term with a blank count)."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.extract_frames import ATTENDANCE_TO_DATE, apply_attendance
from exclusion_risk.linkage.history import pupil_history
from exclusion_risk.linkage.readers import read_attendance, read_census, read_extracts
from exclusion_risk.upn import make_temporary_upn, make_upn

TERMLY = ["UPN", "TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised"]
PUPIL = make_upn(330, 4001, 2010, 7)
OTHER = make_upn(330, 4001, 2010, 8)
TEMPORARY = make_temporary_upn(330, 4001, 2016, 5, "A")
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


def test_termly_rows_no_census_pupil_of_their_year_has_are_counted(
    tmp_path, census_row, csv_text, write, mis_header
):
    """Not an error (a pupil who left before census day), but said: their terms reach no feature."""
    census = write(tmp_path / "census.csv", csv_text([census_row(PUPIL)], mis_header))  # 2016/17 AUT
    folder = tmp_path / "attendance"
    rows = [_termly(PUPIL, "140"), _termly(OTHER, "120"), _termly(OTHER, "100", authorised="")]
    write(folder / "attendance_2016-17_AUT.csv", csv_text(rows, TERMLY))
    write(folder / "attendance_2015-16_SUM.csv", csv_text([_termly(PUPIL, "100")], TERMLY))  # no 2015/16 row
    result = read_census(census, folder)
    assert result.counts["attendance rows matching no census pupil of their year"] == 3
    assert any("3 termly attendance row(s)" in note for note in result.notes)
    assert len(result.attendance) == 4 and result.counts["attendance rows rejected"] == 0


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
    assert set(history.attendance["UPN"]) == {PUPIL} and "Surname" not in history.attendance
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
