"""Service parts on their own, no model or server: readiness states, error shaping, the body limit."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from pydantic import ValidationError

from exclusion_risk.files import FORMULA_LEADS
from exclusion_risk.serving import model_state
from exclusion_risk.serving.errors import (
    ContainErrors,
    _field_error,
    install_error_handlers,
    pydantic_problems,
)
from exclusion_risk.serving.limits import BodyLimit
from exclusion_risk.serving.model_state import ModelState
from exclusion_risk.serving.schemas import EXAMPLE_FEATURES, ScoreRequest
from exclusion_risk.serving.settings import ServiceSettings


class _Scorer:
    def __init__(self, version: str):
        self.model_version = version


def test_model_state_loading_ready_and_reload_swap():
    gate = threading.Event()
    versions = iter(["1", "2"])

    def loader():
        gate.wait(5)
        return _Scorer(next(versions))

    state = ModelState(loader)
    with pytest.raises(HTTPException) as not_yet:
        state.scorer()
    assert state.state == "loading" and not_yet.value.status_code == 503
    assert not_yet.value.headers == {"Retry-After": "5"}
    thread = threading.Thread(target=state.load_initial)
    thread.start()
    gate.set()
    thread.join()
    held = state.scorer()  # what a request in flight holds
    assert state.state == "ready" and state.version == "1"
    assert state.reload() == ("1", "2")
    assert held.model_version == "1" and state.scorer().model_version == "2"


def test_failed_load_is_reported_and_a_failed_reload_keeps_the_model(caplog):
    def broken():
        raise LookupError("alias champion not found")

    state = ModelState(broken)
    with caplog.at_level(logging.ERROR):
        state.load_initial()
    assert state.state == "failed" and "alias champion not found" in caplog.text
    with pytest.raises(HTTPException) as failed:
        state.scorer()
    assert failed.value.status_code == 503 and "could not be loaded" in failed.value.detail

    good = ModelState(lambda: _Scorer("7"))
    good.load_initial()
    good._loader = broken
    with pytest.raises(HTTPException) as reload:
        good.reload()
    assert reload.value.status_code == 503 and "still served" in reload.value.detail
    assert good.state == "ready" and good.scorer().model_version == "7"


def test_reload_does_no_collector_work_and_start_up_freezes_before_ready(monkeypatch):
    # unfreeze + collect on reload was a full collection with the GIL held during traffic, and the
    # freeze after it froze the objects of requests in flight.
    calls: list[tuple[str, str]] = []
    for name in ("collect", "freeze", "unfreeze"):
        monkeypatch.setattr(model_state.gc, name, lambda name=name: calls.append((name, state.state)))
    versions = iter(["1", "2"])
    state = ModelState(lambda: _Scorer(next(versions)))
    state.load_initial(before_ready=model_state.freeze_long_lived)
    assert calls == [("collect", "loading"), ("freeze", "loading")] and state.state == "ready"
    calls.clear()
    assert state.reload() == ("1", "2")
    assert calls == []


def test_a_replaced_scorer_is_freed_by_reference_counting():
    import weakref

    state = ModelState(lambda: _Scorer("1"))
    state.load_initial()
    old = weakref.ref(state.scorer())
    gc.disable()  # nothing but reference counting
    try:
        state.reload()
        assert old() is None
    finally:
        gc.enable()


def test_client_chosen_keys_are_never_echoed_in_errors():
    upn = "A801200111001"
    with pytest.raises(ValidationError) as refused:
        ScoreRequest.model_validate({"pupils": [{**EXAMPLE_FEATURES, upn: 1}], upn: 2})
    problems = pydantic_problems(list(refused.value.errors()), ("body",))
    assert upn not in str(problems)
    assert {(p["row"], p["field"]) for p in problems} == {(1, "(unknown field)"), (None, "(unknown field)")}
    assert pydantic_problems([{"type": "int_parsing", "loc": ("d", upn, "[key]"), "msg": "x"}]) == [
        {"row": None, "field": "d.(unknown field)", "reason": "expected a whole number"}
    ]


def test_the_pages_formula_leads_are_the_api_writers():
    # The page's download and the API's CSV neutralise the same leading characters (OWASP's list).
    script = (Path(__file__).parents[2] / "serving" / "static" / "app.js").read_text()
    found = re.search(r"const FORMULA_LEAD = /\^\[(.*?)\]/;", script)
    assert found, "FORMULA_LEAD's character class is not where the test reads it"
    escapes = {"t": "\t", "r": "\r", "n": "\n"}
    leads = set(re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), found.group(1)))
    assert leads == set(FORMULA_LEADS)


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "pupils", 2, "nc_year"), {"row": 3, "field": "nc_year"}),
        (("body", "census", 0, "UPN"), {"row": 1, "field": "UPN"}),
        (("body", "academic_year"), {"row": None, "field": "academic_year"}),
        (("body", 17), {"row": None, "field": "body"}),
        (("query", "format"), {"row": None, "field": "format"}),
    ],
)
def test_validation_locations_become_row_and_field(loc, expected):
    assert _field_error(loc, "bad").items() >= expected.items()


def _call(app, method: str, path: str, **kwargs) -> httpx.Response:
    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_unexpected_errors_are_a_500_with_a_reference_and_the_message_is_not_logged(caplog):
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(ContainErrors)

    pupil = {"upn": "A801200111001", "surname": "Smith"}

    @app.get("/boom")
    def boom():
        raise ValueError(f"pupil {pupil['upn']} {pupil['surname']} broke it")  # data in the message

    with caplog.at_level(logging.ERROR):
        response = _call(app, "GET", "/boom")
    assert response.status_code == 500
    assert "reference" in response.json()["detail"]
    assert response.json()["errors"] == []  # every error body's shape (a reviewer: the 500 had none)
    assert "A801200111001" not in response.text and "Smith" not in response.text
    assert "ValueError" in caplog.text and "A801200111001" not in caplog.text and "Smith" not in caplog.text


def test_body_limit_refuses_declared_and_streamed_bodies_in_json():
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/echo")
    async def echo(request: Request):
        return {"bytes": len(await request.body())}

    limited = BodyLimit(app, max_bytes=1000)
    assert _call(limited, "POST", "/echo", content=b"x" * 1000).json() == {"bytes": 1000}
    declared = _call(limited, "POST", "/echo", content=b"x" * 1001)
    assert declared.status_code == 413 and "1,000 bytes" in declared.json()["detail"]

    async def chunks():
        for _ in range(5):
            yield b"x" * 400

    streamed = _call(limited, "POST", "/echo", content=chunks())  # no Content-Length: chunked
    assert streamed.status_code == 413 and "1,000 bytes" in streamed.json()["detail"]


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXCLUSION_RISK_PORT", "9123")
    monkeypatch.setenv("EXCLUSION_RISK_CORS_ORIGINS", "https://la.example, https://other.example")
    monkeypatch.setenv("EXCLUSION_RISK_MAX_ROWS", "5000")
    settings = ServiceSettings()
    assert settings.port == 9123 and settings.max_rows == 5000 and settings.host == "127.0.0.1"
    assert settings.cors_origins == ["https://la.example", "https://other.example"]
    assert not ServiceSettings(_env_file=None, cors_origins="").cors_origins


def test_single_record_need_level_follows_the_feature_builder_rule():
    import itertools

    import pandas as pd

    from exclusion_risk.features.need import need_level, need_level_of

    flags = [None, 0.0, 1.0, True, False, "yes", "0"]
    provisions = [None, "N", "K", "E", "unknown", " e "]
    records = [
        {"cpp_open": a, "cla_open": b, "cin_open": c, "fsm": d, "sen_provision": p}
        for a, b, c, d, p in itertools.product(flags, flags, flags, flags, provisions)
    ]
    expected = need_level(pd.DataFrame.from_records(records, coerce_float=False)).tolist()
    assert [need_level_of(r) for r in records] == expected
    assert set(expected) == {0, 1, 2, 3}
    assert need_level_of({}) == 0  # nothing known: no statutory involvement recorded


def test_a_broken_links_file_is_logged_by_file_row_and_column_never_by_value(tmp_path, caplog):
    """The history's load names what is wrong in links.csv (a record linked twice), not a generic hint."""
    from exclusion_risk.serving.history import HistoryState

    links = tmp_path / "linkage"
    links.mkdir()
    (links / "links.csv").write_text("source,record_id,upn\nexclusions,EX9,A1\nexclusions,EX9,B2\n")
    state = HistoryState(tmp_path / "extracts", links)
    with caplog.at_level(logging.ERROR):
        state.load()
    assert state.state == "failed"
    assert "links.csv" in caplog.text and "rows 1, 2" in caplog.text and "record_id" in caplog.text
    assert "EX9" not in caplog.text and "B2" not in caplog.text


