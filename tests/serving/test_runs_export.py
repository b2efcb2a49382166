"""One scoring history (issue #14): a census scoring made through the service is kept with the model's
facts and the list's order, and `exclusion-risk runs export` writes it as a runs-folder entry that
`evaluate --scores` reads like one `score` wrote. A database from before those columns gains them."""

from __future__ import annotations

import json
import sqlite3
import stat

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models.score_runs import (
    NEED,
    RANK,
    RUN_FILE,
    RunFolder,
    compare,
    new_run,
    read_run_pupils,
)
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.run_history import RunStore

runner = CliRunner()
INFO = {"run_id": "d2f69571aaaabbbbccccddddeeeeffff", "label": "any", "census": "autumn",
        "test_year": "2017/18"}  # fmt: skip
# The two tables as the first release created them, before the model's facts and the rank were kept.
OLD_SCHEMA = """
CREATE TABLE scoring_runs (run_id TEXT PRIMARY KEY, recorded_at TEXT NOT NULL, key_id TEXT,
    model_name TEXT NOT NULL, model_version TEXT NOT NULL, risk_matrix_version TEXT NOT NULL,
    year TEXT NOT NULL, census TEXT NOT NULL, pupils INTEGER NOT NULL, schools INTEGER NOT NULL,
    red INTEGER NOT NULL DEFAULT 0, amber INTEGER NOT NULL DEFAULT 0, green INTEGER NOT NULL DEFAULT 0);
CREATE TABLE scoring_run_pupils (run_id TEXT NOT NULL, upn TEXT NOT NULL, school_urn TEXT NOT NULL DEFAULT '',
    probability REAL NOT NULL, likelihood_band TEXT NOT NULL, rag TEXT NOT NULL,
    PRIMARY KEY (run_id, upn)) WITHOUT ROWID;
INSERT INTO scoring_runs VALUES ('0123456789abcdef0123456789abcdef', '2026-10-01T09:00:00+00:00', NULL,
    'exclusion-risk', '1', 'v1', '2017/18', 'autumn', 2, 1, 1, 0, 1);
INSERT INTO scoring_run_pupils VALUES ('0123456789abcdef0123456789abcdef', 'A123456789012', '100001', 0.5,
    'very high', 'red');
"""


def _scores() -> pd.DataFrame:
    # tied probabilities: the list's order (the rank) is what says who was in the top
    return pd.DataFrame({"upn": ["B000000000001", "A000000000002", "C000000000003"],
                         "school_urn": ["100001", "100001", "100002"], "probability": [0.4, 0.4, 0.1],
                         "likelihood_band": ["high", "high", "low"],
                         "rag": ["amber", "amber", "green"], "need_level": [1, 2, 0]})  # fmt: skip


def test_a_service_scoring_exports_as_a_runs_folder_entry_with_the_models_facts_and_ranks(tmp_path):
    database = tmp_path / "service.db"
    store = RunStore(Database(database))
    run, pupils = new_run(_scores(), model_name="exclusion-risk", model_version="3", risk_matrix_version="v1",
                          year="2018/19", census="autumn", model_info=INFO)  # fmt: skip
    store.record(run, pupils, key_id=None)
    listed = runner.invoke(app, ["runs", "list", "--database", str(database)])
    assert listed.exit_code == 0 and run.short_id in listed.output and "A000000000002" not in listed.output
    out = tmp_path / "runs"
    result = runner.invoke(app, ["runs", "export", run.run_id[:6], "--out", str(out),
                                 "--database", str(database)])  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = json.loads((out / run.run_id / RUN_FILE).read_text())
    assert exported["model_run_id"] == INFO["run_id"] and exported["model_test_year"] == "2017/18"
    assert exported["model_label"] == "any" and exported["census"] == "autumn"
    rows = read_run_pupils(out / run.run_id / "pupils.csv")
    assert list(rows.sort_values(RANK)["upn"]) == list(_scores()["upn"])  # the list's order, not re-sorted
    assert list(rows.sort_values(RANK)[NEED]) == [1, 2, 0]
    assert stat.S_IMODE((out / run.run_id / "pupils.csv").stat().st_mode) == 0o600  # UPNs: owner only
    assert RunFolder(out).find(run.run_id[:8], "2018/19").run_id == run.run_id  # as `evaluate` finds it


def test_runs_list_shows_each_run_whole_in_80_columns(tmp_path):
    """In 80 columns its boxed table cut the recorded time ("2026-12-0…") and folded the run id."""
    database = tmp_path / "service.db"
    store = RunStore(Database(database))
    run, pupils = new_run(_scores(), model_name="exclusion-risk", model_version="12",
                          risk_matrix_version="v1", year="2018/19", census="autumn", model_info=INFO)
    store.record(run, pupils, key_id=None)
    listed = runner.invoke(app, ["runs", "list", "--database", str(database)], env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    assert max(len(line) for line in listed.output.splitlines()) <= 80
    row = next(line for line in listed.output.splitlines() if run.short_id in line)
    recorded = store.recent()[0].recorded_at  # ISO, to the second, UTC
    assert recorded[:16].replace("T", " ") in row  # to the minute, on the run's own line
    assert row.split()[3:] == ["2018/19", "autumn", "v12", "3", "2", "0"]  # the registered model's version 12
    assert listed.output.split()[:9] == ["run", "recorded", "(UTC)", "year", "census", "model", "pupils",
                                         "schools", "red"]  # headers whole too ("pup…" once)


def test_a_database_from_before_the_columns_gains_them_and_keeps_its_runs(tmp_path):
    database = tmp_path / "service.db"
    with sqlite3.connect(database) as conn:
        conn.executescript(OLD_SCHEMA)
    store = RunStore(Database(database))
    old = store.find("0123")
    assert old is not None and old.model_run_id == "" and old.pupils == 2
    assert store.pupils(old.run_id)[RANK].isna().all() and store.pupils(old.run_id)[NEED].isna().all()
    run, pupils = new_run(_scores(), model_name="exclusion-risk", model_version="3", risk_matrix_version="v1",
                          year="2018/19", model_info=INFO)  # fmt: skip
    store.record(run, pupils, key_id=None)
    assert store.find(run.run_id).model_run_id == INFO["run_id"]
    kept = store.pupils(run.run_id)
    assert list(kept[RANK]) == [1, 2, 3] and list(kept["upn"]) == list(_scores()["upn"])
    assert list(kept[NEED]) == [1, 2, 0]  # each pupil's need level, kept for the next comparison
    later = _scores().assign(need_level=[2, 2, 0])
    assert compare(kept, later, ["high", "low"])["change"].tolist() == ["need_up"]


def test_export_refuses_an_unknown_run_and_a_missing_database(tmp_path):
    database = tmp_path / "service.db"
    RunStore(Database(database))
    unknown = runner.invoke(app, ["runs", "export", "ffff", "--database", str(database)])
    assert unknown.exit_code == 2 and "no single recorded run" in unknown.output
    missing = runner.invoke(app, ["runs", "list", "--database", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no service database" in missing.output
    assert "Traceback" not in unknown.output + missing.output
