"""The service over real HTTP: a uvicorn process on 127.0.0.1 serving a real (small) champion model."""

from __future__ import annotations

import io
import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from exclusion_risk.contract import SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

# End to end: the champion is trained once per run and each xdist worker starts a real uvicorn server.
pytestmark = pytest.mark.slow

UPN_SHAPE = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{11}[0-9A-Z](?![A-Za-z0-9])")
PUPIL = {
    "upn": "A801200111001",
    "sex": "M",
    "nc_year": 9,
    "fsm": True,
    "sen_provision": "K",
    "sen_type": "SEMH",
    "absence_rate_last_year": 0.14,
    "persistent_absence_last_year": True,
    "suspensions_last_year": 3,
    "suspension_sessions_last_year": 9,
}


@pytest.fixture(scope="module")
def cohort(champion) -> pd.DataFrame:
    return pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _read_scores_csv(text: str) -> pd.DataFrame:
    """A plain CSV, as `exclusion-risk score` writes it: the header on row 1."""
    return pd.read_csv(io.StringIO(text), dtype={"upn": str, "model_version": str, "school_urn": str},
                       keep_default_na=False)


def _identifiers(cohort: pd.DataFrame) -> tuple[set[str], set[str]]:
    names = set(cohort["Surname"]) | set(cohort["Forename"])
    return set(cohort["UPN"]), {n for n in names if len(n) >= 4}


def assert_names_nothing(text: str, cohort: pd.DataFrame, upns_allowed: bool = False) -> None:
    upns, names = _identifiers(cohort)
    if not upns_allowed:
        assert not UPN_SHAPE.search(text), "a UPN-shaped identifier leaked"
        assert not any(u in text for u in upns)
    # the substring test first: a name's regex (\b defeats re's literal-prefix search) over a 2.4 MB
    # whole-cohort response took 70 s for ~900 names; only the names found as substrings are searched
    leaked = [n for n in names if n in text and re.search(rf"\b{re.escape(n)}\b", text)]
    assert not leaked, f"names leaked: {leaked[:5]}"


# --- reading the service ------------------------------------------------------------------------


def test_health_model_and_risk_matrix(live_service, champion):
    with live_service.client(role=None) as anonymous:
        health = anonymous.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert {k: body[k] for k in ("status", "model_version", "history")} == {
        "status": "ready", "model_version": champion.version, "history": "ready"}
    assert body["history_info"]["state"] == "ready" and body["history_info"]["pupils"] > 0

    with live_service.client() as client:
        model = client.get("/model").json()
        matrix = client.get("/risk-matrix").json()
    assert model["name"] == "exclusion-risk" and model["version"] == champion.version
    assert model["alias"] == live_service.alias
    period = {"train_years": "2016/17", "validation_year": "2017/18", "fitted_years": "2016/17,2017/18",
              "test_year": "2018/19"}
    assert model["training_period"] == period
    roc = model["metrics"]["roc_auc"]
    assert 0.5 < roc["estimate"] <= 1 and roc["low"] <= roc["estimate"] <= roc["high"]
    assert model["notice"] == DECISION_SUPPORT_NOTICE
    assert model["last_checked"] is None  # read from the registry: this champion was never evaluated
    assert len(matrix["cells"]) == 16 and {c["rag"] for c in matrix["cells"]} <= {"red", "amber", "green"}
    thresholds = [b["min_probability"] for b in matrix["likelihood_bands"]]
    assert thresholds == sorted(thresholds, reverse=True) and thresholds[-1] == 0
    assert matrix["notice"] == DECISION_SUPPORT_NOTICE
    # how sure, in words and as a share: never a band's counts, which a printed red count gives back a
    # withheld cell from (an auditor's finding)
    shown = [b["precision"] for b in matrix["likelihood_bands"] if b.get("precision")]
    assert shown and all(set(p) == {"year", "precision", "low", "high", "text"} for p in shown)
    assert not any("pupils" in p or "positives" in p for p in shown)


