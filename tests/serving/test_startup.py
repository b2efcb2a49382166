"""Start-up as an operator sees it: `serve` answers `loading` at once and `ready` only once the
champion is loaded; without linked history, census uploads are scored and the response says what
was missing; a busy port is a clear exit 2."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx
import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE


@pytest.mark.slow  # trains the champion (once per run) and starts a real server
def test_ready_only_after_the_model_loads_and_no_history_is_declared(champion, start_service, tmp_path):
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
        assert first.json() == {"status": "loading", "model_version": None, "history": "none"}
        with service.client() as client:
            early = client.post("/score", json={"pupils": [{"upn": "A801200111001"}]})
        if early.status_code == 503:  # still loading (almost always: imports alone take seconds)
            assert early.headers["retry-after"] == "5" and "loading" in early.json()["detail"]

        health = service.wait_for("ready")
        assert health == {"status": "ready", "model_version": champion.version, "history": "none"}
        assert "ready in" in service.log_text()

        cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(40)
        with service.client() as client:
            model = client.get("/model").json()
            response = client.post("/score/file", params={"skip_invalid": "true"},
                                   files={"file": ("census.csv", cohort.to_csv(index=False), "text/csv")})
        assert model["alias"] == "champion"
        body = response.json()
        assert response.status_code == 200 and body["notice"] == DECISION_SUPPORT_NOTICE
        assert body["history"] == "none"
        # Exactly the model's inputs that need history are declared missing (and there are some).
        from exclusion_risk.features.registry import history_feature_names

        expected = [f for f in history_feature_names() if f in model["features"]]
        assert expected and body["missing_features"] == expected
        assert body["pupils"] == len(body["scores"]) > 30
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
