"""A row that repeats the file's header: two (or more) exports joined into one file.

Joining exports (`cat` or copy and paste) leaves the second export's header line in the middle of the
file, where it is read as a row. Checked column by column it failed every check (its DOB is no date,
its Sex no code), which did not say what had happened; it is rejected once, as a repeat of the header,
and stays one of the rows read (clean + rejected = rows). A row repeats the header when every column
holds its own column's name, matched as headers are (linkage.fields.header_key: case, spaces and
punctuation ignored, so a second export's byte-order mark or quotes make no difference). The rejects
name no value: the row holds column names only.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.fields import header_key
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame

REPEATED_HEADER = "repeats the file's header row (two exports joined?)"


def _keys(text: pa.Array) -> pa.Array:
    """header_key of each text, in arrow (a blank value: the key of an untitled column, "")."""
    lowered = pc.utf8_lower(pc.fill_null(text, ""))
    return pc.replace_substring_regex(lowered, r"[^a-z0-9]", "")


def reject_repeated_headers(raw: RawFile) -> None:
    """Reject every live row whose every column holds that column's name (REPEATED_HEADER).

    The column of fewest distinct values is looked at first, each distinct text once (a few codes:
    rarely does a row remain in question after it); the others only at the rows still in question."""
    if not any(header_key(name) for name in raw.header):  # no names to repeat
        return
    raw.encode_all()  # done already by the load's checks: each column's distinct texts
    order = sorted(range(raw.num_columns), key=lambda p: len(raw.encoded_column(p).dictionary))
    candidates = np.flatnonzero(raw.alive)
    for step, position in enumerate(order):
        if not len(candidates):
            return
        key = header_key(raw.header[position])
        if step == 0:
            encoded = raw.encoded_column(position)
            match = pc.equal(_keys(encoded.dictionary), key).to_numpy(zero_copy_only=False)
            match = np.append(match, key == "")  # the last stands for a blank value
            codes = pc.fill_null(encoded.indices, len(match) - 1).to_numpy()
            candidates = candidates[match[codes[candidates]]]
        else:
            text = raw.text_at(position, candidates)
            candidates = candidates[pc.equal(_keys(text), key).to_numpy(zero_copy_only=False)]
    if len(candidates):
        raw.rejects.append(reject_frame(raw.name, raw.rows[candidates], "", "", REPEATED_HEADER))
        keep = np.ones(raw.num_rows, dtype=bool)
        keep[candidates] = False
        raw.keep(keep)
