"""One extract file as loaded: its text in arrow, the row number of each row, and its rejects so far.

The later steps (duplicates, header mapping, validation) read the file but never filter it (that
would copy every column): they clear rows' `alive` flags and append to `rejects` instead. Once every
column is dictionary-encoded (the load's checks do it), the table goes (`drop_text`): the encodings
hold the same text, each distinct value once, and every later step reads them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.rejects import empty_rejects

PARALLEL_ROWS = 100_000  # columns are encoded on several threads from this many rows on


@dataclass
class RawFile:
    """A file as text, kept in arrow until the mapped columns are picked (extras never reach pandas).

    `table` has every column of the file as arrow strings (blank = null), in header order, until
    `drop_text` (None after); `rows` holds each table row's 1-based row number in the file
    (ascending); `alive` marks the rows not rejected yet.
    """

    name: str
    header: list[str]
    table: pa.Table | None
    rows: np.ndarray
    rows_read: int
    rejects: list[pd.DataFrame]
    encoding: str
    aliased: list[str] = field(default_factory=list)  # "Gender -> Sex": headers read under an alias
    # contract name -> the position of the column read as it (linkage.validation.map_header); the other
    # columns are extras, which no step reads but the duplicate checks compare
    mapping: dict[str, int] = field(default_factory=dict)
    # what the read set aside that is no record ("3 empty lines (only commas) skipped"), or rows rejected
    # for the file as a whole (linkage.collection_dates), for its note
    skipped: list[str] = field(default_factory=list)
    # what the read filled in for the file ("no CensusTerm column: every row read as AUT"), for its note
    filled: list[str] = field(default_factory=list)
    # column position -> its dictionary encoding, made once (for the checks and the duplicate check)
    encodings: dict[int, pa.DictionaryArray] = field(default_factory=dict)
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    num_rows: int = field(init=False)  # the table's, kept when its text goes
    num_columns: int = field(init=False)

    def __post_init__(self) -> None:
        self.num_rows, self.num_columns = self.table.num_rows, self.table.num_columns
        self.alive = np.ones(self.num_rows, dtype=bool)

    def keep(self, mask: np.ndarray) -> None:
        """Keep only rows where `mask` (one flag per table row) is True."""
        self.alive &= mask

    def encoded_column(self, position: int) -> pa.DictionaryArray:
        if position not in self.encodings:
            if self.table is None:  # drop_text encodes every column first; release keeps none
                raise RuntimeError(f"{self.name}: column {position} was not encoded before the text went")
            self.encodings[position] = _dictionary(self.table.column(position))
        return self.encodings[position]

    def encode_all(self) -> None:
        """Dictionary-encode every column, several at once (arrow releases the GIL: both cores work)."""
        todo = [p for p in range(self.num_columns) if p not in self.encodings]
        workers = min(len(todo), pa.cpu_count())
        if workers < 2 or self.num_rows < PARALLEL_ROWS:
            for position in todo:
                self.encoded_column(position)
            return
        with ThreadPoolExecutor(workers) as pool:
            encoded = pool.map(lambda p: _dictionary(self.table.column(p)), todo)
            self.encodings.update(zip(todo, encoded, strict=True))

    def drop_text(self) -> None:
        """Every column encoded, then the table goes: a column's text is its encoding's dictionary
        taken by its indices, and a column of repeated values (codes, dates, postcodes, a pupil's
        name on every termly row) is much smaller so (a 2,000,000-pupil census: the peak while it is
        validated 3.31 -> 2.71 GB)."""
        self.encode_all()
        self.table = None

    def text_at(self, position: int, positions: np.ndarray) -> pa.Array:
        """Column `position`'s text at table positions `positions` (null where blank)."""
        encoded = self.encoded_column(position)
        return pc.take(encoded.dictionary, encoded.indices.take(pa.array(positions, type=pa.int64())))

    def values(self, position: int, rows: np.ndarray) -> np.ndarray:
        """The file's text in column `position` at row numbers `rows` (rows of `self.rows`)."""
        taken = self.text_at(position, np.searchsorted(self.rows, rows))
        return np.asarray(taken.to_pylist(), dtype=object)

    @property
    def nbytes(self) -> int:
        """Memory the file's text holds: its table (until drop_text) and its encodings."""
        table = self.table.nbytes if self.table is not None else 0
        return table + sum(e.nbytes for e in self.encodings.values())

    def release(self) -> None:
        """Drop the file's text once its frame is built (its rejects, row count and name stay), so the
        next file of a folder is read without it: at 500,000 pupils the census's text and encodings
        were 0.45 GB that nothing after the frame reads. The file has no rows left here."""
        self.table = None
        self.encodings.clear()
        self.rows, self.alive = np.empty(0, dtype=self.rows.dtype), np.zeros(0, dtype=bool)
        self.num_rows = self.num_columns = 0

    def all_rejects(self) -> pd.DataFrame:
        """Every reject of this file, in row order."""
        frames = [r for r in self.rejects if len(r)]
        if not frames:
            return empty_rejects()
        return pd.concat(frames, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)


def _dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """One column dictionary-encoded (missing is its own code), without first copying its text.

    Arrow encodes the chunks against one shared dictionary, so only the indices are concatenated
    (when the chunks' dictionaries are not the very same array, arrow unifies them).
    """
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    if encoded.num_chunks == 1:
        return encoded.chunk(0)
    if encoded.num_chunks == 0 or len({_identity(c.dictionary) for c in encoded.chunks}) > 1:
        return encoded.combine_chunks()
    indices = pa.concat_arrays([c.indices for c in encoded.chunks])
    return pa.DictionaryArray.from_arrays(indices, encoded.chunk(0).dictionary)


def _identity(array: pa.Array) -> tuple:
    """Which memory an array is (equal for the same array, whatever its contents)."""
    return (len(array), array.offset, *(b.address if b is not None else None for b in array.buffers()))
