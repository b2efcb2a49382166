"""Storage limitation: recorded scorings (each pupil's UPN, school, probability, band and RAG) can be
deleted. `exclusion-risk runs delete --run RUN | --before DAY` deletes runs and their pupils' rows and
says how many (never a UPN); `EXCLUSION_RISK_KEEP_RUNS_DAYS` makes the service delete older runs itself.
A comparison naming a deleted run is refused with words (422), not a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models.score_runs import new_run
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.run_history import RunStore, StoredScorings, record_census_scoring
from tests.serving.test_changes_partial import YEAR, _scores, scorer  # noqa: F401 (a fixture)

runner = CliRunner()
PUPILS = [("A000000000001", "100001"), ("A000000000002", "100001"), ("A000000000003", "100002")]


def _record(store: RunStore, recorded_at: str | None = None):
    run, pupils = new_run(_record_scores(), model_name="exclusion-risk", model_version="3",
                          risk_matrix_version="v1", year=YEAR, recorded_at=recorded_at)
    store.record(run, pupils, key_id=None)
    return run


def _counts(database) -> tuple[int, int]:
    db = Database(database)
    return (db.execute("SELECT COUNT(*) FROM scoring_runs").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM scoring_run_pupils").fetchone()[0])  # fmt: skip


@pytest.fixture
def database(tmp_path):
    return tmp_path / "service.db"


def test_runs_delete_removes_one_run_and_its_pupils_and_says_how_many(database):
    store = RunStore(Database(database))
    gone, kept = _record(store), _record(store)
    result = runner.invoke(app, ["runs", "delete", "--run", gone.run_id[:8], "--yes",
                                 "--database", str(database)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 run" in result.output and "3 pupil rows" in result.output
    assert "Lists downloaded from the service (CSV, workbook, print) are files of their own" in result.output
    assert not any(upn in result.output for upn, _ in PUPILS)
    assert _counts(database) == (1, 3)
    assert store.run(gone.run_id) is None and store.run(kept.run_id) is not None
    audit = Database(database).execute("SELECT key_id, method, route, pupils FROM audit_log").fetchall()
    assert audit == [("cli", "CLI", "runs delete", 3)]
    # overwritten, not left in the file's free pages or its write-ahead log (the kept run holds the
    # same UPNs: delete it too, then no byte of them is left)
    runner.invoke(app, ["runs", "delete", "--run", kept.run_id, "--yes", "--database", str(database)])
    held = b"".join(path.read_bytes() for path in database.parent.glob("service.db*"))
    assert _counts(database) == (0, 0) and not any(upn.encode() in held for upn, _ in PUPILS)


def test_runs_delete_before_a_day_removes_the_runs_recorded_before_it(database):
    store = RunStore(Database(database))
    _record(store, "2026-01-05T10:00:00+00:00")
    _record(store, "2026-02-01T00:00:00+00:00")
    later = _record(store, "2026-03-01T09:00:00+00:00")
    result = runner.invoke(app, ["runs", "delete", "--before", "2026-02-02", "--yes",
                                 "--database", str(database)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 runs" in result.output and "6 pupil rows" in result.output
    assert [run.run_id for run in store.recent()] == [later.run_id]


def test_runs_delete_asks_first_and_refuses_what_it_cannot_do_in_one_line(database):
    store = RunStore(Database(database))
    run = _record(store)
    base = ["runs", "delete", "--database", str(database)]
    declined = runner.invoke(app, [*base, "--run", run.run_id], input="n\n")
    assert declined.exit_code != 0 and _counts(database) == (1, 3)
    for args, words in (
        (["--run", "ffffffff"], "no single recorded run"),
        (["--before", "2026-13-01"], "--before"),
        (["--before", "yesterday"], "--before"),
        ([], "--run or --before"),
        (["--run", run.run_id, "--before", "2026-01-01"], "--run or --before"),
    ):
        result = runner.invoke(app, [*base, *args, "--yes"])
        assert result.exit_code == 2 and words in result.output, (args, result.output)
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert _counts(database) == (1, 3)


def test_a_comparison_with_a_deleted_run_is_refused_with_words(database, scorer):  # noqa: F811
    store = RunStore(Database(database))
    first = record_census_scoring(store, _scores(scorer, PUPILS), scorer, YEAR, "key1").run
    later = record_census_scoring(store, _scores(scorer, PUPILS), scorer, YEAR, "key1").run
    assert store.delete_runs([first["id"]]) == (1, 3)
    with pytest.raises(LookupError, match="since: .*deleted"):
        record_census_scoring(store, _scores(scorer, PUPILS), scorer, YEAR, "key1", since=first["id"])
    with pytest.raises(LookupError, match="deleted"):
        store.earlier_scores(PUPILS[0][0], before=first["id"])
    # deleted between finding the run and reading its pupils (the service's own daily deletion)
    with pytest.raises(LookupError, match="deleted"):
        StoredScorings(store.db, first["id"])
    assert record_census_scoring(store, _scores(scorer, PUPILS), scorer, YEAR, "key1",
                                 since=later["id"]).changes is not None  # fmt: skip


def test_post_runs_earlier_before_a_deleted_run_is_a_422_with_words(stub_app):
    app_, token, database = stub_app(lambda: None)
    store = RunStore(Database(database))
    run = _record(store)
    store.delete_runs([run.run_id])
    with TestClient(app_) as client:
        answer = client.post("/runs/earlier", params={"before": run.run_id}, json={"upn": PUPILS[0][0]},
                             headers={"X-API-Key": token})  # fmt: skip
    assert answer.status_code == 422 and "deleted" in answer.text


def test_the_service_deletes_runs_older_than_keep_runs_days_when_it_starts(stub_app, monkeypatch):
    monkeypatch.setenv("EXCLUSION_RISK_KEEP_RUNS_DAYS", "30")
    from exclusion_risk.serving.settings import ServiceSettings

    assert ServiceSettings().keep_runs_days == 30
    app_, _token, database = stub_app(lambda: None, keep_runs_days=30)
    store = RunStore(Database(database))
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat(timespec="seconds")
    _record(store, old)
    recent = _record(store)
    with TestClient(app_):
        pass
    assert [run.run_id for run in store.recent()] == [recent.run_id]
    audit = Database(database).execute("SELECT key_id, route, pupils FROM audit_log").fetchall()
    assert audit == [("retention", "keep_runs_days", 3)]


def test_unset_keep_runs_days_keeps_every_run(stub_app):
    app_, _token, database = stub_app(lambda: None)
    store = RunStore(Database(database))
    _record(store, "2001-01-01T00:00:00+00:00")
    with TestClient(app_):
        pass
    assert len(store.recent()) == 1


def test_deleted_pupils_rows_are_overwritten_not_left_in_the_file(database):
    store = RunStore(Database(database))
    gone = _record(store)
    kept = pd.DataFrame({"upn": [f"B{i:012d}" for i in range(50)], "school_urn": "100001",
                         "probability": 0.5, "likelihood_band": "high", "rag": "red"})  # fmt: skip
    run, pupils = new_run(kept, model_name="exclusion-risk", model_version="3", risk_matrix_version="v1",
                          year=YEAR, census="autumn")  # fmt: skip
    store.record(run, pupils, key_id=None)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    assert store.delete_runs([gone.run_id]) == (1, 3)
    held = b"".join(path.read_bytes() for path in database.parent.glob("service.db*"))
    assert b"B000000000049" in held and not any(upn.encode() in held for upn, _ in PUPILS)
    assert store.db.execute("PRAGMA secure_delete").fetchone() == (1,)  # whatever the build's default


def test_runs_delete_runs_dir_deletes_a_runs_folder_entry_of_exclusion_risk_score(tmp_path):
    from exclusion_risk.models.score_runs import RunFolder

    folder = RunFolder(tmp_path / "score_runs")
    made = []
    for when in ("2026-01-05T10:00:00+00:00", "2026-03-01T09:00:00+00:00", "2026-04-01T09:00:00+00:00"):
        run, pupils = new_run(_record_scores(), model_name="exclusion-risk", model_version="3",
                              risk_matrix_version="v1", year=YEAR, recorded_at=when)
        folder.record(run, pupils)
        made.append(run)
    (tmp_path / "scores.csv").write_text("upn\n")  # the list `score` wrote beside its runs folder
    base = ["runs", "delete", "--runs-dir", str(folder.root), "--yes"]
    one = runner.invoke(app, [*base, "--run", made[1].run_id[:8]], terminal_width=400)
    assert one.exit_code == 0 and "1 run and 3 pupil rows" in one.output, one.output
    # the lists made from the runs are not reached, said, naming the one found beside the folder
    said = " ".join(one.output.split())
    assert "are files of their own, not reached by this" in said and str(tmp_path / "scores.csv") in said
    assert (tmp_path / "scores.csv").is_file()
    older = runner.invoke(app, [*base, "--before", "2026-02-01"])
    assert older.exit_code == 0 and "1 run and 3 pupil rows" in older.output, older.output
    assert [run.run_id for run in folder.runs()] == [made[2].run_id]
    assert sorted(p.name for p in folder.root.iterdir()) == [made[2].run_id]
    unknown = runner.invoke(app, [*base, "--run", "ffffffff"])
    both = runner.invoke(app, [*base, "--run", made[2].run_id, "--database", str(tmp_path / "s.db")])
    assert unknown.exit_code == 2 and "no single run" in unknown.output
    assert both.exit_code == 2 and "--runs-dir or --database" in both.output


def _record_scores() -> pd.DataFrame:
    return pd.DataFrame({"upn": [u for u, _ in PUPILS], "school_urn": [s for _, s in PUPILS],
                         "probability": [0.9, 0.5, 0.1], "likelihood_band": ["high", "medium", "low"],
                         "rag": ["red", "amber", "green"]})  # fmt: skip


def test_the_service_deletes_again_while_it_runs(database):
    import time

    from exclusion_risk.serving.audit import AuditLog
    from exclusion_risk.serving.retention import Retention

    store = RunStore(Database(database))
    retention = Retention(store, AuditLog(store.db), days=30, every_s=0.05)  # a day, shortened
    retention.start()
    try:
        _record(store, "2001-01-01T00:00:00+00:00")  # expired after the start's deletion
        deadline = time.monotonic() + 10
        while store.recent() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.recent() == []
    finally:
        retention.stop()


def test_a_scoring_whose_earlier_run_is_deleted_meanwhile_is_refused_unrecorded(  # noqa: F811
    database, scorer, monkeypatch  # noqa: F811
):
    """The run was recorded before the comparison read the earlier run: deleted in between (the daily
    deletion), the request answered 422 with the new run already recorded, and a retry recorded it twice."""
    from exclusion_risk.serving import run_history

    store = RunStore(Database(database))
    earlier = record_census_scoring(store, _scores(scorer, PUPILS), scorer, YEAR, "key1").run

    def deleted_meanwhile(db, run_id, scope=None):
        store.delete_runs([run_id])
        return StoredScorings(db, run_id, scope)

    monkeypatch.setattr(run_history, "StoredScorings", deleted_meanwhile)
    with pytest.raises(LookupError, match="deleted"):
        record_census_scoring(store, _scores(scorer, PUPILS), scorer, YEAR, "key1", since=earlier["id"])
    assert _counts(database)[0] == 0  # neither the earlier run (deleted) nor the refused one
