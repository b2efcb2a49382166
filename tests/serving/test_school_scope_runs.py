"""A school's key sees the recorded runs of its own schools only (serving.school_scope): GET /runs lists
the runs whose pupils are all its schools', a run it may not see is an unknown run wherever one is named
(`since`, `recorded_as`, `before`), changes since an earlier run are made from the runs it may see, and
POST /runs/earlier returns a pupil's earlier scores at its schools only. Before, any scorer key listed
every run, read any pupil's earlier scores by UPN and compared its upload with the authority's run."""

from __future__ import annotations

import pytest

from exclusion_risk.serving.run_history import NO_RUN
from tests.serving.test_limits import call, census_csv, census_rows, service  # noqa: F401
from tests.serving.test_school_scope_scoring import OTHER, OWN, scoped

ROWS = census_rows(3)  # pupils X, Y, Z


def _at(*schools: str) -> list[dict]:
    """X, Y, Z at these schools (a blank: not in the census)."""
    return [{**row, "SchoolURN": school} for row, school in zip(ROWS, schools, strict=False) if school]


def _score(key, rows, **params) -> dict:
    response = call(key, "POST", "/score/file", params=params,
                    files={"file": ("census.csv", census_csv(rows), "text/csv")})  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    return response.json()


@pytest.fixture
def runs(service):  # noqa: F811
    """(authority key, OWN's key, OTHER's key, run ids): the authority's run of X and Z at OTHER and Y at
    OWN, then OWN's own run of Y."""
    own, other = scoped(service, OWN), scoped(service, OTHER)
    everyone = _score(service, _at(OTHER, OWN, OTHER))["run"]["id"]
    first = _score(own, _at("", OWN))
    return service, own, other, {"authority": everyone, "own": first["run"]["id"], "first": first}


def _listed(key) -> list[str]:
    return [run["id"] for run in call(key, "GET", "/runs").json()["runs"]]


def test_a_schools_key_lists_only_the_runs_of_its_own_schools(runs):
    authority, own, other, ids = runs
    assert _listed(authority) == [ids["own"], ids["authority"]]
    assert _listed(own) == [ids["own"]]
    assert _listed(other) == []  # the authority's run holds OWN's pupil Y too


def test_earlier_scores_are_those_at_the_keys_schools_only(runs):
    authority, own, other, ids = runs
    x, y, _ = (row["UPN"] for row in ROWS)

    def earlier(key, upn, **params):
        return call(key, "POST", "/runs/earlier", json={"upn": upn}, params=params)

    assert [s["run_id"] for s in earlier(own, y).json()["scores"]] == [ids["own"], ids["authority"]]
    assert earlier(own, x).json()["scores"] == []  # X was scored at OTHER
    assert [s["run_id"] for s in earlier(other, x).json()["scores"]] == [ids["authority"]]
    assert [s["run_id"] for s in earlier(authority, x).json()["scores"]] == [ids["authority"]]
    refused = earlier(own, y, before=ids["authority"])  # a run it may not see: as an unknown one
    assert refused.status_code == 422 and NO_RUN in refused.json()["detail"]
    assert earlier(authority, y, before=ids["own"]).json()["scores"][0]["run_id"] == ids["authority"]


def test_changes_are_since_a_run_the_key_may_see_and_name_only_its_pupils(runs):
    authority, own, _, ids = runs
    assert ids["first"]["changes"] is None, ids["first"]["changes"]  # not compared with the authority's run
    since = call(own, "POST", "/score/file", params={"since": ids["authority"]},
                 files={"file": ("census.csv", census_csv(_at("", OWN)), "text/csv")})  # fmt: skip
    assert since.status_code == 422 and since.json()["detail"] == f"since: {NO_RUN}."
    unrecorded = call(own, "POST", "/score/file", params={"record": "false", "recorded_as": ids["authority"]},
                      files={"file": ("census.csv", census_csv(_at("", OWN)), "text/csv")})  # fmt: skip
    assert unrecorded.status_code == 422 and NO_RUN in unrecorded.json()["detail"]
    # Z, at OTHER in the authority's run, now at OWN: new to OWN's runs, its score at OTHER not shown
    moved = _score(own, _at("", OWN, OWN))
    assert moved["changes"]["since"]["id"] == ids["own"]
    z = ROWS[2]["UPN"]
    assert [(p["upn"], p["change"], p["before_band"]) for p in moved["changes"]["pupils"]] == [
        (z, "new_on_roll", None)]  # before: compared with its score in the authority's run, at OTHER
    assert moved["changes"]["notes"] == []
    assert OTHER not in str(moved["changes"])
    # the authority's key compares as before, with every run
    assert _score(authority, _at(OTHER, OWN, OTHER))["changes"]["since"]["id"] == moved["run"]["id"]

