"""Bytes -> text: the encoding is decided per file, and rows holding undecodable bytes are rejected.

UTF-8 (a BOM is dropped) when the bytes decode; else, when the file clearly is UTF-8 (it holds at
least as many valid multi-byte characters as broken bytes), UTF-8 with each stretch that is not UTF-8
read as Windows-1252 (a file mixing encodings: a row pasted in from another system), the lines so read
given for the read's note (`Decoded.cp1252_lines`); else Windows-1252, as many LA exports are.
Bytes that are undefined even in Windows-1252 are decoded as U+FFFD and the rows holding them are
rejected ("undecodable bytes"), so nothing is silently altered.
UTF-16 is read too, with its BOM or without (one byte of each pair NUL at the start), and UTF-32 with
its BOM (Python's and some databases' "Unicode" export).

A field longer than any value of any extract (a 20 MB "surname") or holding control characters (NUL
and the like: binary data) is broken structure, not data: its row is rejected, whatever the file
type, and the rejects keep only the start of it, with a marker saying it was cut (`shown_start`).
"""

from __future__ import annotations

import codecs
import re
import threading
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame

UNDECODABLE = "undecodable bytes (neither UTF-8 nor Windows-1252; shown as U+FFFD)"
MAX_FIELD_CHARS = 1_000  # no field of any extract is near this long
SHOWN_CHARS = 200  # how much of an over-long or broken value the rejects file keeps
OVERSIZED = f"longer than {MAX_FIELD_CHARS:,} characters (broken structure, not a value)"
CONTROL_CHARACTERS = "holds control characters (binary data, not text)"
_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"  # tab, CR and LF can be in a quoted value


def shown_start(value: str, total: int | None = None) -> str:
    """What the rejects keep of a value or line: all of it when it is at most SHOWN_CHARS long; else its
    start and a marker saying it was cut and how long it was, SHOWN_CHARS in all (`total`: the whole
    length where `value` is already only the start of it)."""
    total = len(value) if total is None else total
    if total <= SHOWN_CHARS:
        return value
    marker = f"... [cut: {total:,} characters in all]"
    return value[: SHOWN_CHARS - len(marker)] + marker


UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")  # checked first: UTF-16's LE mark begins the LE one
UNICODE_BOMS = (*UTF32_BOMS, b"\xff\xfe", b"\xfe\xff")  # the marks of files decoded before any parsing


class Decoded(NamedTuple):
    utf8: bytes  # the text for the parser
    encoding: str  # its name, for the read's note
    replaced: bool  # whether undecodable bytes were replaced by U+FFFD
    cp1252_lines: tuple[int, ...] = ()  # lines (0-based) of a UTF-8 file read as Windows-1252


def decode(data: bytes) -> Decoded:
    """The file's bytes as UTF-8 for the parser, and how they were read (`Decoded`)."""
    if data.startswith(UTF32_BOMS):
        text = data.decode("utf-32", errors="replace")
        return Decoded(text.encode("utf-8"), "UTF-32", "\ufffd" in text)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
        return Decoded(text.encode("utf-8"), "UTF-16", "\ufffd" in text)
    unmarked = utf16_without_bom(data)
    if unmarked is not None:
        text = data.decode(unmarked, errors="replace")
        order = "little" if unmarked.endswith("le") else "big"
        return Decoded(text.encode("utf-8"), f"UTF-16 ({order}-endian, no BOM)", "\ufffd" in text)
    encoding = "UTF-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "UTF-8 with BOM"
    if data.isascii():
        return Decoded(data, encoding, False)
    try:
        data.decode("utf-8")
        return Decoded(data, encoding, False)
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    # Real multi-byte characters at least as many as the bad bytes: UTF-8 with a few broken bytes. Fewer:
    # a Windows-1252 file in which a pair of bytes happens to spell a UTF-8 character (one "JosÃ©"
    # among fifty "Zoë" had every accented row rejected as undecodable).
    characters = sum(1 for _ in re.finditer("[^\x00-\x7f\ufffd]", text))
    if characters and characters >= text.count("\ufffd"):
        del text
        text, lines = _utf8_with_cp1252_lines(data)
        return Decoded(text.encode("utf-8"), encoding, "\ufffd" in text, lines)
    text = data.decode("cp1252", errors="replace")
    return Decoded(text.encode("utf-8"), "Windows-1252", "\ufffd" in text)


