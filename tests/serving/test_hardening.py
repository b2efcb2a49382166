"""Issue #11 findings 6, 8, 10 and 11, in process (no model, no server): feature records held to the
registry's ranges, academic years to a plausible range, the audit log's "who" only once a key verifies,
failed keys throttled per client, query strings out of the access log, a warning for exposed binds.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from exclusion_risk import calendar
from exclusion_risk.cli import app as cli_app
from exclusion_risk.features import registry
from exclusion_risk.serving import access_log
from exclusion_risk.serving import cli as serving_cli
from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.audit import MAX_KEY_ID_CHARS, UNKNOWN_KEY
from exclusion_risk.serving.process import free_port
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.serving.security import AUTH_FAILURES_PER_MINUTE, FailedAuthThrottle
from exclusion_risk.serving.settings import ServiceSettings

UPN = "A801200111001"  # synthetic
# Finding 6's record: every one of these was scored (probability 0.99999, red).
OUT_OF_RANGE = {"absence_rate_last_year": -5, "suspensions_last_year": 1e300, "idaci_decile": -40,
                "nc_year": 1000}


class _Scorer:
    """Stands in for CohortScorer: remembers what it was asked to score, scores everything 0.5."""

    model_version = "1"
    feature_names = registry.feature_names()

    def __init__(self):
        self.scored: list[dict] = []

    def info(self) -> dict:
        return {"name": "exclusion-risk", "version": self.model_version}

    def score_records(self, records, reasons=True):
        self.scored += records
        return [
            {"upn": r["upn"], "probability": 0.5, "likelihood_band": "B", "need_level": 0, "rag": "amber",
             "matrix_cell": "B0", "reasons": "", "model_version": "1", "response": ""}
            for r in records
        ]


@pytest.fixture
def service(stub_app):
    """(client, scorer, token, database): the app with a stub model and one scorer key."""
    scorer = _Scorer()
    app, token, database = stub_app(lambda: scorer)
    with TestClient(app) as client:
        client.app.state.model.load_initial()  # the lifespan's thread may not have run yet
        yield client, scorer, token, database


def _audit(database) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT key_id, route, status FROM audit_log ORDER BY id").fetchall()


# --- finding 6: feature records bounded by the registry --------------------------------------------


def test_out_of_range_feature_records_are_refused_naming_row_field_and_range(service):
    client, scorer, token, _ = service
    fine = {"upn": UPN, "nc_year": 8, "idaci_decile": 2, "absence_rate_last_year": 0.1}
    response = client.post("/score", json={"pupils": [fine, {"upn": "B801200111002", **OUT_OF_RANGE}]},
                           headers={"X-API-Key": token})
    assert response.status_code == 422, response.text
    errors = {(e["row"], e["field"]): e["reason"] for e in response.json()["errors"]}
    assert set(errors) == {(2, name) for name in OUT_OF_RANGE}
    assert errors[(2, "idaci_decile")] == "must be a whole number from 1 to 10 (1 = most deprived)"
    assert errors[(2, "absence_rate_last_year")] == "must be a number from 0 to 1"
    assert "from -2 to 14" in errors[(2, "nc_year")]
    assert "from 0 to 200" in errors[(2, "suspensions_last_year")]
    assert not any(v in response.text for v in ("1e300", "1e+300", "-40", "1000", "-5", "B801200111002"))
    assert scorer.scored == []  # refused before anything was scored

    ok = client.post("/score", json={"pupils": [fine]}, headers={"X-API-Key": token})
    assert ok.status_code == 200, ok.text
    assert scorer.scored[0]["nc_year"] == 8


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_feature_values_are_refused(service, token):
    client, scorer, key, _ = service
    body = '{"pupils": [{"upn": "' + UPN + '", "suspensions_last_year": ' + token + "}]}"
    response = client.post("/score", content=body,
                           headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(1, "suspensions_last_year")]
    assert scorer.scored == []


def test_the_openapi_document_states_each_range(service):
    client, _, _, _ = service
    record = client.get("/openapi.json").json()["components"]["schemas"]["FeatureRecord"]["properties"]
    assert (record["idaci_decile"]["minimum"], record["idaci_decile"]["maximum"]) == (1, 10)
    assert (record["nc_year"]["minimum"], record["nc_year"]["maximum"]) == (-2, 14)


def test_the_openapi_document_declares_the_slow_body_cut_and_the_download_headers(service):
    """A client generated from the schema met a 408 and headers the schema did not name (a docs
    reviewer's find: serving/README.md says a slow upload is cut off with 408)."""
    client, _, _, _ = service
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/score", "/score/file", "/explain/file"):
        assert "408" in paths[path]["post"]["responses"], path
    headers = paths["/score/file"]["post"]["responses"]["200"]["headers"]
    assert set(headers) == {"X-Decision-Support-Notice", "X-Run-Id", "X-Census-Warnings", "X-Drift-Warnings",
                            "X-Fairness-Findings"}  # fmt: skip


# --- finding 10: academic years held to a plausible range -----------------------------------------


@pytest.mark.parametrize("year", ["2261/62", "1900/01", "9999/00"])
def test_implausible_academic_years_are_refused(service, year):
    client, _, token, _ = service
    rows = [{**EXAMPLE_CENSUS, "AcademicYear": year}]  # rows of that year too: scored, before the bound
    asked = client.post("/score", json={"census": rows, "academic_year": year}, headers={"X-API-Key": token})
    assert asked.status_code == 422, asked.text
    errors = asked.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(None, "academic_year")]
    assert errors[0]["reason"].startswith("must be an academic year from 1990/91 to ")
    assert year not in asked.text


