"""Issue #11, finding 5: the key and audit database (and SQLite's WAL files) are 0600 in a 0700 folder."""

from __future__ import annotations

import os
import stat

import pytest

from exclusion_risk.serving.database import Database


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.usefixtures("umask_022")
def test_the_database_and_its_wal_files_are_private_under_umask_022(tmp_path):
    path = tmp_path / "new" / "service" / "service.db"
    db = Database(path)
    db.execute("INSERT INTO audit_log (at, method, route, status) VALUES ('now', 'GET', '/', 200)")
    companions = [p for p in path.parent.iterdir() if p != path]
    assert _mode(path) == 0o600
    assert companions and all(_mode(p) == 0o600 for p in companions), companions  # -wal, -shm
    assert _mode(path.parent) == 0o700 and _mode(tmp_path / "new") == 0o700
    db.connection().close()

    earlier = tmp_path / "earlier.db"  # a database an earlier release left world-readable
    earlier.touch(mode=0o644)
    os.chmod(earlier, 0o644)
    Database(earlier)
    assert _mode(earlier) == 0o600


def test_a_companion_sqlite_removes_while_it_is_narrowed_is_no_error(tmp_path, monkeypatch):
    """CI: a second app opened a database file as the first's connection closed; SQLite removed the -shm
    file between the check that it existed and its chmod, and the app failed to start."""
    import exclusion_risk.serving.database as database_module

    path = tmp_path / "service.db"
    Database(path).connection().close()
    shm = path.with_name("service.db-shm")
    shm.touch(mode=0o644)
    chmod = os.chmod

    def racing(target, mode):
        if str(target).endswith("-shm"):
            os.remove(target)  # the other connection closes first
        return chmod(target, mode)

    monkeypatch.setattr(database_module.os, "chmod", racing)
    Database(path)  # no FileNotFoundError
    assert not shm.exists() and _mode(path) == 0o600
