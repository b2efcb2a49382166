"""Readers for a local authority's extracts: file -> canonical frame + rejects, losing no row.

One reader per extract (`read_census`, `read_exclusions`, `read_social_care`, `read_attendance`) and
`read_extracts(folder)` for the whole input folder. Each file goes through the same steps:

1. **Bytes -> text.** The encoding is decided per file: UTF-8 (a BOM is dropped) when the bytes
   decode; else UTF-8 with the broken rows rejected when the file clearly is UTF-8 (it holds valid
   multi-byte characters); else Windows-1252, as many LA exports are. Bytes that are undefined even
   in Windows-1252 are decoded as U+FFFD and **the rows holding them are rejected** ("undecodable
   bytes"), so nothing is silently altered. UTF-16 (with its BOM) is read too.
2. **Parse.** All columns as text (arrow's multi-threaded CSV parser; Python's csv module only for
   files arrow cannot split, e.g. rows with the wrong number of fields, which are rejected). The
   delimiter is taken from the header line (comma, tab, semicolon or pipe). Blank lines are not rows.
   Parquet columns of any type are read as their text.
3. **Headers -> contract names**, case-insensitively and ignoring spaces/punctuation, with the
   contract's aliases (an MIS export's `Estab, Gender, DoB, SENNeed1, FSME on Census Day` read as
   they are). A missing required column is one `ExtractError` naming the file and column(s).
4. **Exact duplicate rows** (every column equal): the first is kept, the others are rejected
   naming the row they duplicate.
5. **Validation** with the pandera schemas of `linkage.schemas` (lazy: every failure is reported);
   a failing row is one line of the rejects naming every failing column (joined by " | "), so
   the rejects file tells the whole story and has exactly one line per rejected row.
6. **Normalisation** of the clean rows to the canonical frames of docs/ARCHITECTURE.md.

Rows are numbered from 1 after the header (`_row` in the frame, `row` in the rejects); every input
row is either in the clean frame or on one line of the rejects: len(clean) + len(rejects) = rows read.

Folder layout accepted by `read_extracts` (file names case-insensitive, CSV or Parquet):

    DIR/census.csv | census.parquet | census/            one file, or one file per collection
        census/census_2017-10-05.csv ...                 collection date in the name gives
                                                         AcademicYear and CensusTerm
    DIR/exclusions.csv | exclusions.parquet
    DIR/social_care.csv | social_care.parquet
    DIR/attendance/ (optional)                           termly attendance, one file per term:
        attendance_2016-17_AUT.csv ...                   academic year + term in the name (or a
                                                         date: attendance_2016-12-16.csv), columns
        UPN, TermlySessionsPossible, TermlySessionsAuthorised, TermlySessionsUnauthorised

Termly attendance is summed per pupil over the terms of each academic year and fills the census's
`Sessions*` columns of the *following* year (the census columns mean the previous academic year);
values already in the census are kept. A pupil with no termly rows in that year stays missing.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk import calendar
from exclusion_risk.contract import REJECT_COLUMNS
from exclusion_risk.linkage import codes
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.schemas import (
    FIELDS,
    FRAME_CHECK_COLUMN,
    MISSING,
    TEXT,
    Field,
    academic_year_of,
    build_schema,
    header_key,
    parse_academic_years,
    parse_dates,
    parse_numbers,
    parse_whole_numbers,
)
from exclusion_risk.reference import normalise_postcode
from exclusion_risk.upn import valid_upn_mask

EXTRACT_NAMES = ("census", "exclusions", "social_care")
SUFFIXES = (".csv", ".parquet")

CENSUS_COLUMNS = [
    "UPN", "UPNvalid", "FormerUPN", "Surname", "Forename", "MiddleNames", "PreferredSurname", "FormerSurname",
    "DOB", "Sex", "Ethnicity", "FSMeligible", "SENprovision", "SENtype", "SENtype2", "NCyearActual",
    "Postcode", "LSOA", "SchoolURN", "AcademicYear", "CensusTerm",
    "SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence",
]  # fmt: skip
EXCLUSION_COLUMNS = [
    "RecordID", "UPN", "UPNvalid", "Surname", "Forename", "DOB", "Sex", "SchoolURN", "Category",
    "CategoryRaw", "StartDate", "AcademicYear", "Sessions", "Reason", "ReasonGroups",
]  # fmt: skip
SOCIAL_CARE_COLUMNS = [
    "LAchildID", "UPN", "UPNvalid", "Surname", "Forename", "DOB", "Sex", "Ethnicity", "Postcode",
    "Status", "StartDate", "EndDate", "PrimaryNeed", "Factors",
]  # fmt: skip
ATTENDANCE_COLUMNS = [
    "UPN", "UPNvalid", "AcademicYear", "Term",
    "TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised",
]  # fmt: skip
SOURCE_COLUMNS = ["_file", "_row"]
SESSION_COLUMNS = {
    "SessionsPossible": "TermlySessionsPossible",
    "SessionsAuthorisedAbsence": "TermlySessionsAuthorised",
    "SessionsUnauthorisedAbsence": "TermlySessionsUnauthorised",
}

PARALLEL_ROWS = 100_000  # columns are encoded on several threads from this many rows on
JOIN = " | "  # between the failures of one rejected row
UNDECODABLE = "undecodable bytes (neither UTF-8 nor Windows-1252; shown as U+FFFD)"
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TERM_IN_NAME = re.compile(r"(\d{4})[-_](\d{2}|\d{4})\D.*?(AUT|SPR|SUM)", re.IGNORECASE)
_LSOA = r"^[EW]0[0-9]\d{6}$"


@dataclass
class ReadResult:
    """One extract read: the canonical frame, its rejects, and what the analyst should know."""

    clean: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)  # per file: encoding, headers taken from aliases
    counts: dict[str, int] = field(default_factory=dict)  # facts worth counting (invalid UPNs, ...)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)  # one line per rejected row


@dataclass
class Extracts:
    census: pd.DataFrame
    exclusions: pd.DataFrame
    social_care: pd.DataFrame
    rejects: pd.DataFrame
    results: dict[str, ReadResult] = field(default_factory=dict)  # per extract, for reports


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "string") for c in REJECT_COLUMNS})


# --- bytes -> text -------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[bytes, str, bool]:
    """(UTF-8 bytes for the parser, encoding name, whether undecodable bytes were replaced)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
        return text.encode("utf-8"), "UTF-16", "\ufffd" in text
    encoding = "UTF-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "UTF-8 with BOM"
    if data.isascii():
        return data, encoding, False
    try:
        data.decode("utf-8")
        return data, encoding, False
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    if re.search("[^\x00-\x7f\ufffd]", text):  # real multi-byte characters: UTF-8 with a few bad bytes
        return text.encode("utf-8"), "UTF-8 (with undecodable bytes)", True
    text = data.decode("cp1252", errors="replace")
    return text.encode("utf-8"), "Windows-1252", "\ufffd" in text


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


