"""A census upload's `changes` lists a school's earlier pupils as no longer on roll only when the upload
plausibly is that school's census (earlier_scorings.MIN_SHARE_HELD of its earlier pupils still there).

Without the guard, one made-up pupil at a scored school (`record=false`, any `since`) handed back every
UPN the earlier run had at that school, with its band and RAG, and the audit log counted one pupil.
In process first (`record_census_scoring` with a stand-in scorer), then a server of its own for the
response and the audit row.
"""

from __future__ import annotations

import json
import sqlite3
import time
from fractions import Fraction
from types import SimpleNamespace

import pandas as pd
import pytest

from exclusion_risk.models import earlier_scorings
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.run_history import RunStore, record_census_scoring

YEAR = "2018/19"
SCHOOL = "3354102"
OTHER_SCHOOL = "104321"
MADE_UP = "ZZ1"


@pytest.fixture
def scorer():
    return SimpleNamespace(name="exclusion-risk", model_version="7", matrix=load_risk_matrix())


def _scores(scorer, pupils: list[tuple[str, str]]) -> pd.DataFrame:
    """(UPN, school) pairs as scored rows, every pupil in the lowest band (green)."""
    band = scorer.matrix.bands[-1].label
    return pd.DataFrame({"upn": [u for u, _ in pupils], "school_urn": [s for _, s in pupils],
                         "probability": 0.01, "likelihood_band": band, "rag": "green"})  # fmt: skip


def _school(urn: str, n: int) -> list[tuple[str, str]]:
    return [(f"P{urn}{i:04d}", urn) for i in range(n)]


def _earlier_run(store: RunStore, scorer) -> tuple[dict, list[tuple[str, str]], list[tuple[str, str]]]:
    """A recorded run of two schools (40 and 10 pupils)."""
    school, other = _school(SCHOOL, 40), _school(OTHER_SCHOOL, 10)
    recorded = record_census_scoring(store, _scores(scorer, school + other), scorer, YEAR, "key1")
    return recorded.run, school, other


def _upns_said(recorded) -> str:
    """Everything the scoring hands back about changes: the JSON member, the workbook rows and sentence."""
    return json.dumps(recorded.changes) + recorded.rows.to_csv() + recorded.summary


def test_one_made_up_pupil_at_a_scored_school_gets_no_earlier_pupils(tmp_path, scorer):
    store = RunStore(Database(tmp_path / "service.db"))
    earlier, school, other = _earlier_run(store, scorer)
    probe = _scores(scorer, [(MADE_UP, SCHOOL)])
    for since in (None, earlier["id"]):
        recorded = record_census_scoring(store, probe, scorer, YEAR, "key1", record=False, since=since)
        changes = recorded.changes
        assert changes["since"]["id"] == earlier["id"]
        assert {p["upn"] for p in changes["pupils"]} <= {MADE_UP}  # the upload's own pupil only
        assert changes["counts"]["no_longer_on_roll"] == 0
        said = _upns_said(recorded)
        assert not any(upn in said for upn, _ in school + other)
        (note,) = changes["leavers_not_listed"]
        assert note["school_urn"] == SCHOOL
        assert "not listed" in note["reason"] and "two thirds" in note["reason"]
        assert SCHOOL in recorded.summary  # the workbook's sentence says it too
        assert recorded.listed_leavers == 0


def test_an_upload_of_the_same_school_with_most_pupils_lists_its_leavers(tmp_path, scorer):
    store = RunStore(Database(tmp_path / "service.db"))
    _, school, other = _earlier_run(store, scorer)
    kept = school[: int(len(school) * 0.75)]  # a quarter left, as a year group does over a summer
    joined = _school(SCHOOL, 50)[40:]
    recorded = record_census_scoring(store, _scores(scorer, kept + joined + other), scorer, YEAR, "key1")
    listed = pd.DataFrame(recorded.changes["pupils"])
    gone = set(listed.loc[listed["change"] == "no_longer_on_roll", "upn"])
    assert gone == {upn for upn, _ in school[len(kept):]}
    assert set(listed.loc[listed["change"] == "new_on_roll", "upn"]) == {upn for upn, _ in joined}
    assert recorded.changes["counts"]["no_longer_on_roll"] == len(gone)
    assert recorded.changes["leavers_not_listed"] == []
    assert recorded.listed_leavers == len(gone)
    assert recorded.rows["change"].eq("no_longer_on_roll").sum() == len(gone)  # the workbook's too


