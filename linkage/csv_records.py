"""CSV text -> records, accounting for every record of the file, whatever its structure.

Arrow's parser is fast but decides alone where a record ends: one opening quote that never closes
(`"Brien`) can make it drop thousands of following lines without a word. So the readers count the
file's non-empty lines independently (`data_lines`: LF, CRLF and CR all end a line) and trust arrow's
rows only when there are exactly that many. Otherwise this module parses line by line with Python's
csv module, knowing which lines each record spans:

* a record on one line with the header's number of fields is a row; one with another number of
  fields is rejected;
* a blank line, or one of nothing but delimiters and blanks (Excel's empty row), is no record: it is
  skipped, counted and placed (`ParsedRecords.empty_lines`, `empty_places`), for the read's note;
* a record over several lines (a quoted value with line breaks) is one record, kept or rejected as
  one row, when it is properly quoted (the csv module reads it strictly) and its value could be one:
  not longer than any field may be, holding no line with a row's worth of delimiters, in a file of
  more than one column;
* otherwise its opening quote is a stray one that swallowed what look like further rows: the line it
  opens on is rejected on its own (`STRAY_QUOTE`), and the lines after it are read again, each as
  what it is, so that only that line is lost.

A line longer than any row of the file could be (`line_limit`: the header's field count times the
longest a kept value can be written, at most MAX_LINE_CHARS) is rejected as its own row before the
csv module sees it, the rejects keeping only its start, said to be cut: one line of 60,000,000 commas
would otherwise hold the csv module (and Python's lock, stalling the service's other requests) for
seconds. The csv module then reads the lines either side of it apart, so a quoted value cannot run
across it.

Row numbers count the records from 1 after the header (a record over several lines is one row; an
empty line is none), so they agree with arrow's numbering, and a RecordID left out (that number) does
not change when an empty line is added or taken out; the read's note says where empty lines were, so
that a row can be found in a spreadsheet, which shows them. A message naming lines counts every line
from 1 after the header ("data lines"), empty ones too.
"""

from __future__ import annotations

import csv
import re
import sys
import threading
from dataclasses import dataclass, field

import numpy as np

from exclusion_risk.linkage.decoding import MAX_FIELD_CHARS, OVERSIZED, UNICODE_BOMS, decode, shown_start

# A kept value is at most MAX_FIELD_CHARS; written out it can take twice that (every character a doubled
# quote) plus its quotes and delimiter. No row of a file can be longer than its width of such values.
_WRITTEN_FIELD_CHARS = 2 * MAX_FIELD_CHARS + 3
MAX_LINE_CHARS = 1_000_000  # whatever the header: 500 values of the longest kept, far beyond any extract
_LF, _CR = 10, 13
_LINE_END = re.compile(rb"[\r\n]")
_BLOCK = 1 << 20  # bytes counted at a time: memory stays flat whatever the file's size
_FIELD_LIMIT = threading.Lock()
BLANKS = " \t"  # with the delimiter, what an empty line (no record) is made of
STRAY_QUOTE = (
    "a quoted value opens on this row and does not close before what look like further rows "
    "(a stray quote?); the rows after it are read on their own"
)


def is_empty_line(line: str, delimiter: str) -> bool:
    """A line of only delimiters and blanks (Excel's empty row): no record, as a blank line is not."""
    return not line.strip(delimiter + BLANKS)


def data_lines(data: bytes) -> int:
    """Non-empty lines after the first, as the bytes stand (LF, CRLF and CR all end a line).

    No parser can return more rows than this (a value running over lines is one row, or rejected line
    by line), so it bounds a file's rows before any parsing: the service refuses an upload over its
    row limit with it. Counted in blocks, without parsing or copying the file (UTF-16 is decoded).
    """
    return count_lines(data)[0]


def count_lines(data: bytes) -> tuple[int, np.ndarray]:
    """`data_lines`, and for each blank line after the first (nothing between two line ends) how many
    non-empty lines after the first come before it: where the lines are that arrow's parse skips
    without a word, for the read's note. One pass, in blocks."""
    if data.startswith(UNICODE_BOMS):
        data = decode(data)[0]
    view = np.frombuffer(data, dtype=np.uint8)
    lines, blank_at = 0, []
    for start in range(0, len(view), _BLOCK):
        block = view[start : start + _BLOCK]
        before = np.empty_like(block)  # each byte's predecessor; "a line end" before the first byte
        before[0] = view[start - 1] if start else _LF
        before[1:] = block[:-1]
        # a line ends at a CR, or at an LF that is not the second half of a CRLF; the line is not
        # empty unless the byte before its end ended the previous line
        ends = (block == _CR) | ((block == _LF) & (before != _CR))
        full = ends & (before != _CR) & (before != _LF)
        full_lines = int(np.count_nonzero(full))
        if np.count_nonzero(ends) > full_lines:  # blank lines (rare): placed by a running count
            blank = ends & ~full
            blank_at.append(np.cumsum(full, dtype=np.int64)[blank] + lines - 1)  # less the header
        lines += full_lines
    if len(view) and view[-1] not in (_CR, _LF):
        lines += 1  # the last line has no line end
    blank_at = np.concatenate(blank_at) if blank_at else np.zeros(0, dtype=np.int64)
    return max(lines - 1, 0), np.maximum(blank_at, 0)  # the header


