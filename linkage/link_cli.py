"""`exclusion-risk link`: link the exclusions and social-care extracts to the census pupils."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

import typer
from pydantic import ValidationError

from exclusion_risk.cli_checks import fail, out_folder
from exclusion_risk.files import open_public, private_dir
from exclusion_risk.linkage.engines import DEFAULT_BACKEND
from exclusion_risk.linkage.engines.splink_backends import (
    EngineOutOfMemory,
    check_backend,
    check_duckdb_memory,
)
from exclusion_risk.linkage.engines.splink_engine import NoPairsScored
from exclusion_risk.linkage.engines.splink_model import ModelMismatch
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.read_counts import (
    ExtractRead,
    NoCleanCensus,
    nothing_clean,
    nothing_clean_warning,
    rejected_line,
)
from exclusion_risk.linkage.rejects import REJECTS_FILE
from exclusion_risk.linkage.report_words import source_line
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.spark_session import SparkUnavailable

# Every logger of the linkage stage (the run, both engines) sits below this one, so one handler
# here puts all their lines in run.log.
STAGE_LOGGER = "exclusion_risk.linkage"
log = logging.getLogger(__name__)  # below STAGE_LOGGER: what the command says of the read goes to run.log


class _WarningCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class _RunLogHandler(logging.StreamHandler):
    """run.log's handler: a StreamHandler that, unlike its base, closes the file it was given."""

    def close(self) -> None:
        try:
            self.stream.close()
        finally:
            super().close()