def _timed_app():
    """An app that reads its body and answers how many bytes came; /hold also starts listening for the
    client's disconnect (as Starlette does while a long response runs) and reports whether that raised."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/echo")
    async def echo(request: Request):
        return {"bytes": len(await request.body())}

    @app.post("/hold")
    async def hold(request: Request):
        size = len(await request.body())
        listening = asyncio.ensure_future(request.receive())
        await asyncio.sleep(0.6)  # past the grace period, the body long complete
        raised = listening.done() and listening.exception() is not None
        listening.cancel()
        return {"bytes": size, "listening_raised": raised}

    return BodyLimit(app, max_bytes=10**6, min_bytes_per_s=1000, grace_s=0.3)


def _dribbled(chunks: int, size: int, every_s: float, stall_s: float = 0.0):
    async def body():
        for _ in range(chunks):
            yield b"x" * size
            await asyncio.sleep(every_s)
        await asyncio.sleep(stall_s)

    return body()


def test_an_upload_dribbled_or_stalled_past_the_grace_period_is_cut_off_with_408():
    """A census sent a line a second held a job slot as long as the client liked (two held both default
    slots about 40 s): after the grace period a body must arrive at the floor's average rate."""
    limited = _timed_app()
    started = time.monotonic()
    dribbled = _call(limited, "POST", "/echo", content=_dribbled(100, 10, 0.05))  # 200 bytes/s
    assert dribbled.status_code == 408, dribbled.text
    assert "too slowly" in dribbled.json()["detail"] and time.monotonic() - started < 2
    started = time.monotonic()
    stalled = _call(limited, "POST", "/echo", content=_dribbled(1, 500, 0.0, stall_s=30))  # then nothing
    assert stalled.status_code == 408 and time.monotonic() - started < 3


