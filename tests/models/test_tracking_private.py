"""Issue #11, finding 5: a local MLflow store the project creates is a 0700 folder (runs hold metrics
about children and models trained on their records); a folder that exists keeps its mode."""

from __future__ import annotations

import os
import stat

import pytest

from exclusion_risk.models import tracking


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.usefixtures("umask_022")
def test_the_default_and_a_local_store_are_created_private(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert tracking.tracking_uri() == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert _mode(tmp_path / "mlruns") == 0o700
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'a' / 'b' / 'mlflow.db'}")
    tracking.tracking_uri()
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b") == 0o700
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "filestore").as_uri())
    tracking.tracking_uri()
    assert _mode(tmp_path / "filestore") == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{shared / 'mlflow.db'}")
    tracking.tracking_uri()
    assert _mode(shared) == 0o755
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking.tracking_uri() == "http://127.0.0.1:5000"
    assert tracking.artifact_location("http://127.0.0.1:5000") is None