def _configure_run_log(out: Path) -> tuple[logging.Handler, _WarningCount]:
    """Counts, timings and warnings go to OUT/run.log (never names or DOBs; counts of records or pupils
    only as report.json publishes them, so it may be shared as the report is: created like it, 0644);
    the console shows only the command's own summary lines, and how many warnings run.log holds."""
    private_dir(out)  # created here, first: the folder will hold links, review and rejects (identifiers)
    # a stream opened never through a symbolic link; the handler closes it when it is closed
    handler = _RunLogHandler(open_public(out / "run.log", "w", encoding="utf-8"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    counter = _WarningCount()
    logger = logging.getLogger(STAGE_LOGGER)
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.addHandler(counter)
    return handler, counter


def register(app: typer.Typer) -> None:
    @app.command("link")
    def link(
        data: Path = typer.Option(
            ..., "--data", help="Folder with census, exclusions and social_care extracts."
        ),
        out: Path = typer.Option(
            ..., "--out", help="Output folder for links.csv, review.csv, report.html, ..."
        ),
        settings_file: Path | None = typer.Option(
            None, "--settings", help="settings.json from an earlier run (reproduces its links exactly)."
        ),
        engine: str | None = typer.Option(
            None, "--engine", help="Override the engine: splink or recordlinkage."
        ),
        backend: str = typer.Option(
            DEFAULT_BACKEND,
            "--backend",
            help="Where Splink runs: duckdb (in-process) or spark (local[2], or the active session; "
            "needs the spark extra and Java 17).",
        ),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars (a terminal)."),
    ) -> None:
        """Link exclusions and social care to census pupils: UPN, name + DOB, then probabilistic."""
        # imported here: the pipeline's readers load pandera, which `--help` need not wait for
        from exclusion_risk.linkage.pipeline import run_linkage

        out_folder(out, "--out")  # before the settings, the engine and minutes of linking
        try:
            settings = LinkageSettings.load(settings_file) if settings_file else LinkageSettings()
            if engine is not None:
                settings = LinkageSettings.model_validate({**settings.model_dump(), "engine": engine})
        except (OSError, ValueError, ValidationError) as exc:
            fail(f"Cannot use the settings: {_first_line(exc)}")
        try:
            check_backend(backend)
        except (ValueError, SparkUnavailable) as exc:
            fail(f"--backend {backend}: {_first_line(exc)}")
        if backend != DEFAULT_BACKEND and settings.engine != "splink":
            fail(f"--backend {backend} runs the splink engine only")
        try:
            if backend == DEFAULT_BACKEND and settings.engine == "splink":
                check_duckdb_memory()  # a cap DuckDB cannot use, said before minutes of reading
        except ValueError as exc:
            fail(_first_line(exc))
        if not data.is_dir():
            fail(f"{data}: not a folder of extracts")
        created = _first_missing(out)  # the folder this run creates, if any: removed again if it fails
        handler, counter = _configure_run_log(out)
        logger = logging.getLogger(STAGE_LOGGER)
        propagate = logger.propagate
        logger.propagate = False  # warnings belong in run.log, not on the console
        result, failure = None, None
        try:
            try:
                # bars only on a terminal: piped or logged (a scheduler's), their carriage returns are noise
                bars = progress and sys.stderr.isatty()
                _, result = run_linkage(data, out, settings, progress=bars, backend=backend)
                reads = result.reads
            except NoCleanCensus as empty_census:  # rejects.csv is written: what was rejected is said
                reads = empty_census.reads
            rejected, empty, copied = _said_of_reads(reads, out / REJECTS_FILE)  # run.log, then console
        except (ExtractError, SparkUnavailable, ModelMismatch, NoPairsScored, EngineOutOfMemory) as exc:
            failure = _first_line(exc)  # names files, columns and rows, never a pupil's value
            log.error("%s", failure)
        finally:
            logger.propagate = propagate
            logger.removeHandler(handler)
            logger.removeHandler(counter)
            handler.close()
        if failure is not None:
            _remove_if_only_run_log(out, created)
            fail(failure)
        for line in rejected:
            typer.echo(line)
        for remark in (r for read in reads for r in read.remarks):  # exact counts: the console's alone
            typer.echo(f"note: {remark}")
        for name, s in result.report["sources"].items() if result is not None else ():
            typer.echo(source_line(name, s))  # as report.json gives it, and run.log
            for note in s.get("probabilistic_notes", []):  # what the model could not estimate, and why
                typer.echo(f"  note: {note}")
        if counter.count:
            typer.echo(f"{counter.count} warning(s) in {out / 'run.log'}")
        if result is not None:
            typer.echo(f"Outputs in {out} (settings.json reproduces this run)")
            if not empty:  # the command to run next, with the folders as given
                typer.echo(f"next: exclusion-risk train --data {shlex.quote(str(data))} "
                           f"--links {shlex.quote(str(out))}")  # fmt: skip
        else:
            typer.echo(f"Nothing linked: the census has no clean row ({REJECTS_FILE} and run.log in {out})")
        for line in [*copied, *empty]:  # last, so that it is what the analyst reads
            typer.echo(f"warning: {line}", err=True)
        if empty:  # a data problem, as `check` refuses data: the outputs stay for the rejects to be read
            raise typer.Exit(2)


def _first_missing(out: Path) -> Path | None:
    """The topmost folder of `out`'s path (`out` itself or a parent) that does not exist yet, or None."""
    missing = [p for p in (out, *out.parents) if not p.exists()]
    return missing[-1] if missing else None


def _remove_if_only_run_log(out: Path, created: Path | None) -> None:
    """After a failed run, remove the folders it created when nothing but its run.log was written there, so
    that no folder that looks like a link output is left (`train --links` would point at it). A folder that
    was there before is kept, with its run.log saying why the run failed."""
    if created is None or any(p.name != "run.log" for p in out.iterdir()):
        return
    (out / "run.log").unlink(missing_ok=True)
    for folder in (out, *out.parents):  # up to the topmost folder created: each empty, made by this run
        folder.rmdir()
        if folder == created:
            return


def _said_of_reads(reads: list[ExtractRead], rejects_file: Path) -> tuple[list[str], list[str], list[str]]:
    """(each extract's rejected rows, a warning for each with rows and none clean, the reads' own warnings:
    census files copied under another collection's name) for the console,
    counted exactly as `check` counts them; logged to run.log without the counts (the warnings counted
    with its others): run.log is shared as report.json is, which gives them under 10 as "<10"."""
    with_rejects = [r for r in reads if r.rows_rejected]
    for read in with_rejects:
        log.info(rejected_line(read, rejects_file, exact=False))
    for read in nothing_clean(reads):
        log.warning(nothing_clean_warning(read, rejects_file, exact=False))
    copied = [w for r in reads for w in r.warnings]  # census files copied under another collection's name
    for warning in copied:  # names files only
        log.warning(warning)
    rejected = [rejected_line(r, rejects_file) for r in with_rejects]
    return rejected, [nothing_clean_warning(r, rejects_file) for r in nothing_clean(reads)], copied


def _first_line(exc: Exception) -> str:
    """What is wrong, in one line: a validation error's own messages, else the first line."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors()
        )
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
