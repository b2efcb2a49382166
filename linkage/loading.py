"""CSV and Parquet files -> RawFile: every column as text, every row numbered, ragged rows rejected.

CSV goes through arrow's multi-threaded parser; a file arrow cannot split (rows with the wrong number
of fields) is parsed again by Python's csv module, which rejects those rows. The delimiter is taken
from the header line (comma, tab, semicolon or pipe). Blank lines are not rows, nor are lines of only
delimiters and blanks (Excel's empty rows), nor DOS end-of-file marks (Ctrl-Z) at the very end (with
or without line ends or blanks after them): those are counted in the file's note, empty lines with where
they were (rows are numbered without them; a spreadsheet shows them). Parquet columns of any type
are read as their text. A row repeating the header (two exports joined) is rejected as that
(linkage.header_rows). A workbook, PDF or archive (by its first bytes, whatever its name) is refused
as what it is (linkage.extract_files); `.txt`/`.tsv` files are read as CSV.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from exclusion_risk.linkage.csv_records import (
    count_lines,
    empty_lines_at,
    is_empty_line,
    parse_records,
    split_lines,
)
from exclusion_risk.linkage.decoding import decode, reject_broken_text, reject_undecodable
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.extract_files import TEXT_SUFFIXES, refuse_binary
from exclusion_risk.linkage.header_rows import reject_repeated_headers
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame
from exclusion_risk.values import counted

MAX_HEADER_CHARS = 20_000  # a census header with every optional column is under 1,000
EOF_MARK = b"\x1a"  # Ctrl-Z: DOS's end of file, which some exports still write after the last line
_EOF_TAIL = b"\x1a\r\n \t"  # what a file's trailing end-of-file marks are found among
_TAIL_BLOCK = 1 << 16
_BLANK_VALUE = "^[ \t]*$"  # a value of blanks (arrow's empty values are null)
_SLICED_GAPS = 100  # up to this many empty lines, arrow's table is sliced around them, not copied
_PLACES = 3  # the places of empty lines a note names; the rest are counted
_DELIMITER_WORDS = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "pipes"}
# Excel's first line naming the delimiter ("sep=,"), written before the header by tools exporting for it
_SEP_LINE = re.compile(r"sep=([,\t;|]) *", re.IGNORECASE)
_LINE_END = re.compile(rb"\r\n|\r|\n")
HEADER_LINES = 10  # a quoted column name may hold line breaks; a header still open after this many lines
_NAME_CHARS = 500  # a column name over lines longer than this is no name


def load(path: Path, name: str) -> RawFile:
    """The file at `path` (named `name` in messages and rejects) as text."""
    if path.is_dir():
        raise ExtractError(name, "a folder, not a file: expected a .csv or .parquet file")
    if not path.is_file():
        raise ExtractError(name, "file not found")
    # a workbook or PDF, whatever its name (a census.csv saved from Excel as .xlsx): said so, not read
    refuse_binary(path, name)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", *TEXT_SUFFIXES):  # .txt/.tsv: delimited text, read as CSV
        raise ExtractError(name, "not a .csv or .parquet file")
    raw = _load_parquet(path, name) if suffix == ".parquet" else _load_csv(path, name)
    reject_repeated_headers(raw)  # two exports joined: the second's header is one reject, said so
    raw.drop_text()  # the load's checks encoded every column: the encodings hold its text
    return raw


def trailing_eof_marks(utf8: bytes) -> tuple[int, int]:
    """(how many Ctrl-Z marks end the file, where the text before them ends): the marks at the very end,
    with or without line ends or blanks after or between them (Ctrl-Z then CRLF: an export that ended its
    last line after the mark; blank lines after it). The text ends before the first of them, less its
    line ends (the last row's blanks are its own). (0, len) when the file does not end so. Only the
    trailing bytes are looked at."""
    first = utf8.find(EOF_MARK, _stripped_end(utf8, len(utf8), _EOF_TAIL))
    if first < 0:
        return 0, len(utf8)
    return utf8.count(EOF_MARK, first), _stripped_end(utf8, first, b"\r\n")


def _stripped_end(data: bytes, end: int, chars: bytes) -> int:
    """Where data[:end] ends once its trailing `chars` are stripped, a block at a time (no copy)."""
    while end:
        start = max(end - _TAIL_BLOCK, 0)
        kept = data[start:end].rstrip(chars)
        if kept:
            return start + len(kept)
        end = start
    return 0


def delimiter_of(header_line: str) -> str:
    """The delimiter a header line uses: tab, semicolon or pipe where it holds more of one than commas."""
    counts = {d: header_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _header_line(utf8: bytes) -> str:
    """The first line (ended by LF, CRLF or CR), as text."""
    end = min((i for i in (utf8.find(b"\n"), utf8.find(b"\r")) if i >= 0), default=len(utf8))
    return utf8[:end].decode("utf-8")


def _one_line_header(utf8: bytes, delimiter: str) -> tuple[bytes, int]:
    """(`utf8` with its header on one line, how many lines the header ran over). A column name holding a
    line break (Alt+Enter in an Excel header cell: "Start<LF>Date", quoted) runs the header record over
    several lines: taken as the first line, the header was cut there (columns that are there said to be
    missing, or the rest of the name read as row 1 and every row numbered one too high). A line end
    inside the header record (its quotes not yet balanced) becomes a space; a quote still open after
    HEADER_LINES lines or MAX_HEADER_CHARS, or a name over lines that is long or has a line like a row
    (`_names_over_lines`), is a stray one, and only the first line is the header, as before."""
    quotes, position, lines = 0, 0, 0
    while lines < HEADER_LINES and position <= 4 * MAX_HEADER_CHARS:
        end = _LINE_END.search(utf8, position)
        stop = end.start() if end else len(utf8)
        quotes, lines = quotes + utf8.count(b'"', position, stop), lines + 1
        if quotes % 2 == 0:
            if lines == 1:
                return utf8, 1
            # the first data line after it: a line of a name with as many delimiters is a row swallowed
            after = utf8[stop : stop + 4 * MAX_HEADER_CHARS].decode("utf-8", errors="replace")
            row = next((line for line in split_lines(after) if line.strip()), "")
            header = utf8[:stop].decode("utf-8", errors="replace")
            if not _names_over_lines(header, delimiter, max(row.count(delimiter), 1)):
                return utf8, 1
            return _LINE_END.sub(b" ", utf8[:stop]) + utf8[stop:], lines
        if end is None:
            break
        position = end.end()
    return utf8, 1


def _names_over_lines(header: str, delimiter: str, row_delimiters: int) -> bool:
    """Whether `header` (lines whose quotes balance) is one properly quoted record whose names holding
    line breaks are names: not over _NAME_CHARS, and no line of them with `row_delimiters` delimiters
    (a row's worth: rows swallowed, as csv_records tells a stray quote). A quote inside a name
    (`Sur"name`) is no quoting: the lines after it are rows, and the header is more than one record."""
    try:
        records = list(csv.reader(io.StringIO(header, newline=""), delimiter=delimiter, strict=True))
    except csv.Error:
        return False
    width = len(records[0]) if len(records) == 1 else 0
    broken = [n for n in records[0] if "\n" in n or "\r" in n] if width > 1 else []
    return bool(broken) and all(
        len(n) <= _NAME_CHARS and all(line.count(delimiter) < row_delimiters for line in split_lines(n)[1:])
        for n in broken
    )


def _first_row_width(utf8: bytes, delimiter: str) -> int:
    """How many fields the first data row has (trailing empty ones not counted); 0 without one."""
    start = len(_header_line(utf8).encode("utf-8"))
    rest = utf8[start : start + 1_000_000].decode("utf-8", errors="replace").lstrip("\r\n")
    try:
        row = next(csv.reader(rest.splitlines(), delimiter=delimiter), [])
    except csv.Error:
        return 0
    while row and not row[-1].strip():
        row.pop()
    return len(row)


def _parse_with_arrow(utf8: bytes, delimiter: str, names: list[str]) -> pa.Table | None:
    """Arrow's fast parse, or None when it fails (arrow's message quotes the row: never shown)."""
    try:
        return pacsv.read_csv(
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
    except pa.ArrowException:
        return None


def _parse_forgiving(name: str, utf8: bytes, delimiter: str, header: list[str]):
    """The slow parse that accounts for every line: malformed rows are rejected, never fatal."""
    parsed = parse_records(utf8.decode("utf-8"), delimiter, header)
    columns = list(zip(*parsed.good, strict=True)) if parsed.good else [()] * len(header)
    table = pa.table(
        {
            f"c{i}": pa.array([v if v != "" else None for v in col], type=pa.string())
            for i, col in enumerate(columns)
        }
    )
    rejects = reject_frame(name, parsed.bad_rows, parsed.bad_columns, parsed.bad_values, parsed.bad_reasons)
    places = np.asarray(parsed.empty_places, dtype=np.int64).reshape(-1, 2)
    empty = EmptyLines(places[:, 0], places[:, 1], parsed.blank_lines)
    rows = np.asarray(parsed.good_rows, dtype=np.int64)
    return table, rows, rejects, parsed.rows, empty, np.asarray(parsed.row_lines, dtype=np.int64)


@dataclass
class EmptyLines:
    """The empty lines a read skipped (no records): `after[i]` rows were numbered before the `count[i]`
    at place i; `blank` of them had nothing at all, the rest only delimiters and blanks."""

    after: np.ndarray
    count: np.ndarray
    blank: int


def _arrow_empty_lines(comma_rows: np.ndarray, blank_at: np.ndarray) -> EmptyLines:
    """Arrow's parse: `comma_rows`, its rows that were lines of only delimiters and blanks (dropped),
    and `blank_at`, for each blank line (arrow skips them) the non-empty lines above it: placed by the
    rows numbered before each."""
    before = np.concatenate([comma_rows, blank_at])
    before = before - np.searchsorted(comma_rows, before)  # less the dropped rows above each
    after, count = np.unique(before, return_counts=True)
    return EmptyLines(after, count, len(blank_at))


def _without_empty_lines(table: pa.Table, utf8: bytes, delimiter: str) -> tuple[pa.Table, np.ndarray]:
    """Arrow's table less the rows that are lines of only delimiters and blanks (no records), and
    those rows. Rows of only blank values are found column by column, each column read only at
    the rows still in question (after the first, few), and then checked against their lines."""
    candidates = None
    for column in table.columns:
        values = column if candidates is None else column.take(pa.array(candidates))
        blank = pc.fill_null(pc.match_substring_regex(values, _BLANK_VALUE), True)
        blank = blank.to_numpy(zero_copy_only=False)
        candidates = np.flatnonzero(blank) if candidates is None else candidates[blank]
        if not len(candidates):
            return table, candidates
    if candidates is None:
        return table, np.zeros(0, dtype=np.int64)
    # Without a quote in the file, a row of blank values is a line of delimiters and blanks; with one,
    # each is checked: table row i is the file's non-empty line i + 1 (the caller checked arrow's rows
    # are its lines)
    quoted = utf8.find(b'"') >= 0
    empty = candidates[empty_lines_at(utf8, candidates + 1, delimiter)] if quoted else candidates
    if not len(empty):
        return table, empty
    if len(empty) > _SLICED_GAPS:
        keep = np.ones(table.num_rows, dtype=bool)
        keep[empty] = False
        return table.filter(pa.array(keep)), empty
    # a few (Excel's trailing empty rows): the rows between them, as slices of the table (no copy)
    bounds = [-1, *empty.tolist(), table.num_rows]
    pieces = [table.slice(a + 1, b - a - 1) for a, b in zip(bounds, bounds[1:], strict=False) if b - a > 1]
    return (pa.concat_tables(pieces) if pieces else table.slice(0, 0)), empty


def _empty_note(empty: EmptyLines, rows: int, delimiter: str) -> str:
    """What the read says of the empty lines it skipped, and where they were. Rows are numbered without
    them (csv_records), but a spreadsheet shows each as a row: a row below them is as many rows lower
    there as there are empty lines above it, which the note says, so that a rejected row is found."""
    total = int(empty.count.sum())
    kind = "blank" if empty.blank == total else f"only {_DELIMITER_WORDS[delimiter]}"
    if 0 < empty.blank < total:
        kind = f"blank or {kind}"
    note = f"{counted(total, 'empty line')} ({kind}) skipped"
    if empty.after[0] >= rows:  # all below the last row: no row is moved
        return f"{note} after the last row"
    places = [
        ("before row 1" if after == 0 else f"after row {after:,}") + (f" ({count:,} lines)" * (count > 1))
        for after, count in zip(empty.after[:_PLACES].tolist(), empty.count[:_PLACES].tolist(), strict=True)
    ]
    if len(empty.after) > _PLACES:
        places.append(f"{len(empty.after) - _PLACES:,} more places")
    where = places[0] if len(places) == 1 else f"{', '.join(places[:-1])} and {places[-1]}"
    row, lower = int(empty.after[0]) + 1, int(empty.count[0])
    return (
        f"{note} {where}: rows are numbered without them, so in a spreadsheet a row below them is lower by "
        f"the empty lines above it (row {row:,} is on spreadsheet row {row + 1 + lower:,})"
    )


def _skipped(empty: EmptyLines, rows: int, eof_marks: int, delimiter: str) -> list[str]:
    """The read's note on what it set aside as no record (nothing is dropped without a word)."""
    notes = []
    if len(empty.count):
        notes.append(_empty_note(empty, rows, delimiter))
    if eof_marks:
        notes.append(f"{counted(eof_marks, 'end-of-file mark')} (Ctrl-Z) at the end dropped")
    return notes


def read_header(utf8: bytes, name: str, delimiter: str | None = None) -> tuple[str, list[str]]:
    """(delimiter, names) of the header row of `utf8`, the file as `decoding.decode` gives it (a BOM
    dropped): the one parse of it, which the service's upload bound (`record_bound`) uses too.
    `delimiter`: the one an Excel "sep=" line named, else the header's own (`delimiter_of`)."""
    text_head = _header_line(utf8)
    if not text_head.strip():
        raise ExtractError(name, "the first line is blank: the file must start with its header row")
    if len(text_head) > MAX_HEADER_CHARS:
        raise ExtractError(name, f"the first line is over {MAX_HEADER_CHARS:,} characters: not a header row")
    delimiter = delimiter or delimiter_of(text_head)
    try:
        return delimiter, next(csv.reader([text_head], delimiter=delimiter))
    except csv.Error:
        raise ExtractError(name, "the header row cannot be read as CSV") from None


def _load_csv(path: Path, name: str) -> RawFile:
    data = path.read_bytes()
    if not data or data.isspace():  # (strip() would copy the whole file)
        raise ExtractError(name, "the file is empty (no header row, no data)")
    utf8, encoding, replaced, cp1252_lines = decode(data)
    eof_marks, end = trailing_eof_marks(utf8)
    if eof_marks:  # only at the very end: one anywhere else is a control character in its row
        utf8 = utf8[:end]  # the file's one copy (a count and a slice had made two)
        if not utf8 or utf8.isspace():
            raise ExtractError(name, "the file is empty (no header row, no data)")
    text_head = _header_line(utf8)
    sep_line = _SEP_LINE.fullmatch(text_head)
    if sep_line:  # read as the header, every required column was "missing": the line goes, said so
        start = len(text_head) + (2 if utf8[len(text_head) : len(text_head) + 2] == b"\r\n" else 1)
        utf8 = utf8[start:]
        if not utf8 or utf8.isspace():
            raise ExtractError(name, "the file is empty (no header row, no data)")
    named = sep_line.group(1) if sep_line else None
    utf8, header_lines = _one_line_header(utf8, named or delimiter_of(_header_line(utf8)))
    delimiter, header = read_header(utf8, name, named)
    # A stray delimiter at the header's end (an empty last name) is dropped, as it is at a row's end,
    # unless the first data row fills that column (an untitled column with values: kept, so its rows
    # still have the header's width).
    width = None  # the first data row's, read once: Excel can end every line in thousands of commas
    while len(header) > 1 and not header[-1].strip():
        width = _first_row_width(utf8, delimiter) if width is None else width
        if width >= len(header):
            break
        header.pop()
    names = [f"c{i}" for i in range(len(header))]
    table = _parse_with_arrow(utf8, delimiter, names)
    # Arrow alone decides where a record ends, and with a stray quote it can drop thousands of lines
    # without a word (or a value holding a line break). Its rows are trusted only when they are the
    # file's non-empty lines, counted independently; otherwise the line-by-line parser decides.
    lines, blank_at = count_lines(utf8)
    if table is not None and table.num_rows == lines:
        table, comma_rows = _without_empty_lines(table, utf8, delimiter)
        empty = _arrow_empty_lines(comma_rows, blank_at)
        rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
        raw = RawFile(name, header, table, rows, table.num_rows, [], encoding)
        row_lines = None  # each row one line: the data lines not empty, found if ever needed
    else:
        table, rows, bad, rows_read, empty, row_lines = _parse_forgiving(name, utf8, delimiter, header)
        raw = RawFile(name, header, table, rows, rows_read, [bad], encoding)
    raw.skipped = _skipped(empty, raw.rows_read, eof_marks, delimiter)
    if header_lines > 1:
        raw.skipped.insert(0, f"the header runs over {header_lines} lines (a line break in a column name)")
    if cp1252_lines:  # a file mixing encodings (decoding._utf8_with_cp1252_lines)
        if row_lines is None:
            data_lines = split_lines(utf8.decode("utf-8"))[1:]
            row_lines = 1 + np.flatnonzero([not is_empty_line(line, delimiter) for line in data_lines])
        skip = header_lines + (1 if sep_line else 0)  # the file's lines before data line 1
        note = _mixed_encoding_note(np.asarray(cp1252_lines) + 1 - skip, row_lines)
        if note:
            raw.skipped.insert(0, note)
    if sep_line:
        names = _DELIMITER_WORDS[delimiter]
        raw.skipped.insert(0, f"Excel's delimiter line before the header skipped (it names {names})")
    # The parsed table holds its own copy of the text: the file's bytes go before every column is
    # encoded for the checks (a 765 MB census of 2,000,000 pupils: the load's peak 3.02 -> 2.49 GB).
    del data, utf8, table
    if raw.rows_read == 0:
        raise ExtractError(name, "the file has a header row but no data rows")
    if replaced:
        reject_undecodable(raw)
    reject_broken_text(raw)
    return raw


def _mixed_encoding_note(data_lines: np.ndarray, row_lines: np.ndarray) -> str:
    """The note on the rows read as Windows-1252 in a UTF-8 file, named as the rejects number rows:
    `data_lines`, the data lines (1-based after the header) so read; `row_lines`, each numbered row's
    first data line. Rows only: a line of the header is none. Never a value."""
    rows = np.unique(np.searchsorted(row_lines, data_lines[data_lines >= 1], side="right"))
    rows = rows[rows >= 1].tolist()
    if not rows:
        return ""
    shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    one = len(rows) == 1
    return (f"{counted(len(rows), 'row')} {'was' if one else 'were'} not UTF-8 and read as Windows-1252 "
            f"(a file mixing encodings): check {'its name' if one else 'their names'} at "
            f"{'row' if one else 'rows'} {shown}")


def _load_parquet(path: Path, name: str) -> RawFile:
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
    raw = RawFile(name, header, pa.table(columns), rows, table.num_rows, [], "Parquet")
    reject_broken_text(raw)
    return raw
