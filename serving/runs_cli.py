"""`exclusion-risk runs list|export`: the service's recorded census scorings, for `evaluate` and audits.

The service records every census scoring in its database (`serving.run_history`). `runs export RUN`
writes one of them as a runs folder entry, the layout `exclusion-risk score` writes (run.json: no
identifiers; pupils.csv: UPNs, owner-only), so `exclusion-risk evaluate --scores FOLDER` checks a list
made on the page exactly as it checks one made on the command line: one scoring history, whichever
door the scores went out of.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from exclusion_risk.models.score_runs import MIN_PREFIX, RUNS_FOLDER, RunFolder
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.run_history import RunStore
from exclusion_risk.serving.settings import ServiceSettings

runs_app = typer.Typer(
    help="The service's recorded census scorings: list them, or export one for `exclusion-risk evaluate`.",
    no_args_is_help=True,
)
_DB_HELP = "The service's SQLite file (default: $EXCLUSION_RISK_DATABASE or data/service/service.db)."


def _fail(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _store(database: Path | None) -> RunStore:
    path = Path(database or ServiceSettings().database)
    if not path.is_file():
        _fail(f"no service database at {path} (the service creates it when it first starts)")
    try:
        return RunStore(Database(path))
    except (sqlite3.Error, OSError) as exc:
        _fail(f"cannot open the service database {path}: {exc}")


@runs_app.command("list")
def runs_list(database: Path | None = typer.Option(None, "--database", help=_DB_HELP)) -> None:
    """The latest census scorings the service recorded (no identifiers)."""
    runs = _store(database).recent()
    if not runs:
        typer.echo("The service has recorded no census scoring yet.")
        return
    table = Table("run", "recorded (UTC)", "year", "census", "model", "pupils", "schools", "red")
    for run in runs:
        table.add_row(run.short_id, run.recorded_at, run.year, run.census,
                      f"{run.model_name} v{run.model_version}", f"{run.pupils:,}", f"{run.schools:,}",
                      f"{run.rag.get('red', 0):,}")  # fmt: skip
    Console().print(table)


@runs_app.command("export")
def runs_export(
    run: str = typer.Argument(..., help=f"The run's id or its first {MIN_PREFIX}+ characters (`runs list`)."),
    out: Path = typer.Option(
        Path(RUNS_FOLDER), "--out", help="Runs folder to write the run into (one sub-folder per run)."
    ),
    database: Path | None = typer.Option(None, "--database", help=_DB_HELP),
) -> None:
    """Write a recorded scoring as a runs-folder entry (run.json, pupils.csv) for `evaluate --scores`."""
    store = _store(database)
    found = store.find(run.strip())
    if found is None:
        _fail(f"no single recorded run starts with {run.strip()!r} (see `exclusion-risk runs list`)")
    try:
        folder = RunFolder(out).record(found, store.pupils(found.run_id))
    except OSError as exc:
        _fail(f"--out {out}: cannot write there ({type(exc).__name__})")
    typer.echo(f"wrote {folder} ({found.describe()}: run.json, and pupils.csv with UPNs, owner-only)")
    typer.echo(f"once its year's outcomes are in: exclusion-risk evaluate --scores {folder} --data DIR")
