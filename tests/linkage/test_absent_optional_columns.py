"""An optional contract column absent, or under a header the reader does not know, is named in the
read's note with what is lost, and a close unread header is named as the likely one."""

from __future__ import annotations

import pytest

from exclusion_risk.linkage.readers import read_census, read_exclusions
from exclusion_risk.upn import make_upn

ABSENCE = ("SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence")


def _census(tmp_path, census_row, csv_text, write, mis_header, **sessions):
    header = [*mis_header, *sessions]
    rows = [census_row(make_upn(330, 4001, 2010, i), **sessions) for i in range(2)]
    return read_census(write(tmp_path / "census.csv", csv_text(rows, header)))


def _note(result, name):
    (note,) = [n for n in result.notes if n.startswith(name)]
    return note


def test_a_misspelt_absence_header_is_named_with_the_likely_column(tmp_path, census_row, csv_text, write,
                                                                   mis_header):
    result = _census(tmp_path, census_row, csv_text, write, mis_header, SessionsPossible="300",
                     SessionsAuthorizedAbsence="4", **{"Unauthorised Absence": "2"})
    note = _note(result, "census.csv")
    assert "SessionsAuthorizedAbsence is not read: did you mean SessionsAuthorisedAbsence?" in note
    assert "Unauthorised Absence is not read: did you mean SessionsUnauthorisedAbsence?" in note
    assert "last year's absence features are blank for every pupil" in note
    assert any("did you mean" in remark for remark in result.remarks)  # the service's warnings too
    assert len(result.clean) == 2


def test_absent_absence_columns_are_named_with_what_is_lost(tmp_path, census_row, csv_text, write,
                                                            mis_header):
    result = _census(tmp_path, census_row, csv_text, write, mis_header, SessionsPossible="300")
    note = _note(result, "census.csv")
    assert ("SessionsAuthorisedAbsence and SessionsUnauthorisedAbsence are not in the file: without them, "
            "last year's absence features are blank for every pupil") in note


def test_all_absence_columns_present_say_nothing_of_them(tmp_path, census_row, csv_text, write, mis_header):
    result = _census(tmp_path, census_row, csv_text, write, mis_header,
                     **dict(zip(ABSENCE, ("300", "4", "2"), strict=True)))
    assert "Sessions" not in _note(result, "census.csv")


@pytest.mark.parametrize(("instead", "said"), [
    # a column of no likely name in DOB's place: said to be absent
    ("Comments", "DOB is not in the file: without it, exclusions without a UPN cannot be linked by name"),
    # under another common name: offered as the likely one, with what is lost
    ("BirthDate", "BirthDate is not read: did you mean DOB? (without DOB, exclusions without a UPN cannot"),
])
def test_exclusions_without_dob_say_name_and_dob_linkage_is_lost(tmp_path, exclusion_row, csv_text, write,
                                                                 exclusions_header, instead, said):
    header = [(instead if h == "DOB" else h) for h in exclusions_header]
    rows = [{(instead if k == "DOB" else k): v for k, v in exclusion_row().items()}]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, header)))
    note = _note(result, "exclusions.csv")
    assert said in note and "01/03/2008" not in note
