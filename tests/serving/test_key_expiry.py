"""API keys may expire: `keys add --expires YYYY-MM-DD` makes a key that works through that day (UTC) and is
refused from the next with 401 and a message saying it has expired (the key never echoed). Before, a key
could only be revoked by hand, and the api_keys table had no expiry; a store made then still opens."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from exclusion_risk.cli import app as cli
from exclusion_risk.serving import security
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.security import KeyStore, split_token

runner = CliRunner()

# api_keys as released before keys could expire
OLD_API_KEYS = """
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('scorer', 'admin')),
    salt        BLOB NOT NULL,
    digest      BLOB NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
"""


def _keys(*args: str):
    return runner.invoke(cli, ["keys", *args])


def test_a_key_works_through_its_last_day_and_is_refused_401_from_the_next(stub_app, monkeypatch):
    app, token, database = stub_app(lambda: None)
    with sqlite3.connect(database) as db:
        db.execute("UPDATE api_keys SET expires_on = '2026-03-31'")
    with TestClient(app, headers={"X-API-Key": token}) as client:
        monkeypatch.setattr(security, "today", lambda: date(2026, 3, 31))
        assert client.get("/model").status_code != 401
        monkeypatch.setattr(security, "today", lambda: date(2026, 4, 1))
        refused = client.get("/model")
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"] and "2026-03-31" in refused.json()["detail"]
    assert split_token(token)[1] not in refused.text
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT key_id, route, status FROM audit_log ORDER BY id").fetchall()
    assert rows[-1] == ("unknown", "/model", 401)  # as any other refused key: no key value, no key id
    assert not any(split_token(token)[1] in str(row) for row in rows)


def test_an_expiry_written_in_the_past_refuses_the_key(tmp_path):
    store = KeyStore(Database(tmp_path / "service.db"))
    token = store.add("scorer", "old").token
    store.db.execute("UPDATE api_keys SET expires_on = '2020-01-01'")
    with pytest.raises(security.KeyExpired):
        store.verify(token)
    assert store.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # a wrong secret: not valid


def test_keys_add_expires_is_stored_and_listed(tmp_path):
    db_path = tmp_path / "service.db"
    added = _keys("add", "--role", "scorer", "--expires", "2099-12-31", "--database", str(db_path))
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    assert "2099-12-31" in added.stderr
    store = KeyStore(Database(db_path))
    assert store.verify(token) is not None
    assert store.list()[0]["expires_on"] == "2099-12-31"
    listed = _keys("list", "--database", str(db_path))
    assert listed.exit_code == 0 and "expires" in listed.output and "2099-12-31" in listed.output
    assert split_token(token)[1] not in listed.output
    today = security.today().isoformat()  # a key may end today: it works through the day
    assert _keys("add", "--role", "admin", "--expires", today, "--database", str(db_path)).exit_code == 0


def test_keys_list_says_which_keys_have_expired(tmp_path):
    """It listed an expired key's last day like any other's: an operator reading it for the keys that
    still work had to compare each date with today's."""
    db_path = tmp_path / "service.db"
    store = KeyStore(Database(db_path))
    old = split_token(store.add("scorer", "old").token)[0]
    ended_revoked = split_token(store.add("scorer", "gone").token)[0]
    current = split_token(store.add("scorer", "new", expires_on=date(2099, 12, 31)).token)[0]
    store.db.execute("UPDATE api_keys SET expires_on = '2020-01-01' WHERE key_id IN (?, ?)",
                     (old, ended_revoked))
    store.revoke(ended_revoked)
    listed = _keys("list", "--database", str(db_path))
    assert listed.exit_code == 0, listed.output
    said = [line for line in listed.stdout.splitlines() if "expired" in line]
    assert said == [f"Key {old}: expired (its last day was 2020-01-01); the service refuses it."]
    assert current not in " ".join(said)


@pytest.mark.parametrize("value", ["2020-01-01", "31/12/2099", "tomorrow", "2099-02-30", "2099-W01-1", ""])
def test_keys_add_refuses_a_past_date_or_not_a_date_with_exit_2(tmp_path, value):
    db_path = tmp_path / "service.db"
    result = _keys("add", "--role", "scorer", "--expires", value, "--database", str(db_path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "erk." not in result.output
    assert result.stderr.startswith("error: --expires") and len(result.stderr.strip().splitlines()) == 1
    assert not db_path.exists() or sqlite3.connect(db_path).execute("SELECT * FROM api_keys").fetchall() == []


def test_a_store_made_before_keys_could_expire_is_migrated_and_its_keys_still_work(tmp_path):
    db_path = tmp_path / "service.db"
    salt, secret = b"0123456789abcdef", "s3cret-from-before"
    with sqlite3.connect(db_path) as db:
        db.executescript(OLD_API_KEYS)
        db.execute("INSERT INTO api_keys VALUES ('a1b2c3d4e5f6', 'admin', ?, ?, 'before', "
                   "'2025-01-01T00:00:00+00:00', NULL)", (salt, security._digest(salt, secret)))  # fmt: skip
    store = KeyStore(Database(db_path))
    principal = store.verify(f"erk.a1b2c3d4e5f6.{secret}")
    assert principal is not None and principal.role == "admin"
    assert store.list()[0]["expires_on"] is None
    listed = _keys("list", "--database", str(db_path))
    assert listed.exit_code == 0 and "a1b2c3d4e5f6" in listed.output
