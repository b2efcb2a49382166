"""The one error a reader raises for an extract it cannot read at all.

Row-level problems never raise: those rows go to the rejects frame. `ExtractError` is for a file
that cannot be read as an extract (missing, empty, without a required column, not CSV/Parquet).
Its message names the file and, where there is one, the column and row; never a pupil's values.
"""

from __future__ import annotations


class ExtractError(Exception):
    """A fatal problem with one extract file; `str(error)` is the message for the user."""

    def __init__(self, file: str, problem: str, *, column: str | None = None, row: int | None = None):
        self.file = file
        self.problem = problem
        self.column = column
        self.row = row
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")
