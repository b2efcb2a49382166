"""CSV and Parquet files -> RawFile: every column as text, every row numbered, ragged rows rejected.

CSV goes through arrow's multi-threaded parser; a file arrow cannot split (rows with the wrong number
of fields) is parsed again by Python's csv module, which rejects those rows. The delimiter is taken
from the header line (comma, tab, semicolon or pipe). Blank lines are not rows. Parquet columns of
any type are read as their text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from exclusion_risk.linkage.decoding import decode, reject_undecodable
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame


def load(path: Path, name: str) -> RawFile:
    """The file at `path` (named `name` in messages and rejects) as text."""
    if not path.is_file():
        raise ExtractError(name, "file not found")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _load_parquet(path, name)
    if suffix == ".csv":
        return _load_csv(path, name)
    raise ExtractError(name, "not a .csv or .parquet file")


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _parse_forgiving(name: str, text: str, delimiter: str, width: int):
    """The slow, forgiving parse: rows with the wrong number of fields are rejected, not fatal."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    good: list[list[str]] = []
    good_rows: list[int] = []
    bad_rows: list[int] = []
    bad_values: list[str] = []
    bad_reasons: list[str] = []
    row = 0
    for record in reader:
        if not record:
            continue  # a blank line is not a row
        row += 1
        if len(record) > width and not any(v.strip() for v in record[width:]):
            record = record[:width]  # trailing empty fields (a stray delimiter at the line end)
        if len(record) == width:
            good.append(record)
            good_rows.append(row)
        else:
            bad_rows.append(row)
            bad_values.append(delimiter.join(record))
            bad_reasons.append(f"wrong number of fields ({len(record)}; the header has {width})")
    columns = list(zip(*good, strict=True)) if good else [()] * width
    table = pa.table(
        {
            f"c{i}": pa.array([v if v != "" else None for v in col], type=pa.string())
            for i, col in enumerate(columns)
        }
    )
    rejects = reject_frame(name, bad_rows, "", bad_values, bad_reasons)
    return table, np.asarray(good_rows, dtype=np.int64), rejects, row


def _load_csv(path: Path, name: str) -> RawFile:
    data = path.read_bytes()
    if not data or data.isspace():  # (strip() would copy the whole file)
        raise ExtractError(name, "the file is empty (no header row, no data)")
    utf8, encoding, replaced = decode(data)
    text_head = utf8[: utf8.find(b"\n") if b"\n" in utf8 else len(utf8)].decode("utf-8").rstrip("\r")
    delimiter = _delimiter(text_head)
    header = next(csv.reader([text_head], delimiter=delimiter))
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(utf8),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
        rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
        rejects, rows_read = [], table.num_rows
    except pa.ArrowInvalid:  # ragged rows or quoted line breaks: the forgiving parser decides
        table, rows, bad, rows_read = _parse_forgiving(name, utf8.decode("utf-8"), delimiter, len(header))
        rejects = [bad]
    if rows_read == 0:
        raise ExtractError(name, "the file has a header row but no data rows")
    raw = RawFile(name, header, table, rows, rows_read, rejects, encoding)
    if replaced:
        reject_undecodable(raw)
    return raw


def _load_parquet(path: Path, name: str) -> RawFile:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ExtractError(name, f"not a readable Parquet file ({type(exc).__name__})") from None
    if table.num_rows == 0:
        raise ExtractError(name, "the file has columns but no data rows")
    header = list(table.column_names)
    columns = {}
    for i, column_name in enumerate(header):
        try:
            columns[f"c{i}"] = pc.cast(table.column(i), pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            raise ExtractError(
                name, "this column's type cannot be read as text", column=column_name
            ) from None
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return RawFile(name, header, pa.table(columns), rows, table.num_rows, [], "Parquet")
