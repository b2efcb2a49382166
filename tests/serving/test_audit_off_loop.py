"""The audit row is written off the event loop: while the service's database is locked for writing (a
large census scoring being recorded: 6.35 s for 200,000 pupils here), a request's audit write waits in
a worker thread, and every other request is still answered.

Before: the write ran on the event loop, so it stalled the whole service until the lock was released;
on a live server with the database write-locked for 3 s, an audited GET /model (any status) held
GET /health, which touches no database, for 2.51 s instead of 0.1 s.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import httpx
from starlette.concurrency import run_in_threadpool

# /health must answer in a third of it; held on the loop it would wait all of it. 1.5 s left /health 0.3 s
# past its 0.2 s sleep, and CI, its other worker busy, once took 0.98 s in all.
LOCK_SECONDS = 3.0


def _hold_write_lock(database, seconds: float = LOCK_SECONDS) -> tuple[threading.Event, threading.Thread]:
    """Another connection holds the database's write lock until `release` is set (or `seconds` pass);
    returns (release, the holding thread), the lock taken."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        db = sqlite3.connect(database, isolation_level=None, timeout=10)
        db.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(seconds)
        db.execute("COMMIT")
        db.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(5)
    return release, holder


def test_a_locked_database_delays_the_audit_write_but_not_other_requests(stub_app):
    app, _, database = stub_app(lambda: None)
    release, holder = _hold_write_lock(database)

    async def go() -> tuple[int, float]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            started = time.perf_counter()
            audited = asyncio.create_task(client.get("/model"))  # no key: a 401, audited all the same
            await asyncio.sleep(0.2)  # its audit write is now waiting for the lock
            await client.get("/health")
            health_seconds = time.perf_counter() - started  # the sleep's 0.2 s included
            return (await audited).status_code, health_seconds

    try:
        status, health_seconds = asyncio.run(go())
    finally:
        release.set()
        holder.join()
    assert status == 401
    assert health_seconds < LOCK_SECONDS / 3, f"/health waited {health_seconds:.2f} s for the audit write"
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT key_id, route, status FROM audit_log").fetchall()
    assert rows == [("unknown", "/model", 401)]  # written once the lock was free


POOL_LOCK_SECONDS = 3.0


def test_rows_waiting_for_the_lock_leave_the_worker_threads_to_other_work(stub_app):
    """The review (test_audit_retry.py has the retry): 40 audit rows waiting for the lock held all of
    anyio's 40 worker threads, on which scorings and uploads run: an unrelated job waited until the lock
    was free (2.54 s of the 3 s lock)."""
    app, _, database = stub_app(lambda: None)
    release, holder = _hold_write_lock(database, POOL_LOCK_SECONDS)

    async def go() -> tuple[list[int], float]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            audited = [asyncio.create_task(client.get("/model")) for _ in range(45)]  # 401s, audited
            await asyncio.sleep(0.5)  # their audit rows now wait for the lock
            started = time.perf_counter()
            await run_in_threadpool(lambda: None)  # as a scoring's work is run
            waited = time.perf_counter() - started
            return [(await task).status_code for task in audited], waited

    try:
        statuses, waited = asyncio.run(go())
    finally:
        release.set()
        holder.join()
    assert statuses == [401] * 45
    assert waited < POOL_LOCK_SECONDS / 3, f"a worker-thread job waited {waited:.2f} s behind audit rows"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM audit_log").fetchone() == (45,)  # all written once free
