"""`exclusion-risk serve`, `exclusion-risk keys add|list|revoke` and `exclusion-risk runs list|export|delete`.

Settings come from the environment (EXCLUSION_RISK_*, see serving/settings.py); the options here
override the few that are handy on a command line. uvicorn is imported by `serve` alone, so the
other commands do without it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import shutil
import socket
import sqlite3
import textwrap
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.table import Column, Table

from exclusion_risk.cli_checks import fail, out_folder
from exclusion_risk.models.score_runs import MIN_PREFIX, RUNS_FOLDER, RunFolder
from exclusion_risk.serving import access_log as access_log_redaction
from exclusion_risk.serving.database import Database

if TYPE_CHECKING:
    from exclusion_risk.serving.run_history import RunStore
    from exclusion_risk.serving.security import KeyStore
    from exclusion_risk.serving.settings import ServiceSettings

keys_app = typer.Typer(
    help="API keys for the service: each has a role (scorer or admin) and is stored hashed.",
    no_args_is_help=True,
)

runs_app = typer.Typer(
    help="The service's recorded census scorings: list them, export one for `exclusion-risk evaluate`, "
    "or delete them.",
    no_args_is_help=True,
)

_DB_HELP = "SQLite file of keys and audit log (default: $EXCLUSION_RISK_DATABASE or data/service/service.db)."
_RUNS_DB_HELP = "The service's SQLite file (default: $EXCLUSION_RISK_DATABASE or data/service/service.db)."


def _settings(**overrides) -> ServiceSettings:
    # imported here, as in the helpers below: the service's modules load FastAPI (and the app, the models
    # stage), which `--help` and the other stages' commands need not wait for
    from exclusion_risk.serving.settings import ServiceSettings, unknown_variable, variable

    unknown = unknown_variable()
    if unknown is not None:
        fail(unknown)
    try:
        settings = ServiceSettings()
        updates = {k: v for k, v in overrides.items() if v is not None}
        if updates:
            settings = ServiceSettings.model_validate({**settings.model_dump(), **updates})
    except ValidationError as exc:
        # named as the operator set it: the option given on the command line, else the variable
        def where(loc: tuple) -> str:
            if not loc:
                return "settings"
            field = str(loc[0])
            return f"--{field}" if overrides.get(field) is not None else variable(field)

        problems = "; ".join(f"{where(e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                             for e in exc.errors())  # fmt: skip
        fail(f"invalid service settings ({problems})")
    if settings.database.is_dir():  # before any command opens it (Database would refuse it too)
        given = "--database" if overrides.get("database") is not None else variable("database")
        fail(f"{given} {settings.database} is a folder: give the database file's path, e.g. "
             f"{settings.database / 'service.db'}")
    return settings


def _key_store(database: Path | None) -> KeyStore:
    from exclusion_risk.serving.security import KeyStore

    settings = _settings(database=database)
    try:
        return KeyStore(Database(settings.database))
    except (sqlite3.Error, OSError) as exc:
        fail(f"cannot open the key database {settings.database}: {exc}")


@keys_app.command("add")
def keys_add(
    role: str = typer.Option(..., "--role", help="scorer (score, explain, read) or admin (also reload)."),
    label: str = typer.Option("", "--label", help="Who or what the key is for, e.g. 'inclusion team'."),
    expires: str | None = typer.Option(
        None, "--expires", help="The key's last day, YYYY-MM-DD (UTC): refused from the next. Default: never."
    ),
    school: list[str] = typer.Option(
        [], "--school", help="A school the key is for: its URN (6 digits) or LAEstab (7); repeat for more. "
        "The key then scores, lists and compares only those schools' pupils. Default: the whole "
        "authority. Scorer keys only: an admin key manages keys and the model for every school.",
    ),
    database: Path | None = typer.Option(None, "--database", help=_DB_HELP),
) -> None:
    """Create a key and print it once: it is stored only as a salted hash and cannot be shown again."""
    from exclusion_risk.serving.school_scope import parse_schools, schools_words
    from exclusion_risk.serving.security import ROLES

    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    try:
        schools = parse_schools(school)
    except ValueError as exc:
        fail(f"--school {exc}")
    if schools is not None and role != "scorer":
        fail("--school is for scorer keys only: an admin key manages keys and the model for every school")
    last_day = None if expires is None else _last_day(expires)
    new = _key_store(database).add(role, label, last_day, schools)
    until = "" if new.expires_on is None else f" (works through {new.expires_on.isoformat()}, UTC)"
    typer.echo(f"Created {new.role} key {new.key_id} for {schools_words(new.schools)}{until}. Store it now; "
               "it will not be shown again:", err=True)
    typer.echo(new.token)


def _iso_day(text: str, refusal: str) -> date:
    """A day given as YYYY-MM-DD, or the one-line `refusal` (exit 2): `--expires` and `--before`."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    fail(refusal)