def _utf8_with_cp1252_lines(data: bytes) -> tuple[str, tuple[int, ...]]:
    """(text, lines read as Windows-1252): `data` as UTF-8, each stretch of bytes that is not UTF-8 read
    as Windows-1252 (its undefined bytes as U+FFFD, rejected as undecodable), and the lines (0-based)
    whose stretches all so decode: a line with an undefined byte is rejected, not read, and is not given.
    A "Zoë" in Windows-1252 among UTF-8 rows was rejected as "neither UTF-8 nor Windows-1252", and the
    pupil lost. One decoding pass (a codec error handler); line ends counted only between stretches."""
    _READ_AS_CP1252.starts = []
    try:
        text = data.decode("utf-8", errors=_CP1252_FALLBACK)
        starts = _READ_AS_CP1252.starts
    finally:
        del _READ_AS_CP1252.starts
    read: dict[int, bool] = {}  # line -> all its stretches decoded; a stretch is never ASCII (no line end)
    line, after = 0, 0
    for at, decoded in starts:
        line += data.count(b"\n", after, at) + data.count(b"\r", after, at) - data.count(b"\r\n", after, at)
        read[line] = read.get(line, True) and decoded
        after = at
    return text, tuple(n for n, decoded in read.items() if decoded)


_READ_AS_CP1252 = threading.local()  # where each decoding's stretches read as Windows-1252 start
_CP1252_FALLBACK = "exclusion_risk.linkage.cp1252"


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError) or not hasattr(_READ_AS_CP1252, "starts"):
        raise error
    text = error.object[error.start : error.end].decode("cp1252", errors="replace")
    _READ_AS_CP1252.starts.append((error.start, "\ufffd" not in text))
    return text, error.end


codecs.register_error(_CP1252_FALLBACK, _as_cp1252)


def utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the start of `data` is text in UTF-16 without its byte-order mark
    (one byte of each pair NUL: ASCII text so written), else None. Read as UTF-8, such a file had each
    line split in two and every row rejected for its NULs (4,789 records read as 9,604 rows)."""
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _reject_distinct(raw: RawFile, reasons_of, cut: bool = False) -> None:
    """Reject every row still alive whose value in some column has a reason, naming its first such
    column; the rejects keep the value (`cut`: only its start, said to be cut, `shown_start`).

    `reasons_of(distinct)` gives, for a column's distinct values (an arrow text array), an object array
    of reasons, None where the value is fine: each distinct text is checked once, and the encodings are
    reused by the duplicate check.
    """
    raw.encode_all()  # on several threads
    bad = np.zeros(raw.num_rows, dtype=bool)
    for position in range(raw.num_columns):
        encoded = raw.encoded_column(position)
        reasons = np.append(reasons_of(encoded.dictionary), None)  # the last stands for a blank value
        flagged = np.not_equal(reasons, None)
        if not flagged.any():
            continue
        codes = pc.fill_null(encoded.indices, len(reasons) - 1).to_numpy()
        hit = flagged[codes] & raw.alive & ~bad
        if hit.any():
            values = raw.text_at(position, np.flatnonzero(hit)).to_pylist()
            values = [shown_start(v) if cut else v for v in values]
            rows, name = raw.rows[hit], raw.header[position]
            raw.rejects.append(reject_frame(raw.name, rows, name, values, reasons[codes][hit]))
        bad |= hit
    raw.keep(~bad)


def _where(mask: pa.Array, reason: str) -> np.ndarray:
    return np.where(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), reason, None).astype(object)


def reject_undecodable(raw: RawFile) -> None:
    """Reject every row holding U+FFFD (a replaced byte), naming its first such column."""
    _reject_distinct(raw, lambda distinct: _where(pc.match_substring(distinct, "\ufffd"), UNDECODABLE))


def reject_broken_text(raw: RawFile) -> None:
    """Reject every row with a field over MAX_FIELD_CHARS or holding control characters (keeping only
    the start of an over-long one in the rejects, said to be cut)."""

    def reasons_of(distinct: pa.Array) -> np.ndarray:
        control = _where(pc.match_substring_regex(distinct, _CONTROL), CONTROL_CHARACTERS)
        too_long = pc.fill_null(pc.greater(pc.utf8_length(distinct), MAX_FIELD_CHARS), False)
        return np.where(too_long.to_numpy(zero_copy_only=False), OVERSIZED, control).astype(object)

    _reject_distinct(raw, reasons_of, cut=True)
