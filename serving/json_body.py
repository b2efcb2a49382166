"""JSON request bodies: UTF-8 only, their shape scanned in fixed blocks, then parsed a slice at a time.

- **UTF-8** (`require_utf8`): RFC 8259 says JSON between systems is UTF-8, and only then does a byte
  below 0x80 mean the ASCII character it looks like. `json.loads` also accepts UTF-16 and UTF-32 without
  a BOM, where a character such as U+0122 is the bytes `22 01`, a "quote" the shape scan would count;
  so anything else is refused (415) before it is scanned.
- **Shape** (`json_shape`): nesting depth, top-level fields and the number of records, from a scan of
  the bytes in blocks of `SCAN_BLOCK` (quote, escape and depth state carried from block to block), so
  memory stays flat whatever the body's size and a body of two million records is refused without
  building one Python object.
- **Parse** (`parse_json_chunks`): an accepted body a slice of records at a time, so no single C call
  holds the GIL (and with it the event loop and `/health`) for long.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.limits import too_many_pupils

MAX_JSON_DEPTH = 8  # a valid body is 3 deep (object > list > record); census rows may nest a little
MAX_TOP_LEVEL_FIELDS = 16  # ScoreRequest has three; thousands of unknown keys would be thousands of errors
JSON_CHUNK_RECORDS = 2000  # records parsed per json.loads call: a few milliseconds of GIL each
SCAN_BLOCK = 1 << 20  # bytes scanned at a time: a few MiB of working arrays, whatever the body's size
NOT_UTF8_STATUS = 415
UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16's (UTF-32's start with one of them too)
_QUOTE, _BACKSLASH, _COMMA = 34, 92, 44
_OPEN_OBJECT, _CLOSE_OBJECT, _OPEN_LIST, _CLOSE_LIST = 123, 125, 91, 93
_LEADING_SPACE = re.compile(rb"[ \t\r\n]*")  # JSON's whitespace; a regex, so no copy of the body


def require_json_type(content_type: str | None) -> None:
    """415 where a JSON route's body is declared as something else (a form, text/plain): every JSON route
    answers it alike (POST /score said 422 and POST /runs/earlier read it as JSON). No Content-Type is
    read as JSON, as a bare client sends it."""
    declared = (content_type or "application/json").split(";")[0].strip().lower()
    if declared and declared != "application/json" and not declared.endswith("+json"):
        problem = {"row": None, "field": "body", "reason": "send JSON (Content-Type: application/json)"}
        raise RequestProblem(NOT_UTF8_STATUS, "The request body is not JSON.", [problem])


def require_utf8(data: bytes) -> None:
    """415 unless `data` is UTF-8 (a UTF-8 BOM is allowed, as RFC 8259 lets a parser ignore it).

    A NUL among the first four bytes is how UTF-16 and UTF-32 without a BOM show (JSON text starts
    with an ASCII character); the strict decode, a block at a time with nothing kept, catches the rest.
    """
    if b"\x00" in data[:4] or data.startswith(_OTHER_BOMS):
        raise _not_utf8()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    try:
        for start in range(0, len(view), SCAN_BLOCK):
            decoder.decode(view[start : start + SCAN_BLOCK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _not_utf8() from None


def _not_utf8() -> RequestProblem:
    problem = {"row": None, "field": "body", "reason": "JSON must be sent as UTF-8"}
    return RequestProblem(NOT_UTF8_STATUS, "The request body is not UTF-8 JSON.", [problem])


@dataclass
class JsonList:
    """A list that is a top-level field's value: where it opens and closes, and every
    JSON_CHUNK_RECORDS-th comma between its elements (where the parse cuts it into slices)."""

    opened: int
    closed: int = -1
    commas: int = 0
    cuts: list[int] = field(default_factory=list)


@dataclass
class JsonShape:
    """What one pass over a JSON object's bytes tells: how deep it nests, how many fields the top
    level has, how many records its values hold, and where the lists that are its values lie."""

    depth: int = 0
    top_fields: int = 0
    records: int = 0  # elements of the top level's lists and objects: an upper bound on pupils
    lists: list[JsonList] = field(default_factory=list)


@dataclass
class _ScanState:
    """What one block's scan hands the next."""

    in_string: bool = False
    backslashes: int = 0  # the run of backslashes the previous block ended with
    depth: int = 0
    open_list: JsonList | None = None  # a top-level list not yet closed
    top_commas: int = 0


def _not_an_object() -> RequestProblem:
    problem = {"row": None, "field": "body", "reason": "expected a JSON object"}
    return RequestProblem(422, "The request is not valid.", [problem])


def json_shape(data: bytes, chunk: int = JSON_CHUNK_RECORDS) -> JsonShape:
    """The shape of a JSON object body, without parsing it; 422 when it is not an object.

    A quote preceded by an odd run of backslashes is escaped; the parity of the other quotes says
    which brackets and commas are structure rather than string content. The scan stops early once the
    body is nested too deep or has too many top-level fields (`check_json_shape` refuses it).
    """
    start = _LEADING_SPACE.match(data, len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0).end()
    if data[start : start + 1] != b"{":
        raise _not_an_object()
    view = np.frombuffer(data, dtype=np.uint8)
    shape, state = JsonShape(), _ScanState()
    for offset in range(0, len(view), SCAN_BLOCK):
        _scan_block(view[offset : offset + SCAN_BLOCK], offset, state, shape, chunk)
        if shape.depth > MAX_JSON_DEPTH or state.top_commas + 1 > MAX_TOP_LEVEL_FIELDS:
            break
    shape.top_fields = state.top_commas + 1
    return shape


