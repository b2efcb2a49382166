"""A census upload scores the pupils on its rows of the collection scored, and only them: a pupil on the
upload's rows of another collection only (a later one, not read; or an earlier one, read as history) is
not scored from the history's row of the collection scored, and the warnings count them as not scored.
Before, with academic_year=2018/19, a pupil whose only uploaded row was 2019/20 was scored from their
2018/19 row in the history while the warning said every pupil was on the census scored."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.features.census_upload import features_for_census
from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.serving import scoring
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.upn import make_upn

YEAR = "2018/19"
UPNS = [make_upn(801, 2001, 2011, i) for i in range(1, 5)]
EMPTY = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})


def _read(rows):
    return scoring.read_census_bytes(pd.DataFrame(rows).to_csv(index=False).encode(), "census.csv")


def _row(upn, year):
    return {**EXAMPLE_CENSUS, "UPN": upn, "AcademicYear": year, "CensusTerm": "AUT"}


@pytest.fixture(scope="module")
def history() -> HistoryState:
    """Every pupil's 2017/18 and 2018/19 autumn rows."""
    past, _ = _read([_row(u, y) for y in ("2017/18", YEAR) for u in UPNS])
    state = HistoryState(None, None)
    state.history, state.state = PupilHistory(drop_identifying(past), EMPTY, EMPTY), "ready"
    return state


def _cohort(rows, history):
    clean, rejects = _read(rows)
    return scoring.census_cohort(clean, rejects, history, [], YEAR, skip_invalid=False, census="AUT")


@pytest.mark.parametrize("other_year", ["2019/20", "2017/18"])
def test_a_pupil_on_another_collections_rows_only_is_not_scored_and_said(history, other_year):
    rows = [_row(u, YEAR) for u in UPNS[:3]] + [_row(UPNS[3], other_year)]
    cohort = _cohort(rows, history)
    assert sorted(cohort.features["upn"]) == sorted(UPNS[:3])
    said = [w for w in cohort.warnings if "not of the 2018/19 autumn census scored" in w]
    assert len(said) == 1 and "1 pupil(s) on those rows only are not scored" in said[0], cohort.warnings
    assert not any(u in " ".join(cohort.warnings) for u in UPNS)


def test_a_pupil_on_both_collections_is_scored_once_and_said(history):
    rows = [_row(u, YEAR) for u in UPNS] + [_row(UPNS[3], "2019/20")]
    cohort = _cohort(rows, history)
    assert sorted(cohort.features["upn"]) == sorted(UPNS)
    said = [w for w in cohort.warnings if "not of the 2018/19 autumn census scored" in w]
    assert len(said) == 1 and "each of their pupils is on the census scored" in said[0]


def test_the_features_read_the_pupils_of_the_reference_collection_only(history):
    """features_for_census itself (the service's and the page's explain path share it)."""
    rows = [_row(u, YEAR) for u in UPNS[:2]] + [_row(UPNS[2], "2019/20")]
    clean, _ = _read(rows)
    table = features_for_census(clean, history.history, reference_year=YEAR, census="AUT").table
    assert sorted(table["upn"]) == sorted(UPNS[:2])