def _last_day(value: str) -> date:
    """`--expires` as a date: YYYY-MM-DD, today (UTC) or later; anything else exits 2."""
    from exclusion_risk.serving.security import today

    last_day = _iso_day(value, f"--expires must be a date as YYYY-MM-DD, not {value!r}")
    if last_day < today():
        fail(f"--expires {last_day.isoformat()} has passed (today is {today().isoformat()}, UTC)")
    return last_day


def _minute(stamp: str | None) -> str:
    """An ISO time stored in UTC as "YYYY-MM-DD HH:MM" (blank for none)."""
    return "" if not stamp else stamp[:16].replace("T", " ")


@keys_app.command("list")
def keys_list(database: Path | None = typer.Option(None, "--database", help=_DB_HELP)) -> None:
    """Keys with role, label, creation, last day, revocation, last successful use, the schools each is for
    and the census pupils scored without their UPN's history in the last 30 days (never the key)."""
    from exclusion_risk.serving.school_scope import schools_words
    from exclusion_risk.serving.security import WITHHELD_DAYS, expired

    path = Path(_settings(database=database).database)
    if not path.exists():  # a listing creates nothing: `keys add` and the service make the database
        typer.echo(f"No keys yet: no service database at {path}. Create one with `exclusion-risk keys add "
                   "--role scorer` (give the --database the service uses).")
        return
    rows = _key_store(database).list()
    if not rows:
        typer.echo("No keys yet: create one with `exclusion-risk keys add --role scorer`.")
        return
    # The id (to revoke by), role and last day whole on one line; the times to the minute, UTC, each
    # wrapping at its space in a narrow terminal; no column rules, so 80 columns leave the label room
    # (a boxed table of full timestamps folded each into seven lines and cut the role to "sco…").
    whole = {"no_wrap": True, "min_width": 12}
    table = Table(Column("key id", **whole), Column("role", no_wrap=True, min_width=6),
                  Column("label", min_width=8), Column("created (UTC)", min_width=10),
                  Column("expires", **{**whole, "min_width": 10}), Column("revoked", min_width=10),
                  Column("last used", min_width=10), box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True, show_edge=False)
    for row in rows:
        table.add_row(row["key_id"], row["role"], row["label"], _minute(row["created_at"]),
                      row["expires_on"] or "", _minute(row["revoked_at"]), _minute(row["last_used"]))
    Console().print(table)
    # a revoked key is marked in its column; an expired one only by its date, beside today's unsaid
    for row in rows:
        if not row["revoked_at"] and expired(row["expires_on"]):
            typer.echo(f"Key {row['key_id']}: expired (its last day was {row['expires_on']}); the service "
                       "refuses it.")
    # below the table, not a column of it: a ninth column folded the others past reading in 80 columns
    # the schools each key is for: a key for a school's own staff sees only that school's pupils
    for row in rows:
        if row["schools"]:
            typer.echo(textwrap.fill(f"Key {row['key_id']}: {schools_words(row['schools'])} only.", 79))
    if not all(row["schools"] for row in rows):
        others = "The other keys are" if any(row["schools"] for row in rows) else "Every key is"
        typer.echo(f"{others} for all schools (the whole authority).")
    for row in rows:
        if row["withheld_recently"]:
            typer.echo(f"Key {row['key_id']}: {row['withheld_recently']:,} census pupil(s) in the last "
                       f"{WITHHELD_DAYS} days scored without the history their UPN names, their date of "
                       "birth not one it holds for that pupil.")
    if any(row["withheld_recently"] for row in rows):
        typer.echo("A few are mistyped UPNs or dates; many under one key may be someone trying dates of "
                   "birth for children's UPNs: see the audit log (`audit_log.history_withheld`) and revoke "
                   "the key if so.")


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key id shown by `keys list` (not the key itself)."),
    database: Path | None = typer.Option(None, "--database", help=_DB_HELP),
) -> None:
    """Revoke a key at once: the running service refuses it from its next request."""
    if not _key_store(database).revoke(key_id):
        fail(f"no active key with id {key_id!r} (see `exclusion-risk keys list`)")
    typer.echo(f"Revoked key {key_id}.")