# --- parse ---------------------------------------------------------------------------------------


@dataclass
class _Raw:
    """A file as text, kept in arrow until the mapped columns are picked (extras never reach pandas).

    `table` has every column of the file as arrow strings (blank = null), in header order;
    `rows` holds each table row's 1-based row number in the file (ascending); `alive` marks the
    rows not rejected yet (the table itself is never filtered: that would copy every column).
    """

    name: str
    header: list[str]
    table: pa.Table
    rows: np.ndarray
    rows_read: int
    rejects: list[pd.DataFrame]
    encoding: str
    aliased: list[str] = field(default_factory=list)  # "Gender -> Sex": headers read under an alias
    # column position -> its dictionary encoding, made once (for the duplicate check) and reused
    encodings: dict[int, pa.DictionaryArray] = field(default_factory=dict)
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        self.alive = np.ones(self.table.num_rows, dtype=bool)

    def keep(self, mask: np.ndarray) -> None:
        """Keep only rows where `mask` (one flag per table row) is True."""
        self.alive &= mask

    def encoded_column(self, position: int) -> pa.DictionaryArray:
        if position not in self.encodings:
            self.encodings[position] = _dictionary(self.table.column(position))
        return self.encodings[position]

    def encode_all(self) -> None:
        """Dictionary-encode every column, several at once (arrow releases the GIL: both cores work)."""
        todo = [p for p in range(self.table.num_columns) if p not in self.encodings]
        workers = min(len(todo), pa.cpu_count())
        if workers < 2 or self.table.num_rows < PARALLEL_ROWS:
            for position in todo:
                self.encoded_column(position)
            return
        with ThreadPoolExecutor(workers) as pool:
            encoded = pool.map(lambda p: _dictionary(self.table.column(p)), todo)
            self.encodings.update(zip(todo, encoded, strict=True))

    def values(self, position: int, rows: np.ndarray) -> np.ndarray:
        """The file's text in column `position` at row numbers `rows` (still in the table)."""
        taken = self.table.column(position).take(pa.array(np.searchsorted(self.rows, rows)))
        return np.asarray(taken.to_pylist(), dtype=object)


def _dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """One column dictionary-encoded (missing is its own code), without first copying its text.

    Arrow encodes the chunks against one shared dictionary, so only the indices are concatenated
    (when the chunks' dictionaries are not the very same array, arrow unifies them).
    """
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    if encoded.num_chunks == 1:
        return encoded.chunk(0)
    if encoded.num_chunks == 0 or len({_identity(c.dictionary) for c in encoded.chunks}) > 1:
        return encoded.combine_chunks()
    indices = pa.concat_arrays([c.indices for c in encoded.chunks])
    return pa.DictionaryArray.from_arrays(indices, encoded.chunk(0).dictionary)


def _identity(array: pa.Array) -> tuple:
    """Which memory an array is (equal for the same array, whatever its contents)."""
    return (len(array), array.offset, *(b.address if b is not None else None for b in array.buffers()))


