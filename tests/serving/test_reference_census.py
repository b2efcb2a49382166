"""The service scores a census upload at the model's reference census: rows of another term are refused
(422, naming the terms, never a pupil's value), and the run it records names the census scored.

In process (no server): `scoring.census_cohort` with a ready linked history, and `record_census_scoring`
with a scorer trained at spring.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from exclusion_risk import calendar
from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.serving import scoring
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.run_history import RunStore, record_census_scoring
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.upn import make_upn

YEAR = "2018/19"


def _rows(n: int, term: str, first: int = 1) -> list[dict]:
    return [{**EXAMPLE_CENSUS, "UPN": make_upn(801, 2001, 2011, first + i), "AcademicYear": YEAR,
             "CensusTerm": term} for i in range(n)]  # fmt: skip


def _clean(rows: list[dict]):
    return scoring.read_census_bytes(pd.DataFrame(rows).to_csv(index=False).encode(), "census.csv")


@pytest.fixture(scope="module")
def ready_history() -> HistoryState:
    """A loaded linked history (one earlier pupil, no exclusions or social care)."""
    clean, _ = _clean(_rows(1, calendar.AUTUMN, first=90))
    empty = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})
    state = HistoryState(None, None)
    state.history, state.state = PupilHistory(drop_identifying(clean), empty, empty), "ready"
    return state


def _cohort(rows, history, census):
    clean, rejects = _clean(rows)
    return scoring.census_cohort(clean, rejects, history, [], YEAR, skip_invalid=False, census=census)


@pytest.mark.parametrize(
    ("model", "sent", "named"),
    [(calendar.SPRING, calendar.AUTUMN, "autumn (AUT)"), (calendar.AUTUMN, calendar.SUMMER, "summer (SUM)")],
)
def test_an_upload_of_another_census_than_the_models_is_refused_naming_the_terms(
    ready_history, model, sent, named
):
    rows = _rows(3, sent)
    with pytest.raises(RequestProblem) as refused:
        _cohort(rows, ready_history, model)
    problem = refused.value
    assert problem.status_code == 422
    assert (
        f"The model scores the {calendar.census_name(model)} census (CensusTerm {model})" in problem.message
    )
    assert f"the rows for {YEAR} are for the {named} census" in problem.message
    assert problem.problems[0]["field"] == "CensusTerm"
    said = problem.message + repr(problem.problems)
    assert not any(row["UPN"] in said for row in rows)  # terms and the year only, never a pupil


def test_an_upload_of_the_models_census_is_scored_at_it(ready_history):
    cohort = _cohort(_rows(3, calendar.SPRING) + _rows(2, calendar.AUTUMN, first=10), ready_history, "SPR")
    assert len(cohort.features) == 3  # the spring rows; pupils on the autumn census only are not scored
    assert cohort.history == "linked"


def test_the_recorded_run_names_the_census_scored(tmp_path):
    scorer = SimpleNamespace(
        name="exclusion-risk", model_version="7", matrix=load_risk_matrix(), census="spring"
    )
    scores = pd.DataFrame({"upn": ["A1"], "school_urn": ["100"], "probability": [0.2],
                           "likelihood_band": [scorer.matrix.bands[-1].label], "rag": ["green"]})  # fmt: skip
    store = RunStore(Database(tmp_path / "service.db"))
    recorded = record_census_scoring(store, scores, scorer, YEAR, "key1")
    assert recorded.run["census"] == "spring"
    (run,) = store.recent()
    assert (run.year, run.census) == (YEAR, "spring")
