"""The windows of years `describe` has published, so that a second table a reader could subtract from the
first is refused before it is written.

Each output is protected on its own (`describe.suppress_all`, `describe_joint`), and two outputs over the
same pupils are not: a statistical disclosure control tester published 2015/16-2018/19 and
2015/16-2017/18 from one authority, and the first less the second gave 2018/19's 4 permanent exclusions,
all White British, which 2018/19's own output withholds whole. Next year's default run is the same
attack: `describe` describes every year with complete outcomes, so the window grows by the new year, and
the two outputs differ by exactly that year.

The rule: two publications are over the same pupils where they share a year and a school; such a pair is
safe only when it is the same publication again (the same years and the same tables, as a re-run on the
same extracts gives). Any other pair is refused (exit 2), naming the earlier output: publish the same
window, or years it does not hold (the new year alone), which no subtraction reaches; where the earlier
output was never released, its line is removed from the record by hand and the run repeated. Windows
that share no year, or no school (another authority), are recorded side by side.

The record is a small JSON-lines file in the project's MLflow store folder (`./mlruns/describe_windows.jsonl`
by default, kept from year to year whatever folder each output goes to; `--ledger` names another), public
as the tables are: per publication its years, its schools' URNs (public codes), a
digest of its tables, its folder and date. Nothing of a pupil.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from exclusion_risk.files import csv_text, write_text

LEDGER_FILE = "describe_windows.jsonl"
NOT_COUNTS = ("models_importance.csv",)  # `--models`' rankings: not counts of pupils


class LedgerError(ValueError):
    """The record cannot be read, or the publication would overlap one it holds: one line for the CLI."""


@dataclass(frozen=True)
class Publication:
    years: tuple[str, ...]
    schools: tuple[str, ...]  # URNs of the schools its pupil-years are at
    tables: str  # sha256 of its count tables as published
    out: str  # the folder it was written to
    written: str  # ISO date

    def same_as(self, other: Publication) -> bool:
        return set(self.years) == set(other.years) and self.tables == other.tables

    def over_same_pupils(self, other: Publication) -> bool:
        return bool(set(self.years) & set(other.years)) and bool(set(self.schools) & set(other.schools))


def publication(years: list[str], schools: pd.Series, tables: dict[str, pd.DataFrame],
                out: Path) -> Publication:
    """What the record keeps of a `describe` output about to be written."""
    digest = hashlib.sha256()
    for name in sorted(n for n in tables if n not in NOT_COUNTS):
        digest.update(name.encode() + b"\0" + csv_text(tables[name]).encode() + b"\0")
    urns = sorted({str(s).strip() for s in schools.dropna() if str(s).strip()})
    return Publication(tuple(sorted(years)), tuple(urns), digest.hexdigest(), str(Path(out).resolve()),
                       date.today().isoformat())  # fmt: skip


def read_ledger(path: Path) -> list[Publication]:
    """The publications recorded in `path` (none where there is no file)."""
    if not path.is_file():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entries.append(Publication(tuple(raw["years"]), tuple(raw["schools"]), str(raw["tables"]),
                                       str(raw["out"]), str(raw["written"])))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            raise LedgerError(f"--ledger {path}, line {number}: not a publication describe recorded (each "
                              "line holds years, schools, tables, out and written)") from None  # fmt: skip
    return entries


def _span(years: tuple[str, ...]) -> str:
    return years[0] if len(years) == 1 else f"{years[0]}-{years[-1]} ({len(years)} years)"


def refuse_overlap(path: Path, new: Publication) -> None:
    """LedgerError where an earlier publication in `path` covers some of the same pupils as `new` and is
    not the same publication: before anything is written."""
    for earlier in (e for e in read_ledger(path) if e.over_same_pupils(new) and not e.same_as(new)):
        if set(earlier.years) == set(new.years):
            how = "the same years with other tables (the extracts have changed since)"
            instead = "The earlier tables stand"
        else:
            how = f"{len(set(earlier.years) & set(new.years))} of its years"
            beyond = sorted(set(new.years) - set(earlier.years))
            again = f"{_span(earlier.years)} again"
            instead = (f"Publish {', '.join(beyond)} alone (--years {','.join(beyond)}) or {again}"
                       if beyond else f"Publish {again}")  # fmt: skip
        raise LedgerError(
            f"describing {_span(new.years)} covers pupils that describe published in "
            f"{_span(earlier.years)} to {earlier.out} on {earlier.written} ({how}): a reader with both "
            f"outputs could subtract one from the other and recover counts each withholds. {instead}; "
            f"where that output was never released, remove its line from {path} and run again."
        )


def record(path: Path, new: Publication) -> None:
    """`new` added to the record in `path`, once written (the same publication again is not a second
    line)."""
    entries = read_ledger(path)
    if any(earlier.same_as(new) and earlier.over_same_pupils(new) for earlier in entries):
        return
    write_text(path, "".join(json.dumps(asdict(e)) + "\n" for e in [*entries, new]))
