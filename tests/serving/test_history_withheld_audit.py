"""A census row whose date of birth the history does not hold for the pupil its UPN names is scored without
that pupil's history (tests/serving/test_history_notes.py). Someone holding a child's UPN could try dates
of birth one upload at a time until the history came back; each try was audited as any request (who,
when, how many pupils), with nothing to tell it from an ordinary scoring. The audit row now counts the
pupils scored without their UPN's history, and `keys list` sums each key's over the last 30 days."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app as cli_app
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.security import KeyStore, split_token
from exclusion_risk.upn import make_upn
from tests.linkage.conftest import _census_row
from tests.serving.test_history_notes import PUPIL, _history
from tests.serving.test_limits import call, service  # noqa: F401 (a fixture)

OTHER = make_upn(330, 4001, 2010, 1)


def _upload(service, dob: str, route: str = "/score/file?academic_year=2017/18"):  # noqa: F811
    rows = [_census_row(PUPIL, AcademicYear="2017/18", DoB=dob), _census_row(OTHER, AcademicYear="2017/18")]
    body = pd.DataFrame(rows).to_csv(index=False).encode()
    return call(service, "POST", route, files={"file": ("census.csv", body, "text/csv")})


def _audited(db_path) -> list[tuple]:
    return sqlite3.connect(db_path).execute(
        "SELECT route, status, pupils, history_withheld FROM audit_log ORDER BY id").fetchall()


def test_the_audit_counts_pupils_scored_without_their_upn_s_history(service, tmp_path, monkeypatch):  # noqa: F811
    app, key = service
    app.state.history = _history(tmp_path, monkeypatch)
    db_path = app.state.settings.database
    assert _upload(service, "2008-03-01").status_code == 200  # the history's date of birth for PUPIL
    assert _upload(service, "2009-07-07").status_code == 200  # not one it holds: scored without it
    # census rows sent as JSON are counted as an upload's (the stand-in scorer explains nothing: /explain
    # takes the same cohort builder, _cohort_from_request)
    rows = [_census_row(PUPIL, AcademicYear="2017/18", DoB="2009-07-07"),
            _census_row(OTHER, AcademicYear="2017/18")]  # fmt: skip
    sent = call(service, "POST", "/score", json={"academic_year": "2017/18", "census": rows})
    assert sent.status_code == 200, sent.text
    assert _audited(db_path) == [("/score/file", 200, 2, 0), ("/score/file", 200, 2, 1),
                                 ("/score", 200, 2, 1)]  # fmt: skip

    result = CliRunner().invoke(cli_app, ["keys", "list", "--database", str(db_path)])
    assert result.exit_code == 0, result.output
    key_id = split_token(key)[0]
    assert f"Key {key_id}: 2 census pupil(s) in the last 30 days scored without the history" in result.output
    assert "someone trying dates of birth" in result.output
    assert PUPIL not in result.output


def test_keys_list_sums_the_last_30_days_only(tmp_path):
    store = KeyStore(Database(tmp_path / "service.db"))
    key_id = store.add("scorer").key_id
    now = datetime.now(UTC)
    for days, withheld in ((31, 40), (2, 3), (0, 4)):
        store.db.execute(
            "INSERT INTO audit_log (at, key_id, method, route, status, pupils, history_withheld) "
            "VALUES (?, ?, 'POST', '/score/file', 200, 5, ?)",
            ((now - timedelta(days=days)).isoformat(timespec="milliseconds"), key_id, withheld),
        )
    assert [row["withheld_recently"] for row in store.list()] == [7]


def test_an_older_database_gains_the_column(tmp_path):
    path = tmp_path / "service.db"
    with sqlite3.connect(path) as conn:  # the audit table as released before the column
        conn.execute("CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
                     "key_id TEXT, method TEXT NOT NULL, route TEXT NOT NULL, status INTEGER NOT NULL, "
                     "pupils INTEGER NOT NULL DEFAULT 0, model_version TEXT)")
        conn.execute("INSERT INTO audit_log (at, key_id, method, route, status) "
                     "VALUES ('2026-01-01T00:00:00', 'k', 'GET', '/health', 200)")
    Database(path)
    assert sqlite3.connect(path).execute("SELECT history_withheld FROM audit_log").fetchall() == [(0,)]
