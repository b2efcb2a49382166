"""An audit row waits for the database's write lock past one busy timeout (10 s) instead of being lost.

Recording a census scoring holds the write lock for its whole run (6.35 s for 200,000 pupils here):
a county's census, or two scorings one after the other, hold it past 10 s. Before: the one try's
"database is locked" lost the row (logged as "audit write failed").
"""

from __future__ import annotations

import sqlite3

import pytest

from exclusion_risk.serving.audit import AuditEntry, AuditLog


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
    assert [row[1:] for row in db.rows] == [("abc", "POST", "/score/file", 200, 62509, None, 0)]
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


def test_a_row_that_waited_for_the_lock_keeps_the_time_its_request_ended():
    """Stamped when it got the lock, a row that waited read seconds to minutes late and out of order
    (a load tester's find); the middleware now notes when the request ended."""
    from datetime import UTC, datetime, timedelta

    ended = datetime.now(UTC) - timedelta(seconds=90)
    db = _LockedTwice()
    AuditLog(db).write(AuditEntry("GET", "/model", enabled=True, key_id="abc", ended=ended), 200)
    assert db.rows[0][0] == ended.isoformat(timespec="milliseconds")