def _reject_frame(name: str, rows, column, value, reason) -> pd.DataFrame:
    """Rejects rows; each argument a scalar (same for every row) or one value per row, unaligned."""
    rows = np.asarray(rows, dtype=np.int64)

    def per_row(x) -> np.ndarray:
        return np.full(len(rows), x, dtype=object) if isinstance(x, str) else np.asarray(x, dtype=object)

    frame = {"file": per_row(name), "row": rows, "column": per_row(column), "value": per_row(value)}
    frame["reason"] = per_row(reason)
    return pd.DataFrame(frame).astype({c: "string" for c in REJECT_COLUMNS if c != "row"})


def _parse_python(name: str, text: str, delimiter: str, width: int):
    """The slow, forgiving parse: rows with the wrong number of fields are rejected, not fatal."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    good: list[list[str]] = []
    good_rows: list[int] = []
    bad_rows: list[int] = []
    bad_values: list[str] = []
    bad_reasons: list[str] = []
    row = 0
    for record in reader:
        if not record:
            continue  # a blank line is not a row
        row += 1
        if len(record) > width and not any(v.strip() for v in record[width:]):
            record = record[:width]  # trailing empty fields (a stray delimiter at the line end)
        if len(record) == width:
            good.append(record)
            good_rows.append(row)
        else:
            bad_rows.append(row)
            bad_values.append(delimiter.join(record))
            bad_reasons.append(f"wrong number of fields ({len(record)}; the header has {width})")
    columns = list(zip(*good, strict=True)) if good else [()] * width
    table = pa.table(
        {
            f"c{i}": pa.array([v if v != "" else None for v in col], type=pa.string())
            for i, col in enumerate(columns)
        }
    )
    rejects = _reject_frame(name, bad_rows, "", bad_values, bad_reasons)
    return table, np.asarray(good_rows, dtype=np.int64), rejects, row


def _load_csv(path: Path, name: str) -> _Raw:
    import pyarrow.csv as pacsv

    data = path.read_bytes()
    if not data or data.isspace():  # (strip() would copy the whole file)
        raise ExtractError(name, "the file is empty (no header row, no data)")
    utf8, encoding, replaced = _decode(data)
    text_head = utf8[: utf8.find(b"\n") if b"\n" in utf8 else len(utf8)].decode("utf-8").rstrip("\r")
    delimiter = _delimiter(text_head)
    header = next(csv.reader([text_head], delimiter=delimiter))
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(utf8),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
        rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
        rejects, rows_read = [], table.num_rows
    except pa.ArrowInvalid:  # ragged rows or quoted line breaks: the forgiving parser decides
        table, rows, bad, rows_read = _parse_python(name, utf8.decode("utf-8"), delimiter, len(header))
        rejects = [bad]
    if rows_read == 0:
        raise ExtractError(name, "the file has a header row but no data rows")
    raw = _Raw(name, header, table, rows, rows_read, rejects, encoding)
    if replaced:
        _reject_undecodable(raw)
    return raw


def _load_parquet(path: Path, name: str) -> _Raw:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ExtractError(name, f"not a readable Parquet file ({type(exc).__name__})") from None
    if table.num_rows == 0:
        raise ExtractError(name, "the file has columns but no data rows")
    header = list(table.column_names)
    columns = {}
    for i, column_name in enumerate(header):
        try:
            columns[f"c{i}"] = pc.cast(table.column(i), pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            raise ExtractError(
                name, "this column's type cannot be read as text", column=column_name
            ) from None
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return _Raw(name, header, pa.table(columns), rows, table.num_rows, [], "Parquet")


def _load(path: Path, name: str) -> _Raw:
    if not path.is_file():
        raise ExtractError(name, "file not found")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _load_parquet(path, name)
    if suffix == ".csv":
        return _load_csv(path, name)
    raise ExtractError(name, "not a .csv or .parquet file")


# --- row-level rejects before validation ---------------------------------------------------------


def _reject_undecodable(raw: _Raw) -> None:
    bad = np.zeros(raw.table.num_rows, dtype=bool)
    for position in range(raw.table.num_columns):
        column = raw.table.column(position)
        hit = pc.fill_null(pc.match_substring(column, "\ufffd"), False).to_numpy() & ~bad
        if hit.any():
            values = np.asarray(column.filter(pa.array(hit)).to_pylist(), dtype=object)
            raw.rejects.append(
                _reject_frame(raw.name, raw.rows[hit], raw.header[position], values, UNDECODABLE)
            )
        bad |= hit
    raw.keep(~bad)


def _row_hash(raw: _Raw) -> np.ndarray:
    """64-bit hash per row from each column's dictionary codes (missing is its own code).

    Equal rows get equal hashes; unequal rows collide with negligible probability, and
    `_reject_duplicates` compares the text of every candidate anyway.
    """
    raw.encode_all()
    columns = raw.table.num_columns
    multipliers = np.random.default_rng(20170105).integers(1, 2**63, columns, dtype=np.uint64) | 1
    rows = raw.table.num_rows
    hashed, scratch = np.zeros(rows, dtype=np.uint64), np.empty(rows, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around arithmetic modulo 2**64 is the point
        for position, multiplier in enumerate(multipliers):  # in place: no temporaries per column
            ids = raw.encoded_column(position).indices.to_numpy()  # no nulls: missing is a code
            np.add(ids, 1, out=scratch, casting="unsafe")
            np.bitwise_xor(hashed, scratch, out=hashed)
            np.multiply(hashed, multiplier, out=hashed)
            np.right_shift(hashed, np.uint64(29), out=scratch)
            np.bitwise_xor(hashed, scratch, out=hashed)
    return hashed


def _same_rows(table: pa.Table, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """True where row positions `left` and `right` hold the same text in every column."""
    same = np.ones(len(left), dtype=bool)
    for column in table.columns:
        a, b = column.take(pa.array(left)), column.take(pa.array(right))
        equal = pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False)
        both_missing = pc.and_(pc.is_null(a), pc.is_null(b)).to_numpy(zero_copy_only=False)
        same &= equal | both_missing
    return same


def _reject_duplicates(raw: _Raw) -> None:
    """Exact duplicate rows (every column equal, missing = missing): keep the first."""
    live = np.flatnonzero(raw.alive)
    if live.size < 2:
        return
    # hash table, not a sort: factorize numbers the distinct hashes in order of first appearance
    which, _ = pd.factorize(_row_hash(raw)[live])
    new = np.ones(len(which), dtype=bool)
    new[1:] = which[1:] > np.maximum.accumulate(which)[:-1]
    first = live[np.flatnonzero(new)[which]]  # table position of the first live row with the same hash
    later = first != live
    if not later.any():
        return
    candidates, originals = live[later], first[later]
    same = _same_rows(raw.table, candidates, originals)
    dup, original = candidates[same], originals[same]
    if not dup.size:
        return
    reasons = [f"exact duplicate of row {r}" for r in raw.rows[original]]
    raw.rejects.append(_reject_frame(raw.name, raw.rows[dup], "", "", reasons))
    keep = np.ones(raw.table.num_rows, dtype=bool)
    keep[dup] = False
    raw.keep(keep)


# --- headers -------------------------------------------------------------------------------------


def _map_header(raw: _Raw, fields: tuple[Field, ...], derivable: set[str] = frozenset()) -> dict[str, int]:
    """canonical name -> column position; ExtractError naming every missing required column."""
    keys = [header_key(h) for h in raw.header]
    mapping: dict[str, int] = {}
    aliased: list[str] = []
    missing: list[Field] = []
    for f in fields:
        for candidate in (f.name, *f.aliases):
            key = header_key(candidate)
            if key in keys:
                position = keys.index(key)
                mapping[f.name] = position
                if header_key(f.name) != key:
                    aliased.append(f"{raw.header[position]} -> {f.name}")
                break
        else:
            if f.required and f.name not in derivable:
                missing.append(f)
    if missing:
        accepted = [
            f"{f.name!r} (accepted headers, in any case: {', '.join((f.name, *f.aliases))})" for f in missing
        ]
        if len(missing) == 1:
            error = ExtractError(raw.name, f"required column missing; {accepted[0]}")
        else:
            error = ExtractError(raw.name, f"required columns missing: {'; '.join(accepted)}")
        error.column = missing[0].name
        raise error
    raw.aliased = aliased
    return mapping


def _clean_column(encoding: pa.DictionaryArray, upper: bool, alive: np.ndarray, index: pd.Index) -> pd.Series:
    """Pre-cleaned column as a categorical, cleaning each distinct text once: stripped, blank -> NA.

    The categories are arrow text (so the checks and conversions read them without a copy).
    """
    dictionary = pc.utf8_trim_whitespace(encoding.dictionary)
    if upper:
        dictionary = pc.utf8_upper(dictionary)
    dictionary = pc.if_else(pc.equal(dictionary, ""), pa.scalar(None, dictionary.type), dictionary)
    # cleaning can merge distinct texts (" M" and "M") and blank some: re-encode the dictionary
    merged = pc.dictionary_encode(dictionary)
    remap = pc.fill_null(merged.indices, -1).to_numpy().astype(np.int32)
    remap = np.append(remap, np.int32(-1))  # null rows point past the end
    ids = pc.fill_null(encoding.indices, len(remap) - 1).to_numpy()
    categories = pd.Index(codes.text_series(merged.dictionary, pd.RangeIndex(len(merged.dictionary))).array)
    categorical = pd.Categorical.from_codes(
        remap[ids[alive]], dtype=pd.CategoricalDtype(categories), validate=False
    )
    return pd.Series(categorical, index=index, copy=False)


def _work_frame(raw: _Raw, fields: tuple[Field, ...], mapping: dict[str, int]) -> pd.DataFrame:
    """Pre-cleaned text of the mapped columns (categoricals): stripped, blank -> NA, codes upper-cased."""
    index = pd.Index(raw.rows[raw.alive], name="_row")
    out = {
        f.name: _clean_column(
            raw.encoded_column(mapping[f.name]), f.kind not in ("text", "date"), raw.alive, index
        )
        for f in fields
        if f.name in mapping
    }
    return pd.DataFrame(out, index=index)


# --- validation ----------------------------------------------------------------------------------


def _validate(raw: _Raw, work: pd.DataFrame, extract: str, mapping: dict[str, int]) -> pd.DataFrame:
    """Run the pandera schema; failing rows go to raw.rejects. Returns the clean rows of `work`."""
    import pandera.errors

    try:
        build_schema(extract).validate(work, lazy=True)
        return work
    except pandera.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    if failures["index"].isna().any():  # a check that crashed: our bug, never the user's data
        raise RuntimeError(f"{raw.name}: a validation check failed to run: {failures['check'].iloc[0]}")
    failures = failures.assign(index=failures["index"].astype(np.int64))
    frame_level = failures["schema_context"] == "DataFrameSchema"
    if frame_level.any():  # one reject per row for a frame-level check, naming its column
        level = failures[frame_level].drop_duplicates(["index", "check"])
        level = level.assign(column=level["check"].map(FRAME_CHECK_COLUMN))
        failures = pd.concat([failures[~frame_level], level])
    order = {f.name: i for i, f in enumerate(FIELDS[extract])}  # a row's failures in column order
    failures = failures.assign(_order=failures["column"].map(order))
    failures = failures.sort_values(["index", "_order"], kind="stable")
    reasons = failures["check"].astype(str).where(failures["check"] != "not_nullable", MISSING)
    values = np.empty(len(failures), dtype=object)
    for column, positions in failures.groupby("column").indices.items():
        rows = failures["index"].to_numpy()[positions]
        if column in mapping:
            values[positions] = raw.values(mapping[column], rows)
        else:  # derived from the file name
            values[positions] = work[column].reindex(rows).to_numpy(dtype=object, na_value="")
    rejects = _reject_frame(raw.name, failures["index"], failures["column"], values, reasons)
    raw.rejects.append(_one_line_per_row(rejects))
    # work's index is the ascending row numbers: positions by binary search, not a hash of 1M labels
    keep = np.ones(len(work), dtype=bool)
    keep[np.searchsorted(work.index.to_numpy(), failures["index"].unique())] = False
    return work[keep]


def _one_line_per_row(rejects: pd.DataFrame) -> pd.DataFrame:
    """A row failing in several columns becomes one line: columns, values, reasons joined by ' | '."""
    if not rejects["row"].duplicated().any():
        return rejects
    joined = (
        rejects.fillna({"value": ""})
        .groupby(["file", "row"], sort=True, as_index=False)
        .agg({c: JOIN.join for c in ("column", "value", "reason")})
    )
    return joined[REJECT_COLUMNS].astype({c: "string" for c in REJECT_COLUMNS if c != "row"})


def _rejects_of(raw: _Raw) -> pd.DataFrame:
    frames = [r for r in raw.rejects if len(r)]
    if not frames:
        return empty_rejects()
    return pd.concat(frames, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)


def _read_text(path: Path, name: str, extract: str, derived: dict[str, str] | None = None):
    """Load, de-duplicate, map headers, validate: (raw, clean pre-cleaned text frame)."""
    raw = _load(path, name)
    derived = derived or {}
    mapping = _map_header(raw, FIELDS[extract], derivable=set(derived))
    _reject_duplicates(raw)
    work = _work_frame(raw, FIELDS[extract], mapping)
    for column, value in derived.items():
        if column not in mapping:
            work[column] = pd.Series(value, index=work.index, dtype=TEXT)
    return raw, _validate(raw, work, extract, mapping)


# --- normalisation -------------------------------------------------------------------------------


def _col(work: pd.DataFrame, column: str) -> pd.Series:
    """A pre-cleaned column as it is (categorical), or all missing when the file has none."""
    if column in work:
        return work[column]
    return codes.text_series(pa.nulls(len(work), pa.large_string()), work.index)


def _text(work: pd.DataFrame, column: str) -> pd.Series:
    """A pre-cleaned column as arrow text, the canonical frames' string type."""
    return codes.as_text(_col(work, column))


