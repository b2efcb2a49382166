"""The extract readers: a local authority's files -> canonical frames + rejects, losing no row.

One reader per extract (`read_census`, `read_exclusions`, `read_social_care`, `read_attendance`) and
`read_extracts(folder)` for the whole input folder; every caller reads extracts through this module.
Each file goes through the same steps, each in its own module:

1. **Bytes -> text** (linkage.decoding): UTF-8 (with or without BOM), Windows-1252 or UTF-16,
   decided per file; rows holding bytes undefined in every one of them are rejected.
2. **Parse** (linkage.loading): all columns as text; rows with the wrong number of fields are
   rejected, and so is a row repeating the header (two exports joined: linkage.header_rows). Parquet
   columns of any type are read as their text.
3. **Headers -> contract names** (linkage.validation, linkage.fields), with the contract's aliases;
   a missing required column is one `ExtractError` naming the file and column(s).
4. **Exact duplicate rows** (linkage.duplicates): the first is kept, the others are rejected naming
   the row they duplicate; so is an exclusion equal to an earlier one in all but RecordID (in 6 as read).
5. **Validation** (linkage.validation, linkage.schemas; lazy: every failure is reported): a failing
   row is one line of the rejects naming every failing column (joined by " | ").
6. **Normalisation** of the clean rows to the canonical frames (linkage.extract_frames).

Rows are numbered from 1 after the header (`_row` in the frame, `row` in the rejects); every input
row is either in the clean frame or on one line of the rejects: len(clean) + len(rejects) = rows read.

Folder layout accepted by `read_extracts` (file names case-insensitive, CSV or Parquet; where neither
is there, a `.txt`/`.tsv` file of the name, or a census/ folder's `.txt`/`.tsv` files, are read as
delimited text and a workbook is named and refused: linkage.extract_files):

    DIR/census.csv | census.parquet | census/            one file, or one file per collection
        census/census_2017-10-05.csv ...                 collection date in the name gives
                                                         AcademicYear and CensusTerm
    DIR/exclusions.csv | exclusions.parquet
    DIR/social_care.csv | social_care.parquet
    DIR/attendance/ (optional)                           termly attendance, one file per term,
        attendance_2016-17_AUT.csv ...                   columns UPN and TermlySessionsPossible,
                                                         -Authorised and -Unauthorised

An attendance file's academic year and term come from its name: `<yyyy>-<yy>` (or `<yyyy>_<yy>`,
or `<yyyy>-<yyyy>`) followed by `-` or `_` and `AUT`, `SPR` or `SUM` (any case, also spelt out:
`autumn`, `spring`, `summer`) and then no letter, anywhere in the name (`attendance_2016-17_AUT.csv`,
`la_2016_17_spring.parquet`; `attendance_2016-17_summary.csv` names no term). Only a name without
that falls back to a date `yyyy-mm-dd` in it (`attendance_2016-12-16.csv`), read as the census term of
that month (a file exported in January is the spring term's); a name with neither is an
`ExtractError`. Two files for the same year and term are an `ExtractError` naming both. Within a file,
every row of a UPN on more than one row, and a row absent more sessions than possible, is rejected.

Termly rows are not applied here: they travel as `ReadResult.attendance` / `Extracts.attendance` to
linkage.history, which keys them by the pupil id (so a pupil whose UPN changed in-year keeps every term)
and derives the census's previous-year `Sessions*` fill and this year's attendance so far from them
(linkage.extract_frames.apply_attendance). The termly files' own read is `ReadResult.termly` of the
census (its rows, rejects, notes and counts, `exclusion-risk check`'s attendance block); it counts termly
rows whose UPN no census row of their academic year was recorded under or gave as FormerUPN: not an
error, but their terms reach no feature.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from exclusion_risk import calendar
from exclusion_risk.linkage.arrow_text import TEXT, as_arrow
from exclusion_risk.linkage.collection_dates import agree_with_collection, blanks_filled, copied_collections
from exclusion_risk.linkage.duplicates import exclusions_without_repeats, reject_duplicates, reject_shared_ids
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.extract_files import (
    EXTRACT_NAMES,
    TEXT_SUFFIXES,
    FolderFiles,
    find_extracts,
    folder_files,
    stand_in_note,
)
from exclusion_risk.linkage.extract_frames import (
    attendance_frame,
    census_frame,
    empty_attendance_frame,
    social_care_frame,
)
from exclusion_risk.linkage.fields import FIELDS
from exclusion_risk.linkage.loading import load
from exclusion_risk.linkage.parsing import parse_academic_years
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame
from exclusion_risk.linkage.schemas import ABSENCE_OVER_POSSIBLE
from exclusion_risk.linkage.stage_clock import return_freed_memory
from exclusion_risk.linkage.upn_columns import repeated_upns
from exclusion_risk.linkage.upn_conflicts import reject_upn_conflicts
from exclusion_risk.linkage.validation import map_header, validate, work_frame
from exclusion_risk.upn import tidy_upn_array

# After a file of this many rows the read collects reference cycles (return_freed_memory): worth its
# ~0.1 s at national size, not on each small census a scoring request uploads.
COLLECT_AFTER_ROWS = 100_000
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# The term: its code or its full name, then no further letter, so that `attendance_2018-19_summary` is
# no summer term (it falls back to a date, or is an error) and `autumn2` is autumn.
_TERM_IN_NAME = re.compile(
    r"(?<!\d)(\d{4})[-_](\d{2}|\d{4})[-_](AUT(?:UMN)?|SPR(?:ING)?|SUM(?:MER)?)(?![a-z])", re.IGNORECASE
)


@dataclass
class ReadResult:
    """One extract read: the canonical frame, its rejects, and what the analyst should know."""

    clean: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)  # per file: encoding, headers taken from aliases
    counts: dict[str, int] = field(default_factory=dict)  # facts worth counting (invalid UPNs, ...)
    # census only: the clean termly attendance rows read with it (linkage.history applies them)
    attendance: pd.DataFrame = field(default_factory=empty_attendance_frame)
    # census only: the termly attendance files' own read (rows, rejects, notes, counts), reported as a
    # block of its own so that each block's rows read = clean + rejected; None without an attendance/
    termly: ReadResult | None = None
    # the sentence saying the extract was read from a .txt/.tsv file (linkage.extract_files), else None
    stand_in: str | None = None
    # the notes of files whose read has more to say than rows and encoding (lines skipped, a Ctrl-Z
    # dropped, headers read under another name, an encoding other than UTF-8): the service's warnings
    remarks: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)  # each file's rows read, by its rejects' name
    warnings: list[str] = field(default_factory=list)  # census: files copied under another's name

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)  # one line per rejected row


@dataclass
class Extracts:
    """The three extracts of an input folder, read, with the rejects of all of them in one frame."""

    census: pd.DataFrame
    exclusions: pd.DataFrame
    social_care: pd.DataFrame
    rejects: pd.DataFrame
    results: dict[str, ReadResult] = field(default_factory=dict)  # per extract, for reports
    attendance: pd.DataFrame = field(default_factory=empty_attendance_frame)  # clean termly rows


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """Only ExtractError leaves a reader: another library's message may quote a pupil's row.

    Whatever else fails while reading a file (a parser's surprise, an unreadable disk) becomes an
    ExtractError naming the file and the kind of failure, with the original message and traceback
    dropped (`from None`), so that nothing from the file can reach a console, log or HTTP body.
    """
    try:
        yield
    except (ExtractError, MemoryError):
        raise
    except OSError as exc:
        raise ExtractError(name, f"cannot be read ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - translated, never passed through
        raise ExtractError(
            name, f"cannot be read: the reader failed ({type(exc).__name__}); no value from the file is shown"
        ) from None


def _read_file(
    path: Path, name: str, extract: str, derived: dict[str, str] | None = None,
    blanks: dict[str, str] | None = None, in_folder: bool = False,
):
    """Load, de-duplicate, map headers, validate: (raw file, its clean pre-cleaned text frame).

    `derived`: columns the file name gives (a census collection's AcademicYear and CensusTerm): the column
    where the file has none, else checked against it in a census folder only (`in_folder`; a single file's
    name, an upload's too, is no collection; linkage.collection_dates). `blanks`: a value for a column's
    blank cells, and for the column where the file has none (read_census's `census_term`)."""
    with _reading(name):
        raw = load(path, name)
        # a single file's name (an upload's) gives a column it lacks: said (a folder's notes say its own)
        from_name = {} if in_folder else dict(derived or {})
        collection, derived = (derived or {}) if in_folder else {}, {**(blanks or {}), **(derived or {})}
        name_gives = ("AcademicYear", "CensusTerm") if in_folder and extract == "census" else ()
        mapping = map_header(raw, FIELDS[extract], derivable=set(derived), name_gives=name_gives)
        reject_duplicates(raw)  # exclusions: also copies under another RecordID (as read: read_exclusions)
        work = work_frame(raw, FIELDS[extract], mapping)
        for column, value in derived.items():
            if column not in mapping:
                work[column] = pd.Series(value, index=work.index, dtype=TEXT)
                if column in from_name:  # census_2024-01-18.csv without a CensusTerm: spring, from its name
                    raw.filled.append(f"no {column} column: every row read as {_value_words(column, value)}, "
                                      "from the date in the file name")
                elif column in (blanks or {}) and column not in (collection or {}):
                    # said, not silent: a spring census sent without the column is read as `value`'s
                    raw.filled.append(f"no {column} column: every row read as {_value_words(column, value)}")
        work = agree_with_collection(raw, work, collection, mapping)
        for column, value in (blanks or {}).items():
            if column in mapping:
                blank = int(work[column].isna().sum())
                work[column] = blanks_filled(work[column], value)
                if blank:
                    raw.filled.append(f"{blank:,} row(s) with a blank {column} read as "
                                      f"{_value_words(column, value)}")
        clean = validate(raw, work, extract, mapping)  # a census's two pupils under one UPN: rejected
        return raw, (reject_upn_conflicts(raw, clean) if extract == "census" else clean)


def _value_words(column: str, value: str) -> str:
    """A value the read gave rows, as people say it: "the autumn census (AUT)" for a census term."""
    return f"the {calendar.census_name(value)} census ({value})" if column == "CensusTerm" else value


PLAIN_ENCODINGS = ("UTF-8", "UTF-8 with BOM", "Parquet")  # a file's note says nothing more of these


def _note(raw: RawFile) -> str:
    aliased = f"; headers read as: {', '.join(raw.aliased)}" if raw.aliased else ""
    skipped = "".join(f"; {words}" for words in raw.skipped)  # lines that are no record (loading)
    filled = "".join(f"; {words}" for words in raw.filled)  # values the read gave rows (an upload's term)
    return f"{raw.name}: {raw.rows_read} rows, {raw.encoding}{aliased}{skipped}{filled}"


def _result(
    frames: list[pd.DataFrame], raws: list[RawFile], counts: Counter, folder: FolderFiles | None = None
) -> ReadResult:
    """`folder`: the FolderFiles the raws were read from, whose words come first in the notes."""
    clean = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    rejects = pd.concat([r.all_rejects() for r in raws], ignore_index=True)
    notes = [_note(r) for r in raws]
    result = ReadResult(clean, rejects, sum(r.rows_read for r in raws), notes, dict(counts))
    result.files = {r.name: r.rows_read for r in raws}
    result.remarks = [n for n, r in zip(notes, raws, strict=True) if r.aliased or r.skipped or r.filled or (
        r.encoding not in PLAIN_ENCODINGS)]  # fmt: skip
    if folder is not None:
        result.stand_in = folder.stand_in
        result.notes[:0] = [*([folder.stand_in] if folder.stand_in else []), *folder.notes]
    return result


# --- public readers ------------------------------------------------------------------------------


def _display_name(path: Path, parent: Path | None) -> str:
    return f"{parent.name}/{path.name}" if parent is not None else path.name


def _collection_of(path: Path, name: str) -> dict[str, str]:
    """AcademicYear and CensusTerm from a collection date in the file name (census_2017-10-05.csv);
    a date that is no day of the calendar (2019-13-45) stops the read, naming the file."""
    match = _DATE_IN_NAME.search(path.stem)
    if not match:
        return {}
    year, month = int(match.group(1)), int(match.group(2))
    try:
        date(year, month, int(match.group(3)))
    except ValueError:
        raise ExtractError(name, f"the date in the file name, {match.group(0)}, is not a real date") from None
    first = year if month >= 9 else year - 1
    return {
        "AcademicYear": calendar.format_year(first),
        "CensusTerm": calendar.census_term_of_month(month),
    }


def _collections_without_copies(files: list[Path], parent: Path | None
                                ) -> tuple[dict[Path, dict[str, str]], list[str]]:
    """Each census file's collection from its name, and the warnings of files copied under another
    collection's name; a copy of a file of the same collection stops the read (`copied_collections`)."""
    found = {file: _collection_of(file, _display_name(file, parent)) for file in files}
    if len(files) < 2:  # no copies; a file that is not there is the reader's to say (not a traceback)
        return found, []
    return found, copied_collections(files, found, lambda file: _display_name(file, parent))


def read_census(
    path: str | Path,
    attendance: str | Path | None = None,
    columns: Sequence[str] | None = None,
    attendance_rows: bool = True,
    census_term: str | None = None,
) -> ReadResult:
    """`census.csv` / `.parquet`, or a folder of per-collection files; optional termly attendance folder.
    `columns`: keep only these of the census frame's columns (and those the termly rows are checked
    against), each file's as soon as it is built; every column is still read and checked, so the
    same rows are rejected. `attendance_rows=False`: the termly files are read for their rejects only
    (read_attendance's `keep_rows`), and so not matched against the census pupils either; they are
    then read before the census (an error in them is raised after the census's own). `census_term`: the
    term (code) of a row with a blank CensusTerm, or of every row where the file has no CensusTerm (the
    service's upload: its model's census); None, as for the authority's extracts: required on every row."""
    path = Path(path)
    parent = path if path.is_dir() else None
    members = folder_files(path, f"{path.name}/", "census") if parent else None
    files = members.files if members else [path]
    frames, raws, counts = [], [], Counter()
    if columns is not None:
        columns = list(dict.fromkeys([*columns, *TERMLY_CHECK_COLUMNS]))
    # Termly files read for their rejects alone do not need the census: read before it, their work
    # is not on top of the census frame (2,000,000 pupils: the read's peak, 2.90 GB, was theirs). An
    # error in them is raised after the census is read, so a census error is still said first.
    termly, termly_error = None, None
    if attendance is not None and not attendance_rows:
        try:
            termly = read_attendance(attendance, keep_rows=False)
        except ExtractError as error:
            termly_error = error
    collections, copied = _collections_without_copies(files, parent)
    for file in files:
        name = _display_name(file, parent)
        blanks = {"CensusTerm": census_term} if census_term else None
        raw, work = _read_file(file, name, "census", derived=collections[file], blanks=blanks,
                               in_folder=parent is not None)
        # The file's text goes before the typed frame is built from the validated text: held through
        # census_frame, it was the read's peak (1,000,000 pupils: that step 3.03 GB -> 2.06 GB).
        raw.release()
        with _reading(name):
            frame = census_frame(work, counts, name, columns)
        del work
        frames.append(frame if columns is None else frame[[c for c in columns if c in frame.columns]])
        del frame
        raws.append(raw)
        # The file's text and work frame go back to the operating system before the next file (or the
        # attendance files) is read, not after the whole read (2,000,000 pupils: 2.77 -> 1.79 GB here).
        return_freed_memory(collect_cycles=raw.rows_read >= COLLECT_AFTER_ROWS)
    if termly_error is not None:
        raise termly_error
    result = _result(frames, raws, counts, members)
    result.warnings = copied
    if termly is not None:
        result.attendance, result.termly = termly.clean, termly
        return result
    if attendance is not None:
        termly = read_attendance(attendance)
        result.attendance, result.termly = termly.clean, termly
        unmatched = _termly_rows_without_census(termly.clean, result.clean)
        termly.counts["rows matching no census pupil of their year"] = unmatched
        if unmatched:
            termly.notes.append(
                f"{Path(attendance).name}/: {unmatched} termly attendance row(s) name a UPN that no census "
                "row of their academic year has (as UPN or FormerUPN); their terms reach no feature"
            )
    return result


TERMLY_CHECK_COLUMNS = ("UPN", "FormerUPN", "AcademicYear")  # the census's, for _termly_rows_without_census


def _termly_rows_without_census(termly: pd.DataFrame, census: pd.DataFrame) -> int:
    """Termly rows whose (UPN, AcademicYear) is no census row's (UPN or FormerUPN, AcademicYear).

    UPNs in their tidy form (upn.upn_key); compared by an arrow anti-join on (UPN, year), in which a missing
    part matches nothing. At 1,000,000 pupils the MultiIndex `isin` this replaced, which built a tuple
    per row, was the read's peak: 0.71 GB above the rest and 8.2 s; the join takes 0.21 GB, 4.9 s."""

    def tidy(upns: pd.Series) -> pa.Array:
        return tidy_upn_array(as_arrow(upns))

    year = as_arrow(census["AcademicYear"])
    known = pa.concat_tables([
        pa.table({"upn": tidy(census["UPN"]), "year": year}),
        pa.table({"upn": tidy(census["FormerUPN"]), "year": year}),
    ]).group_by(["upn", "year"]).aggregate([])  # fmt: skip
    rows = pa.table({"upn": tidy(termly["UPN"]), "year": as_arrow(termly["AcademicYear"])})
    return rows.join(known, keys=["upn", "year"], join_type="left anti").num_rows


def read_exclusions(path: str | Path) -> ReadResult:
    """`exclusions.csv` / `.parquet`."""
    path = Path(path)
    raw, work = _read_file(path, path.name, "exclusions")
    counts: Counter = Counter()
    with _reading(path.name):
        work = reject_shared_ids(raw, work, "RecordID")
        return _result([exclusions_without_repeats(raw, work, counts, path.name)], [raw], counts)


def read_social_care(path: str | Path) -> ReadResult:
    """`social_care.csv` / `.parquet`."""
    path = Path(path)
    raw, work = _read_file(path, path.name, "social_care")
    counts: Counter = Counter()
    with _reading(path.name):
        return _result([social_care_frame(work, counts, path.name)], [raw], counts)


def _term_of(path: Path, name: str) -> dict[str, str]:
    """An attendance file's AcademicYear and Term from its name: an explicit `<yyyy-yy>_<TERM>` wins over
    a date in the name, which can be the day the file was exported rather than the term it covers."""
    match = _TERM_IN_NAME.search(path.stem)
    if match:
        year = parse_academic_years(pd.Series([f"{match.group(1)}/{match.group(2)}"], dtype=TEXT))
        if pd.notna(year.iloc[0]):
            return {"AcademicYear": year.iloc[0], "Term": match.group(3)[:3].upper()}
    collection = _collection_of(path, name)
    if collection:
        return {"AcademicYear": collection["AcademicYear"], "Term": collection["CensusTerm"]}
    raise ExtractError(
        name, "name an attendance file by academic year and term (attendance_2016-17_AUT.csv) or by date"
    )


def read_attendance(folder: str | Path, keep_rows: bool = True) -> ReadResult:
    """Termly attendance files (see the module docstring for the names accepted). `keep_rows=False`:
    each file is read and checked as usual (the same rejects and counts) but its clean rows are not
    kept (`clean` is empty): a linkage run, which reads no attendance, needs only the rejects."""
    folder = Path(folder)
    frames, raws, counts = [], [], Counter()
    seen: dict[tuple[str, str], str] = {}  # (year, term) -> the file that gave it
    members = folder_files(folder, f"{folder.name}/", "attendance")
    for file in members.files:
        name = _display_name(file, folder)
        term = _term_of(file, name)
        key = (term["AcademicYear"], term["Term"])
        if key in seen:
            raise ExtractError(name, f"is a second file for {key[0]} {key[1]} (with {seen[key]}): a term is "
                               "read from one file; where each holds some of its pupils, join them into one "
                               "(one header line), else remove the older export")  # fmt: skip
        seen[key] = name
        raw, work = _read_file(file, name, "attendance")
        with _reading(name):
            # UPNs counted on the rows kept: a rejected row's UPN was not kept
            frame = attendance_frame(work, Counter(), name, term["AcademicYear"], term["Term"])
            frame = _reject_impossible_terms(raw, frame)
            counts["invalid UPN (kept)"] += int((frame["UPN"].notna() & ~frame["UPNvalid"]).sum())
            counts["blank UPN"] += int(frame["UPN"].isna().sum())
            # Not kept: the canonical empty frame (an empty slice would keep the file's buffers).
            frames.append(frame if keep_rows else empty_attendance_frame())
        del work, frame
        raw.release()
        raws.append(raw)
        return_freed_memory(collect_cycles=raw.rows_read >= COLLECT_AFTER_ROWS)
    return _result(frames, raws, counts, members)


# Fixed wording (no value): `exclusion-risk check` counts rejects by reason.
SAME_UPN_TWICE = "the same UPN is on another row of this term's file (which one is the term's is unknown)"
MORE_ABSENT_THAN_POSSIBLE = ABSENCE_OVER_POSSIBLE  # the census's wording: `check` counts both as one


def _reject_impossible_terms(raw: RawFile, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` less the rows no term can be: a UPN on two rows of one term's file (every copy: they would
    be summed into one term, and which is right is unknown; exact copies were already rejected as
    duplicates), and more sessions absent than possible. They go to the file's rejects."""
    twice = repeated_upns(frame["UPN"])
    # A blank absence counted as none, as the census's check counts it: a known absence alone can
    # already be more than possible (a blank made the sum blank and the row passed).
    absent = frame["TermlySessionsAuthorised"].fillna(0) + frame["TermlySessionsUnauthorised"].fillna(0)
    over = (absent > frame["TermlySessionsPossible"]).fillna(False).to_numpy(dtype=bool) & ~twice
    if not (twice.any() or over.any()):
        return frame
    rows = frame["_row"].to_numpy()
    raw.rejects.append(reject_frame(raw.name, rows[twice], "UPN", "", SAME_UPN_TWICE))
    possible = "TermlySessionsPossible"
    raw.rejects.append(reject_frame(raw.name, rows[over], possible, "", MORE_ABSENT_THAN_POSSIBLE))
    return frame[~(twice | over)].reset_index(drop=True)


# --- the input folder (linkage.extract_files finds each extract) ------------------------------


def read_extract(
    extract: str,
    path: Path,
    attendance: Path | None = None,
    census_columns: Sequence[str] | None = None,
    attendance_rows: bool = True,
) -> ReadResult:
    if extract == "census":
        result = read_census(path, attendance, census_columns, attendance_rows)
    else:
        result = {"exclusions": read_exclusions, "social_care": read_social_care}[extract](path)
    if path.suffix.lower() in TEXT_SUFFIXES:  # a spreadsheet's name for delimited text (find_extracts)
        result.stand_in = stand_in_note(extract, path)
        result.notes.insert(0, result.stand_in)
    return result


def read_extracts(
    folder: str | Path, census_columns: Sequence[str] | None = None, attendance_rows: bool = True
) -> Extracts:
    """All three extracts of `folder` (each required); rejects of all of them (and of the termly
    attendance files) in one frame. `census_columns`: the census columns to keep; `attendance_rows`:
    False keeps no termly attendance rows, only their rejects (read_census)."""
    found = find_extracts(folder)
    for extract in EXTRACT_NAMES:
        if found[extract] is None:
            accepted = f"{extract}.csv or {extract}.parquet" + (
                " or a census/ folder" if extract == "census" else ""
            )
            raise ExtractError(str(folder), f"no {extract} extract: expected {accepted}")
    results = {
        e: read_extract(e, found[e], found["attendance"], census_columns, attendance_rows)
        for e in EXTRACT_NAMES
    }
    termly = results["census"].termly
    parts = [r.rejects for r in results.values()] + ([termly.rejects] if termly is not None else [])
    rejects = pd.concat(parts, ignore_index=True)
    return Extracts(
        results["census"].clean, results["exclusions"].clean, results["social_care"].clean, rejects, results,
        attendance=results["census"].attendance,
    )
