"""Feature records say what they lack, and are held to their types (security probe, item 4).

`{"pupils": [{"upn": "A1"}]}` was scored low risk, green, with `"missing_features": []` though all of
the model's features were missing; a school's name was accepted as `school_urn` and `"nc_year": true`
as year 1. In process, with a stub model.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from exclusion_risk.features import registry

UPN = "A801200111001"  # synthetic
NAMES = registry.feature_names()


class _Scorer:
    model_version = "1"
    feature_names = NAMES

    def info(self) -> dict:
        return {"name": "exclusion-risk", "version": self.model_version}

    def score_records(self, records, reasons=True):
        return [{"upn": r["upn"], "probability": 0.01, "likelihood_band": "A", "need_level": 0,
                 "rag": "green", "matrix_cell": "A0", "reasons": "", "model_version": "1", "response": ""}
                for r in records]


@pytest.fixture
def client(stub_app):
    app, token, _ = stub_app(_Scorer)
    with TestClient(app, headers={"X-API-Key": token}) as client:
        client.app.state.model.load_initial()
        yield client


def test_a_record_with_no_feature_is_refused_not_scored_green(client):
    response = client.post("/score", json={"pupils": [{"upn": "A1"}]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("1 feature record gives none of the model's features")
    assert body["errors"][0]["row"] == 1 and body["errors"][0]["field"] == "pupils"
    assert "A1" not in response.text


def test_explain_refuses_a_record_with_no_feature_as_score_does(client):
    """/explain explained a UPN-only record's low score (nothing known) where /score refuses it."""
    response = client.post("/explain", json={"pupils": [{"upn": "A1"}]})
    assert response.status_code == 422, response.text
    assert "none of the model's features" in response.json()["detail"] and "A1" not in response.text


def test_with_skip_invalid_the_featureless_records_are_listed_and_the_rest_scored(client):
    pupils = [{"upn": "A1"}, {"upn": UPN, "nc_year": 8}, {"upn": "B2", "school_urn": "104321"}]
    response = client.post("/score", params={"skip_invalid": "true"}, json={"pupils": pupils})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pupils"] == 1 and [r["row"] for r in body["rejected"]] == [1, 3]
    only = client.post("/score", params={"skip_invalid": "true"}, json={"pupils": [{"upn": "A1"}]})
    assert only.status_code == 422  # nothing left to score


def test_each_score_and_the_response_name_the_missing_features(client):
    given = {"nc_year": 8, "fsm": True, "absence_rate_last_year": 0.12}
    pupils = [{"upn": UPN, **given}, {"upn": "B2", **_full_record()}]
    response = client.post("/score", json={"pupils": pupils})
    assert response.status_code == 200, response.text
    body = response.json()
    by_upn = {score["upn"]: score for score in body["scores"]}
    assert by_upn[UPN]["missing_features"] == [n for n in NAMES if n not in given]
    assert by_upn["B2"]["missing_features"] == []
    assert body["missing_features"] == [n for n in NAMES if n not in given]
    assert len(body["warnings"]) == 1 and body["warnings"][0].startswith("1 of 2 feature records lacks some")


def _full_record() -> dict:
    """A value for every registry feature, inside its range."""
    from exclusion_risk.serving.schemas import CATEGORY_VALUES

    record = {}
    for feature in registry.FEATURES:
        if feature.kind == "categorical":
            record[feature.name] = (CATEGORY_VALUES.get(feature.name) or ("x",))[0]
        elif feature.kind == "binary":
            record[feature.name] = False
        else:
            record[feature.name] = feature.valid_range.low
    return record


@pytest.mark.parametrize(
    ("field", "value"),
    [("school_urn", "Oakwood Academy"), ("school_urn", "10432"), ("nc_year", True), ("nc_year", "8"),
     ("need_level", True), ("absence_rate_last_year", False)],
)  # fmt: skip
def test_school_urns_and_numbers_are_held_to_their_types(client, field, value):
    response = client.post("/score", json={"pupils": [{"upn": UPN, "idaci_decile": 2, field: value}]})
    assert response.status_code == 422, response.text
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields and all(f.endswith(field) for f in fields), fields
    assert "Oakwood" not in response.text


def test_valid_school_urns_and_whole_numbers_still_pass(client):
    for urn in ("104321", "3304001"):
        record = {"upn": UPN, "school_urn": urn, "nc_year": 8, "idaci_decile": 2.0, "need_level": 1}
        response = client.post("/score", json={"pupils": [record]})
        assert response.status_code == 200, response.text
        assert response.json()["scores"][0]["school_urn"] == urn
