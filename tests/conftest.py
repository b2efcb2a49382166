"""Shared fixtures. Generated data lives under pytest's tmp dirs; nothing is written to the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never touch the developer's own MLflow store.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


# --- synthetic authorities (generated once per test session, shared across xdist workers) ---
# Fixtures `small_authority` and `full_authority` are defined in tests/synth_fixtures.py.
# The service's champion model and live server (`champion`, `live_service`): tests/service_support.py.
pytest_plugins = ["synth_fixtures", "service_support"]
