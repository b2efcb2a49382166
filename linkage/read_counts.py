"""What a linkage run read, as counts: per extract, rows read and rows rejected, and the sentences
`exclusion-risk link` says of them on the console and in run.log. Never a value from a row.

The console's sentences count exactly, as `check`'s console does (the analyst's own check of their
export, where read = clean + rejected must add up); run.log's (`exact=False`) give no count: run.log
is shared as report.json is, and the report publishes the rejected rows under 10 as "<10"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# EXTRACT_NAMES from its home, not through the readers: `link_cli` imports this module at start, and the
# readers load pandera
from exclusion_risk.linkage.extract_files import EXTRACT_NAMES

if TYPE_CHECKING:
    from exclusion_risk.linkage.readers import ReadResult


@dataclass(frozen=True)
class ExtractRead:
    """One extract's read as counts (the blocks `exclusion-risk check` reports)."""

    extract: str  # census, attendance (the census's termly files), exclusions or social_care
    rows_read: int
    rows_rejected: int
    files: tuple[str, ...]  # the files whose rows were rejected, as rejects.csv names them
    # the read's warnings (census files copied under another collection's name: ReadResult.warnings)
    warnings: tuple[str, ...] = ()
    # the notes of files whose read has more to say than rows and encoding (ReadResult.remarks): values read
    # as blank, children whose every row was rejected, headers read under another name
    remarks: tuple[str, ...] = ()

    @property
    def nothing_clean(self) -> bool:
        """Rows were read and every one was rejected: the extract is there, yet empty to the run."""
        return self.rows_read > 0 and self.rows_rejected >= self.rows_read


class NoCleanCensus(Exception):
    """Every census row read was rejected: there is no pupil to link to. `reads`: what was read."""

    def __init__(self, reads: list[ExtractRead]):
        super().__init__("the census has no clean row: every row read was rejected")
        self.reads = reads


def extract_reads(results: dict[str, ReadResult]) -> list[ExtractRead]:
    """Each extract's counts, in `check`'s order: census, its attendance files, exclusions, social care."""
    blocks: list[tuple[str, ReadResult]] = []
    for extract in EXTRACT_NAMES:
        blocks.append((extract, results[extract]))
        if results[extract].termly is not None:
            blocks.append(("attendance", results[extract].termly))
    return [
        ExtractRead(name, r.rows_read, r.rows_rejected, tuple(r.rejects["file"].dropna().unique()),
                    tuple(r.warnings), tuple(r.remarks))
        for name, r in blocks
    ]


def nothing_clean(reads: list[ExtractRead]) -> list[ExtractRead]:
    """The linked extracts (census, exclusions, social care) with rows read and none clean. Termly
    attendance files with none clean are counted (rejected_line) but fail nothing: linkage does not
    read them."""
    return [read for read in reads if read.extract in EXTRACT_NAMES and read.nothing_clean]


def rejected_line(read: ExtractRead, rejects_file: Path, exact: bool = True) -> str:
    """Rows rejected of rows read, in `check`'s words, and where the reasons are; counts only, and
    with `exact=False` (run.log) none: how many is the console's and report.json's to say."""
    if not exact:
        return (
            f"{read.extract}: rows read were rejected ({', '.join(read.files)}); reasons in {rejects_file} "
            "(how many: the console, as `check` counts them; report.json, under 10 as \"<10\")"
        )
    return (
        f"{read.extract}: {read.rows_rejected:,} of {read.rows_read:,} rows read were rejected "
        f"({', '.join(read.files)}); reasons in {rejects_file}"
    )


def nothing_clean_warning(read: ExtractRead, rejects_file: Path, exact: bool = True) -> str:
    """An extract present yet empty to the run, named by its files, with where the reasons are; the
    rows read counted unless `exact=False` (run.log)."""
    counted = f" ({read.rows_read:,})" if exact else ""
    return (
        f"{', '.join(read.files)}: every row read{counted} was rejected, so the linkage had "
        f"none of its rows; the reasons are in {rejects_file}"
    )
