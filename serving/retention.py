"""EXCLUSION_RISK_KEEP_RUNS_DAYS: the service deletes recorded census scorings older than that many days.

A run holds each scored pupil's UPN, school, probability, band, RAG and need level (special-category
data), so it is kept no longer than the authority says. Old runs are deleted when the service starts and
then once a day on a thread of their own, not at each new recording: a service nobody scores with for a
month would otherwise keep runs a month past their time, and a scoring request would pay for the
deletion. A day is the most a run outlives its time. Only counts are logged, and written to the audit log (key
`retention`, route `keep_runs_days`, pupils: the pupil rows deleted); never a UPN.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from exclusion_risk.serving.audit import AuditEntry, AuditLog
from exclusion_risk.serving.run_history import RunStore

log = logging.getLogger("exclusion_risk.serving.retention")

CHECK_EVERY_S = 24 * 60 * 60  # a day
RETENTION_KEY = "retention"  # the audit log's "who" for the service's own deletions


def announce(days: int | None) -> None:
    """Log once, at start, what retention is in force: deletions alone are logged after, so a service
    whose setting was never read (a misspelt name) would otherwise keep every run without a word."""
    if days is None:
        log.info("recorded runs kept without limit (EXCLUSION_RISK_KEEP_RUNS_DAYS not set)")
    else:
        log.info("recorded runs kept %d days (EXCLUSION_RISK_KEEP_RUNS_DAYS)", days)


def delete_expired(store: RunStore, audit_log: AuditLog, days: int, now: datetime | None = None
                   ) -> tuple[int, int]:
    """Delete the runs recorded more than `days` days before `now`: (runs, pupil rows) deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    runs, pupils = store.delete_before(cutoff.astimezone(UTC).isoformat(timespec="seconds"))
    if runs:
        log.info("deleted %d scoring run(s) and %d pupil row(s) recorded more than %d days ago "
                 "(EXCLUSION_RISK_KEEP_RUNS_DAYS)", runs, pupils, days)  # fmt: skip
        audit_log.write(AuditEntry("SERVICE", "keep_runs_days", key_id=RETENTION_KEY, pupils=pupils), 200)
    return runs, pupils


class Retention:
    """Deletes expired runs now (`start`) and once a day after, until `stop`."""

    def __init__(self, store: RunStore, audit_log: AuditLog, days: int, every_s: float = CHECK_EVERY_S):
        self.store, self.audit_log, self.days, self.every_s = store, audit_log, days, every_s
        self._stop = threading.Event()

    def _once(self) -> None:
        try:
            delete_expired(self.store, self.audit_log, self.days)
        except Exception as exc:  # a locked or unwritable database: said, and tried again the next day
            log.error("deleting scoring runs older than %d days failed: %s: %s", self.days,
                      type(exc).__name__, exc)  # fmt: skip

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self._once()

    def start(self) -> None:
        self._once()  # before the first request: a service restarted after months holds no stale run
        threading.Thread(target=self._loop, name="run-retention", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
