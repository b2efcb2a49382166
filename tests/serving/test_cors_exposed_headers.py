"""With CORS on (EXCLUSION_RISK_CORS_ORIGINS), a cross-origin page can read the headers the service's
answers carry beside a CSV or workbook: the decision-support notice, the census warnings, the file's
name, and a 503's Retry-After. A browser hides every response header outside the CORS safelist unless
`Access-Control-Expose-Headers` names it; before, none was named, so `X-Decision-Support-Notice` and
`X-Census-Warnings` read as null to the allowed origin's script."""

from __future__ import annotations

from fastapi.testclient import TestClient

from exclusion_risk.serving.answer_format import DRIFT_HEADER, FAIRNESS_HEADER, NOTICE_HEADER, WARNINGS_HEADER

ORIGIN = "https://la.example"


class _Scorer:
    model_version = "1"
    feature_names = ["nc_year"]


def test_the_notice_and_warnings_headers_are_exposed_to_an_allowed_origin(stub_app):
    app, token, _ = stub_app(_Scorer, cors_origins=ORIGIN)
    with TestClient(app) as client:
        response = client.get("/model", headers={"Origin": ORIGIN, "X-API-Key": token})
        other = client.get("/model", headers={"Origin": "https://other.example", "X-API-Key": token})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    exposed = response.headers.get("access-control-expose-headers", "")
    exposed = {name.strip().lower() for name in exposed.split(",")}
    beside = {NOTICE_HEADER, WARNINGS_HEADER, DRIFT_HEADER, FAIRNESS_HEADER, "Content-Disposition",
              "Retry-After"}
    assert {name.lower() for name in beside} <= exposed
    assert "access-control-allow-origin" not in other.headers  # only the configured origins
