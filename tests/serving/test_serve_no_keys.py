"""`serve` with no usable API key ran refusing every request (401) without a word at start: it says so
on stderr, with the command that makes one. The server itself is a stand-in here (uvicorn.run)."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app


@pytest.fixture()
def serve(monkeypatch, tmp_path):
    import uvicorn

    import exclusion_risk.serving.app as service_app

    monkeypatch.setattr(service_app, "create_app", lambda settings: None)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    for name in ("EXCLUSION_RISK_DATA_DIR", "EXCLUSION_RISK_LINKS_DIR", "EXCLUSION_RISK_EXTRACTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = tmp_path / "service.db"

    def run():
        return CliRunner().invoke(app, ["serve", "--port", str(port), "--database", str(database)])

    return run, database


def test_serve_without_a_key_says_every_request_will_be_refused(serve):
    run, database = serve
    result = run()
    assert result.exit_code == 0, result.output
    assert f"No usable API key in {database}: every request will be refused (401)" in result.stderr
    assert f"exclusion-risk keys add --role scorer --database {database}" in result.stderr


def test_serve_with_a_key_says_nothing_of_keys(serve):
    run, database = serve
    added = CliRunner().invoke(app, ["keys", "add", "--role", "scorer", "--database", str(database)])
    assert added.exit_code == 0, added.output
    assert "API key" not in run().stderr


def test_a_revoked_key_is_no_usable_key(serve):
    run, database = serve
    added = CliRunner().invoke(app, ["keys", "add", "--role", "scorer", "--database", str(database)])
    key_id = added.stdout.strip().splitlines()[-1].split(".")[1]
    assert CliRunner().invoke(app, ["keys", "revoke", key_id, "--database", str(database)]).exit_code == 0
    assert "No usable API key" in run().stderr


@pytest.mark.parametrize("variable", ["EXCLUSION_RISK_POSTCODES", "EXCLUSION_RISK_IDACI"])
def test_serve_refuses_to_start_on_a_lookup_it_cannot_read(serve, monkeypatch, tmp_path, variable):
    """A mistyped lookup path: the service started, /health said ready, and every census upload was a 500
    (a docs reviewer's find); now `serve` refuses to start, in one line naming the variable."""
    from exclusion_risk import reference

    run, _ = serve
    monkeypatch.setenv(variable, str(tmp_path / "lookup.csv"))
    reference.postcode_lookup.cache_clear()
    reference.idaci_lookup.cache_clear()
    try:
        result = run()
    finally:
        reference.postcode_lookup.cache_clear()
        reference.idaci_lookup.cache_clear()
    assert result.exit_code == 2
    assert result.stderr == f"error: {variable} names {tmp_path / 'lookup.csv'}, which is not a file\n"