def test_the_plausible_range_runs_from_1990_91_to_next_year():
    assert calendar.latest_year(date(2026, 12, 2)) == 2027  # in 2026/27, 2027/28 may be prepared
    assert calendar.latest_year(date(2027, 8, 31)) == 2027 and calendar.latest_year(date(2027, 9, 1)) == 2028
    assert calendar.plausible_year("1990-91") == "1990/91"
    nxt = calendar.format_year(calendar.latest_year())
    assert calendar.plausible_year(nxt) == nxt
    for year in ("1989/90", calendar.shift_year(nxt, 1), "2261/62", "2016/18", "soon"):
        with pytest.raises(ValueError, match="^must be an academic year from 1990/91 to ") as refused:
            calendar.plausible_year(year)
        assert year not in str(refused.value)


# --- finding 8: audit log records verified key ids only; failed keys throttled ---------------------


def test_the_audit_log_records_only_verified_key_ids(service):
    client, _, token, database = service
    claimed = [f"erk.{'x' * 20_000}.secret", f"erk.{UPN}.secret", "erk.nope.nope", token[:-2] + "zz"]
    for value in claimed:
        assert client.get("/model", headers={"X-API-Key": value}).status_code == 401
    assert client.get("/model").status_code == 401
    assert client.get("/model", headers={"X-API-Key": token}).status_code == 200
    rows = _audit(database)
    key_id = token.split(".")[1]
    assert rows == [(UNKNOWN_KEY, "/model", 401)] * 5 + [(key_id, "/model", 200)]
    assert all(len(who) <= MAX_KEY_ID_CHARS for who, _, _ in rows)


def test_repeated_failed_keys_from_one_client_get_429_without_the_key_being_checked(service):
    client, _, token, database = service
    good = {"X-API-Key": token}
    for _ in range(AUTH_FAILURES_PER_MINUTE - 1):
        assert client.get("/model", headers={"X-API-Key": "erk.guess.guess"}).status_code == 401
    for _ in range(5):  # a valid key neither counts as a failure nor clears the count
        assert client.get("/model", headers=good).status_code == 200
    assert client.get("/model").status_code == 401  # no key at all is not a guess
    assert client.get("/model", headers={"X-API-Key": "erk.guess.guess"}).status_code == 401

    throttled = client.get("/model", headers={"X-API-Key": "erk.guess.guess"})
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert throttled.json()["detail"].startswith("Too many requests")
    assert client.get("/model", headers=good).status_code == 429  # the key is not even looked at
    assert _audit(database)[-1] == (UNKNOWN_KEY, "/model", 429)

    other = TestClient(client.app, client=("192.0.2.7", 50000))  # another address is not affected
    assert other.get("/model", headers=good).status_code == 200


