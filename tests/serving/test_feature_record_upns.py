"""Feature records' UPNs come back in their tidy form (exclusion_risk.upn.upn_key), as a census upload's do.

Feature-level `POST /score` (and `POST /explain`) echoed each record's UPN exactly as sent
(`e330 2057-09725`), where the census routes name the same pupil `E330205709725`: a client joining the
two answers on `upn` lost the pupil. A value that is no UPN once tidied comes back as sent: a feature
record may carry the LA's pseudonym, which the client joins on (tidied, `3fa9-c0e1` came back `3FA9C0E1`).
In process, with stand-in models.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from exclusion_risk.upn import upn_key
from tests.serving.test_invalid_upn_warning import VALID, post_census

SENT = [
    f"{VALID[0][:4]} {VALID[0][4:]}".lower(),  # separators and lower case: a valid UPN
    f"{VALID[1][:4]}-{VALID[1][4:8]}\u00a0{VALID[1][8:]}",
    VALID[2],  # already tidy
]
NOT_UPNS = ["NOTAUPN-Wilson", "3fa9-c0e1"]  # not a UPN (a pseudonym, say): as sent


class _Scorer:
    model_version = "1"
    feature_names = ["nc_year"]

    def info(self) -> dict:
        return {"name": "exclusion-risk", "version": self.model_version}

    def score_records(self, records, reasons=True):
        return [{"upn": r["upn"], "probability": 0.01, "likelihood_band": "A", "need_level": 0,
                 "rag": "green", "matrix_cell": "A0", "reasons": "", "model_version": "1", "response": ""}
                for r in records]

    def explain(self, features, n=5):
        return [{"upn": u, "probability": 0.01, "likelihood_band": "A", "need_level": 0, "rag": "green",
                 "matrix_cell": "A0", "response": "", "scale": "log-odds", "raising": [], "lowering": []}
                for u in features["upn"]]


@pytest.fixture
def client(stub_app):
    app, token, _ = stub_app(_Scorer)
    with TestClient(app, headers={"X-API-Key": token}) as client:
        client.app.state.model.load_initial()
        yield client


def _records(upns) -> list[dict]:
    return [{"upn": u, "nc_year": 8} for u in upns]


def test_feature_records_come_back_under_the_tidy_upn(client):
    response = client.post("/score", json={"pupils": _records(SENT + NOT_UPNS)})
    assert response.status_code == 200, response.text
    scores = response.json()["scores"]
    expected = sorted([upn_key(u) for u in SENT] + NOT_UPNS)
    assert sorted(s["upn"] for s in scores) == expected
    assert all(s["missing_features"] == [] for s in scores)  # each record's gaps still found by its UPN
    explained = client.post("/explain", json={"pupils": _records(SENT + NOT_UPNS)})
    assert explained.status_code == 200, explained.text
    assert sorted(p["upn"] for p in explained.json()["pupils"]) == expected


def test_feature_records_and_a_census_upload_name_a_pupil_alike(client, tmp_path):
    census = post_census(tmp_path, SENT, "file")
    assert census.status_code == 200, census.text[:300]
    features = client.post("/score", json={"pupils": _records(SENT)})
    assert features.status_code == 200, features.text
    assert sorted(s["upn"] for s in features.json()["scores"]) == sorted(
        s["upn"] for s in census.json()["scores"])



def test_a_upn_with_a_wrong_check_letter_comes_back_as_the_census_routes_name_it(client, tmp_path):
    # The data contract keeps a pupil whose UPN fails the check (a typing slip in the MIS) and names them by
    # the UPN's tidy form: a census upload scored `z335 2287 12113` as Z335228712113, where the feature
    # records echoed it as sent (only a UPN passing the check was tidied), so a client joining the two
    # answers on `upn` lost the pupil, as it had every pupil before.
    slips = ["z335 2287 12113", "s335-228712113"]  # a wrong check letter; one that is no check letter
    census = post_census(tmp_path, slips, "file")
    assert census.status_code == 200, census.text[:300]
    features = client.post("/score", json={"pupils": _records(slips)})
    assert features.status_code == 200, features.text
    named = sorted(s["upn"] for s in features.json()["scores"])
    assert named == sorted(s["upn"] for s in census.json()["scores"]) == ["S335228712113", "Z335228712113"]
    explained = client.post("/explain", json={"pupils": _records(slips)})
    assert sorted(p["upn"] for p in explained.json()["pupils"]) == named


def test_pseudonyms_differing_only_by_case_or_dashes_are_not_duplicates(client):
    # A pseudonym comes back exactly as sent (the client joins on it), but duplicates were judged on the
    # tidy form of every value: `3fa9-c0e1`, `3FA9C0E1` and `3fa9c0e1` all tidy to 3FA9C0E1, and the
    # request was refused (422, "share a UPN") though the three come back as three distinct keys.
    sent = ["3fa9-c0e1", "3FA9C0E1", "3fa9c0e1"]
    for route, listed in (("/score", "scores"), ("/explain", "pupils")):
        response = client.post(route, json={"pupils": _records(sent)})
        assert response.status_code == 200, (route, response.text)
        assert sorted(s["upn"] for s in response.json()[listed]) == sorted(sent)
    # the same pseudonym twice, and one UPN however it is written, are still one pupil sent twice
    for twice in (["3fa9-c0e1", "x", "3fa9-c0e1"], [SENT[0], "x", upn_key(SENT[0])]):
        response = client.post("/score", json={"pupils": _records(twice)})
        assert response.status_code == 422, response.text
        assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(1, "upn"), (3, "upn")]


def test_a_key_of_blanks_or_separators_alone_is_refused(client):
    # "   " and "---" passed the length check and were scored under a key no client can join on
    for route in ("/score", "/explain"):
        response = client.post(route, json={"pupils": _records(["x1", "   ", "---"])})
        assert response.status_code == 422, (route, response.text)
        errors = response.json()["errors"]
        assert [(e["row"], e["field"]) for e in errors] == [(2, "upn"), (3, "upn")], errors
        assert all("no letter or digit" in e["reason"] for e in errors)