def _code(work: pd.DataFrame, column: str, mapping: dict) -> pd.Series:
    return codes.map_codes(_col(work, column), mapping)


def _dates(work: pd.DataFrame, column: str) -> pd.Series:
    return parse_dates(_col(work, column))


def _upn(out: pd.DataFrame, work: pd.DataFrame, counts: Counter) -> None:
    dictionary, indices = codes.encoded(_col(work, "UPN"))
    valid = valid_upn_mask(codes.text_series(dictionary, pd.RangeIndex(len(dictionary)))).to_numpy()
    out["UPN"] = codes.text_series(pc.take(dictionary, indices), work.index)
    # each distinct UPN checked once; a missing UPN is not valid
    out["UPNvalid"] = np.append(valid, False)[pc.fill_null(indices, len(dictionary)).to_numpy()]
    counts["invalid UPN (kept)"] += int((out["UPN"].notna() & ~out["UPNvalid"]).sum())
    counts["blank UPN"] += int(out["UPN"].isna().sum())


def _postcode(work: pd.DataFrame, counts: Counter) -> pd.Series:
    raw = _col(work, "Postcode")
    postcode = codes.apply_distinct(raw, normalise_postcode)
    counts["unreadable postcode (set missing)"] += int((raw.notna() & postcode.isna()).sum())
    return postcode


