"""The rejects frame: one line per rejected input row, in the data contract's columns.

`file, row, column, value, reason`: the row is numbered from 1 after the header; a row failing in
several columns is one line whose columns, values and reasons are joined by " | ".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.contract import REJECT_COLUMNS

REJECTS_FILE = "rejects.csv"  # written by `exclusion-risk check` and `exclusion-risk link`
JOIN = " | "  # between the failures of one rejected row


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "string") for c in REJECT_COLUMNS})


def reject_frame(name: str, rows, column, value, reason) -> pd.DataFrame:
    """Rejects rows; each argument a scalar (same for every row) or one value per row, unaligned."""
    rows = np.asarray(rows, dtype=np.int64)

    def per_row(x) -> np.ndarray:
        return np.full(len(rows), x, dtype=object) if isinstance(x, str) else np.asarray(x, dtype=object)

    frame = {"file": per_row(name), "row": rows, "column": per_row(column), "value": per_row(value)}
    frame["reason"] = per_row(reason)
    return pd.DataFrame(frame).astype({c: "string" for c in REJECT_COLUMNS if c != "row"})


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
