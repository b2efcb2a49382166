"""POST /runs/earlier finds a pupil whatever the case of the UPN sent, and the audit log counts only
what went back (security probe, item 6). In process, with a stub model and one recorded run."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from exclusion_risk.models.score_runs import new_run
from exclusion_risk.upn import upn_key

UPN = "Q335266316864"  # synthetic


class _Scorer:
    model_version = "1"
    feature_names: list[str] = []

    def info(self) -> dict:
        return {"name": "exclusion-risk", "version": self.model_version}


@pytest.fixture
def service(stub_app):
    app, token, database = stub_app(_Scorer)
    scores = pd.DataFrame([{"upn": UPN, "school_urn": "104321", "probability": 0.4,
                            "likelihood_band": "high", "rag": "amber"}])
    run, pupils = new_run(scores, model_version="1", model_name="m", risk_matrix_version="1", year="2018/19")
    app.state.runs.record(run, pupils, "key")
    with TestClient(app, headers={"X-API-Key": token}) as client:
        yield client, database


def test_a_lower_case_or_padded_upn_finds_the_earlier_run(service):
    client, _ = service
    sent = (UPN, UPN.lower(), f"  {UPN.lower()} ")
    answers = [client.post("/runs/earlier", json={"upn": upn}) for upn in sent]
    assert all(a.status_code == 200 for a in answers)
    assert [len(a.json()["scores"]) for a in answers] == [1, 1, 1]
    assert {a.json()["upn"] for a in answers} == {UPN}
    assert upn_key(f" {UPN.lower()}\t") == UPN


def test_the_audit_log_counts_a_pupil_only_when_scores_went_back(service):
    client, database = service
    assert client.post("/runs/earlier", json={"upn": "Z999999999999"}).json()["scores"] == []
    assert client.post("/runs/earlier", json={"upn": UPN.lower()}).json()["scores"] != []
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT route, status, pupils FROM audit_log WHERE route = '/runs/earlier' "
                          "ORDER BY id").fetchall()
    assert rows == [("/runs/earlier", 200, 0), ("/runs/earlier", 200, 1)]


def test_a_upn_sent_with_spaces_or_hyphens_finds_the_earlier_run(service):
    """As an MIS export or a hand-keyed sheet writes it (`Q335 266316864`): the UPN's tidy form finds it."""
    client, _ = service
    sent = (f"{UPN[:4]} {UPN[4:]}", f"{UPN[:4]}-{UPN[4:8]}-{UPN[8:]}".lower(), f"{UPN[:4]}\u00a0{UPN[4:]}")
    answers = [client.post("/runs/earlier", json={"upn": upn}) for upn in sent]
    assert [len(a.json()["scores"]) for a in answers] == [1, 1, 1]
    assert {a.json()["upn"] for a in answers} == {UPN}


def _record_runs(app, n: int) -> list[str]:
    """`n` more runs of UPN's pupil recorded in the service, oldest first: their ids."""
    ids = []
    for i in range(n):
        scores = pd.DataFrame([{"upn": UPN, "school_urn": "104321", "probability": i / (n + 1),
                                "likelihood_band": "high", "rag": "amber"}])
        run, pupils = new_run(scores, model_version="1", model_name="m", risk_matrix_version="1",
                              year="2018/19")
        app.state.runs.record(run, pupils, "key")
        ids.append(run.run_id)
    return ids


def test_before_a_run_lists_only_the_runs_recorded_before_it(service):
    """The page took "earlier scores" as the runs after its own in the newest 50: past 50 newer runs of
    the pupil its own was not among them, and later runs were shown as earlier."""
    client, _ = service
    (first,) = [s["run_id"] for s in client.post("/runs/earlier", json={"upn": UPN}).json()["scores"]]
    (mine,) = _record_runs(client.app, 1)
    later = _record_runs(client.app, 55)
    answer = client.post("/runs/earlier", params={"before": mine}, json={"upn": UPN})
    assert answer.status_code == 200, answer.text
    assert [s["run_id"] for s in answer.json()["scores"]] == [first]
    newest = client.post("/runs/earlier", json={"upn": UPN}).json()["scores"]  # no `before`: as it was
    assert [s["run_id"] for s in newest] == later[::-1][:50]
    before_later = client.post("/runs/earlier", params={"before": later[3]}, json={"upn": UPN}).json()
    assert [s["run_id"] for s in before_later["scores"]] == [*later[2::-1], mine, first]
    assert client.post("/runs/earlier", params={"before": first}, json={"upn": UPN}).json()["scores"] == []


def test_before_an_unknown_run_is_refused(service):
    client, _ = service
    unknown = client.post("/runs/earlier", params={"before": "0" * 32}, json={"upn": UPN})
    assert unknown.status_code == 422 and "before" in unknown.json()["detail"], unknown.text
    malformed = client.post("/runs/earlier", params={"before": "not-a-run"}, json={"upn": UPN})
    assert malformed.status_code == 422, malformed.text
    assert UPN not in unknown.text + malformed.text