def _count_codes(work: pd.DataFrame, column: str, written: list[str], counts: Counter, label: str) -> None:
    """Count values written in an older or finer code and read as another (BESD, FIXD, WENG...)."""
    if column in work:
        counts[label] += int(work[column].isin(written).sum())


def _lsoa_or_missing(values: pd.Series) -> pd.Series:
    return values.where(values.str.match(_LSOA).fillna(False).astype(bool)).astype(TEXT)


def _census_frame(work: pd.DataFrame, counts: Counter) -> pd.DataFrame:
    out = pd.DataFrame(index=work.index)
    _upn(out, work, counts)
    out["FormerUPN"] = _text(work, "FormerUPN")
    for column in ("Surname", "Forename", "MiddleNames", "PreferredSurname", "FormerSurname"):
        out[column] = _text(work, column)
    out["DOB"] = _dates(work, "DOB")
    out["Sex"] = _code(work, "Sex", codes.SEX_MAP)
    out["Ethnicity"] = _code(work, "Ethnicity", codes.ETHNICITY_MAP)
    extended = [c for c, main in codes.ETHNICITY_MAP.items() if c != main]
    _count_codes(work, "Ethnicity", extended, counts, "extended ethnicity code read as main code")
    out["FSMeligible"] = codes.map_flags(_col(work, "FSMeligible"), codes.FSM_MAP)
    out["SENprovision"] = _code(work, "SENprovision", codes.SEN_PROVISION_MAP)
    out["SENtype"] = _code(work, "SENtype", codes.SEN_TYPE_MAP)
    out["SENtype2"] = _code(work, "SENtype2", codes.SEN_TYPE_MAP)
    _count_codes(work, "SENtype", ["BESD"], counts, "SEN type BESD read as SEMH")
    out["NCyearActual"] = _code(work, "NCyearActual", codes.NC_YEAR_MAP)
    out["Postcode"] = _postcode(work, counts)
    lsoa = _col(work, "LSOA")
    out["LSOA"] = codes.apply_distinct(lsoa, _lsoa_or_missing)
    counts["unrecognised LSOA (set missing)"] += int((lsoa.notna() & out["LSOA"].isna()).sum())
    out["SchoolURN"] = _text(work, "SchoolURN")
    out["AcademicYear"] = parse_academic_years(_col(work, "AcademicYear"))
    out["CensusTerm"] = _code(work, "CensusTerm", codes.CENSUS_TERM_MAP)
    for column in SESSION_COLUMNS:
        out[column] = parse_whole_numbers(_col(work, column))
    return out


