"""The service's SQLite file: API keys (hashed), the audit log and the scoring runs (`serving.run_history`;
`scoring_run_pupils` holds each scored pupil's UPN, so the file is created owner-only), shared by the
server and the CLI."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from exclusion_risk.files import PRIVATE_FILE, private_dir
from exclusion_risk.upn import upn_key

# Files SQLite keeps beside a database in WAL mode (and a rollback journal, on the way to WAL).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id      TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('scorer', 'admin')),
    salt        BLOB NOT NULL,
    digest      BLOB NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    key_id        TEXT,
    method        TEXT NOT NULL,
    route         TEXT NOT NULL,
    status        INTEGER NOT NULL,
    pupils        INTEGER NOT NULL DEFAULT 0,
    model_version TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE TABLE IF NOT EXISTS scoring_runs (
    run_id              TEXT PRIMARY KEY,
    recorded_at         TEXT NOT NULL,
    key_id              TEXT,
    model_name          TEXT NOT NULL,
    model_version       TEXT NOT NULL,
    risk_matrix_version TEXT NOT NULL,
    year                TEXT NOT NULL,
    census              TEXT NOT NULL,
    pupils              INTEGER NOT NULL,
    schools             INTEGER NOT NULL,
    red                 INTEGER NOT NULL DEFAULT 0,
    amber               INTEGER NOT NULL DEFAULT 0,
    green               INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS scoring_run_pupils (
    run_id          TEXT NOT NULL REFERENCES scoring_runs (run_id),
    upn             TEXT NOT NULL,
    school_urn      TEXT NOT NULL DEFAULT '',
    probability     REAL NOT NULL,
    likelihood_band TEXT NOT NULL,
    rag             TEXT NOT NULL,
    PRIMARY KEY (run_id, upn)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scoring_run_pupils_upn ON scoring_run_pupils (upn);
CREATE INDEX IF NOT EXISTS scoring_run_pupils_school ON scoring_run_pupils (school_urn, run_id);
"""


# Columns added after the tables were first released: a database of any age gains those it lacks
# (empty for the runs it already holds), so one list serves new files and old ones alike. The model's
# facts let `exclusion-risk evaluate` check a service scoring against the model that made it, and the
# rank keeps the list's order (probabilities tie often). A key's last day (UTC, YYYY-MM-DD; NULL: never
# expires) came later than the keys: keys made before have none. So did the audit's count of pupils
# scored without the history their UPN names (a date of birth the history does not hold for that pupil).
# A key's schools (sorted, comma-separated URNs or LAEstab numbers; NULL: the whole authority, as every
# key made before them is: serving.school_scope) came later again. So did each scored pupil's need
# level, so that a change of need level within a rating is listed (NULL in the runs held before).
ADDED_COLUMNS = {
    "api_keys": {"expires_on": "TEXT", "schools": "TEXT"},
    "audit_log": {"history_withheld": "INTEGER NOT NULL DEFAULT 0"},
    "scoring_runs": {
        "model_run_id": "TEXT NOT NULL DEFAULT ''",
        "model_label": "TEXT NOT NULL DEFAULT ''",
        "model_census": "TEXT NOT NULL DEFAULT ''",
        "model_test_year": "TEXT NOT NULL DEFAULT ''",
    },
    "scoring_run_pupils": {'"rank"': "INTEGER", "need_level": "INTEGER"},
}


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns.items():
            if name.strip('"') not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


# PRAGMA user_version from which every stored UPN is in its tidy form (upn_key): runs recorded before
# separators inside a UPN were removed (E330 205709725) would otherwise never match the pupil again
# (/runs/earlier found nothing; a comparison showed a leaver and a new pupil). Done once per file.
TIDY_UPNS_VERSION = 1


def _tidy_stored_upns(conn: sqlite3.Connection) -> None:
    if conn.execute("PRAGMA user_version").fetchone()[0] >= TIDY_UPNS_VERSION:
        return
    conn.create_function("upn_key", 1, upn_key, deterministic=True)
    # OR IGNORE: a run holding the pupil under both forms keeps the tidy row and leaves the other as it is
    conn.execute("UPDATE OR IGNORE scoring_run_pupils SET upn = upn_key(upn) WHERE upn <> upn_key(upn)")
    conn.execute(f"PRAGMA user_version = {TIDY_UPNS_VERSION}")


class Database:
    """One connection per thread: sqlite3 connections must not cross threads, and opening one per
    query would cost more than the query. WAL lets the CLI add or revoke keys while the server reads."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        self._create_private()
        conn = self._open()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            _add_columns(conn)
            _tidy_stored_upns(conn)
        finally:
            conn.close()

    def _create_private(self) -> None:
        """The database file 0600 (its folder 0700 when created here) before SQLite opens it: it holds
        key digests, the audit log and scored pupils' UPNs (scoring_run_pupils). SQLite gives its -wal
        and -shm files the database's own mode; an existing file and its companions are narrowed too (a
        store from an earlier release). A folder is refused before any mode is touched (it was made
        0600, then SQLite could not open it)."""
        if self.path.is_dir():
            raise IsADirectoryError(f"the service database {self.path} is a folder: give the database "
                                    f"file's path, e.g. {self.path / 'service.db'}")
        private_dir(self.path.parent)
        if not self.path.exists():
            # Never open and close a database that exists: closing any descriptor of the file drops
            # every POSIX lock this process holds on it, SQLite connections' included (their WAL
            # reads then miss other processes' writes: a key just added was refused).
            try:
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
            except FileExistsError:
                pass  # created by another process meanwhile: narrowed below
        for companion in (self.path, *(Path(f"{self.path}{suffix}") for suffix in SQLITE_COMPANIONS)):
            try:
                os.chmod(companion, PRIVATE_FILE)
            except FileNotFoundError:
                # none, or removed meanwhile: SQLite deletes -shm and -wal as another connection to the file
                # closes (CI: a second app on one file raised here as the first's closed), nothing to narrow
                continue

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: autocommit; each statement here is its own small transaction.
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=True)
        # NORMAL is durable across application crashes in WAL mode and avoids an fsync per audit row.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        # Freed content is overwritten with zeros, on every connection (not only the one deleting): a
        # run deleted by `runs delete` or KEEP_RUNS_DAYS leaves no UPN in the file's free space, nor do
        # the copies of a page's rows left behind when a later insert split or moved them. Builds
        # compiled with SQLITE_SECURE_DELETE (Debian's) have it on already; others start it off.
        conn.execute("PRAGMA secure_delete=ON")
        return conn

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self.connection().execute(sql, params)
