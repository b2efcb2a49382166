"""A census row absent more sessions than it had is rejected, as the termly files' rows are.

Accepted, SessionsPossible=1 beside SessionsAuthorisedAbsence=500 was scored as 100% absence.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.linkage.readers import MORE_ABSENT_THAN_POSSIBLE, read_census
from exclusion_risk.linkage.schemas import ABSENCE_OVER_POSSIBLE
from exclusion_risk.upn import make_upn

SESSIONS = ["SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"]
REASON = "authorised plus unauthorised absence is more than the sessions possible"


def _read(tmp_path, census_row, csv_text, write, header, sessions: list[tuple[str, str, str]]):
    rows = [
        census_row(make_upn(330, 4001, 2010, i), **dict(zip(SESSIONS, counts, strict=True)))
        for i, counts in enumerate(sessions)
    ]
    return read_census(write(tmp_path / "census.csv", csv_text(rows, header)))


def _assert_every_row_once(result, rows: int) -> None:
    rejected = result.rejects["row"].tolist()
    assert len(rejected) == len(set(rejected))
    assert set(result.clean["_row"]) | set(rejected) == set(range(1, rows + 1))
    assert len(result.clean) + len(result.rejects) == result.rows_read == rows


def test_absence_beyond_the_sessions_possible_is_rejected_naming_row_and_absence_column(
    tmp_path, census_row, csv_text, write, mis_header
):
    sessions = [
        ("380", "12", "3"),  # 1: fine
        ("1", "500", "0"),  # 2: the repro
        ("10", "0", "11"),  # 3: unauthorised alone is too many
        ("10", "6", "6"),  # 4: each fits, together they do not
        ("10", "4", "6"),  # 5: absent every session: possible
        ("", "500", "0"),  # 6: possible sessions unknown: nothing to compare
        ("10", "", "11"),  # 7: authorised unknown, but unauthorised alone is too many
        ("10", "3", ""),  # 8: unauthorised unknown, what is known fits
    ]
    result = _read(tmp_path, census_row, csv_text, write, mis_header + SESSIONS, sessions)
    _assert_every_row_once(result, len(sessions))
    assert result.clean["_row"].tolist() == [1, 5, 6, 8]
    rejects = result.rejects.set_index("row")
    assert rejects.index.tolist() == [2, 3, 4, 7]
    assert set(rejects["reason"]) == {REASON}
    assert rejects["column"].to_dict() == {
        2: "SessionsAuthorisedAbsence", 3: "SessionsUnauthorisedAbsence",
        4: "SessionsAuthorisedAbsence", 7: "SessionsUnauthorisedAbsence",
    }  # fmt: skip
    assert rejects["value"].to_dict() == {2: "500", 3: "11", 4: "6", 7: "11"}
    assert (rejects["file"] == "census.csv").all()


def test_a_row_failing_another_check_too_is_one_line(tmp_path, census_row, csv_text, write, mis_header):
    rows = [census_row(Ethnicity="ZZZZ", SessionsPossible="1", SessionsAuthorisedAbsence="500")]
    header = mis_header + SESSIONS
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, header)))
    _assert_every_row_once(result, 1)
    (reject,) = result.rejects.to_dict("records")
    assert reject["column"] == "Ethnicity | SessionsAuthorisedAbsence"
    assert reject["reason"] == f"unknown Ethnicity code | {REASON}"


@pytest.mark.parametrize(
    ("absence", "canonical"),
    [("SessionsAuthorisedAbsence", "SessionsAuthorisedAbsence"),
     ("SessionsUnauthorised", "SessionsUnauthorisedAbsence")],  # the second an alias
)  # fmt: skip
def test_one_absence_column_alone_is_checked_against_the_sessions_possible(
    tmp_path, census_row, csv_text, write, mis_header, absence, canonical
):
    rows = [census_row(make_upn(330, 4001, 2010, i), SessionsPossible="10", **{absence: n})
            for i, n in enumerate(["10", "11"])]  # fmt: skip
    header = [*mis_header, "SessionsPossible", absence]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, header)))
    _assert_every_row_once(result, 2)
    assert result.clean["_row"].tolist() == [1]
    assert result.rejects[["row", "column", "reason"]].values.tolist() == [[2, canonical, REASON]]


def test_a_census_without_session_columns_is_unaffected(tmp_path, census_row, csv_text, write, mis_header):
    result = read_census(write(tmp_path / "census.csv", csv_text([census_row()], mis_header)))
    assert result.rejects.empty and pd.isna(result.clean["SessionsPossible"].iloc[0])


def test_blank_session_columns_are_unaffected(tmp_path, census_row, csv_text, write, mis_header):
    rows = [census_row(SessionsPossible="", SessionsAuthorisedAbsence="", SessionsUnauthorisedAbsence="")]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header + SESSIONS)))
    assert result.rejects.empty and len(result.clean) == 1


def test_census_and_termly_files_reject_too_much_absence_in_the_same_words():
    assert MORE_ABSENT_THAN_POSSIBLE == ABSENCE_OVER_POSSIBLE == REASON