def _scan_block(block: np.ndarray, offset: int, state: _ScanState, shape: JsonShape, chunk: int) -> None:
    positions = np.arange(len(block), dtype=np.int32)  # a block's offsets fit in 32 bits
    backslash = block == _BACKSLASH
    # Length of the backslash run just before each byte: its distance from the last byte that is not
    # a backslash (the previous block's trailing run counts for the block's first bytes).
    last_other = np.maximum.accumulate(np.where(backslash, np.int32(-1), positions))
    run_before = np.empty(len(block), dtype=np.int32)
    run_before[0] = state.backslashes
    run_before[1:] = np.where(last_other[:-1] >= 0, positions[1:] - 1 - last_other[:-1],
                              positions[1:] + state.backslashes)  # fmt: skip
    quote = (block == _QUOTE) & (run_before % 2 == 0)
    state.backslashes = int(run_before[-1] + 1 if backslash[-1] else 0)
    quotes_before = np.cumsum(quote, dtype=np.int32) - quote + state.in_string
    state.in_string = bool((int(np.count_nonzero(quote)) + state.in_string) % 2)
    structural = np.flatnonzero(
        ((block == _OPEN_OBJECT) | (block == _CLOSE_OBJECT) | (block == _OPEN_LIST) | (block == _CLOSE_LIST)
         | (block == _COMMA)) & (quotes_before % 2 == 0)
    )  # fmt: skip
    kinds = block[structural]
    opener = (kinds == _OPEN_OBJECT) | (kinds == _OPEN_LIST)
    closer = (kinds == _CLOSE_OBJECT) | (kinds == _CLOSE_LIST)
    level = state.depth + np.cumsum(opener.astype(np.int64) - closer, dtype=np.int64)  # depth after each
    if len(level):
        shape.depth = max(shape.depth, int(level.max()))
        state.depth = int(level[-1])
    comma = kinds == _COMMA
    state.top_commas += int(np.count_nonzero(comma & (level == 1)))
    second = level == 2
    shape.records += int(np.count_nonzero((comma | opener) & second))
    # Opening and closing a top-level value are few (MAX_TOP_LEVEL_FIELDS); the commas between its
    # elements are many, so only every chunk-th one's position is kept.
    edges = np.flatnonzero((opener & second) | (closer & (level == 1)))
    commas = np.flatnonzero(comma & second)
    bounds = [0, *(int(e) for e in edges), len(kinds)]
    for i in range(len(bounds) - 1):
        if state.open_list is not None:
            inside = commas[(commas >= bounds[i]) & (commas < bounds[i + 1])]
            numbers = state.open_list.commas + 1 + np.arange(len(inside))
            cut = structural[inside[numbers % chunk == 0]] + offset
            state.open_list.cuts += cut.tolist()
            state.open_list.commas += len(inside)
        if i + 1 < len(bounds) - 1:
            edge = bounds[i + 1]
            if opener[edge] and kinds[edge] == _OPEN_LIST:
                state.open_list = JsonList(int(structural[edge]) + offset)
            elif closer[edge] and state.open_list is not None:
                state.open_list.closed = int(structural[edge]) + offset
                shape.lists.append(state.open_list)
                state.open_list = None


def check_json_shape(shape: JsonShape, max_rows: int) -> None:
    """413 for more records than `max_rows`; 422 for a body nested too deep or with too many fields."""
    if shape.depth > MAX_JSON_DEPTH:
        problem = {"row": None, "field": "body", "reason": f"nested deeper than {MAX_JSON_DEPTH} levels"}
        raise RequestProblem(422, "The request is not valid.", [problem])
    if shape.top_fields > MAX_TOP_LEVEL_FIELDS:
        problem = {"row": None, "field": "body", "reason": "more fields than a request can have"}
        raise RequestProblem(422, "The request is not valid.", [problem])
    if shape.records > max_rows:
        raise too_many_pupils(max_rows)


def _not_json() -> RequestProblem:
    problem = {"row": None, "field": "body", "reason": "not valid JSON"}
    return RequestProblem(422, "The request is not valid.", [problem])


def parse_json_chunks(data: bytes, shape: JsonShape) -> Any:
    """`json.loads(data)`, with each top-level list parsed a slice (its `cuts`) at a time."""
    try:
        if not shape.lists:
            return json.loads(data)
        pieces, cursor = [], 0
        for listed in shape.lists:
            pieces += [data[cursor : listed.opened + 1]]
            cursor = listed.closed
        skeleton = json.loads(b"".join([*pieces, data[cursor:]]))
        emptied = [key for key, value in skeleton.items() if value == []]
        if len(emptied) != len(shape.lists):  # a repeated key: which list it means is ambiguous
            problem = {"row": None, "field": "body", "reason": "a field is given more than once"}
            raise RequestProblem(422, "The request is not valid.", [problem])
        for key, listed in zip(emptied, shape.lists, strict=True):
            bounds = [listed.opened, *listed.cuts, listed.closed]
            values: list[Any] = []
            for first, last in zip(bounds, bounds[1:], strict=False):
                piece = data[first + 1 : last]
                if len(bounds) > 2 and not piece.strip():  # `[1,]`: a comma with no element after it
                    raise _not_json()
                values += json.loads(b"[" + piece + b"]")
            skeleton[key] = values
        return skeleton
    except (ValueError, RecursionError):  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise _not_json() from None
