"""School-scoped API keys, the store and the CLI: `keys add --school URN` (repeatable) makes a scorer key for
those schools only (serving.school_scope); a key without is for the whole authority, as every key made
before was, and a database made before keys had schools still opens with its keys unscoped."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.security import KeyStore, split_token
from tests.serving.test_key_expiry import OLD_API_KEYS  # as released before keys had schools (or a last day)

runner = CliRunner()



def _keys(db_path, *args: str):
    return runner.invoke(app, ["keys", *args, "--database", str(db_path)], env={"COLUMNS": "80"})


def test_a_key_made_for_schools_carries_them_and_others_are_for_the_whole_authority(tmp_path):
    db_path = tmp_path / "service.db"
    made = _keys(db_path, "add", "--role", "scorer", "--label", "Oak school", "--school", "123456",
                 "--school", "3354028.0", "--school", "123456")  # fmt: skip
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert "for schools 123456 and 3354028" in made.output
    plain = _keys(db_path, "add", "--role", "scorer").stdout.strip().splitlines()[-1]
    store = KeyStore(Database(db_path))
    assert store.verify(token).schools == frozenset({"123456", "3354028"})
    assert store.verify(plain).schools is None
    listed = _keys(db_path, "list")
    assert listed.exit_code == 0, listed.output
    assert max(len(line) for line in listed.output.splitlines()) <= 80
    assert f"Key {split_token(token)[0]}: schools 123456 and 3354028 only." in listed.output
    assert "The other keys are for all schools" in listed.output


@pytest.mark.parametrize("school", ["12345", "12345678", "ABC123", "123456.5", "", "١٠٤٣٢١"])
def test_keys_add_refuses_a_malformed_school_with_exit_2(tmp_path, school):
    result = _keys(tmp_path / "service.db", "add", "--role", "scorer", "--school", school)
    assert result.exit_code == 2, result.output
    assert "--school" in result.output
    assert "not a school URN (6 digits) or LAEstab (7 digits)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "service.db").exists() or not KeyStore(Database(tmp_path / "service.db")).list()


def test_an_admin_key_cannot_be_for_some_schools(tmp_path):
    result = _keys(tmp_path / "service.db", "add", "--role", "admin", "--school", "123456")
    assert result.exit_code == 2 and "scorer keys only" in result.output and "Traceback" not in result.output
    with pytest.raises(ValueError, match="only a scorer key"):
        KeyStore(Database(tmp_path / "other.db")).add("admin", schools=frozenset({"123456"}))


def test_a_database_made_before_keys_had_schools_opens_with_its_keys_for_every_school(tmp_path):
    db_path = tmp_path / "service.db"
    with sqlite3.connect(db_path) as db:
        db.executescript(OLD_API_KEYS)
    # a key as made then: its row holds no schools (nor a last day)
    store = KeyStore(Database(db_path))
    token = store.add("scorer", "old").token
    store.db.execute("UPDATE api_keys SET schools = NULL")
    assert store.verify(token).schools is None
    assert store.list()[0]["schools"] is None
    columns = {row[1] for row in sqlite3.connect(db_path).execute("PRAGMA table_info(api_keys)")}
    assert "schools" in columns
