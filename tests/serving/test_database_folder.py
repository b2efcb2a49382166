"""EXCLUSION_RISK_DATABASE (or --database) naming a folder: refused in one line before any mode is
touched (it was chmodded 0600, then 'unable to open database file'), by every command that opens it."""

from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app as cli_app
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.process import free_port


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "service"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)
    return path


def test_the_database_refuses_a_folder_leaving_its_mode(folder):
    with pytest.raises(IsADirectoryError, match="is a folder: give the database file's path") as caught:
        Database(folder)
    assert str(folder / "service.db") in str(caught.value)
    assert _mode(folder) == 0o755


@pytest.mark.parametrize("command", [["keys", "list"], ["runs", "list"], ["serve", "--port", "0"]])
def test_each_command_refuses_a_folder_in_one_line(folder, monkeypatch, command):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: None)
    if command[0] == "serve":
        command = ["serve", "--port", str(free_port())]
    for given in ("option", "variable"):
        monkeypatch.delenv("EXCLUSION_RISK_DATABASE", raising=False)
        args = [*command, "--database", str(folder)]
        if given == "variable":
            monkeypatch.setenv("EXCLUSION_RISK_DATABASE", str(folder))
            args = command
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 2, result.output
        assert f"{folder} is a folder" in result.stderr and str(folder / "service.db") in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert _mode(folder) == 0o755