def test_page_and_openapi_are_served_without_a_key(live_service):
    with live_service.client(role=None) as anonymous:
        page = anonymous.get("/")
        schema = anonymous.get("/openapi.json").json()
        scripts = [anonymous.get(f"/static/{name}") for name in ("app.js", "common.js", "details.js")]
    assert page.status_code == 200 and DECISION_SUPPORT_NOTICE.replace("'", "&#x27;") in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    assert all(script.status_code == 200 for script in scripts)
    assert "X-API-Key" in scripts[1].text  # common.js sends the key; the page's own files, no CDN
    assert not [s for s in scripts if "http://" in s.text or "https://" in s.text]
    assert {"/health", "/model", "/risk-matrix", "/score", "/score/file", "/explain", "/admin/reload"} <= set(
        schema["paths"]
    )
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert "example" in schema["components"]["schemas"]["FeatureRecord"]


# --- scoring --------------------------------------------------------------------------------------


def test_single_pupil_feature_record(live_service, champion):
    with live_service.client() as client:
        response = client.post("/score", json={"pupils": [PUPIL]})
        quiet = client.post("/score", params={"reasons": "false"}, json={"pupils": [PUPIL]})
        explained = client.post("/explain", json={"pupils": [PUPIL]}, params={"n": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["notice"] == DECISION_SUPPORT_NOTICE and body["history"] == "not needed"
    [row] = body["scores"]
    assert set(SCORE_COLUMNS) <= set(row)
    assert row["upn"] == PUPIL["upn"] and row["model_version"] == champion.version
    assert 0 < row["probability"] < 1 and row["need_level"] == 1  # SEN support, no social care
    assert row["matrix_cell"].endswith("-N1") and row["rag"] in ("red", "amber", "green")
    reasons = row["reasons"].split("; ")
    assert quiet.json()["scores"][0]["reasons"] == ""
    assert quiet.json()["scores"][0]["probability"] == pytest.approx(row["probability"], abs=1e-12)
    pupil = explained.json()["pupils"][0]
    assert pupil["probability"] == pytest.approx(row["probability"], abs=1e-12)
    assert 0 < len(pupil["raising"]) <= 5 and all(f["contribution"] > 0 for f in pupil["raising"])
    # The plain-English reasons are this pupil's strongest raising factors, in words.
    assert reasons and set(reasons) <= {f["value"] for f in pupil["raising"]}
    assert all(f["contribution"] < 0 for f in pupil["lowering"])


def test_cohort_file_json_csv_and_census_rows_agree(live_service, cohort, champion):
    sample = cohort.head(60)
    with live_service.client() as client:
        as_json = client.post("/score/file", params={"skip_invalid": "true"},
                              files={"file": ("census.csv", _csv(sample), "text/csv")})
        as_csv = client.post("/score/file", params={"format": "csv", "skip_invalid": "true"},
                             content=_csv(sample), headers={"Content-Type": "text/csv"})
        as_rows = client.post("/score", params={"skip_invalid": "true"},
                              json={"census": sample.to_dict("records")})
    assert as_json.status_code == as_csv.status_code == as_rows.status_code == 200
    body = as_json.json()
    assert body["history"] == "linked" and body["missing_features"] == []
    scores = pd.DataFrame(body["scores"])
    assert len(scores) + len(body["rejected"]) == len(sample)
    assert scores["probability"].is_monotonic_decreasing
    assert set(scores["upn"]) <= set(sample["UPN"]) and (scores["model_version"] == champion.version).all()
    assert set(scores["school_urn"]) <= set(sample["SchoolURN"])

    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert as_csv.headers["x-decision-support-notice"] == DECISION_SUPPORT_NOTICE  # beside the data
    table = _read_scores_csv(as_csv.text)
    assert list(table.columns) == SCORE_COLUMNS + SCORE_OFFICER_COLUMNS
    # how sure: the champion's bands carry their test-year precision, the same in the CSV and the JSON
    assert table["band_precision"].notna().any()
    assert table["band_precision"].tolist() == pytest.approx(scores["band_precision"].astype(float).tolist(),
                                                             nan_ok=True)  # fmt: skip
    assert not scores["reasons"].str.contains("in Year").any()  # year group is context, not a reason
    pd.testing.assert_frame_equal(table[SCORE_COLUMNS], scores[SCORE_COLUMNS].astype({"model_version": str}),
                                  check_dtype=False, rtol=1e-12)
    assert table["school_urn"].tolist() == scores["school_urn"].tolist()
    rows = pd.DataFrame(as_rows.json()["scores"])
    assert rows.set_index("upn")["probability"].to_dict() == pytest.approx(
        scores.set_index("upn")["probability"].to_dict(), abs=1e-12
    )


def test_whole_cohort_with_rejected_rows_listed(live_service, cohort):
    noisy = cohort.copy()
    noisy.loc[noisy.index[[9, 499]], "SENprovision"] = "Z"
    noisy.loc[noisy.index[1499], "NCyearActual"] = "Year Eleven"
    with live_service.client() as client:
        strict = client.post("/score/file", content=_csv(noisy), headers={"Content-Type": "text/csv"})
        # without reasons: what is checked is which rows are scored and listed, and the whole cohort's
        # reasons (SHAP) made this the suite's longest test (174 s on a slow 2-core machine)
        lenient = client.post("/score/file", params={"skip_invalid": "true", "reasons": "false"},
                              content=_csv(noisy), headers={"Content-Type": "text/csv"})
    assert strict.status_code == 422  # one bad row stops the whole file unless asked otherwise
    problems = strict.json()["errors"]
    assert {(10, "SENprovision"), (500, "SENprovision"), (1500, "NCyearActual")} <= {
        (p["row"], p["field"]) for p in problems
    }
    assert all(p["reason"] for p in problems)
    body = lenient.json()
    assert lenient.status_code == 200
    assert [(p["row"], p["field"]) for p in body["rejected"]] == [(p["row"], p["field"]) for p in problems]
    rejected_upns = set(noisy["UPN"].iloc[[p["row"] - 1 for p in problems]])
    scored = {row["upn"] for row in body["scores"]}
    assert not scored & rejected_upns
    assert body["pupils"] == len(body["scores"]) == len(scored)
    assert len(scored) >= len(cohort) - len(problems) - 5  # pupils not on the autumn roll drop out
    assert_names_nothing(strict.text, cohort)  # an error response; scores themselves carry UPNs
    assert_names_nothing(lenient.text, cohort, upns_allowed=True)


# --- bad input: each a clear 4xx, nothing that identifies a pupil -----------------------------------


def _bad_requests(cohort: pd.DataFrame, max_rows: int, max_bytes: int) -> dict[str, tuple[dict, int, str]]:
    head = cohort.head(20).copy()
    unknown = head.copy()
    unknown.loc[unknown.index[2], "SENprovision"] = "Z"
    ragged = _csv(head).decode().splitlines()
    ragged[5] += ",extra,fields"
    many = _csv(cohort).decode().splitlines()
    ten_times = "\n".join([many[0]] + many[1:] * (10 * max_rows // (len(many) - 1) + 1)).encode()
    csv_type = {"Content-Type": "text/csv"}
    return {
        "json to the file route": (dict(json={"census": head.to_dict("records")}), 415, "multipart"),
        # 415, as every JSON route answers a body of another type (it said 422; /runs/earlier read it)
        "text to the json route": (dict(content=b"UPN\nX", headers={"Content-Type": "text/plain"}), 415,
                                   "JSON"),
        "binary garbage": (dict(content=b"\x00\xff\x10garbage\x00" * 50, headers=csv_type), 422, "census"),
        "ragged rows": (dict(content="\n".join(ragged).encode(), headers=csv_type), 422, "fields"),
        "missing columns": (dict(content=_csv(head.drop(columns=["UPN"])), headers=csv_type), 422, "UPN"),
        "unknown codes": (dict(content=_csv(unknown), headers=csv_type), 422, "SENprovision"),
        "10x the row limit": (dict(content=ten_times, headers=csv_type), 413, f"{max_rows:,}"),
        "over the byte limit": (dict(content=b"x" * (max_bytes + 1), headers=csv_type), 413, "bytes"),
        "empty file": (dict(files={"file": ("census.csv", b"", "text/csv")}), 422, "empty"),
        "no file field": (dict(files={"other": ("census.csv", _csv(head), "text/csv")}), 422, "file"),
    }


def test_bad_input_is_a_clear_4xx_naming_no_pupil(live_service, cohort):
    cases = _bad_requests(cohort, live_service.max_rows, live_service.max_request_bytes)
    with live_service.client() as client:
        for name, (kwargs, status, phrase) in cases.items():
            route = "/score" if name == "text to the json route" else "/score/file"
            response = client.post(route, **kwargs)
            assert response.status_code == status, (name, response.text[:500])
            body = response.json()
            assert isinstance(body["detail"], str) and body["detail"], name
            assert phrase in response.text, (name, response.text[:500])
            assert "Traceback" not in response.text and 'File "' not in response.text
            assert_names_nothing(response.text, cohort)
    with live_service.client() as client:
        body = client.post("/score/file", **cases["unknown codes"][0]).json()
    assert {"row": 3, "field": "SENprovision"}.items() <= body["errors"][0].items()


def test_json_validation_errors_name_row_and_field_not_the_value(live_service):
    bad = [dict(PUPIL), dict(PUPIL, upn="B801200111002", fsm="perhaps", sen_type="XYZ")]
    with live_service.client() as client:
        response = client.post("/score", json={"pupils": bad})
        both = client.post("/score", json={"pupils": [PUPIL], "census": [{"UPN": "A801200111001"}]})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(2, "fsm"), (2, "sen_type")}
    assert "perhaps" not in response.text and "XYZ" not in response.text.replace("'XYZ'", "")
    assert both.status_code == 422 and "exactly one" in both.text


def test_keys_and_roles_are_enforced(live_service):
    with live_service.client(role=None) as anonymous:
        missing = anonymous.post("/score", json={"pupils": [PUPIL]})
        invalid = anonymous.post("/score", json={"pupils": [PUPIL]}, headers={"X-API-Key": "erk.nope.nope"})
        forged = anonymous.get("/model", headers={"X-API-Key": live_service.keys["scorer"][:-2] + "zz"})
    assert missing.status_code == invalid.status_code == forged.status_code == 401
    assert "X-API-Key" in missing.json()["detail"] and missing.headers["www-authenticate"] == "APIKey"
    with live_service.client("scorer") as scorer:
        assert scorer.post("/admin/reload").status_code == 403

    from exclusion_risk.serving.database import Database
    from exclusion_risk.serving.security import KeyStore, split_token

    token = live_service.add_key("scorer")
    with live_service.client(role=None, headers={"X-API-Key": token}) as client:
        assert client.get("/model").status_code == 200
        KeyStore(Database(live_service.database)).revoke(split_token(token)[0])
        assert client.get("/model").status_code == 401  # revocation applies at once


def test_security_headers_and_no_cors_by_default(live_service):
    with live_service.client() as client:
        response = client.get("/model")
        preflight = client.options("/score", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in preflight.headers
    assert "server" not in response.headers


def test_audit_log_records_who_what_how_many_and_no_identifiers(live_service, cohort):
    with live_service.client() as client:
        client.post("/score", json={"pupils": [PUPIL, dict(PUPIL, upn="B801200111002")]})
        scored = client.post("/score/file", params={"skip_invalid": "true"},
                             content=_csv(cohort.head(30)), headers={"Content-Type": "text/csv"}).json()
    with live_service.client(role=None) as anonymous:
        anonymous.get("/model")
    rows = audit_rows_once_written(live_service, ("unknown", "GET", "/model", 401, 0, None))
    scorer_id = live_service.keys["scorer"].split(".")[1]
    assert (scorer_id, "POST", "/score", 200, 2, live_service_version(live_service)) in rows
    file_rows = [r for r in rows if r[2] == "/score/file" and r[3] == 200 and r[0] == scorer_id]
    # the pupils scored and the leavers `changes` lists from an earlier run at their schools (one the
    # tests before this one recorded, when this upload holds half its pupils there)
    leavers = ((scored.get("changes") or {}).get("counts") or {}).get("no_longer_on_roll", 0)
    assert 25 <= scored["pupils"] <= 30 and file_rows and file_rows[-1][4] == scored["pupils"] + leavers
    assert ("unknown", "GET", "/model", 401, 0, None) in rows  # the claimed id is never stored
    assert not any(r[2] == "/health" for r in rows)  # probes are not audited
    everything = " ".join(str(v) for r in rows for v in r)
    assert_names_nothing(everything, cohort)


def audit_rows_once_written(service, expected: tuple, timeout: float = 10) -> list[tuple]:
    """The audit log's rows once `expected` is among them (or the timeout passes). The server writes a
    request's row after the last byte of its response, so the client can read the log before it."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(service.database) as db:
            rows = db.execute(
                "SELECT key_id, method, route, status, pupils, model_version FROM audit_log ORDER BY id"
            ).fetchall()
        if expected in rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def live_service_version(service) -> str:
    with service.client(role=None) as anonymous:
        return anonymous.get("/health").json()["model_version"]


def _log_holding(service, text: str, timeout: float = 10) -> str:
    """The server's log once it holds `text`, or as it is after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    log = service.log_text()
    while text not in log and time.monotonic() < deadline:
        time.sleep(0.1)
        log = service.log_text()
    return log


def test_server_log_names_no_pupil(live_service, champion, cohort):
    # Runs after the scoring and bad-input tests of this module that ran on this worker's server:
    # everything they sent went through it. The whole cohort, names included, goes through here.
    with live_service.client() as client:
        response = client.post("/score/file", content=_csv(cohort), headers={"Content-Type": "text/csv"})
    request_line = f'"POST /score/file HTTP/1.1" {response.status_code}'
    log = _log_holding(live_service, request_line)
    # An empty or unwritten log names no pupil either: the scan counts only if the log holds what the
    # server did, from its start-up (the champion loaded) to the request just made.
    assert f"model version {champion.version} ready in" in log, log[-3000:]
    assert request_line in log, log[-3000:]
    assert_names_nothing(log, cohort)


# --- reload -----------------------------------------------------------------------------------------


def test_reload_swaps_the_model_without_dropping_requests(live_service, champion, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    # MLflow's registry resolves a `models:/m-...` source through the *global* tracking URI, whatever
    # the client's own; another test in this worker may have pointed it at a different store.
    monkeypatch.setattr(mlflow.tracking._tracking_service.utils, "_tracking_uri", None, raising=False)
    mlflow.set_tracking_uri(champion.tracking_uri)
    client_ml = MlflowClient(tracking_uri=champion.tracking_uri)
    current = client_ml.get_model_version("exclusion-risk", champion.version)
    newer = client_ml.create_model_version("exclusion-risk", source=current.source, run_id=current.run_id,
                                           tags=current.tags)
    newer_version = str(newer.version)
    champion.set_alias(live_service.alias, newer_version)

    def score_one(_):
        with live_service.client() as client:
            response = client.post("/score", json={"pupils": [PUPIL]})
            return response.status_code, response.json()["scores"][0]["model_version"]

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            during = pool.map(score_one, range(40))
            with live_service.client("admin") as admin:
                reload = admin.post("/admin/reload")
            results = list(during)
    finally:  # later tests in this worker expect the champion version back
        champion.set_alias(live_service.alias, champion.version)
    assert reload.status_code == 200, reload.text
    assert reload.json()["previous_version"] == champion.version
    assert reload.json()["model_version"] == newer_version
    assert all(status == 200 for status, _ in results)
    assert {version for _, version in results} <= {champion.version, newer_version}
    with live_service.client() as client:
        assert client.get("/model").json()["version"] == newer_version
        assert client.post("/score", json={"pupils": [PUPIL]}).json()["model_version"] == newer_version
    rows = sqlite3.connect(live_service.database).execute(
        "SELECT status, model_version FROM audit_log WHERE route = '/admin/reload'"
    ).fetchall()
    assert (200, newer_version) in rows
    with live_service.client("admin") as admin:
        assert admin.post("/admin/reload").json()["model_version"] == champion.version
