"""A recorded census scoring while another process holds the service's database write-locked: a bare 500
after the busy timeout (RunStore.record's BEGIN IMMEDIATE raised OperationalError unhandled); now 503
with Retry-After and a plain message, as a busy job slot is answered. In process (a stand-in model and
history, as test_skipped_rows_counted), the app's busy timeout shortened so the test is fast."""

from __future__ import annotations

import sqlite3

import pandas as pd

from exclusion_risk.serving.audit import AuditLog
from exclusion_risk.serving.database import Database
from tests.serving.test_invalid_upn_warning import VALID, _rows
from tests.serving.test_skipped_rows_counted import _post


def test_a_write_locked_database_is_503_with_retry_after(tmp_path, monkeypatch):
    opened = Database._open

    def quick(self) -> sqlite3.Connection:
        conn = opened(self)
        conn.execute("PRAGMA busy_timeout=200")  # the service waits 10 s
        return conn

    monkeypatch.setattr(Database, "_open", quick)
    monkeypatch.setattr(AuditLog.__init__, "__defaults__", (0.5,))  # its retries, shortened likewise
    holder: list[sqlite3.Connection] = []

    def lock_after_keys(*args, **kwargs):  # the key is added, then another process takes the write lock
        conn = sqlite3.connect(tmp_path / "service.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        holder.append(conn)

    monkeypatch.setattr("tests.serving.test_skipped_rows_counted.asyncio.run",
                        _locked_run(lock_after_keys, holder))
    csv = pd.DataFrame(_rows(VALID)).to_csv(index=False).encode()
    response = _post(tmp_path, "/score/file", {}, content=csv, headers={"Content-Type": "text/csv"})
    assert response.status_code == 503, response.text[:300]
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"] == "The service's database is busy; try again shortly."


def _locked_run(lock, holder):
    import asyncio

    real = asyncio.run

    def run(coroutine):
        lock()
        try:
            return real(coroutine)
        finally:
            holder.pop().rollback()

    return run
