"""A store replaced under the running service is read anew (serving.app.reopen_store, before each load):
`/admin/reload` read a store file replaced by a rename (rsync, a deploy's `mv`) through its open
connections, the old and deleted file, and answered 200 with the old champion (a load tester's find)."""

from __future__ import annotations

import os

import pytest

from exclusion_risk.models.tracking import StoreUnavailable
from exclusion_risk.serving.app import reopen_store


def test_a_store_replaced_by_a_rename_is_read_anew_and_one_moved_away_is_said(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    path = tmp_path / "mlflow.db"
    uri, other = f"sqlite:///{path}", f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    client = MlflowClient(tracking_uri=uri)
    client.create_experiment("first", artifact_location=(tmp_path / "a").as_uri())
    reopen_store()  # the file its connections opened, noted
    MlflowClient(tracking_uri=other).create_experiment("second", artifact_location=(tmp_path / "b").as_uri())
    os.replace(tmp_path / "new.db", path)  # a deploy's `mv` over the store
    assert client.get_experiment_by_name("second") is None  # read through the old, deleted file
    reopen_store()
    assert client.get_experiment_by_name("second") is not None  # the file now at the path
    os.replace(path, tmp_path / "moved.db")
    with pytest.raises(StoreUnavailable, match=r"the MLflow store .*mlflow.db is not there \(moved or"):
        reopen_store()