def test_an_upload_at_the_floors_rate_is_read_and_the_response_time_is_not_timed():
    limited = _timed_app()
    steady = _call(limited, "POST", "/echo", content=_dribbled(16, 400, 0.05))  # 8 KB/s for 0.8 s
    assert steady.status_code == 200 and steady.json() == {"bytes": 6400}
    held = _call(limited, "POST", "/hold", content=b"x" * 100)
    assert held.status_code == 200 and held.json() == {"bytes": 100, "listening_raised": False}
    unlimited = BodyLimit(_timed_app().app, max_bytes=10**6)  # no floor: a slow body is waited for
    assert _call(unlimited, "POST", "/echo", content=_dribbled(10, 10, 0.05)).status_code == 200


def test_a_burst_then_silence_is_cut_off_after_the_grace_period_and_the_connection_closed():
    """Each byte bought time at the average rate: 64 MB sent fast, then nothing, held a slot about an
    hour before the 408 (here 200,000 bytes bought 200 s). A wait for the next part is capped too."""
    limited = _timed_app()
    started = time.monotonic()
    burst = _call(limited, "POST", "/echo", content=_dribbled(1, 200_000, 0.0, stall_s=30))
    assert burst.status_code == 408 and time.monotonic() - started < 3
    assert burst.headers["connection"] == "close"  # a client still sending does not keep the socket
    assert "200 bytes a second" not in burst.json()["detail"]
    slow_floor = BodyLimit(_timed_app().app, max_bytes=10**6, min_bytes_per_s=200, grace_s=0.3)
    cut = _call(slow_floor, "POST", "/echo", content=_dribbled(1, 10, 0.0, stall_s=30))
    assert "under 200 bytes a second" in cut.json()["detail"]  # not "under 0 KB"