# --- runs: the service's recorded census scorings ---------------------------------------------------
# `runs export RUN` writes one as a runs-folder entry, the layout `exclusion-risk score` writes (run.json:
# no identifiers; pupils.csv: UPNs, owner-only), so `exclusion-risk evaluate --scores FOLDER` checks a
# list made on the page as it checks one made on the command line: one scoring history.


def _run_store(database: Path | None) -> RunStore:
    from exclusion_risk.serving.run_history import RunStore

    path = Path(_settings(database=database).database)
    if not path.is_file():
        fail(f"no service database at {path} (the service creates it when it first starts)")
    try:
        return RunStore(Database(path))
    except (sqlite3.Error, OSError) as exc:
        fail(f"cannot open the service database {path}: {exc}")


@runs_app.command("list")
def runs_list(
    database: Path | None = typer.Option(None, "--database", help=_RUNS_DB_HELP),
    limit: int = typer.Option(50, "--limit", min=1,
                              help="How many of the latest runs to list (50: GET /runs's page)."),
) -> None:
    """The latest census scorings the service recorded (no identifiers)."""
    store = _run_store(database)
    runs, total = store.recent(limit), store.visible_count()
    if not runs:
        typer.echo("The service has recorded no census scoring yet.")
        return
    # as `keys list`: no column rules and the time to the minute, so each run is one whole line in 80
    # columns (a boxed table of full timestamps cut the time to "2026-12-…" and the model's name)
    # ("exclusion-risk v12" is the version alone, the registered model being the project's)
    from exclusion_risk.models.tracking import REGISTERED_MODEL

    whole = {"no_wrap": True}
    counts = {"justify": "right", "no_wrap": True}
    table = Table(Column("run", **whole), Column("recorded (UTC)", **whole), Column("year", **whole),
                  Column("census", **whole), Column("model", **whole), Column("pupils", **counts),
                  Column("schools", **counts), Column("red", **counts), box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True, show_edge=False)
    for run in runs:
        model = "" if run.model_name == REGISTERED_MODEL else f"{run.model_name} "
        table.add_row(run.short_id, _minute(run.recorded_at), run.year, run.census,
                      f"{model}v{run.model_version}", f"{run.pupils:,}", f"{run.schools:,}",
                      f"{run.rag.get('red', 0):,}")  # fmt: skip
    Console().print(table)
    if total > len(runs):  # said, never cut without a word
        typer.echo(f"The latest {len(runs):,} of {total:,} recorded runs (--limit {total} lists them all).")


@runs_app.command("export")
def runs_export(
    run: str = typer.Argument(..., help=f"The run's id or its first {MIN_PREFIX}+ characters (`runs list`)."),
    out: Path = typer.Option(
        Path(RUNS_FOLDER), "--out", help="Runs folder to write the run into (one sub-folder per run)."
    ),
    database: Path | None = typer.Option(None, "--database", help=_RUNS_DB_HELP),
) -> None:
    """Write a recorded scoring as a runs-folder entry (run.json, pupils.csv) for `evaluate --scores`."""
    out_folder(out, "--out")
    store = _run_store(database)
    found = store.find(run.strip())
    if found is None:
        fail(f"no single recorded run starts with {run.strip()!r} (see `exclusion-risk runs list`)")
    try:
        folder = RunFolder(out).record(found, store.pupils(found.run_id))
    except OSError as exc:
        fail(f"--out {out}: cannot write there ({exc.strerror or type(exc).__name__})")
    typer.echo(f"wrote {folder} ({found.describe()}: run.json, and pupils.csv with UPNs, owner-only)")
    typer.echo(f"once its year's outcomes are in: exclusion-risk evaluate --scores {folder} --data DIR")


CLI_KEY = "cli"  # the audit log's "who" for a deletion made on the command line (no API key there)


def _confirm(what: str, yes: bool) -> None:
    if not yes:
        typer.confirm(f"Delete {what}, with its pupils' rows? This cannot be undone.", abort=True)


