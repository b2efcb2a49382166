"""`exclusion-risk --version` says which release is installed, as the package metadata gives it."""

from __future__ import annotations

from importlib.metadata import version

from typer.testing import CliRunner

from exclusion_risk.cli import app


def test_version_prints_the_package_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"exclusion-risk {version('exclusion-risk')}\n"
