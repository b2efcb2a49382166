"""An audit row waits for the database's write lock past one busy timeout (10 s) instead of being lost.

Recording a census scoring holds the write lock for its whole run (6.35 s for 200,000 pupils here):
a county's census, or two scorings one after the other, hold it past 10 s. Before: the one try's
"database is locked" lost the row (logged as "audit write failed").
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import httpx
import pytest
from starlette.concurrency import run_in_threadpool

from exclusion_risk.serving.audit import AuditEntry, AuditLog

LOCK_SECONDS = 3.0


class _LockedTwice:
    """A database whose first two inserts find it locked (each after the busy timeout, in life)."""

    def __init__(self, error: str = "database is locked", times: int = 2):
        self.error, self.left, self.rows = error, times, []

    def execute(self, sql: str, params: tuple = ()):
        if self.left:
            self.left -= 1
            raise sqlite3.OperationalError(self.error)
        self.rows.append(params)


def test_a_row_that_finds_the_database_locked_is_written_when_it_is_free(caplog):
    db = _LockedTwice()
    AuditLog(db).write(AuditEntry("POST", "/score/file", enabled=True, key_id="abc", pupils=62509), 200)
    assert [row[1:] for row in db.rows] == [("abc", "POST", "/score/file", 200, 62509, None)]
    assert caplog.text.count("audit write waiting") == 1  # said once a row, not at each try


def test_past_its_wait_or_on_another_error_the_write_fails_as_before():
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        AuditLog(_LockedTwice(), wait_s=0).write(AuditEntry("GET", "/model"), 401)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        AuditLog(_LockedTwice("no such table: audit_log")).write(AuditEntry("GET", "/model"), 401)


class _LockedAtOnce:
    """A lock error that comes back at once (a table lock; a file system without locks)."""

    def __init__(self):
        self.tries = 0

    def execute(self, sql: str, params: tuple = ()):
        self.tries += 1
        raise sqlite3.OperationalError("database table is locked")


def test_a_lock_error_that_comes_back_at_once_is_tried_again_after_a_pause_and_said_once(caplog):
    """The review: with no pause the loop made 484,122 tries (and warnings) in 1 s."""
    db = _LockedAtOnce()
    with pytest.raises(sqlite3.OperationalError):
        AuditLog(db, wait_s=1).write(AuditEntry("GET", "/model"), 401)
    assert 2 <= db.tries <= 6  # pauses of 0.2, 0.4 s, then what is left of the second
    assert caplog.text.count("audit write waiting") == 1


def test_rows_waiting_for_the_lock_leave_the_worker_threads_to_other_work(stub_app):
    """The review: 40 audit rows waiting for the lock held all of anyio's 40 worker threads, on which
    scorings and uploads run: an unrelated job waited until the lock was free."""
    app, _, database = stub_app(lambda: None)
    locked, release = threading.Event(), threading.Event()

    def hold_write_lock():
        db = sqlite3.connect(database, isolation_level=None, timeout=10)
        db.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(LOCK_SECONDS)
        db.execute("COMMIT")
        db.close()

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    locked.wait(5)

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
    assert waited < LOCK_SECONDS / 3, f"a worker-thread job waited {waited:.2f} s behind audit rows"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM audit_log").fetchone() == (45,)  # all written once free