def _reasons(work: pd.DataFrame, counts: Counter) -> tuple[pd.Series, pd.Series]:
    parts = [_text(work, c) for c in ("Reason", "Reason2", "Reason3") if c in work]
    combined = parts[0] if parts else _text(work, "Reason")
    for extra in parts[1:]:
        combined = combined.str.cat(extra, sep=";", na_rep="").where(combined.notna() | extra.notna())
    combined = combined.astype(TEXT)

    def split(text: str) -> tuple[str | None, str | None, list[str]]:
        found = codes.split_codes(text)
        if not found:
            return None, None, []
        groups = list(dict.fromkeys(codes.reason_group(c) for c in found))
        return ";".join(found), ";".join(groups), [c for c in found if not codes.is_known_reason(c)]

    parsed = codes.map_distinct(combined, split).to_numpy()
    none = (None, None, [])
    reason = pd.Series([(p or none)[0] for p in parsed], index=work.index, dtype=TEXT)
    groups = pd.Series([(p or none)[1] for p in parsed], index=work.index, dtype=TEXT)
    for p in parsed:
        for code in (p or none)[2]:
            counts[f"unknown reason code {code} (group other)"] += 1
    return reason, groups


def _exclusions_frame(work: pd.DataFrame, counts: Counter) -> pd.DataFrame:
    out = pd.DataFrame(index=work.index)
    if "RecordID" in work:
        out["RecordID"] = _text(work, "RecordID")
    else:  # no id in the file: the data row number is the record's id
        out["RecordID"] = pd.Series(work.index.astype(str), index=work.index, dtype=TEXT)
    _upn(out, work, counts)
    out["Surname"], out["Forename"] = _text(work, "Surname"), _text(work, "Forename")
    out["DOB"] = _dates(work, "DOB")
    out["Sex"] = _code(work, "Sex", codes.SEX_MAP)
    out["SchoolURN"] = _text(work, "SchoolURN")
    out["Category"] = _code(work, "Category", codes.CATEGORY_MAP)
    out["CategoryRaw"] = _text(work, "Category")
    _count_codes(work, "Category", ["FIXD", "LUNC"], counts, "category FIXD/LUNC read as SUSP")
    out["StartDate"] = _dates(work, "StartDate")
    out["AcademicYear"] = academic_year_of(out["StartDate"])
    out["Sessions"] = parse_numbers(_col(work, "Sessions"))
    out["Reason"], out["ReasonGroups"] = _reasons(work, counts)
    return out


