"""The audit log: who used which route, when, for how many pupils, with which model.

Rows hold no pupil identifier by construction: the only facts recorded are the key id, the
route template, the status, a pupil count, the model version and the count of census pupils scored
without the history their UPN names (`history_withheld`). The key id is one that verified
(`unknown` otherwise: what an unauthenticated caller claims is never stored), bounded in length.
The row is written by an ASGI middleware after the response has been sent, so every outcome (200,
401, 403, 422, 429, 500) is logged and the write never adds to the client's latency. It is written on a
thread of the audit's own (AUDIT_THREADS at most): while the database is locked for writing (a large
scoring being recorded), the write waits and tries again there, not on the event loop nor on the
threads scorings run on, so other requests are still answered.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exclusion_risk.serving.database import Database

log = logging.getLogger("exclusion_risk.serving.audit")

UNKNOWN_KEY = "unknown"  # "who" for a request whose key did not verify (none, invalid, throttled)
# Key ids are 12 hex characters (`KeyStore.add`); the bound keeps any future slip from storing a
# caller's text at length.
MAX_KEY_ID_CHARS = 32


@dataclass
class AuditEntry:
    """Filled in while a request runs (request.state.audit); written when it ends."""

    method: str
    route: str
    enabled: bool = False  # set by the key check: only key-protected routes are audited
    key_id: str = UNKNOWN_KEY  # replaced by the key check once, and only if, the key verifies
    pupils: int = 0
    # census pupils scored without the history their UPN names: their date of birth is not one the history
    # holds for that pupil (a mistyped UPN, or someone trying dates of birth for a child's UPN)
    history_withheld: int = 0
    model_version: str | None = None
    # when the request ended (the middleware's): a row waiting for the write lock was stamped when it got
    # it, seconds to minutes late and out of order (a load tester's find)
    ended: datetime | None = None


# How long in all an audit row waits for the database's write lock. Each try waits the connection's busy
# timeout (10 s); recording a census scoring holds the lock for its whole run (6.35 s for 200,000
# pupils here, so a county's census, or two scorings one after the other, pass 10 s): one try lost
# the row (logged, but gone from the audit).
AUDIT_WAIT_S = 120.0
# Audit rows are written on threads of their own, at most this many at once: rows waiting for the lock
# had held the worker threads that scorings and uploads run on (40 rows held all of anyio's 40).
AUDIT_THREADS = 2
_RETRY_PAUSE_S = (0.2, 5.0)  # the pause between tries, doubling from the first to the second


class AuditLog:
    def __init__(self, db: Database, wait_s: float = AUDIT_WAIT_S):
        self.db = db
        self.wait_s = wait_s

    def write(self, entry: AuditEntry, status: int) -> None:
        row = (
            (entry.ended or datetime.now(UTC)).isoformat(timespec="milliseconds"),  # not the write's time
            (entry.key_id or UNKNOWN_KEY)[:MAX_KEY_ID_CHARS],
            entry.method,
            entry.route,
            status,
            entry.pupils,
            entry.model_version,
            entry.history_withheld,
        )
        deadline, pause = time.monotonic() + self.wait_s, _RETRY_PAUSE_S[0]
        while True:
            try:
                self.db.execute(
                    "INSERT INTO audit_log (at, key_id, method, route, status, pupils, model_version, "
                    "history_withheld) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() >= deadline:
                    raise
                if pause == _RETRY_PAUSE_S[0]:  # said once a row, not at each try
                    log.warning("audit write waiting: the service's database is locked for writing")
                # a lock error can come back at once (a table lock, a file system without locks): no spin
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, _RETRY_PAUSE_S[1])


_limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _writers() -> anyio.CapacityLimiter:
    """The running event loop's limiter for audit writes (a limiter belongs to one loop; tests run many)."""
    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters[loop] = anyio.CapacityLimiter(AUDIT_THREADS)
    return _limiters[loop]


class AuditMiddleware:
    """Gives each HTTP request an AuditEntry and writes it once the response is complete."""

    def __init__(self, app: ASGIApp, audit_log: AuditLog):
        self.app = app
        self.audit_log = audit_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry = AuditEntry(method=scope["method"], route=scope["path"])
        scope.setdefault("state", {})["audit"] = entry
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if entry.enabled:
                # The matched route template, not the raw path, so nothing a client typed is stored.
                route = scope.get("route")
                entry.route = getattr(route, "path", entry.route)
                entry.ended = datetime.now(UTC)
                try:
                    await anyio.to_thread.run_sync(self.audit_log.write, entry, status_code,
                                                   limiter=_writers())  # fmt: skip
                except Exception as exc:  # an audit failure must be seen, but must not fail the request
                    log.error("audit write failed: %s", type(exc).__name__)