def empty_lines_at(data: bytes, ordinals: np.ndarray, delimiter: str) -> np.ndarray:
    """Whether each of the non-empty lines numbered `ordinals` (ascending; 0 is the first line) is made
    of only delimiters and blanks: arrow's rows of only blank values, checked against their lines (a
    line of quoted empty values, `"",""`, is a record). Found in blocks, as `data_lines` counts."""
    view = np.frombuffer(data, dtype=np.uint8)
    starts, seen = [], 0
    for start in range(0, len(view), _BLOCK):
        block = view[start : start + _BLOCK]
        before = np.empty_like(block)
        before[0] = view[start - 1] if start else _LF
        before[1:] = block[:-1]
        # a non-empty line starts where a byte that ends no line follows one that does
        begins = (block != _CR) & (block != _LF) & ((before == _CR) | (before == _LF))
        count = int(np.count_nonzero(begins))
        low, high = np.searchsorted(ordinals, [seen, seen + count])
        if high > low:
            starts.extend((np.flatnonzero(begins)[ordinals[low:high] - seen] + start).tolist())
        seen += count
    filler = (delimiter + BLANKS).encode()
    empty = []
    for begin in starts:
        # the nearest line end of either kind: find() for each kind ran to the end of a file holding
        # none of the other (an LF-only file has no CR), once per line: quadratic
        end = _LINE_END.search(data, begin)
        empty.append(not data[begin : end.start() if end else len(data)].strip(filler))
    return np.asarray(empty, dtype=bool)


@dataclass
class ParsedRecords:
    """The forgiving parse's result: good records with their row numbers, and the rejected lines."""

    good: list[list[str]] = field(default_factory=list)
    good_rows: list[int] = field(default_factory=list)
    bad_rows: list[int] = field(default_factory=list)
    bad_columns: list[str] = field(default_factory=list)
    bad_values: list[str] = field(default_factory=list)
    bad_reasons: list[str] = field(default_factory=list)
    rows: int = 0  # every row numbered: len(good) + len(bad_rows)
    empty_lines: int = 0  # lines blank or of only delimiters and blanks, skipped (no record)
    blank_lines: int = 0  # of them, those with nothing at all
    # where they were: [rows numbered before them, how many] per place, in the file's order
    empty_places: list[list[int]] = field(default_factory=list)
    line: int = 0  # the data line the record being read starts at
    row_lines: list[int] = field(default_factory=list)  # each numbered row's first data line

    def skip_empty(self, blank: bool) -> None:
        """An empty line: no record, counted and placed for the read's note."""
        self.empty_lines += 1
        self.blank_lines += blank
        if self.empty_places and self.empty_places[-1][0] == self.rows:
            self.empty_places[-1][1] += 1
        else:
            self.empty_places.append([self.rows, 1])

    def reject(self, column: str, value: str, reason: str, total: int | None = None) -> None:
        """A rejected row; the rejects keep the start of `value` (`shown_start`; `total`: the length of
        what `value` is the start of)."""
        self.rows += 1
        self.row_lines.append(self.line)
        self.bad_rows.append(self.rows)
        self.bad_columns.append(column)
        self.bad_values.append(shown_start(value, total))
        self.bad_reasons.append(reason)


def _one_record(record: list[str], lines: list[str], first: int, last: int, delimiter: str,
                width: int) -> int | None:
    """None when the record over data lines first..last is one properly quoted record; else the position
    of the value that swallowed what look like further rows (a stray quote opened it)."""
    position = next(i for i, v in enumerate(record) if "\n" in v)
    # delimiters in a line of a value that make it look like a row: a row's worth (width 1 is refused
    # above); for 2 columns one, as a swallowed "A2,ok" holds (two had let its pupil vanish unrejected)
    row_like = width - 1
    if width == 1 or any(
        len(value) > MAX_FIELD_CHARS
        or any(part.count(delimiter) >= row_like for part in value.split("\n")[1:])
        for value in record
    ):
        return position
    try:  # strictly read, a stray quote fails: one closed mid-value, or never closed at all
        list(csv.reader((line + "\n" for line in lines[first : last + 1]), delimiter=delimiter, strict=True))
    except csv.Error:
        return position
    return None


def line_limit(width: int) -> int:
    """Characters a data line of a file `width` columns wide can have and still hold a row."""
    return min(max(width, 1) * _WRITTEN_FIELD_CHARS, MAX_LINE_CHARS)


