"""A store replaced under a running process is read anew (models.store_files.reopen_if_replaced): the
service's `/admin/reload` read a store file replaced by a rename (rsync, a deploy's `mv`) through its open
connections, the old and deleted file, and answered 200 with the old champion (a load tester's find)."""

from __future__ import annotations

import os

from exclusion_risk.models.store_files import reopen_if_replaced


def test_a_store_replaced_by_a_rename_is_read_anew_and_one_moved_away_is_said(tmp_path):
    from mlflow import MlflowClient

    path = tmp_path / "mlflow.db"
    uri, other = f"sqlite:///{path}", f"sqlite:///{tmp_path / 'new.db'}"
    client = MlflowClient(tracking_uri=uri)
    client.create_experiment("first", artifact_location=(tmp_path / "a").as_uri())
    assert reopen_if_replaced(uri) is None  # the file its connections opened, noted
    MlflowClient(tracking_uri=other).create_experiment("second", artifact_location=(tmp_path / "b").as_uri())
    os.replace(tmp_path / "new.db", path)  # a deploy's `mv` over the store
    assert client.get_experiment_by_name("second") is None  # read through the old, deleted file
    assert reopen_if_replaced(uri) is None
    assert client.get_experiment_by_name("second") is not None  # the file now at the path
    os.replace(path, tmp_path / "moved.db")
    assert reopen_if_replaced(uri) == f"the MLflow store {path} is not there (moved or removed?)"
