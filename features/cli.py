"""`exclusion-risk features`: write the point-in-time feature table for analysts."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from exclusion_risk import calendar
from exclusion_risk.cli_checks import fail, out_file
from exclusion_risk.features import labels
from exclusion_risk.files import open_private, write_csv
from exclusion_risk.linkage.engines.splink_backends import EngineOutOfMemory
from exclusion_risk.linkage.errors import ExtractError


def register(app: typer.Typer) -> None:
    app.command("features")(features_command)


def features_command(
    data: Path = typer.Option(..., "--data", help="Folder with census, exclusions and social_care extracts."),
    links: Path = typer.Option(..., "--links", help="Output folder of `exclusion-risk link` (links.csv)."),
    years: str | None = typer.Option(
        None, "--years", help="Reference years, e.g. 2016/17,2017/18 (default: every year with --census)."
    ),
    census: str = typer.Option(
        calendar.census_name(calendar.AUTUMN),
        "--census",
        help="Reference census: autumn, spring or summer (features as known that day).",
    ),
    out: Path = typer.Option(Path("features.parquet"), "--out", help="Output table: .parquet or .csv."),
    label: str = typer.Option("any", "--label", help="Target in column `label`: any, permanent or repeat."),
    outcomes_through: str | None = typer.Option(
        None,
        "--outcomes-through",
        help="Last academic year whose outcomes are complete (default: inferred from the data).",
    ),
) -> None:
    """Build one row per pupil per reference census (autumn by default), using only what was known on
    census day."""
    # imported here: reading the extracts loads pandera, which `--help` and the other commands need
    # not wait for
    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.features.home_area import home_area_lines
    from exclusion_risk.linkage.history import load_history

    try:
        term = calendar.parse_census(census)
    except ValueError as exc:
        fail(f"--census: {exc}")
    if label not in labels.TARGETS:
        fail(f"--label must be one of {', '.join(labels.TARGETS)}, not {label!r}")
    if out.suffix.lower() not in (".parquet", ".csv"):
        fail(f"--out must end in .parquet or .csv: {out}")
    out_file(out, "--out")  # before the extracts are read and the table built
    if not data.is_dir():
        fail(f"--data {data} is not a folder")
    if not links.is_dir():
        fail(f"--links {links} is not a folder")
    try:
        wanted = [calendar.normalise_year(y) for y in years.split(",") if y.strip()] if years else None
        if outcomes_through is not None:
            outcomes_through = calendar.normalise_year(outcomes_through)
    except ValueError as exc:
        fail(str(exc))
    if wanted == []:
        fail("--years names no year")

    started = time.perf_counter()
    try:
        history = load_history(data, links)
    except (ExtractError, EngineOutOfMemory) as exc:  # linking on the fly (no --links) can run out
        fail(str(exc))
    except (OSError, ValueError, KeyError) as exc:
        fail(f"cannot read the extracts in {data} with the links in {links}: {exc}")
    available = calendar.census_years(history.census, term)
    if wanted is None:
        wanted = available
    missing = [y for y in wanted if y not in available]
    if missing:
        name = calendar.census_name(term)
        fail(f"no {name} census for {', '.join(missing)} in {data} (have: {', '.join(available) or 'none'})")

    table = build_feature_table(history, wanted, label=label, outcomes_through=outcomes_through, census=term)
    # one row per pupil, keyed by UPN: private (0600; a folder it creates 0700)
    if out.suffix.lower() == ".parquet":
        with open_private(out, "wb") as handle:
            table.to_parquet(handle, index=False)
    else:
        write_csv(table, out, private=True)
    elapsed = time.perf_counter() - started

    summary = table.groupby("AcademicYear").agg(pupils=("upn", "size"), label_rate=("label", "mean"))
    for year, row in summary.iterrows():
        rate = (
            "not labelled (outcomes incomplete)"
            if row["label_rate"] != row["label_rate"]
            else (f"label '{label}' {row['label_rate']:.1%}")
        )
        typer.echo(f"{year}: {int(row['pupils'])} pupils, {rate}")
    typer.echo(f"wrote {len(table)} rows x {table.shape[1]} columns to {out} in {elapsed:.1f}s")
    for line in home_area_lines(table, history.census):
        typer.echo(f"warning: {line}", err=True)