def test_the_throttle_window_slides_and_its_memory_is_bounded():
    now = [0.0]
    throttle = FailedAuthThrottle(limit=3, window=60, max_clients=2, clock=lambda: now[0])
    for t in (0, 10, 20):
        now[0] = t
        assert throttle.retry_after("a") is None
        throttle.record_failure("a")
    assert throttle.retry_after("a") == 40  # the first failure leaves the window at t=60
    now[0] = 60.5
    assert throttle.retry_after("a") is None
    throttle.record_failure("a")
    assert throttle.retry_after("a") == 10  # now the failure at t=10 is the oldest of the last three
    for client in ("b", "c"):
        throttle.record_failure(client)
    assert list(throttle._failures) == ["b", "c"]  # at most max_clients, least recently failing dropped
    assert all(len(times) <= 3 for times in throttle._failures.values())


# --- finding 11: no key in the access log; a warning for a bind beyond loopback --------------------


def test_the_access_log_filter_drops_query_strings():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/model?api_key=erk.abc.SECRET", "1.1", 401), None)
    assert access_log.RedactQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /model?[query redacted] HTTP/1.1" 401'
    config = access_log.log_config()
    assert config["loggers"]["uvicorn.access"]["filters"] == ["redact_query"]


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                                ("0.0.0.0", False), ("::", False), ("10.1.2.3", False),
                                                ("service.example", False)])
def test_loopback_binds_are_recognised(host, loopback):
    assert serving_cli.is_loopback(host) is loopback


def test_serving_beyond_loopback_prints_a_warning(tmp_path, monkeypatch):
    import uvicorn

    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(kwargs))
    monkeypatch.setattr("exclusion_risk.serving.app.create_app", lambda settings: object())
    runner = CliRunner()
    args = ["serve", "--port", str(free_port()), "--database", str(tmp_path / "s.db")]
    exposed = runner.invoke(cli_app, [*args, "--host", "0.0.0.0"])
    local = runner.invoke(cli_app, [*args, "--host", "127.0.0.1"])
    assert exposed.exit_code == 0 and local.exit_code == 0, exposed.output
    assert "Warning: listening on 0.0.0.0" in exposed.stderr and "reverse proxy" in exposed.stderr
    assert "Warning" not in local.stderr
    assert started[0]["log_config"]["loggers"]["uvicorn.access"]["filters"] == ["redact_query"]


def test_a_real_servers_log_never_holds_a_key_sent_in_the_query_string(start_service, tmp_path):
    """`exclusion-risk serve` as a process (no model needed: its load fails, the routes still answer)."""
    service = start_service(tmp_path / "server", {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"},
                            wait_ready=False)
    try:
        _wait_listening(service)
        token = service.keys["scorer"]
        secret = token.split(".")[2]
        with service.client(role=None) as client:
            assert client.get("/model", params={"api_key": token}).status_code == 401
            assert client.get(f"/model?{token}").status_code == 401
            assert client.get("/health", params={"X-API-Key": token}).status_code in (200, 503)
    finally:
        service.stop()
    log = service.log_text()
    assert log.count("?[query redacted]") == 3, log[-2000:]  # the access log did record the requests
    assert secret not in log and token.split(".")[1] not in log


def test_serve_believes_forwarded_headers_only_from_configured_proxies(tmp_path, monkeypatch):
    import uvicorn

    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(kwargs))
    monkeypatch.setattr("exclusion_risk.serving.app.create_app", lambda settings: object())
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own setting is not what decides
    runner = CliRunner()
    args = ["serve", "--port", str(free_port()), "--database", str(tmp_path / "s.db")]
    plain = runner.invoke(cli_app, args)
    assert plain.exit_code == 0, plain.output
    assert started[0]["proxy_headers"] is False
    assert "FORWARDED_ALLOW_IPS is set" in plain.stderr
    monkeypatch.setenv("EXCLUSION_RISK_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.4")
    proxied = runner.invoke(cli_app, args)
    assert proxied.exit_code == 0, proxied.output
    assert started[1]["proxy_headers"] is True
    assert started[1]["forwarded_allow_ips"] == "127.0.0.1,10.0.0.4"
    assert "Warning" not in proxied.stderr


