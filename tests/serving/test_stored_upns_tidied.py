"""Runs recorded before separators inside a UPN were removed (d0dba8e) match the pupil's tidy UPN."""

from __future__ import annotations

import sqlite3

import pandas as pd

from exclusion_risk.models.score_runs import read_run_pupils
from exclusion_risk.serving.database import TIDY_UPNS_VERSION, Database
from exclusion_risk.upn import make_upn

UPN = make_upn(330, 4001, 2010, 7)


def test_an_older_service_database_has_its_stored_upns_tidied_once(tmp_path):
    path = tmp_path / "service.db"
    Database(path)  # the tables as a release before the tidy made them, then rows it stored
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 0")
        conn.execute(
            "INSERT INTO scoring_runs (run_id, recorded_at, model_name, model_version, "
            "risk_matrix_version, year, census, pupils, schools) "
            "VALUES ('r1', '2026-01-01', 'm', '1', '1', '2018/19', 'AUT', 3, 1)"
        )
        rows = [(f"{UPN[:4]} {UPN[4:]}",), (f"{UPN[:4]}-x",), ("A801200111001",)]
        for (upn,) in rows:
            conn.execute("INSERT INTO scoring_run_pupils (run_id, upn, probability, likelihood_band, rag) "
                         "VALUES ('r1', ?, 0.5, 'high', 'amber')", (upn,))  # fmt: skip
    Database(path)
    with sqlite3.connect(path) as conn:
        stored = sorted(u for (u,) in conn.execute("SELECT upn FROM scoring_run_pupils"))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert stored == sorted(["A801200111001", UPN, f"{UPN[:4]}X"])  # "E330 2057…" had never matched
    assert version == TIDY_UPNS_VERSION


def test_a_runs_folders_pupils_file_is_read_with_tidy_upns(tmp_path):
    path = tmp_path / "pupils.csv"
    pd.DataFrame({"upn": [f"{UPN[:4]}-{UPN[4:]}", "A801200111001"], "school_urn": ["100001", ""],
                  "probability": [0.5, 0.1], "likelihood_band": ["high", "low"],
                  "rag": ["amber", "green"]}).to_csv(path, index=False)  # fmt: skip
    assert read_run_pupils(path)["upn"].tolist() == [UPN, "A801200111001"]
