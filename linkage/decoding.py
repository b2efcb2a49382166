"""Bytes -> text: the encoding is decided per file, and rows holding undecodable bytes are rejected.

UTF-8 (a BOM is dropped) when the bytes decode; else UTF-8 with the broken rows rejected when the
file clearly is UTF-8 (it holds valid multi-byte characters); else Windows-1252, as many LA exports
are. Bytes that are undefined even in Windows-1252 are decoded as U+FFFD and the rows holding them
are rejected ("undecodable bytes"), so nothing is silently altered. UTF-16 (with its BOM) is read too.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame

UNDECODABLE = "undecodable bytes (neither UTF-8 nor Windows-1252; shown as U+FFFD)"


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