def _wait_listening(service) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            service.health()
            return
        except OSError:  # not listening yet
            time.sleep(0.2)


def _bad_keys(service, headers_for) -> list[int]:
    codes = []
    with service.client(role=None) as client:
        for i in range(AUTH_FAILURES_PER_MINUTE + 2):
            codes.append(client.get("/model", headers={"X-API-Key": f"erk.b7befc9a553a.bad{i}",
                                                       **headers_for(i)}).status_code)
    return codes


def test_a_real_server_without_a_proxy_ignores_forwarded_addresses(start_service, tmp_path):
    """No proxy configured: rotating X-Forwarded-For does not dodge the throttle, and naming a victim's
    address throttles the caller, not the victim (the probe's reproduction)."""
    service = start_service(tmp_path / "server", {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"},
                            wait_ready=False)
    try:
        _wait_listening(service)
        codes = _bad_keys(service, lambda i: {"X-Forwarded-For": f"10.9.{i}.1"})
        assert codes[:AUTH_FAILURES_PER_MINUTE] == [401] * AUTH_FAILURES_PER_MINUTE
        assert codes[AUTH_FAILURES_PER_MINUTE:] == [429, 429]
    finally:
        service.stop()
    log = service.log_text()
    assert "10.9." not in log and "127.0.0.1:" in log


def test_a_real_server_behind_a_configured_proxy_throttles_the_forwarded_address(start_service, tmp_path):
    service = start_service(tmp_path / "server", {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
                                                  "EXCLUSION_RISK_TRUSTED_PROXIES": "127.0.0.1"},
                            wait_ready=False)
    try:
        _wait_listening(service)
        victim = _bad_keys(service, lambda i: {"X-Forwarded-For": "192.0.2.9"})
        assert victim[AUTH_FAILURES_PER_MINUTE:] == [429, 429]
        with service.client() as client:  # another forwarded client is not affected
            assert client.get("/model", headers={"X-Forwarded-For": "192.0.2.10"}).status_code != 429
    finally:
        service.stop()
    assert "192.0.2.9:" in service.log_text()


def test_the_access_log_writes_paths_no_route_answers_as_a_placeholder(tmp_path):
    app = create_app(ServiceSettings(database=tmp_path / "s.db", data_dir=None), loader=lambda: None)
    paths = access_log.known_paths(app)
    assert {"/", "/health", "/score", "/score/file", "/runs/earlier", "/static/app.js"} <= paths
    assert "/static" not in paths
    redact = access_log.RedactQueryString(paths)
    lines = []
    for path in ("/nonexistent/H335228712113", "/static/H335228712113", "/model?api_key=erk.a.b", "/health"):
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5000", "GET", path, "1.1", 404), None)
        assert redact.filter(record)
        lines.append(record.getMessage().split('"')[1])
    assert lines == ["GET <unmatched> HTTP/1.1", "GET <unmatched> HTTP/1.1",
                     "GET /model?[query redacted] HTTP/1.1", "GET /health HTTP/1.1"]
    config = access_log.log_config(app)
    assert config["filters"]["redact_query"]["paths"] == sorted(paths)


def test_a_real_servers_log_never_holds_an_unmatched_path(start_service, tmp_path):
    service = start_service(tmp_path / "server", {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"},
                            wait_ready=False)
    try:
        _wait_listening(service)
        with service.client(role=None) as client:
            assert client.get(f"/nonexistent/{UPN}").status_code == 404
            assert client.get(f"/static/{UPN}").status_code == 404
            assert client.get("/static/app.js").status_code == 200
    finally:
        service.stop()
    log = service.log_text()
    assert log.count("<unmatched>") == 2 and "/static/app.js" in log, log[-2000:]
    assert UPN not in log