def _factors(values: pd.Series) -> pd.Series:
    joined = codes.map_distinct(values, lambda text: ";".join(codes.split_codes(text)) or None)
    return joined.astype(TEXT)


def _social_care_frame(work: pd.DataFrame, counts: Counter) -> pd.DataFrame:
    out = pd.DataFrame(index=work.index)
    out["LAchildID"] = _text(work, "LAchildID")
    _upn(out, work, counts)
    out["Surname"], out["Forename"] = _text(work, "Surname"), _text(work, "Forename")
    out["DOB"] = _dates(work, "DOB")
    out["Sex"] = _code(work, "Sex", codes.SEX_MAP)
    out["Ethnicity"] = _code(work, "Ethnicity", codes.ETHNICITY_MAP)
    out["Postcode"] = _postcode(work, counts)
    out["Status"] = _code(work, "Status", codes.STATUS_MAP)
    out["StartDate"] = _dates(work, "StartDate")
    out["EndDate"] = _dates(work, "EndDate")
    out["PrimaryNeed"] = _code(work, "PrimaryNeed", codes.PRIMARY_NEED_MAP)
    out["Factors"] = _factors(_col(work, "Factors"))
    return out


def _finish(frame: pd.DataFrame, columns: list[str], name: str) -> pd.DataFrame:
    """The canonical columns plus `_file` and `_row`, numbered from 0 (built once, no frame copies)."""
    data = {}
    for column in columns:
        series = frame[column]
        data[column] = series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
    data["_file"] = pd.array(pa.repeat(pa.scalar(name, pa.large_string()), len(frame)), dtype=TEXT)
    data["_row"] = frame.index.to_numpy(dtype=np.int64)
    return pd.DataFrame(data, index=pd.RangeIndex(len(frame)), copy=False)


def _note(raw: _Raw) -> str:
    aliased = f"; headers read as: {', '.join(raw.aliased)}" if raw.aliased else ""
    return f"{raw.name}: {raw.rows_read} rows, {raw.encoding}{aliased}"


def _result(frames: list[pd.DataFrame], raws: list[_Raw], counts: Counter) -> ReadResult:
    clean = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    rejects = pd.concat([_rejects_of(r) for r in raws], ignore_index=True)
    notes = [_note(r) for r in raws]
    return ReadResult(clean, rejects, sum(r.rows_read for r in raws), notes, dict(counts))


# --- public readers ------------------------------------------------------------------------------


def _display_name(path: Path, parent: Path | None) -> str:
    return f"{parent.name}/{path.name}" if parent is not None else path.name


def _members(folder: Path, name: str) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise ExtractError(name, "the folder holds no .csv or .parquet files")
    return files


def _collection_of(path: Path) -> dict[str, str]:
    """AcademicYear and CensusTerm from a collection date in the file name (census_2017-10-05.csv)."""
    match = _DATE_IN_NAME.search(path.stem)
    if not match:
        return {}
    year, month = int(match.group(1)), int(match.group(2))
    first = year if month >= 9 else year - 1
    return {
        "AcademicYear": calendar.format_year(first),
        "CensusTerm": calendar.census_term_of_month(month),
    }


def read_census(path: str | Path, attendance: str | Path | None = None) -> ReadResult:
    """`census.csv` / `.parquet`, or a folder of per-collection files; optional termly attendance folder."""
    path = Path(path)
    parent = path if path.is_dir() else None
    files = _members(path, f"{path.name}/") if parent else [path]
    frames, raws, counts = [], [], Counter()
    for file in files:
        name = _display_name(file, parent)
        raw, work = _read_text(file, name, "census", derived=_collection_of(file))
        frames.append(_finish(_census_frame(work, counts), CENSUS_COLUMNS, name))
        raws.append(raw)
    result = _result(frames, raws, counts)
    if attendance is not None:
        termly = read_attendance(attendance)
        result.clean = apply_attendance(result.clean, termly.clean)
        result.rejects = pd.concat([result.rejects, termly.rejects], ignore_index=True)
        result.notes += termly.notes
        result.counts["attendance rows read"] = termly.rows_read
        result.counts["attendance rows rejected"] = termly.rows_rejected
    return result


def read_exclusions(path: str | Path) -> ReadResult:
    path = Path(path)
    raw, work = _read_text(path, path.name, "exclusions")
    counts: Counter = Counter()
    frame = _finish(_exclusions_frame(work, counts), EXCLUSION_COLUMNS, path.name)
    return _result([frame], [raw], counts)


