"""How many records a CSV upload can hold at most, counted from its bytes before any parsing.

The service refuses an upload over its row limit before the reader sees it (serving.scoring), so the
count must be cheap and never below what the reader will find: the non-empty lines after the header
(`csv_records.data_lines`), less the lines the reader skips as no record: lines of only the header's
delimiter and blanks (Excel's empty rows) and DOS end-of-file marks at the very end. So an export with
empty rows is not refused for them. Such a line longer than a row can be is a rejected row to the reader
(`csv_records.line_limit`), so it is counted. A record over several lines (a quoted value with line
breaks) may be counted once per line: the bound may be above the records, never below them. UTF-16 (with
its byte-order mark or without) and UTF-32 (with it) are decoded first, as the reader decodes them; the
header line is decoded and parsed by the reader's own parse of it (`loading.read_header`), so the
bound's delimiter and width are the reader's.
"""

from __future__ import annotations

import re

from exclusion_risk.linkage.csv_records import BLANKS, data_lines, line_limit
from exclusion_risk.linkage.decoding import UNICODE_BOMS, decode, utf16_without_bom
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.loading import MAX_HEADER_CHARS, delimiter_of, read_header, trailing_eof_marks


def records_at_most(data: bytes) -> int:
    """At most how many records the CSV `data` holds (see the module docstring)."""
    if data.startswith(UNICODE_BOMS) or utf16_without_bom(data) is not None:
        data = decode(data)[0]
    _, end = trailing_eof_marks(data)
    if end < len(data):
        data = data[:end]  # a copy only where the file ends in Ctrl-Z
    first = min((i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0), default=len(data))
    # the header line (one longer than 4 bytes a character allow is refused by the reader), decoded and
    # parsed as the reader does (`loading.read_header`: a UTF-8 BOM before a quoted first name had the
    # bound find one name more than the reader, and so a longer line limit)
    head = decode(data[: min(first, 4 * MAX_HEADER_CHARS)])[0]
    try:
        delimiter, names = read_header(head, "upload")
    except ExtractError:  # the reader refuses the file: any bound at or above its lines will do
        delimiter, names = delimiter_of(head.decode("utf-8", errors="replace")), []
    return data_lines(data) - empty_lines(data, delimiter, _least_line_limit(names))


def _least_line_limit(names: list[str]) -> int:
    """The reader's line limit for this header at its least: its width without trailing blank names
    (the reader drops no more of them than that)."""
    names = list(names)
    while names and not names[-1].strip():
        names.pop()
    return line_limit(len(names))


def empty_lines(data: bytes, delimiter: str, longest: int) -> int:
    """Lines after the first made of only `delimiter` and blanks, at least one and at most `longest` of
    them (a blank line is not counted by `data_lines` either; a longer one is a rejected row). Found by
    one regular expression that can match only at a line end, so each line is looked at once."""
    filler = re.escape((BLANKS + delimiter).encode())
    pattern = rb"[\r\n][" + filler + rb"]{1,%d}(?=[\r\n]|\Z)" % longest
    return sum(1 for _ in re.finditer(pattern, data))
