"""A row that repeats the file's header: two (or more) exports joined into one file.

Joining exports (`cat` or copy and paste) leaves the second export's header line in the middle of the
file, where it is read as a row. Checked column by column it failed every check (its DOB is no date,
its Sex no code), which did not say what had happened; it is rejected once, as a repeat of the header,
and stays one of the rows read (clean + rejected = rows). A row repeats the header when every column
holds its own column's name, matched as headers are (linkage.fields.header_key: case, spaces and
punctuation ignored, so a second export's byte-order mark or quotes make no difference), or another
name the contract accepts for that column (an MIS's `Legal Surname` beneath `Surname`). The rejects
name no value: the row holds column names only.

A header row whose names are another column order, or other columns, stops the read naming its row: the
rows after it were read under the first header's columns, so a data officer's two MIS exports joined
swapped 17,989 pupils' surname and forename and 15,208 pupils' authorised and unauthorised absence,
with the second header rejected as a row of bad values and nothing else said. A header row is one whose
every cell is blank or a column name the contract knows (any extract's) or this file's, with names in
at least half its columns (and two).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.fields import FIELDS, header_key
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame

REPEATED_HEADER = "repeats the file's header row (two exports joined?)"


def _keys(text: pa.Array) -> pa.Array:
    """header_key of each text, in arrow (a blank value: the key of an untitled column, "")."""
    lowered = pc.utf8_lower(pc.fill_null(text, ""))
    return pc.replace_substring_regex(lowered, r"[^a-z0-9]", "")


@lru_cache(maxsize=1)
def _known_names() -> dict[str, str]:
    """header_key of every name and alias the contract knows -> its column's name (the first extract's
    that names it)."""
    known: dict[str, str] = {}
    for fields in FIELDS.values():
        for f in fields:
            for name in (f.name, *f.aliases):
                known.setdefault(header_key(name), f.name)
    return known


def _column_names(keys: list[str]) -> list[str]:
    known = _known_names()
    return [known.get(key, key) for key in keys]


def reject_repeated_headers(raw: RawFile) -> None:
    """Reject every live row that repeats the header (REPEATED_HEADER); stop the read (ExtractError) at a
    header row of another column order or other columns.

    The column of fewest distinct values is looked at first, each distinct text once (a few codes:
    rarely does a row remain in question after it); the others only at the rows still in question."""
    header_keys = [header_key(name) for name in raw.header]
    if not any(header_keys):  # no names to repeat
        return
    names = pa.array(sorted((set(_known_names()) | set(header_keys)) - {""}), pa.string())
    raw.encode_all()  # done already by the load's checks: each column's distinct texts
    order = sorted(range(raw.num_columns), key=lambda p: len(raw.encoded_column(p).dictionary))
    candidates = np.flatnonzero(raw.alive)
    for step, position in enumerate(order):
        if not len(candidates):
            return
        if step == 0:
            encoded = raw.encoded_column(position)
            keys = _keys(encoded.dictionary)
            match = pc.is_in(keys, value_set=names).to_numpy(zero_copy_only=False)
            # the last stands for a blank value: in question only under an untitled column (a header row
            # names the columns: a mostly blank column would otherwise keep every row in question)
            match = np.append(match | (pc.equal(keys, "").to_numpy(zero_copy_only=False)
                                       & (header_keys[position] == "")), header_keys[position] == "")
            codes = pc.fill_null(encoded.indices, len(match) - 1).to_numpy()
            candidates = candidates[match[codes[candidates]]]
        else:
            keys = _keys(raw.text_at(position, candidates))
            named = pc.or_(pc.is_in(keys, value_set=names), pc.equal(keys, ""))
            candidates = candidates[named.to_numpy(zero_copy_only=False)]
    if not len(candidates):
        return
    cells = [_keys(raw.text_at(position, candidates)).to_pylist() for position in range(raw.num_columns)]
    wanted, repeats = _column_names(header_keys), []
    for at, row in enumerate(candidates):
        keys = [column[at] for column in cells]
        if sum(1 for key in keys if key) < max(2, (raw.num_columns + 1) // 2):
            continue  # a row of a few blanks and a code that is also a name: data
        given = _column_names(keys)
        if all(key == "" or name == header for key, name, header in zip(keys, given, wanted, strict=True)):
            repeats.append(row)
            continue
        differ = "another column order" if sorted(given) == sorted(wanted) else "other columns"
        raise ExtractError(
            raw.name,
            f"a header row of {differ} than the first line's (two exports joined?): the rows after it would "
            "be read under the first header's columns. Save each export as a file of its own (a census "
            "collection may be split across files), or put its columns in the first's order",
            row=int(raw.rows[row]),
        )
    if repeats:
        raw.rejects.append(reject_frame(raw.name, raw.rows[repeats], "", "", REPEATED_HEADER))
        keep = np.ones(raw.num_rows, dtype=bool)
        keep[repeats] = False
        raw.keep(keep)