def _delete_folder_runs(root: Path, run: str | None, day: date | None, yes: bool) -> tuple[int, int]:
    """`runs delete --runs-dir`: whole run folders of `exclusion-risk score` (run.json, pupils.csv), as
    RunFolder reads them: (runs, pupil rows) deleted."""
    if not root.is_dir():
        fail(f"--runs-dir {root}: no such folder")
    held = RunFolder(root).runs()
    if run is not None:
        wanted = run.strip()
        chosen = [r for r in held if len(wanted) >= MIN_PREFIX and r.run_id.startswith(wanted)]
        if len(chosen) != 1:
            fail(f"no single run in {root} starts with {wanted!r}")
        _confirm(chosen[0].describe(), yes)
    else:
        chosen = [r for r in held if r.recorded_at < day.isoformat()]
        _confirm(f"the {len(chosen)} run(s) in {root} recorded before {day.isoformat()}", yes)
    runs = pupils = 0
    for found in chosen:
        try:
            shutil.rmtree(root / found.run_id)  # refuses a symbolic link: only the folder itself goes
        except OSError as exc:
            fail(f"--runs-dir: cannot delete run {found.short_id} ({type(exc).__name__}); "
                 f"{runs} run(s) deleted before it")  # fmt: skip
        runs, pupils = runs + 1, pupils + found.pupils
    return runs, pupils


@runs_app.command("delete")
def runs_delete(
    run: str | None = typer.Option(
        None, "--run", help=f"Delete this run: its id or its first {MIN_PREFIX}+ characters (`runs list`)."
    ),
    before: str | None = typer.Option(
        None, "--before", help="Delete every run recorded before this day (YYYY-MM-DD, UTC)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Delete without asking first."),
    database: Path | None = typer.Option(None, "--database", help=_RUNS_DB_HELP),
    runs_dir: Path | None = typer.Option(
        None, "--runs-dir", help="Delete from this runs folder of `exclusion-risk score` (e.g. "
        "scores/score_runs) instead of the service's database.",
    ),
) -> None:
    """Delete recorded scorings and their pupils' rows (UPN, school, score, band, RAG, need level), for good.

    Prints how many runs and pupil rows went, and records that (counts only) in the service's audit log.
    A later comparison naming a deleted run is refused; `EXCLUSION_RISK_KEEP_RUNS_DAYS` has the service
    delete old runs itself.
    """
    from exclusion_risk.serving.audit import AuditEntry, AuditLog

    if (run is None) == (before is None):
        fail("give one of --run or --before: --run RUN, or --before YYYY-MM-DD")
    if runs_dir is not None and database is not None:
        fail("give --runs-dir or --database, not both")
    day = None
    if before is not None:
        day = _iso_day(before.strip(), f"--before must be a day as YYYY-MM-DD, not {before.strip()!r}")
    if runs_dir is not None:
        runs, pupils = _delete_folder_runs(runs_dir, run, day, yes)
    else:
        store = _run_store(database)
        if run is not None:
            found = store.find(run.strip())
            if found is None:
                fail(f"no single recorded run starts with {run.strip()!r} (see `exclusion-risk runs list`)")
            _confirm(f"{found.describe()}, {found.pupils:,} pupils", yes)
        else:
            _confirm(f"every run recorded before {day.isoformat()}", yes)
        try:
            runs, pupils = (store.delete_runs([found.run_id]) if run is not None
                            else store.delete_before(day.isoformat()))  # fmt: skip
            if runs:
                entry = AuditEntry("CLI", "runs delete", key_id=CLI_KEY, pupils=pupils)
                AuditLog(store.db).write(entry, 200)
        except sqlite3.Error as exc:
            fail(f"cannot delete from the service database: {exc}")
    typer.echo(f"Deleted {runs:,} run{'' if runs == 1 else 's'} and {pupils:,} pupil "
               f"row{'' if pupils == 1 else 's'}.")
    if runs:
        typer.echo(_not_reached(runs_dir))


# Files `exclusion-risk score` writes beside its runs folder (its default --out's and --runs'), each
# naming pupils: `runs delete` removes recorded runs, not the lists made from them.
SCORE_OUTPUTS = ("scores.csv", "scores.xlsx", "scores.html", "changes.csv")


