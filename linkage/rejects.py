r"""The rejects frame: one line per rejected input row, in the data contract's columns.

`file, row, column, value, reason`: the row is numbered from 1 after the header, as records (empty
lines not counted: the read's note says where they were, csv_records); a row failing in several
columns is one line whose columns, values and reasons are joined by " | ".

The value is the file's text, for the supplier to find and fix the row, but never its control
characters: rejects.csv is opened in terminals and spreadsheets, where an ESC, BEL or C1 character
(CSI, U+009B) in a rejected row runs as a command. Every C0 control character but tab, DEL and the C1
characters (U+0000-U+0008, U+000A-U+001F, U+007F-U+009F) is written as an escape: LF and CR as `\n`
and `\r`, the others as `\xNN` (two lower-case hex digits: `\x07`, `\x1b`), so that the rest of
the value reads as it was and each rejected row stays on one line. A backslash already in the value is
left as it is, so a literal `\x07` in the file reads the same; the reason says when a row was rejected
for holding control characters. The column (a header from the file) is escaped the same way.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from exclusion_risk.contract import REJECT_COLUMNS

REJECTS_FILE = "rejects.csv"  # written by `exclusion-risk check` and `exclusion-risk link`
JOIN = " | "  # between the failures of one rejected row
_INVISIBLE = "[\x00-\x08\x0a-\x1f\x7f-\x9f]"  # control characters but tab: escaped (see above)
_NAMED = {"\n": "\\n", "\r": "\\r"}


def visible(text: str) -> str:
    """`text` with its control characters but tab written as escapes (the module docstring)."""
    return re.sub(_INVISIBLE, lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def _escaped(column: pd.Series) -> pd.Series:
    hits = column.str.contains(_INVISIBLE, regex=True).fillna(False).to_numpy(dtype=bool)
    if not hits.any():
        return column
    values = column.to_numpy(dtype=object, na_value=None)  # a copy
    values[hits] = [visible(v) for v in values[hits]]
    return pd.Series(values, index=column.index, dtype="string")


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "string") for c in REJECT_COLUMNS})


def reject_frame(name: str, rows, column, value, reason) -> pd.DataFrame:
    """Rejects rows; each argument a scalar (same for every row) or one value per row, unaligned."""
    rows = np.asarray(rows, dtype=np.int64)

    def per_row(x) -> np.ndarray:
        return np.full(len(rows), x, dtype=object) if isinstance(x, str) else np.asarray(x, dtype=object)

    frame = {"file": per_row(name), "row": rows, "column": per_row(column), "value": per_row(value)}
    frame["reason"] = per_row(reason)
    frame = pd.DataFrame(frame).astype({c: "string" for c in REJECT_COLUMNS if c != "row"})
    for column in ("column", "value"):  # the file's text: its control characters shown as escapes
        frame[column] = _escaped(frame[column])
    return frame


def one_line_per_row(rejects: pd.DataFrame) -> pd.DataFrame:
    """A row failing in several columns becomes one line: columns, values, reasons joined by ' | '."""
    if not rejects["row"].duplicated().any():
        return rejects
    joined = (
        rejects.fillna({"value": ""})
        .groupby(["file", "row"], sort=True, as_index=False)
        .agg({c: JOIN.join for c in ("column", "value", "reason")})
    )
    return joined[REJECT_COLUMNS].astype({c: "string" for c in REJECT_COLUMNS if c != "row"})
