"""A spring or summer census upload's attendance so far comes from the history's termly rows, by pupil
id and the upload's own year and term: the history need not hold that census (the usual upload is a
collection the history does not have yet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.features.census_upload import attendance_gap, build_features_for_census
from exclusion_risk.linkage.extract_frames import ATTENDANCE_TO_DATE
from exclusion_risk.linkage.history import RECORDED_UPN, PupilHistory, termly_by_pupil

YEARS = ["2016/17", "2017/18"]
YEAR = YEARS[-1]
SESSIONS = list(ATTENDANCE_TO_DATE.values())


@pytest.fixture(scope="module")
def before_spring(random_history, truncate_at):
    """What the authority held just before loading YEAR's spring census: every census up to YEAR's
    autumn, and the termly files of the terms ended by spring census day (YEAR's autumn term)."""
    held = truncate_at(random_history(400, YEARS, seed=5), YEAR, "SPR")
    c = held.census
    spring = (c["AcademicYear"] == YEAR) & (c["CensusTerm"] == "SPR")
    history = PupilHistory(c[~spring], held.exclusions, held.social_care, attendance=held.attendance)
    return history, c[spring].drop(columns=list(ATTENDANCE_TO_DATE))


def test_a_spring_upload_the_history_lacks_gets_the_autumn_terms_attendance(before_spring):
    history, upload = before_spring
    assert not ((history.census["AcademicYear"] == YEAR) & (history.census["CensusTerm"] == "SPR")).any()
    table = build_features_for_census(upload, history=history, reference_year=YEAR, census="SPR")
    got = table.set_index("upn")["absence_rate_this_year"]
    # independently: each pupil's autumn-term row of YEAR (the random authority has one a term at most)
    a = history.attendance
    autumn = a[(a["AcademicYear"] == YEAR) & (a["Term"] == "AUT")].set_index("UPN")[SESSIONS].astype(float)
    expected = (autumn["TermlySessionsAuthorised"] + autumn["TermlySessionsUnauthorised"]) / autumn[
        "TermlySessionsPossible"
    ]
    assert len(expected) > 300
    np.testing.assert_allclose(got.reindex(expected.index).to_numpy(), expected.to_numpy())
    assert got.drop(expected.index).isna().all()  # no autumn row: missing, never zero
    assert attendance_gap(table, YEAR, "SPR", history) == []


def test_an_upload_under_the_new_upn_gets_the_term_recorded_under_the_old_one(census_frame):
    """The autumn termly row names the temporary UPN; the spring census upload the permanent one."""
    permanent, temporary = "A100000000001", "A1000000000TA"
    history = PupilHistory(
        census_frame([{"UPN": permanent, "AcademicYear": YEAR, "CensusTerm": "AUT"}]).assign(
            **{RECORDED_UPN: temporary}
        ),
        pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")}),
        pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")}),
    )
    counts = {c: pd.array([v], dtype="Int64") for c, v in zip(SESSIONS, (140, 4, 3), strict=True)}
    termly = pd.DataFrame({"UPN": [temporary], "AcademicYear": [YEAR], "Term": ["AUT"], **counts})
    history.attendance = termly_by_pupil(termly, history.pupil_of_upn)
    upload = census_frame([{"UPN": permanent, "FormerUPN": temporary, "AcademicYear": YEAR,
                            "CensusTerm": "SPR"}])  # fmt: skip
    (row,) = build_features_for_census(upload, history=history, reference_year=YEAR, census="SPR").to_dict(
        "records"
    )
    assert row["absence_rate_this_year"] == pytest.approx(7 / 140)
    assert row["unauthorised_absence_rate_this_year"] == pytest.approx(3 / 140)


def test_no_termly_attendance_for_the_year_is_said_not_silent(before_spring):
    history, upload = before_spring
    a = history.attendance
    bare = PupilHistory(history.census, history.exclusions, history.social_care,
                        attendance=a[a["AcademicYear"] != YEAR])  # fmt: skip
    table = build_features_for_census(upload, history=bare, reference_year=YEAR, census="SPR")
    assert table["absence_rate_this_year"].isna().all()
    (said,) = attendance_gap(table, YEAR, "SPR", bare)
    assert said == (
        f"no termly attendance for {YEAR} before the spring census in the history: this year's absence "
        f"features are missing for {len(table):,} pupils"
    )
    assert not any(upn in said for upn in table["upn"])


def _new_upn_history(census_frame) -> PupilHistory:
    """The history before YEAR's spring census: the autumn census and autumn term under a temporary UPN,
    which the spring census (not held yet) replaced by a permanent one."""
    temporary = "A1000000000TA"
    none = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})
    history = PupilHistory(
        census_frame([{"UPN": temporary, "AcademicYear": YEAR, "CensusTerm": "AUT"}]).assign(
            **{RECORDED_UPN: temporary}
        ), none, none,
    )  # fmt: skip
    counts = {c: pd.array([v], dtype="Int64") for c, v in zip(SESSIONS, (140, 4, 3), strict=True)}
    termly = pd.DataFrame({"UPN": [temporary], "AcademicYear": [YEAR], "Term": ["AUT"], **counts})
    history.attendance = termly_by_pupil(termly, history.pupil_of_upn)
    return history


def test_an_upload_under_a_upn_the_history_lacks_is_its_former_upns_pupil(census_frame):
    """The spring census replaced the temporary UPN (FormerUPN) by a permanent one the history has never
    seen: the row is the temporary UPN's pupil (autumn term and all), the scores name the UPN uploaded."""
    history = _new_upn_history(census_frame)
    permanent, temporary = "A100000000001", "A1000000000TA"
    upload = census_frame([{"UPN": permanent, "FormerUPN": temporary.lower(), "AcademicYear": YEAR,
                            "CensusTerm": "SPR"}])  # fmt: skip
    (row,) = build_features_for_census(upload, history=history, reference_year=YEAR, census="SPR").to_dict(
        "records"
    )
    assert row["upn"] == permanent
    assert row["absence_rate_this_year"] == pytest.approx(7 / 140)


def test_two_uploaded_upns_of_one_former_upns_pupil_are_left_apart(census_frame):
    """The upload lists the temporary UPN as well: which row is the pupil is unknown, so neither takes the
    other's history through the FormerUPN; each is scored under its own UPN."""
    history = _new_upn_history(census_frame)
    permanent, temporary = "A100000000001", "A1000000000TA"
    upload = census_frame([
        {"UPN": permanent, "FormerUPN": temporary, "AcademicYear": YEAR, "CensusTerm": "SPR"},
        {"UPN": "A100000000002", "FormerUPN": permanent, "AcademicYear": YEAR, "CensusTerm": "SPR"},
        {"UPN": temporary, "AcademicYear": YEAR, "CensusTerm": "SPR"},
    ])  # fmt: skip
    table = build_features_for_census(upload, history=history, reference_year=YEAR, census="SPR")
    rate = table.set_index("upn")["absence_rate_this_year"]
    assert set(rate.index) == {permanent, "A100000000002", temporary}
    assert rate[temporary] == pytest.approx(7 / 140)
    assert rate.drop(temporary).isna().all()  # a FormerUPN the history does not know gives nothing
