"""`exclusion-risk describe`: the Walsall study's descriptive analysis on this authority's extracts."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from exclusion_risk import calendar
from exclusion_risk.cli_checks import out_file, out_folder, steps
from exclusion_risk.features import labels as feature_labels
from exclusion_risk.models.cli_inputs import fail, linked_data, reading_words
from exclusion_risk.models.describe import describe_frame
from exclusion_risk.models.describe_analysis import analyse
from exclusion_risk.models.describe_ledger import (
    LEDGER_FILE,
    LedgerError,
    publication,
    record,
    refuse_overlap,
)
from exclusion_risk.models.describe_report import write_describe
from exclusion_risk.models.describe_years import left_out_years


def register(app: typer.Typer) -> None:
    app.command("describe")(describe_command)


def default_ledger(out: Path) -> Path:
    """The project's ledger: in the MLflow store's folder (the project's state, kept from year to year,
    where each year's output may go to a folder of its own: a reviewer's find, a ledger beside --out
    began afresh in each), else beside --out (a tracking server's store has no folder here)."""
    from exclusion_risk.models import tracking
    from exclusion_risk.models.store_files import local_store

    try:
        store = local_store(tracking.tracking_uri())  # ./mlruns made (owner-only) if missing
    except tracking.StoreUnavailable as exc:
        fail(str(exc))
    return (store if store is not None else out.parent) / LEDGER_FILE


def _years(text: str | None) -> list[str] | None:
    if text is None:
        return None
    try:
        years = [calendar.normalise_year(y) for y in text.split(",") if y.strip()]
    except ValueError as exc:
        fail(f"--years: {exc}")
    if not years:
        fail("--years names no year")
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
    ledger: Path = typer.Option(
        None,
        "--ledger",
        help=f"Record of the years and schools describe has published (default: {LEDGER_FILE} in the "
        "MLflow store's folder, ./mlruns unless MLFLOW_TRACKING_URI says otherwise): an output a reader "
        "could subtract from an earlier one is refused.",
    ),
    models: bool = typer.Option(
        False,
        "--models",
        help="Also rank the inputs of the study model (train --config models/study.yaml) and of the "
        "champion by permutation importance on the champion's test year, side by side.",
    ),
) -> None:
    """Exclusion rates, chi-square tests and rate ratios by group and school (the Walsall analysis)."""
    # imported here: the feature table and the models' comparison load pandera and scikit-learn, which
    # `--help` and the other commands need not wait for
    from exclusion_risk.features.build import build_feature_table, prepare
    from exclusion_risk.models.describe_models import ModelsUnavailable, importance_comparison

    out_folder(out, "--out")  # before the extracts are read
    ledger = ledger if ledger is not None else default_ledger(out)
    out_file(ledger, "--ledger")
    wanted = _years(years)
    started = time.perf_counter()
    with steps(reading_words(links)) as step:
        linked = linked_data(data, links)
        history = linked.history
        available = calendar.autumn_years(history.census)
        missing = [y for y in wanted or [] if y not in available]
        if missing:
            have = ", ".join(available) or "none"
            fail(f"no autumn census for {', '.join(missing)} in {data} (have: {have})")
        step("building features")
        table = build_feature_table(history, wanted or available, label="any")
        labelled = sorted(table.loc[table["label_any"].notna(), "AcademicYear"].unique())
        incomplete = [y for y in wanted or [] if y not in labelled]
        if incomplete:
            # the years the extracts complete, not only those asked for (the table holds only those)
            through = feature_labels.complete_through(prepare(history))
            fail(f"outcomes for {', '.join(incomplete)} are not complete in the data (complete through "
                 f"{'no year' if through is None else calendar.format_year(through)})")  # fmt: skip
        # by default every year with complete outcomes: each census year left out is named, with why
        left_out = left_out_years(linked, available, labelled, links) if wanted is None else []
        for year in left_out:
            typer.echo(year.line(), err=year.stale_links)
        if not labelled:
            fail(f"no year in {data} has complete outcomes to describe")
        step(f"testing {len(labelled)} year(s) by group and school")
        description = analyse(describe_frame(table), labelled)
        description.document["left_out"] = [year.as_dict() for year in left_out]
        from exclusion_risk.models.fingerprint import extracts_source

        description.document["source"] = extracts_source(data)  # which files, as digests
        if models:
            step("ranking the models' inputs by permutation importance")
            try:
                description.add_models(importance_comparison(table))
            except ModelsUnavailable as exc:
                fail(f"--models: {exc}")
        # two outputs over the same pupils subtract to counts each withholds (models.describe_ledger)
        published = publication(labelled, table.loc[table["label_any"].notna(), "SchoolURN"],
                                description.tables, out)  # fmt: skip
        try:
            refuse_overlap(ledger, published)
        except LedgerError as exc:
            fail(str(exc))
        step(f"writing {out}")
        written = write_describe(description, out)
        record(ledger, published)
    overall = description.document["overall"]
    typer.echo(f"{', '.join(labelled)}: {overall['any']['pupils']} pupil-years, "
               f"{overall['any']['excluded']} suspended or excluded, "
               f"{overall['permanent']['excluded']} permanently excluded")  # fmt: skip
    if models:
        typer.echo(description.document["models"]["finding"])
    typer.echo(f"wrote {written[0]}, {written[1].name} and {len(written) - 2} tables in "
               f"{time.perf_counter() - started:.1f}s; "
               f"recorded in {ledger}")
