"""`exclusion-risk describe`: the Walsall study's descriptive analysis on this authority's extracts."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from exclusion_risk import calendar
from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.history import PupilHistory, load_history
from exclusion_risk.models.describe import describe_frame
from exclusion_risk.models.describe_analysis import analyse
from exclusion_risk.models.describe_report import write_describe


def register(app: typer.Typer) -> None:
    app.command("describe")(describe_command)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _history(data: Path, links: Path | None) -> PupilHistory:
    if not data.is_dir():
        _fail(f"--data {data} is not a folder")
    if links is not None and not (links / LINKS_FILE).is_file():
        _fail(f"--links {links} has no {LINKS_FILE} (run `exclusion-risk link` first)")
    try:
        return load_history(data, links)
    except (ExtractError, FileNotFoundError, ValueError, KeyError) as exc:
        _fail(str(exc))


def _years(text: str | None) -> list[str] | None:
    if text is None:
        return None
    try:
        years = [calendar.normalise_year(y) for y in text.split(",") if y.strip()]
    except ValueError as exc:
        _fail(f"--years: {exc}")
    if not years:
        _fail("--years names no year")
    return years


def describe_command(
    data: Path = typer.Option(..., "--data", help="Folder with census, exclusions and social_care extracts."),
    links: Path = typer.Option(
        None, "--links", help="Output folder of `exclusion-risk link` (default: link now)."
    ),
    years: str | None = typer.Option(
        None, "--years", help="Academic years, e.g. 2016/17,2017/18 (default: all with complete outcomes)."
    ),
    out: Path = typer.Option(Path("describe"), "--out", help="Folder for describe.html, .json and CSVs."),
) -> None:
    """Exclusion rates, chi-square tests and rate ratios by group and school (the Walsall analysis)."""
    wanted = _years(years)
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file, not a folder")
    started = time.perf_counter()
    history = _history(data, links)
    available = calendar.autumn_years(history.census)
    missing = [y for y in wanted or [] if y not in available]
    if missing:
        _fail(f"no autumn census for {', '.join(missing)} in {data} (have: {', '.join(available) or 'none'})")
    table = build_feature_table(history, wanted or available, label="any")
    labelled = sorted(table.loc[table["label_any"].notna(), "AcademicYear"].unique())
    incomplete = [y for y in wanted or [] if y not in labelled]
    if incomplete:
        _fail(f"outcomes for {', '.join(incomplete)} are not complete in the data (complete: "
              f"{', '.join(labelled) or 'none'})")  # fmt: skip
    if not labelled:
        _fail(f"no year in {data} has complete outcomes to describe")
    description = analyse(describe_frame(table), labelled)
    written = write_describe(description, out)
    overall = description.document["overall"]
    typer.echo(f"{', '.join(labelled)}: {overall['any']['pupils']} pupil-years, "
               f"{overall['any']['excluded']} suspended or excluded, "
               f"{overall['permanent']['excluded']} permanently excluded")  # fmt: skip
    typer.echo(f"wrote {written[0]} and {len(written) - 1} tables in {time.perf_counter() - started:.1f}s")
