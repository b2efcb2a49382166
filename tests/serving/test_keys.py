"""API keys: created by the CLI, printed once, stored salted and hashed, roles and revocation enforced."""

from __future__ import annotations

import re
import sqlite3

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.security import KeyStore, split_token

runner = CliRunner()


def _add(db_path, role="scorer", label="inclusion team"):
    result = runner.invoke(app, ["keys", "add", "--role", role, "--label", label, "--database", str(db_path)])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def test_keys_add_prints_a_key_once_and_stores_only_a_salted_hash(tmp_path):
    db_path = tmp_path / "service.db"
    token = _add(db_path)
    other = _add(db_path)
    key_id, secret = split_token(token)
    assert token.startswith("erk.") and len(secret) >= 40 and token != other

    rows = sqlite3.connect(db_path).execute("SELECT * FROM api_keys").fetchall()
    assert len(rows) == 2
    stored = [value if isinstance(value, bytes) else str(value).encode() for row in rows for value in row]
    assert not any(secret.encode() in value for value in stored)  # neither key nor secret is stored
    salts = {row[2] for row in rows}
    assert len(salts) == 2 and all(len(s) == 16 for s in salts)  # per-key salt

    store = KeyStore(Database(db_path))
    principal = store.verify(token)
    assert principal is not None and principal.key_id == key_id and principal.role == "scorer"
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert store.verify(tampered) is None
    assert store.verify(f"erk.{key_id}") is None and store.verify("not a key") is None
    assert store.verify(f"erk.{split_token(other)[0]}.{secret}") is None  # a secret only opens its own key


def test_keys_list_shows_ids_and_roles_never_the_key(tmp_path):
    db_path = tmp_path / "service.db"
    token = _add(db_path, role="admin", label="data team")
    result = runner.invoke(app, ["keys", "list", "--database", str(db_path)])
    assert result.exit_code == 0
    key_id, secret = split_token(token)
    assert key_id in result.output and "admin" in result.output and "data team" in result.output
    assert secret not in result.output


def test_keys_list_creates_no_database(tmp_path, monkeypatch):
    """A listing is read-only: run from another folder it left a new data/service/service.db there, and a
    later `serve` from that folder read that empty database (every request 401)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXCLUSION_RISK_DATABASE", raising=False)
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 0, result.output
    assert "No keys yet: no service database at data/service/service.db" in result.output
    assert not (tmp_path / "data").exists()


def test_keys_revoke_stops_the_key_and_unknown_ids_exit_2(tmp_path):
    db_path = tmp_path / "service.db"
    token = _add(db_path)
    key_id, _ = split_token(token)
    store = KeyStore(Database(db_path))
    assert store.verify(token) is not None

    result = runner.invoke(app, ["keys", "revoke", key_id, "--database", str(db_path)])
    assert result.exit_code == 0 and "Revoked" in result.output
    assert store.verify(token) is None
    listed = store.list()
    assert listed[0]["revoked_at"] is not None

    again = runner.invoke(app, ["keys", "revoke", key_id, "--database", str(db_path)])
    assert again.exit_code == 2 and "no active key" in again.output


@pytest.mark.parametrize("role", ["root", "", "Admin"])
def test_keys_add_refuses_unknown_roles_with_exit_2(tmp_path, role):
    result = runner.invoke(app, ["keys", "add", "--role", role, "--database", str(tmp_path / "k.db")])
    assert result.exit_code == 2
    assert "--role must be one of scorer, admin" in result.output
    assert "Traceback" not in result.output


def test_bad_settings_from_the_environment_exit_2_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("EXCLUSION_RISK_MAX_ROWS", "lots")
    result = runner.invoke(app, ["keys", "list", "--database", str(tmp_path / "k.db")])
    assert result.exit_code == 2
    assert "EXCLUSION_RISK_MAX_ROWS" in result.output and "Traceback" not in result.output


def test_keys_list_is_readable_in_an_80_column_terminal(tmp_path):
    """A boxed table of full timestamps cut the role to "sco…" and folded each time into seven lines of
    four characters in 80 columns: the id, role, creation day and last day now each read whole on the key's
    first line."""
    db_path = tmp_path / "service.db"
    token = _add(db_path, role="scorer", label="inclusion team north")
    runner.invoke(app, ["keys", "add", "--role", "admin", "--expires", "2099-03-31",
                        "--database", str(db_path)])  # fmt: skip
    result = runner.invoke(app, ["keys", "list", "--database", str(db_path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    first = next(line for line in lines if split_token(token)[0] in line)
    assert re.search(r"\bscorer\b.*\binclusion\b.*\b20\d\d-\d\d-\d\d\b", first), first
    admin = next(line for line in lines if " admin " in line)
    assert "2099-03-31" in admin