def _not_reached(runs_dir: Path | None) -> str:
    """What `runs delete` leaves: the lists made from the runs it deleted are files of their own."""
    if runs_dir is None:
        return ("Lists downloaded from the service (CSV, workbook, print) are files of their own, not "
                "reached by this: delete those made from these runs where they were saved.")
    beside = [runs_dir.parent / name for name in SCORE_OUTPUTS if (runs_dir.parent / name).is_file()]
    said = (f" ({', '.join(str(p) for p in beside)} {'is' if len(beside) == 1 else 'are'} here, from the "
            "last scoring written there)" if beside else "")  # fmt: skip
    return (f"The lists `exclusion-risk score` wrote (scores.csv, its workbook and HTML summary, changes.csv)"
            f" are files of their own, not reached by this{said}: delete those made from these runs.")


EXPOSED_WARNING = (
    "Warning: listening on {host}, which other machines can reach. The service speaks plain HTTP and "
    "API keys travel in a request header, so anyone on the path can read them: terminate TLS in a "
    "reverse proxy and let only the proxy reach this port (docs/deployment.md)."
)

FORWARDED_IGNORED = (
    "Warning: FORWARDED_ALLOW_IPS is set but EXCLUSION_RISK_TRUSTED_PROXIES is not: X-Forwarded-For is "
    "ignored and clients are known by the connection's address (docs/deployment.md, section 2)."
)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`; False for anything else, a hostname included (it may
    resolve to any interface)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: str | None = typer.Option(None, "--host", help="Interface to bind (default 127.0.0.1; "
                                    "anything else belongs behind a TLS reverse proxy)."),
    port: int | None = typer.Option(None, "--port", help="Port (default 8000)."),
    database: Path | None = typer.Option(None, "--database", help=_DB_HELP),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log each request line."),
) -> None:
    """Serve the champion model: the scoring API and the inclusion officer's web page.

    The model loads in the background; GET /health answers `ready` once it can score.

    Every request but GET /health, /openapi.json and the page needs an API key: `exclusion-risk keys
    add --role scorer` (the same --database).

    Settings are EXCLUSION_RISK_* variables (serving/README.md).

    EXCLUSION_RISK_DATA_DIR and _LINKS_DIR: the extracts and `link` output (unset: data/demo's, if linked).

    Without either, census scoring is refused.
    """
    from exclusion_risk.models.tracking import StoreUnavailable
    from exclusion_risk.reference import lookups_refusal
    from exclusion_risk.serving.app import create_app
    from exclusion_risk.serving.settings import history_refusal

    settings = _settings(host=host, port=port, database=database)
    # the history's paths only (its contents load in the background); the lookups every upload reads
    refusal = history_refusal(settings) or lookups_refusal()
    if refusal is not None:
        fail(refusal)
    try:  # a clear message for a busy port, before the app and uvicorn start
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as exc:
        fail(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}")
    if not is_loopback(settings.host):
        typer.echo(EXPOSED_WARNING.format(host=settings.host), err=True)

    import uvicorn

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        app = create_app(settings)
    except (sqlite3.Error, OSError) as exc:
        fail(f"cannot open the service database {settings.database}: {exc}")
    except StoreUnavailable as exc:  # the default MLflow store moved away (models/tracking.py)
        fail(str(exc))
    if not _usable_keys(settings.database):  # it would run refusing every request (401), unsaid
        typer.echo(f"No usable API key in {settings.database}: every request will be refused (401). Create "
                   "one with `exclusion-risk keys add --role scorer --database "
                   f"{settings.database}`; the service reads it at once, no restart needed.", err=True)
    # uvicorn's logging with the access log's query strings redacted: a key sent as a query parameter
    # is refused by the app, but the request line would otherwise carry it into the log.
    # Forwarded headers are believed only from the proxies named in `trusted_proxies`: with none, the
    # client is the connection's peer, so a caller cannot dodge the key throttle (or throttle someone
    # else) by claiming an address. uvicorn's own FORWARDED_ALLOW_IPS is not used.
    if os.environ.get("FORWARDED_ALLOW_IPS") and not settings.trusted_proxies:
        typer.echo(FORWARDED_IGNORED, err=True)
    uvicorn.run(app, host=settings.host, port=settings.port, workers=1, log_level=settings.log_level,
                access_log=access_log, server_header=False, log_config=access_log_redaction.log_config(app),
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=",".join(settings.trusted_proxies) or None)


def _usable_keys(database: Path) -> int:
    """The keys not revoked and not past their last day."""
    from exclusion_risk.serving.security import KeyStore, expired

    return sum(1 for key in KeyStore(Database(database)).list()
               if not key["revoked_at"] and not expired(key["expires_on"]))  # as `verify` refuses them


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(runs_app, name="runs")
