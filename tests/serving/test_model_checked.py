"""`/model` (JSON and the page) says when the served model was last checked against what happened: the
registered version's `last_checked` tag that `exclusion-risk evaluate` writes, or "never"."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient

from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.serving import app as app_module
from exclusion_risk.serving import model_state
from exclusion_risk.serving.model_state import ModelState
from exclusion_risk.serving.process import free_port

CHECKED = {"date": "2026-11-30", "year": "2018/19", "census": "autumn", "precision_at_5pct": 0.3234,
           "ci_low": 0.3072, "ci_high": 0.34, "consistent_with_stated": True,
           "verdict": "consistent with the model's stated precision", "scoring_run": "3762675",
           "run_id": "a3aaccc5", "outcome": "were suspended or excluded later that year"}  # fmt: skip


class Scorer:
    """What /model and the page use of CohortScorer."""

    name = "exclusion-risk"
    matrix = load_risk_matrix()

    def __init__(self, version: str = "3", checked: dict | None = None):
        self.model_version = version
        self._checked = checked

    def info(self) -> dict:
        info = {"name": self.name, "version": self.model_version, "test_year": "2017/18"}
        return info if self._checked is None else {**info, "last_checked": self._checked}

    @property
    def risk_matrix(self) -> dict:
        return self.matrix.to_dict()


def _app(stub_app, scorer: Scorer):
    app, token, _ = stub_app(lambda: scorer)
    app.state.model.load_initial()
    return app, token


# --- the reader --------------------------------------------------------------------------------------


def test_the_registry_is_read_once_a_minute_per_version(monkeypatch):
    calls: list[str] = []
    answers = {"3": CHECKED, "4": None}

    def reader(version: str):
        calls.append(version)
        return answers[version]

    state = ModelState(lambda: Scorer("3"), reader)
    assert state.last_checked() is None  # nothing loaded yet: nothing read
    state.load_initial()
    assert state.last_checked() == CHECKED and state.last_checked() == CHECKED
    assert calls == ["3"]  # cached
    monkeypatch.setattr(model_state, "CHECKED_TTL_SECONDS", 0.0)
    answers["3"] = {**CHECKED, "date": "2026-12-01"}
    assert state.last_checked()["date"] == "2026-12-01"  # a later evaluate shows without a reload
    state._loader = lambda: Scorer("4")
    state.reload()
    assert state.last_checked() is None and calls[-1] == "4"


def test_a_failing_registry_keeps_what_was_known(monkeypatch):
    state = ModelState(lambda: Scorer("3", checked={**CHECKED, "date": "2026-01-01"}), lambda v: CHECKED)
    state.load_initial()
    assert state.last_checked() == CHECKED
    monkeypatch.setattr(model_state, "CHECKED_TTL_SECONDS", 0.0)

    def down(version):
        raise OSError("registry unreachable")

    state._checked = down
    assert state.last_checked() == CHECKED  # the last answer, not the load-time one
    fresh = ModelState(lambda: Scorer("3", checked={**CHECKED, "date": "2026-01-01"}), down)
    fresh.load_initial()
    assert fresh.last_checked()["date"] == "2026-01-01"  # what the model said at load


# --- GET /model --------------------------------------------------------------------------------------


@pytest.mark.parametrize("checked", [CHECKED, None])
def test_model_says_when_it_was_last_checked(stub_app, checked):
    app, token = _app(stub_app, Scorer(checked=checked))
    with TestClient(app) as client:
        body = client.get("/model", headers={"X-API-Key": token}).json()
    if checked is None:
        assert body["last_checked"] is None
    else:
        expected = {
            k: CHECKED[k] for k in ("date", "year", "census", "precision_at_5pct", "ci_low", "ci_high")
        }
        assert {k: body["last_checked"][k] for k in expected} == expected
        assert body["last_checked"]["consistent_with_stated"] is True


def test_the_registry_served_model_reads_the_tag(stub_app, monkeypatch):
    """Without a stand-in loader, the app reads the served version's tag from the registry."""
    seen: list[str] = []
    monkeypatch.setattr(app_module, "registry_loader", lambda settings: lambda: Scorer("7"))
    monkeypatch.setattr(app_module.tracking, "read_last_checked", lambda v: seen.append(v) or CHECKED)
    app, token, _ = stub_app(None)
    app.state.model.load_initial()
    with TestClient(app) as client:
        body = client.get("/model", headers={"X-API-Key": token}).json()
    assert seen == ["7"] and body["last_checked"]["precision_at_5pct"] == CHECKED["precision_at_5pct"]


# --- the page ------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(
    ("checked", "words"),
    [
        (CHECKED, "Last checked against what happened on 30 November 2026: of the top 5% of the 2018/19 "
         "autumn scores, 32% [31%–34%] were suspended or excluded later that year, consistent with the "
         "model's stated precision."),
        ({**CHECKED, "consistent_with_stated": False, "verdict": "significantly below the model's stated "
          "precision"}, "were suspended or excluded later that year, significantly below the model's stated "
         "precision."),
        (None, "Last checked against what happened: never"),
    ],
)  # fmt: skip
def test_the_page_shows_the_last_check(chromium, stub_app, checked, words):
    from playwright.sync_api import expect

    app, token = _app(stub_app, Scorer(checked=checked))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        page = chromium.new_context().new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.fill("#api-key", token)
        page.keyboard.press("Enter")
        expect(page.locator("#model-checked")).to_contain_text(words)
        page.context.close()
    finally:
        server.should_exit = True  # noqa: V101 (uvicorn's loop reads it)
        thread.join(timeout=10)