def split_lines(text: str) -> list[str]:
    """`text` split at LF, CRLF and CR (each one line end), at C speed: a regex split held Python's lock
    for a second on a 60 MB line."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_records(text: str, delimiter: str, header: list[str]) -> ParsedRecords:
    """Every data line of `text` (header included in it) as a good record or a rejected row."""
    lines = split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()  # the piece after the final line end
    parsed = ParsedRecords()
    # The csv module's field limit is one setting for the whole process: raised only while this parse
    # runs, and one parse at a time (the service reads uploads on several threads).
    with _FIELD_LIMIT:
        limit = csv.field_size_limit()
        csv.field_size_limit(sys.maxsize)  # long fields are rejected after, by length, with their lines
        try:
            _parse_lines(parsed, lines, delimiter, header)
        finally:
            csv.field_size_limit(limit)
    return parsed


def _parse_lines(parsed: ParsedRecords, lines: list[str], delimiter: str, header: list[str]) -> None:
    limit = line_limit(len(header))
    too_long = [n for n in range(1, len(lines)) if len(lines[n]) > limit]
    start = 1
    for end in [*too_long, len(lines)]:
        _parse_run(parsed, lines, start, end, delimiter, header)
        if end < len(lines):
            parsed.line = end
            _reject_over_long(parsed, lines[end], delimiter, header, limit)
        start = end + 1


def _reject_over_long(
    parsed: ParsedRecords, line: str, delimiter: str, header: list[str], limit: int
) -> None:
    """A line over `limit` characters, from its first `limit` (parsed at a bounded cost): the longest of
    its fields is named when it has no more than the header's; the rejects keep the line's start, said
    to be cut (`shown_start`), so that the supplier can tell which record it was."""
    head = line[:limit]
    try:
        fields = next(csv.reader([head], delimiter=delimiter), [])
    except csv.Error:
        fields = []
    over = f"the line is over {limit:,} characters, longer than a row of {len(header)} columns can be"
    if 0 < len(fields) <= len(header):
        position = max(range(len(fields)), key=lambda i: len(fields[i]))
        parsed.reject(header[position], head, f"{OVERSIZED}; {over}", len(line))
    else:
        parsed.reject("", head, f"{over} (broken structure, not a row)", len(line))


def _parse_run(parsed: ParsedRecords, lines: list[str], start: int, end: int, delimiter: str,
               header: list[str]) -> None:
    """Data lines lines[start:end] (data line n is lines[n]; lines[0] is the header)."""
    while start < end:  # each pass ends at a stray quote's line, or at the run's end
        start = _parse_until_stray_quote(parsed, lines, start, end, delimiter, header)


def _parse_until_stray_quote(parsed: ParsedRecords, lines: list[str], start: int, end: int, delimiter: str,
                             header: list[str]) -> int:
    """Records from data line `start` on, up to a stray quote's line (rejected): where to go on from.

    The caller goes on from the line after the stray quote's: the lines its value swallowed are read
    again, each as what it is (a row, an empty line, or the start of a properly quoted value).
    """
    # indexed, not sliced: a slice copied the rest of the file at each stray quote (k of them: O(k n))
    reader = csv.reader((lines[i] + "\n" for i in range(start, end)), delimiter=delimiter)
    consumed = start - 1
    for record in reader:
        first, last = consumed + 1, start - 1 + reader.line_num  # data lines (1-based) this record spans
        consumed, parsed.line = last, first
        if not record:  # a blank line is not a row: counted as a line of commas is (no record)
            parsed.skip_empty(blank=True)
            continue
        if last == first:
            if is_empty_line(lines[first], delimiter):
                parsed.skip_empty(blank=False)
                continue
            _keep_or_reject(parsed, record, len(header), delimiter)
            continue
        position = _one_record(record, lines, first, last, delimiter, len(header))
        if position is not None:
            parsed.reject(header[position] if position < len(header) else "", lines[first], STRAY_QUOTE)
            return first + 1
        # lines, not rows: a multi-line record or an empty line above puts its lines past its row number
        spans = f"; it runs over data lines {first} to {last} (every line counted from 1 after the header)"
        _keep_or_reject(parsed, record, len(header), delimiter, spans)
    return end


def _keep_or_reject(
    parsed: ParsedRecords, record: list[str], width: int, delimiter: str, spans: str = ""
) -> None:
    if len(record) > width and not any(v.strip() for v in record[width:]):
        record = record[:width]  # trailing empty fields (a stray delimiter at the line end)
    if len(record) != width:
        reason = f"wrong number of fields ({len(record)}; the header has {width}){spans}"
        parsed.reject("", delimiter.join(record), reason)
        return
    parsed.rows += 1
    parsed.row_lines.append(parsed.line)
    parsed.good.append(record)
    parsed.good_rows.append(parsed.rows)