@pytest.mark.parametrize(("kept", "listed"), [(27, True), (26, False)])
def test_the_rule_is_two_thirds_of_the_schools_earlier_pupils(tmp_path, scorer, kept, listed):
    store = RunStore(Database(tmp_path / "service.db"))
    _, school, other = _earlier_run(store, scorer)
    recorded = record_census_scoring(store, _scores(scorer, school[:kept] + other), scorer, YEAR, "key1")
    gone = {p["upn"] for p in recorded.changes["pupils"] if p["change"] == "no_longer_on_roll"}
    assert gone == ({upn for upn, _ in school[kept:]} if listed else set())
    assert [n["school_urn"] for n in recorded.changes["leavers_not_listed"]] == ([] if listed else [SCHOOL])
    assert earlier_scorings.MIN_SHARE_HELD == Fraction(2, 3)  # 27 of the school's 40 earlier pupils is 2/3


def test_each_school_is_judged_on_its_own(tmp_path, scorer):
    """A whole census of one school beside one made-up pupil at another: the first's leavers are listed,
    the second's earlier pupils are not."""
    store = RunStore(Database(tmp_path / "service.db"))
    _, school, other = _earlier_run(store, scorer)
    upload = _scores(scorer, other[:-2] + [(MADE_UP, SCHOOL)])
    recorded = record_census_scoring(store, upload, scorer, YEAR, "key1", record=False)
    gone = {p["upn"] for p in recorded.changes["pupils"] if p["change"] == "no_longer_on_roll"}
    assert gone == {upn for upn, _ in other[-2:]}
    assert [n["school_urn"] for n in recorded.changes["leavers_not_listed"]] == [SCHOOL]
    assert not any(upn in _upns_said(recorded) for upn, _ in school)
    assert recorded.listed_leavers == 2


# --- a server of its own: the response and the audit row -------------------------------------------


@pytest.fixture(scope="module")
def guard_service(champion_env, start_service, tmp_path_factory):
    service = start_service(tmp_path_factory.mktemp("changes_guard_service"), champion_env())
    yield service
    service.stop()


def _audited_pupils(service, rows_expected: int) -> list[int]:
    """The pupil counts of the audit log's `/score/file` rows, oldest first. The middleware writes a
    row after its response is sent, so the last request's row may not be there yet: wait for it (a
    bounded wait; a row never written still fails the tests)."""
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(service.database) as db:
            rows = db.execute("SELECT pupils FROM audit_log WHERE route = '/score/file' ORDER BY rowid")
            pupils = [count for (count,) in rows.fetchall()]
        if len(pupils) >= rows_expected or time.monotonic() > deadline:
            return pupils
        time.sleep(0.05)


@pytest.fixture(scope="module")
def uploads(guard_service, champion) -> SimpleNamespace:
    """The largest school's census, the same again less three pupils (this term's census), then one
    made-up pupil at that school (`record=false`, compared with the first run); and their audit rows."""
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)
    school = cohort["SchoolURN"].value_counts().index[0]
    at_school = cohort[cohort["SchoolURN"] == school]
    gone = at_school["UPN"].head(3).tolist()
    made_up = at_school.head(1).assign(UPN=MADE_UP, Forename="Madeup", Surname="Pupil")
    quick = {"skip_invalid": "true", "reasons": "false"}

    def upload(client, rows: pd.DataFrame, **params):
        files = {"file": ("census.csv", rows.to_csv(index=False).encode(), "text/csv")}
        response = client.post("/score/file", params={**quick, **params}, files=files)
        assert response.status_code == 200, response.text[:300]
        return response.json()

    with guard_service.client() as client:
        first = upload(client, at_school)
        again = upload(client, at_school[~at_school["UPN"].isin(gone)])
        probe = upload(client, made_up, record="false", since=first["run"]["id"])
    return SimpleNamespace(school=school, upns=at_school["UPN"].tolist(), gone=gone, again=again,
                           probe=probe, audited=_audited_pupils(guard_service, 3))  # fmt: skip


def _leavers(response: dict) -> list[str]:
    return sorted(p["upn"] for p in response["changes"]["pupils"] if p["change"] == "no_longer_on_roll")


@pytest.mark.slow
def test_the_service_lists_the_leavers_of_this_terms_census(uploads):
    assert _leavers(uploads.again) == sorted(uploads.gone)
    assert uploads.again["changes"]["leavers_not_listed"] == []


@pytest.mark.slow
def test_the_audit_row_counts_the_leavers_listed(uploads):
    returned = len(uploads.again["scores"]) + len(_leavers(uploads.again))  # scored pupils and leavers
    assert uploads.audited[1] == returned
    assert uploads.audited[2] == len(uploads.probe["scores"]) == 1


@pytest.mark.slow
def test_the_service_gives_a_made_up_pupil_no_earlier_pupils(uploads):
    changes = uploads.probe["changes"]
    assert {p["upn"] for p in changes["pupils"]} <= {MADE_UP}
    said = json.dumps(uploads.probe)
    assert not any(upn in said for upn in uploads.upns)
    assert [n["school_urn"] for n in changes["leavers_not_listed"]] == [uploads.school]
