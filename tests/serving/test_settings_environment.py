"""What the operator's environment says, checked when the settings load (in process, no server): a
misspelt EXCLUSION_RISK_ variable refuses to start naming the closest known one, a log level that is no
level is one line naming its variable, and the retention in force is logged at start."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from exclusion_risk.cli import app as cli_app
from exclusion_risk.reference import IDACI_FILE, POSTCODE_FILE, REFERENCE_DIR
from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.process import free_port
from exclusion_risk.serving.settings import ServiceSettings


def _no_model():
    raise LookupError("no model here")  # the service starts all the same (its /health says failed)


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """`exclusion-risk serve` in process, uvicorn and the app stood in for: (exit code, stderr)."""
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: None)
    monkeypatch.setattr("exclusion_risk.serving.app.create_app", lambda settings: object())

    def run(*extra: str) -> tuple[int, str]:
        args = ["serve", "--port", str(free_port()), "--database", str(tmp_path / "s.db"), *extra]
        result = CliRunner().invoke(cli_app, args)
        return result.exit_code, result.stderr

    return run


@pytest.mark.parametrize(("given", "meant"), [
    ("EXCLUSION_RISK_KEEP_RUN_DAYS", "EXCLUSION_RISK_KEEP_RUNS_DAYS"),
    ("EXCLUSION_RISK_MAX_ROW", "EXCLUSION_RISK_MAX_ROWS"),
])
def test_a_misspelt_setting_is_refused_naming_the_closest_known_one(serve, monkeypatch, given, meant):
    monkeypatch.setenv(given, "30")
    code, stderr = serve()
    assert code == 2, stderr
    assert given in stderr and meant in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_variables_other_stages_read_are_not_refused(serve, monkeypatch, tmp_path):
    for name in ("EXCLUSION_RISK_DUCKDB_MEMORY", "EXCLUSION_RISK_POSTCODES", "EXCLUSION_RISK_IDACI",
                 "EXCLUSION_RISK_KEEP_RUNS_DAYS"):
        monkeypatch.setenv(name, "30" if name.endswith("DAYS") else "x")
    # the lookups' paths are read at start (`serve` refuses one it cannot read): the shipped files
    monkeypatch.setenv("EXCLUSION_RISK_POSTCODES", str(REFERENCE_DIR / POSTCODE_FILE))
    monkeypatch.setenv("EXCLUSION_RISK_IDACI", str(REFERENCE_DIR / IDACI_FILE))
    monkeypatch.setenv("EXCLUSION_RISK_EXTRACTS_DIR", str(tmp_path))
    monkeypatch.setenv("exclusion_risk_max_rows", "5")  # read whatever its case, as pydantic reads it
    code, stderr = serve()
    assert code == 0, stderr


def test_the_retention_in_force_is_logged_at_start(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="exclusion_risk.serving.retention")
    for days, said in ((365, "recorded runs kept 365 days"),
                       (None, "recorded runs kept without limit (EXCLUSION_RISK_KEEP_RUNS_DAYS not set)")):
        caplog.clear()
        settings = ServiceSettings(database=tmp_path / "s.db", data_dir=None, keep_runs_days=days)
        with TestClient(create_app(settings, loader=_no_model)):
            pass
        assert said in caplog.text


@pytest.mark.parametrize(("name", "value", "said"), [
    ("EXCLUSION_RISK_LOG_LEVEL", "verbose", "'verbose' is not a log level"),
    ("EXCLUSION_RISK_MAX_ROWS", "0", "greater than or equal to 1"),
    # uvicorn reads any entry that is not an address or network as a literal it never matches, unsaid
    ("EXCLUSION_RISK_TRUSTED_PROXIES", "notanip", "'notanip' is not an IP address or network"),
    ("EXCLUSION_RISK_TRUSTED_PROXIES", "10.0.0.1/8", "'10.0.0.1/8' is not an IP address or network"),
    # every caller could claim any address (and so dodge the failed-key throttle)
    ("EXCLUSION_RISK_TRUSTED_PROXIES", "*", "name the proxies"),
    # any web site's script could call the service from a browser that holds a key
    ("EXCLUSION_RISK_CORS_ORIGINS", "*", "name the origins"),
    ("EXCLUSION_RISK_CORS_ORIGINS", "intranet.example.gov.uk", "scheme://host[:port]"),
    ("EXCLUSION_RISK_CORS_ORIGINS", "https://intranet.example.gov.uk/", "scheme://host[:port]"),
    # every address, as '*' (a reviewer's finding: accepted)
    ("EXCLUSION_RISK_TRUSTED_PROXIES", "0.0.0.0/0", "would believe every caller's claimed address"),
    ("EXCLUSION_RISK_TRUSTED_PROXIES", "::/0", "would believe every caller's claimed address"),
    # origins a browser never sends, so CORS never matched them (accepted before)
    ("EXCLUSION_RISK_CORS_ORIGINS", "https://h.example.gov.uk:443", "leaves out the default port 443"),
    ("EXCLUSION_RISK_CORS_ORIGINS", "https://h.example.gov.uk:99999", "its port is not 1-65535"),
    ("EXCLUSION_RISK_CORS_ORIGINS", "https://user@h.example.gov.uk", "no path, query, fragment or user"),
    ("EXCLUSION_RISK_CORS_ORIGINS", "https://*.example.gov.uk", "no wildcard"),
    ("EXCLUSION_RISK_CORS_ORIGINS", "https://bücher.example", "punycode"),
])
def test_an_invalid_setting_is_one_line_naming_its_variable(serve, monkeypatch, name, value, said):
    """A log level that is no level crashed `serve`; proxies and origins that can never match (or match
    anything) were accepted unsaid."""
    monkeypatch.setenv(name, value)
    code, stderr = serve()
    assert code == 2, stderr
    assert stderr.startswith("error: invalid service settings (") and name in stderr and said in stderr
    assert "Value error" not in stderr  # pydantic's prefix to a validator's own words
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_log_levels_are_read_whatever_their_case():
    assert ServiceSettings(log_level="WARNING").log_level == "warning"
    assert ServiceSettings(log_level="trace").log_level == "trace"  # uvicorn's own, below debug


def test_serve_refuses_a_default_model_store_that_is_not_there(tmp_path, monkeypatch):
    """./mlruns moved away: serve made a fresh empty store there and told the operator to train."""
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: None)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    args = ["serve", "--port", str(free_port()), "--database", str(tmp_path / "s.db")]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 2, result.output
    assert "does not exist (was the store moved?" in result.stderr and "MLFLOW_TRACKING_URI" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "mlruns").exists()


@pytest.mark.parametrize("case", ["data_dir_a_file", "data_dir_missing", "links_without_data"])
def test_serve_refuses_history_folders_that_cannot_be(serve, tmp_path, monkeypatch, case):
    """They ran the service with /health 503 (history failed) for as long as it ran."""
    (tmp_path / "census.csv").write_text("x\n")
    if case == "data_dir_a_file":
        monkeypatch.setenv("EXCLUSION_RISK_DATA_DIR", str(tmp_path / "census.csv"))
        said = "EXCLUSION_RISK_DATA_DIR"
    elif case == "data_dir_missing":
        monkeypatch.setenv("EXCLUSION_RISK_DATA_DIR", str(tmp_path / "nowhere"))
        said = "EXCLUSION_RISK_DATA_DIR"
    else:
        (tmp_path / "linkage").mkdir()
        monkeypatch.setenv("EXCLUSION_RISK_LINKS_DIR", str(tmp_path / "linkage"))
        said = "EXCLUSION_RISK_LINKS_DIR is set without EXCLUSION_RISK_DATA_DIR"
    code, stderr = serve()
    assert code == 2, stderr
    assert said in stderr and len(stderr.strip().splitlines()) == 1


def test_serve_starts_with_history_folders_that_are_folders(serve, tmp_path, monkeypatch):
    (tmp_path / "extracts").mkdir()
    monkeypatch.setenv("EXCLUSION_RISK_EXTRACTS_DIR", str(tmp_path / "extracts"))  # the older name
    code, stderr = serve()
    assert code == 0, stderr


def test_addresses_networks_and_origins_are_read():
    settings = ServiceSettings(trusted_proxies="127.0.0.1, 10.0.0.0/8,::1",
                               cors_origins="https://intranet.example.gov.uk,http://localhost:8080")
    assert settings.trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]
    assert settings.cors_origins == ["https://intranet.example.gov.uk", "http://localhost:8080"]
    # as a browser sends it: CORS compares exactly, so an upper-case host is written as sent
    mixed = ServiceSettings(cors_origins="HTTPS://Intranet.Example.gov.uk, http://[::1]:8080")
    assert mixed.cors_origins == ["https://intranet.example.gov.uk", "http://[::1]:8080"]
