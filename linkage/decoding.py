"""Bytes -> text: the encoding is decided per file, and rows holding undecodable bytes are rejected.

UTF-8 (a BOM is dropped) when the bytes decode; else UTF-8 with the broken rows rejected when the
file clearly is UTF-8 (it holds valid multi-byte characters); else Windows-1252, as many LA exports
are. Bytes that are undefined even in Windows-1252 are decoded as U+FFFD and the rows holding them
are rejected ("undecodable bytes"), so nothing is silently altered. UTF-16 (with its BOM) is read too.

A field longer than any value of any extract (a 20 MB "surname") or holding control characters (NUL
and the like: binary data) is broken structure, not data: its row is rejected, whatever the file
type, and the rejects keep only the start of it.
"""

from __future__ import annotations

import re

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


def decode(data: bytes) -> tuple[bytes, str, bool]:
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


def reject_undecodable(raw: RawFile) -> None:
    """Reject every row holding U+FFFD (a replaced byte), naming its first such column."""
    bad = np.zeros(raw.table.num_rows, dtype=bool)
    for position in range(raw.table.num_columns):
        column = raw.table.column(position)
        hit = pc.fill_null(pc.match_substring(column, "\ufffd"), False).to_numpy() & ~bad
        if hit.any():
            values = np.asarray(column.filter(pa.array(hit)).to_pylist(), dtype=object)
            rows, column_name = raw.rows[hit], raw.header[position]
            raw.rejects.append(reject_frame(raw.name, rows, column_name, values, UNDECODABLE))
        bad |= hit
    raw.keep(~bad)


def reject_broken_text(raw: RawFile) -> None:
    """Reject every row with a field over MAX_FIELD_CHARS or holding control characters.

    Checked on each column's distinct values (the encodings are reused by the duplicate check).
    """
    raw.encode_all()  # on several threads; the duplicate check reuses them
    bad = np.zeros(raw.table.num_rows, dtype=bool)
    for position in range(raw.table.num_columns):
        encoded = raw.encoded_column(position)
        distinct = encoded.dictionary
        too_long = pc.fill_null(pc.greater(pc.utf8_length(distinct), MAX_FIELD_CHARS), False)
        control = pc.fill_null(pc.match_substring_regex(distinct, _CONTROL), False)
        broken = pc.or_(too_long, control).to_numpy(zero_copy_only=False)
        if not broken.any():
            continue
        codes = pc.fill_null(encoded.indices, len(distinct)).to_numpy()
        hit = np.append(broken, False)[codes] & raw.alive & ~bad
        if hit.any():
            long_rows = np.append(too_long.to_numpy(zero_copy_only=False), False)[codes][hit]
            values = [v[:SHOWN_CHARS] for v in raw.table.column(position).filter(pa.array(hit)).to_pylist()]
            reasons = np.where(long_rows, OVERSIZED, CONTROL_CHARACTERS)
            raw.rejects.append(reject_frame(raw.name, raw.rows[hit], raw.header[position], values, reasons))
        bad |= hit
    raw.keep(~bad)
