"""`exclusion-risk check`: the first thing to run on a new export.

Reads every extract in a folder with the same readers `link` uses and prints, per extract, rows
read / clean / rejected, rejected rows by reason, what was read under another code (extended
ethnicity, BESD, FIXD, ...), invalid UPNs, and the counts of each code value; writes every rejected
row to OUT/rejects.csv (private: raw rows with names and dates of birth). Counts are exact, small
ones too: this is the analyst's own check of their own data, where read = clean + rejected must add
up on screen; suppression ("<10") is for reports that leave the team. Nothing printed names a pupil
or quotes a pupil value: the console shows counts, validated codes and the reasons' own wording
only (row and line numbers dropped so that one wording counts once; the readers show an unknown
exclusion reason code only when it is code-shaped); raw values stay in rejects.csv, beside the raw
data, for the analyst.

An extract whose every row was rejected (every date an Excel serial number, say) is no extract to
`link`, which refuses it: `check` says so last, naming its files and the commonest reason (column and
wording, counted). So is each file of a census/ (or attendance/) folder with rows and none clean, where
the folder's other files have clean rows (a warning only: link reads the rest). Where an extract is not
found but a file of its name is there under a spreadsheet's extension, the readers say it
(linkage.extract_files): a `.txt`/`.tsv` is read as delimited text, a workbook is named with what to do;
so are a census/ folder's `.txt`/`.tsv` files where it has no `.csv` or `.parquet` one.

Exit status: 0 when the extracts were read (rejects or not; an extract simply absent is skipped), 2 when
an extract could not be read at all (missing required column, empty file, a workbook, ...: the message
names the file and column) or was read with no clean row (census, exclusions or social care, as `link`
exits 2 for it; termly attendance files with none clean are warned of and, as in `link`, fail nothing).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd
import typer
from rich.columns import Columns
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exclusion_risk.cli_checks import out_folder
from exclusion_risk.files import private_dir, write_csv
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.extract_files import EXTRACT_NAMES, find_extracts
from exclusion_risk.linkage.rejects import JOIN, REJECTS_FILE, empty_rejects

# Code columns whose value counts are shown, per extract.
CODE_COLUMNS = {
    "census": [
        "AcademicYear", "CensusTerm", "Sex", "Ethnicity", "FSMeligible", "SENprovision", "SENtype",
        "NCyearActual",
    ],
    "exclusions": ["AcademicYear", "Category", "CategoryRaw", "ReasonGroups"],
    "social_care": ["Status", "Sex", "PrimaryNeed"],
    "attendance": ["AcademicYear", "Term"],
}  # fmt: skip
MISSING_LABEL = "(blank)"
# Row and line numbers make every reason distinct; dropped, the same wording counts once.
NUMBERED = ((re.compile(r"\brow \d+"), "an earlier row"), (re.compile(r"\blines? \d+"), "line n"))


def _wording(reason: str) -> str:
    """A reason as the console shows it: the numbers of rows and lines dropped."""
    for pattern, replacement in NUMBERED:
        reason = pattern.sub(replacement, reason)
    return reason


def reason_counts(rejects) -> dict[str, int]:
    """Rejected rows per reason's wording (a row failing in two ways counts under both).

    Reasons are the readers' fixed wording, never built from a value (a property test of the readers
    checks it), so they can be shown; each distinct reason is reworded once.
    """
    counts: Counter = Counter()
    for reason, n in rejects["reason"].dropna().value_counts().items():
        for part in {_wording(r) for r in reason.split(JOIN)}:
            counts[part] += int(n)
    return dict(counts.most_common())


def value_counts(frame, column: str) -> dict[str, int]:
    """Counts of each value of a code column; `;`-joined groups (reasons) count once per group."""
    values = frame[column]
    if column == "ReasonGroups":
        values = values.str.split(";").explode()
    counts = values.astype("object").where(values.notna(), MISSING_LABEL).astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.sort_index().items()}


def commonest_reason(rejects) -> tuple[str, int]:
    """The (column: reason) that rejected the most rows, and on how many (a row counts once per pair)."""
    counts: Counter = Counter()
    # each distinct (column, reason) once, as reason_counts does: a file whose every row was rejected
    # is the largest rejects frame there is (a national census: millions of rows)
    distinct = rejects[["column", "reason"]].fillna("").value_counts(sort=False)
    for (column, reason), n in distinct.items():
        columns, reasons = column.split(JOIN), reason.split(JOIN)
        if len(columns) != len(reasons):  # not one column per reason: the reasons alone
            columns = [""] * len(reasons)
        pairs = zip(columns, reasons, strict=True)
        for said in {f"{c}: {_wording(r)}" if c else _wording(r) for c, r in pairs}:
            counts[said] += int(n)
    return counts.most_common(1)[0] if counts else ("", 0)


def nothing_clean_warning(extract: str, result, rejects_file: Path) -> str:
    """A block read with rows and none clean: its files, the commonest reason counted, what link does."""
    files = ", ".join(result.rejects["file"].dropna().unique()) or extract
    refused = "link exits 2 for it" if extract in EXTRACT_NAMES else "no term of them reaches a feature"
    return _no_clean_row(files, result.rows_read, result.rejects, refused, rejects_file)


def file_nothing_clean_warnings(extract: str, result, rejects_file: Path) -> list[str]:
    """For a block read from several files (a census/ or attendance/ folder) that has clean rows: each
    file with rows and none clean, named (the block's own warning is for a block with none clean)."""
    if len(result.files) < 2:
        return []
    rejected = result.rejects["file"].value_counts()
    lost = "link reads the folder's other files, none of its rows" if extract in EXTRACT_NAMES else (
        "its term reaches no feature")  # fmt: skip
    return [
        _no_clean_row(name, n, result.rejects[result.rejects["file"] == name], lost, rejects_file)
        for name, n in result.files.items() if n and rejected.get(name, 0) >= n
    ]


def _no_clean_row(files: str, rows_read: int, rejects, consequence: str, rejects_file: Path) -> str:
    reason, n = commonest_reason(rejects)
    return (
        f"{files}: no clean row: all {rows_read:,} rows read were rejected ({consequence}); commonest "
        f"reason {reason} ({n:,} of {rows_read:,} rows); every row's reason is in {rejects_file}"
    )


def _table(title: str, rows: list[tuple[str, int]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, min_width=len(title) + 2)
    table.add_column("what")
    table.add_column("rows", justify="right")
    for label, count in rows:
        table.add_row(label, f"{count:,}")
    return table


def _report(console: Console, extract: str, result) -> None:
    summary = [
        ("rows read", result.rows_read),
        ("rows clean", len(result.clean)),
        ("rows rejected", result.rows_rejected),
    ]
    by_reason = reason_counts(result.rejects)
    summary += [(f"  rejected: {reason}", n) for reason, n in by_reason.items()]
    always = ("invalid UPN (kept)", "blank UPN")  # shown even when zero: the analyst looks for them
    shown = sorted(result.counts.items())
    summary += [(label, n) for label, n in shown if n or label in always]
    console.print(_table(f"{extract}", [(escape(label), n) for label, n in summary]))
    if sum(by_reason.values()) > result.rows_rejected:  # read as rows, the reasons' lines summed past them
        console.print("  [dim]the reasons' counts add up to more than the rows rejected: a row rejected for "
                      "two reasons counts under each[/dim]", soft_wrap=True)
    for note in result.notes:
        console.print(f"  [dim]{escape(note)}[/dim]", soft_wrap=True)
    code_tables = []
    for column in CODE_COLUMNS[extract]:
        counts = value_counts(result.clean, column)
        code_tables.append(_table(column, [(escape(v), n) for v, n in counts.items()]))
    console.print(Columns(code_tables))


def run_check(data: Path, out: Path, console: Console) -> int:
    """Read, report and write OUT/rejects.csv; the exit status (0 read, 2 an extract unreadable)."""
    # imported here: the readers load pandera, which `--help` need not wait for
    from exclusion_risk.linkage.readers import read_extract

    try:
        found = find_extracts(data)
    except ExtractError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    if all(found[e] is None for e in EXTRACT_NAMES):
        console.print(
            f"[bold red]error:[/] {escape(str(data))}: no extracts found "
            "(expected census.csv/.parquet or census/, exclusions.csv/.parquet, social_care.csv/.parquet)",
            soft_wrap=True,
        )
        return 2
    status, rejects, empty, clean = 0, [], [], {}
    for extract in EXTRACT_NAMES:
        if found[extract] is None:
            console.print(f"[yellow]{extract}: not found in {escape(str(data))} (skipped)[/]", soft_wrap=True)
            continue
        try:
            result = read_extract(extract, found[extract], found["attendance"])
        except ExtractError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            status = 2
            continue
        clean[extract] = result.clean
        blocks = [(extract, result)]
        empty += result.warnings  # census files copied under another collection's name (a warning only)
        if result.termly is not None:  # the census's attendance/ folder: a block of its own, adding up
            blocks.append(("attendance", result.termly))
        for block, read in blocks:
            _report(console, block, read)
            rejects.append(read.rejects)
            if read.rows_read and read.rows_rejected >= read.rows_read:
                empty.append(nothing_clean_warning(block, read, out / REJECTS_FILE))
                status = 2 if block in EXTRACT_NAMES else status
            else:  # a folder's file with none clean: named, though the block has clean rows (status 0)
                empty += file_nothing_clean_warnings(block, read, out / REJECTS_FILE)
    empty += beyond_the_census(clean.get("census"), clean.get("exclusions"))
    everything = pd.concat(rejects, ignore_index=True) if rejects else empty_rejects()
    write_csv(everything, private_dir(out) / REJECTS_FILE, private=True)
    console.print(
        f"rejected rows (all extracts): {len(everything):,} -> {escape(str(out / REJECTS_FILE))}",
        soft_wrap=True,
    )
    for line in empty:  # last, so that it is what the analyst reads
        console.print(f"[bold yellow]warning:[/] {escape(line)}", soft_wrap=True)
    return status


def beyond_the_census(census: pd.DataFrame | None, exclusions: pd.DataFrame | None) -> list[str]:
    """A warning when exclusions start in academic years after the census's latest: no census year reads
    them, as history or as outcome, until that year's census is in the extracts (an exclusions data
    lead's 300 rows moved to 2021/22 were said only in the year table). Exact counts: `check`'s console
    is the owner's, as its other counts are."""
    if census is None or exclusions is None or census.empty or exclusions.empty:
        return []
    if "AcademicYear" not in census or "AcademicYear" not in exclusions:
        return []
    latest = census["AcademicYear"].dropna().astype(str).max()
    later = exclusions["AcademicYear"].dropna().astype(str)
    later = later[later > latest].value_counts().sort_index()
    if later.empty:
        return []
    years = ", ".join(f"{year}: {n:,}" for year, n in later.items())
    return [f"exclusions: {int(later.sum()):,} rows start after the census's latest year, {latest} "
            f"({years}): no census year reads them, as a pupil's history or as an outcome, until that "
            "year's census is in the extracts"]


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        data: Path = typer.Option(
            ..., "--data", help="Folder with the extracts (census, exclusions, social_care)."
        ),
        out: Path | None = typer.Option(
            None, "--out", help="Where rejects.csv goes (default: a `check` folder beside DATA)."
        ),
    ) -> None:
        """Read every extract, report rows read/clean/rejected and code counts; write OUT/rejects.csv."""
        # beside the extracts, not in them: the raw extracts stay as they came (and the service reads
        # `linkage` beside them the same way)
        out = out if out is not None else data.resolve().parent / "check"
        out_folder(out, "--out")  # before every extract is read
        status = run_check(data, out, Console())
        raise typer.Exit(status)
