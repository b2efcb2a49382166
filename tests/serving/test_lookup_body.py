"""POST /runs/earlier holds its body to MAX_LOOKUP_BYTES while reading it, not after: a body declared
longer is refused unread, and a chunked one is cut off once it passes the limit. Before, the whole body
(up to the service's 64 MiB request limit) was read into memory, with no job slot, and only then refused:
16 concurrent 11 MB lookups took a live server from 523 to 689 MB."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from exclusion_risk.serving.routers.runs import MAX_LOOKUP_BYTES

CHUNK = 64 * 1024
CHUNKS = 64  # 4 MiB in all: within the service's byte limit, far past a lookup's


def _lookup(app, token: str, declared: bool) -> tuple[httpx.Response, int]:
    """(the response, how many of the body's chunks the service pulled)."""
    pulled = 0

    async def body():
        nonlocal pulled
        yield b'{"upn": "'
        for _ in range(CHUNKS):
            pulled += 1
            yield b"A" * CHUNK

    headers = {"X-API-Key": token, "Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(len(b'{"upn": "') + CHUNKS * CHUNK)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/runs/earlier", content=body(), headers=headers)

    return asyncio.run(go()), pulled


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_lookup_body_over_its_limit_is_refused_without_reading_it_all(stub_app, declared):
    app, token, _ = stub_app(lambda: None)
    response, pulled = _lookup(app, token, declared)
    assert response.status_code == 413
    assert response.json() == {"detail": f"A UPN lookup's body is at most {MAX_LOOKUP_BYTES:,} bytes.",
                               "errors": []}
    assert pulled <= (0 if declared else MAX_LOOKUP_BYTES // CHUNK + 1), f"{pulled} of {CHUNKS} chunks read"


def test_a_lookup_within_the_limit_is_still_answered(stub_app):
    app, token, _ = stub_app(lambda: None)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/runs/earlier", json={"upn": "a801200111001"},
                                     headers={"X-API-Key": token})

    response = asyncio.run(go())
    assert response.status_code == 200, response.text
    assert response.json()["upn"] == "A801200111001" and response.json()["scores"] == []