def read_social_care(path: str | Path) -> ReadResult:
    path = Path(path)
    raw, work = _read_text(path, path.name, "social_care")
    counts: Counter = Counter()
    frame = _finish(_social_care_frame(work, counts), SOCIAL_CARE_COLUMNS, path.name)
    return _result([frame], [raw], counts)


def _term_of(path: Path, name: str) -> dict[str, str]:
    collection = _collection_of(path)
    if collection:
        return {"AcademicYear": collection["AcademicYear"], "Term": collection["CensusTerm"]}
    match = _TERM_IN_NAME.search(path.stem)
    year = parse_academic_years(
        pd.Series([f"{match.group(1)}/{match.group(2)}" if match else None], dtype=TEXT)
    )
    if not match or pd.isna(year.iloc[0]):
        raise ExtractError(
            name, "name an attendance file by academic year and term (attendance_2016-17_AUT.csv) or by date"
        )
    return {"AcademicYear": year.iloc[0], "Term": match.group(3).upper()}


def read_attendance(folder: str | Path) -> ReadResult:
    """Termly attendance files (see the module docstring for the layout)."""
    folder = Path(folder)
    frames, raws, counts = [], [], Counter()
    for file in _members(folder, f"{folder.name}/"):
        name = _display_name(file, folder)
        term = _term_of(file, name)
        raw, work = _read_text(file, name, "attendance")
        out = pd.DataFrame(index=work.index)
        _upn(out, work, counts)
        out["AcademicYear"] = pd.Series(term["AcademicYear"], index=work.index, dtype=TEXT)
        out["Term"] = pd.Series(term["Term"], index=work.index, dtype=TEXT)
        for column in ("TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised"):
            out[column] = parse_whole_numbers(_col(work, column))
        frames.append(_finish(out, ATTENDANCE_COLUMNS, name))
        raws.append(raw)
    return _result(frames, raws, counts)


def _next_year(academic_year: pd.Series) -> pd.Series:
    following = {year: calendar.shift_year(year, 1) for year in academic_year.dropna().unique()}
    return academic_year.map(following).astype(TEXT)


def apply_attendance(census: pd.DataFrame, termly: pd.DataFrame) -> pd.DataFrame:
    """Fill the census's missing previous-year attendance from termly rows (summed over the year)."""
    if termly.empty:
        return census
    sums = (
        termly.assign(AcademicYear=_next_year(termly["AcademicYear"]))
        .groupby(["UPN", "AcademicYear"], observed=True)[list(SESSION_COLUMNS.values())]
        .sum(min_count=1)
    )
    keys = pd.MultiIndex.from_arrays([census["UPN"], census["AcademicYear"]])
    found = sums.reindex(keys)
    census = census.copy()
    for census_column, termly_column in SESSION_COLUMNS.items():
        filler = pd.array(found[termly_column].to_numpy(), dtype="Int64")
        census[census_column] = census[census_column].fillna(pd.Series(filler, index=census.index))
    return census


# --- the input folder ----------------------------------------------------------------------------


def find_extracts(folder: str | Path) -> dict[str, Path | None]:
    """Where each extract is in `folder` (None when absent); plus `attendance` (a folder or None)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExtractError(str(folder), "not a folder")
    entries = {p.name.lower(): p for p in folder.iterdir()}
    found: dict[str, Path | None] = {}
    for extract in EXTRACT_NAMES:
        candidates = [entries.get(extract + s) for s in SUFFIXES]
        if extract == "census" and extract in entries and entries[extract].is_dir():
            candidates.append(entries[extract])
        present = [c for c in candidates if c is not None]
        if len(present) > 1:
            raise ExtractError(
                str(folder),
                f"more than one {extract} extract ({', '.join(p.name for p in present)}); keep one",
            )
        found[extract] = present[0] if present else None
    attendance = entries.get("attendance")
    found["attendance"] = attendance if attendance is not None and attendance.is_dir() else None
    return found


def read_extract(extract: str, path: Path, attendance: Path | None = None) -> ReadResult:
    if extract == "census":
        return read_census(path, attendance)
    return {"exclusions": read_exclusions, "social_care": read_social_care}[extract](path)


def read_extracts(folder: str | Path) -> Extracts:
    """All three extracts of `folder` (each required); rejects of all of them in one frame."""
    found = find_extracts(folder)
    for extract in EXTRACT_NAMES:
        if found[extract] is None:
            accepted = f"{extract}.csv or {extract}.parquet" + (
                " or a census/ folder" if extract == "census" else ""
            )
            raise ExtractError(str(folder), f"no {extract} extract: expected {accepted}")
    results = {e: read_extract(e, found[e], found["attendance"]) for e in EXTRACT_NAMES}
    rejects = pd.concat([r.rejects for r in results.values()], ignore_index=True)
    return Extracts(
        results["census"].clean, results["exclusions"].clean, results["social_care"].clean, rejects, results
    )
