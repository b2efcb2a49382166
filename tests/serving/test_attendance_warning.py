"""A spring census upload whose pupils have no termly attendance for the year in the history is scored
with this year's absence features missing, and the response says so in a plain sentence (no pupil's
value); with the autumn term's file in the history the features are there and nothing is said."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk import calendar
from exclusion_risk.features.census_upload import ATTENDANCE_SO_FAR_FEATURES
from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.serving import scoring
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.upn import make_upn

YEAR = "2018/19"
UPNS = [make_upn(801, 2001, 2011, i) for i in range(1, 4)]
EMPTY = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})


def _clean(term: str):
    rows = [{**EXAMPLE_CENSUS, "UPN": u, "AcademicYear": YEAR, "CensusTerm": term} for u in UPNS]
    return scoring.read_census_bytes(pd.DataFrame(rows).to_csv(index=False).encode(), "census.csv")


def _history(termly_year: str) -> HistoryState:
    """The autumn census of YEAR (no spring census yet), with the autumn-term file of `termly_year`."""
    autumn, _ = _clean(calendar.AUTUMN)
    termly = pd.DataFrame({
        "UPN": UPNS, "AcademicYear": termly_year, "Term": "AUT",
        **{f"TermlySessions{c}": pd.array([n] * len(UPNS), dtype="Int64")
           for c, n in (("Possible", 140), ("Authorised", 7), ("Unauthorised", 7))},
    })  # fmt: skip
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(autumn), EMPTY, EMPTY, attendance=termly)
    state.state = "ready"
    return state


def _cohort(history: HistoryState):
    clean, rejects = _clean(calendar.SPRING)
    features = list(ATTENDANCE_SO_FAR_FEATURES)
    return scoring.census_cohort(clean, rejects, history, features, YEAR, skip_invalid=False, census="SPR")


def test_a_spring_upload_without_termly_attendance_for_its_year_is_warned_of():
    cohort = _cohort(_history("2017/18"))  # last year's files only
    assert cohort.warnings == [
        "no termly attendance for 2018/19 before the spring census in the history: this year's absence "
        "features are missing for 3 pupils"
    ]
    assert set(ATTENDANCE_SO_FAR_FEATURES) <= set(cohort.missing_features)
    assert cohort.features["absence_rate_this_year"].isna().all()
    assert not any(u in " ".join(cohort.warnings) for u in UPNS)


def test_a_spring_upload_with_the_autumn_terms_file_gets_it_and_no_warning():
    cohort = _cohort(_history(YEAR))
    assert cohort.warnings == [] and cohort.missing_features == []
    assert cohort.features["absence_rate_this_year"].tolist() == pytest.approx([0.1] * 3)
    assert cohort.features["persistent_absence_this_year"].tolist() == [1.0] * 3
