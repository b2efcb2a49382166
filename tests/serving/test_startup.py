"""Start-up as an operator sees it: `serve` answers `loading` at once and `ready` only once the
champion is loaded; without linked history, census uploads are refused with a message naming the
setting while feature records are still scored; a busy port is a clear exit 2."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx
import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE


@pytest.mark.slow  # trains the champion (once per run) and starts a real server
def test_ready_after_the_model_loads_and_census_refused_without_history(champion, start_service, tmp_path):
    env = {"MLFLOW_TRACKING_URI": champion.tracking_uri}
    service = start_service(tmp_path / "bare", env, wait_ready=False)
    try:
        first = None
        deadline = time.monotonic() + 120
        while first is None and time.monotonic() < deadline:
            try:
                first = httpx.get(f"{service.base_url}/health", timeout=5)
            except httpx.TransportError:
                time.sleep(0.05)
        assert first is not None and first.status_code == 503
        assert {k: first.json()[k] for k in ("status", "model_version", "history")} == {
            "status": "loading", "model_version": None, "history": "none"}
        with service.client() as client:
            early = client.post("/score", json={"pupils": [{"upn": "A801200111001", "nc_year": 8}]})
        if early.status_code == 503:  # still loading (almost always: imports alone take seconds)
            assert early.headers["retry-after"] == "5" and "loading" in early.json()["detail"]

        health = service.wait_for("ready")
        assert {k: health[k] for k in ("status", "model_version", "history")} == {
            "status": "ready", "model_version": champion.version, "history": "none"}
        assert health["history_info"]["state"] == "none"
        assert "EXCLUSION_RISK_DATA_DIR" in health["history_info"]["detail"]
        assert "ready in" in service.log_text() and "census scoring is refused" in service.log_text()

        cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(40)
        with service.client() as client:
            model = client.get("/model").json()
            response = client.post("/score/file", params={"skip_invalid": "true"},
                                   files={"file": ("census.csv", cohort.to_csv(index=False), "text/csv")})
            census_json = client.post("/score", json={"census": cohort.head(3).to_dict("records")})
            features = client.post("/score", json={"pupils": [{"upn": "A801200111001", "nc_year": 8}]})
        assert model["alias"] == "champion" and model["history"]["state"] == "none"
        # Refused, not scored with the history features missing: the message says what to configure.
        for refused in (response, census_json):
            assert refused.status_code == 503 and "retry-after" not in refused.headers
            detail = refused.json()["detail"]
            assert "EXCLUSION_RISK_DATA_DIR" in detail and "Feature records" in detail
        body = features.json()
        assert features.status_code == 200 and body["notice"] == DECISION_SUPPORT_NOTICE
        assert body["history"] == "not needed" and body["pupils"] == 1
    finally:
        service.stop()
    assert service.process.returncode is not None


def test_serve_on_a_busy_port_exits_2_with_a_message(exclusion_risk_bin, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(exclusion_risk_bin), "serve", "--port", str(port), "--database", str(tmp_path / "s.db")],
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
