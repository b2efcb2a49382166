"""Limits on a Parquet census upload, checked before the census reader decodes it.

A Parquet file is compressed and encoded, and its footer is written by whoever made the file: a few
kilobytes can decode to gigabytes. So the footer's sizes are checked first (cheap), then the rows and
the bytes the values take once decoded are counted a batch at a time, text columns kept as their
dictionaries, and the upload is refused (413) as soon as either passes its limit.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.limits import check_row_count, too_many_pupils

PARQUET_COUNT_BATCH = 65_536  # rows decoded at a time while a Parquet upload's rows are counted
# Each value stored as the previous one's prefix plus a suffix: a few bytes of file decode to as many
# long values as there are rows, one at a time, before any count could stop them (1,000-character
# values: 3.4 KB of column, 0.1 MB decoded, per 100 rows). pandas, pyarrow and Spark do not write it
# unless asked.
PREFIX_ENCODINGS = frozenset({"DELTA_BYTE_ARRAY"})


def check_parquet_upload(data: bytes, max_rows: int, max_bytes: int) -> None:
    """413 for a Parquet upload of more than `max_rows` rows or whose values take more than
    `max_bytes` once decoded; 422 for one that cannot be read, is encoded as it may not be, or has a
    nested column (a census column is one value a row)."""
    parquet = _parquet_file(data)  # text columns as dictionaries: the footer is the same either way
    rows = _footer_rows(parquet, max_bytes)
    check_row_count(rows, max_rows)
    _refuse_nested(parquet)
    # Fixed-width binary is not read as a dictionary, and pyarrow decodes a row group's column whole,
    # whatever the batch (5,000 rows of one 100,000-byte value: 5 KB of file, 0.5 GB decoded): its
    # decoded size is its rows times its width.
    fixed = sum(f.type.byte_width for f in parquet.schema_arrow if pa.types.is_fixed_size_binary(f.type))
    if rows * fixed > max_bytes:
        raise _decoded_past(max_bytes)
    _count_parquet_rows(parquet, max_rows, max_bytes)


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) or (
        pa.types.is_large_binary(kind)
    )


def _refuse_nested(parquet: pq.ParquetFile) -> None:
    """422 naming the first nested column (list, struct, map): decoded, its values are not counted
    here, and the reader cannot read it as text anyway."""
    for f in parquet.schema_arrow:
        if pa.types.is_nested(f.type):
            problem = {"row": None, "field": f.name[:80], "reason": "a nested column (list, struct or map)"}
            raise RequestProblem(422, "The Parquet file has a column that is not one value a row.", [problem])


def _unreadable_parquet() -> RequestProblem:
    problem = {"row": None, "field": "file", "reason": "not a readable Parquet file"}
    return RequestProblem(422, "The file cannot be read as a Parquet census extract.", [problem])


def _parquet_file(data: bytes) -> pq.ParquetFile:
    """The file with its text columns read as their dictionary and codes, not one value a row (the
    schema is read first to name them)."""
    try:
        text = [f.name for f in pq.ParquetFile(io.BytesIO(data)).schema_arrow if _is_text(f.type)]
        return pq.ParquetFile(io.BytesIO(data), read_dictionary=text)
    except Exception:  # pyarrow's message may quote the file; ours says what is wrong
        raise _unreadable_parquet() from None


def _footer_rows(parquet: pq.ParquetFile, max_uncompressed: int) -> int:
    """Rows of a Parquet file as its footer gives them; 413 when the footer says it would expand past
    `max_uncompressed` bytes once decompressed."""
    try:
        metadata = parquet.metadata
        groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
        expanded = sum(group.total_byte_size for group in groups)
        encodings = {e for g in groups for i in range(g.num_columns) for e in g.column(i).encodings}
        rows = int(metadata.num_rows)
    except Exception:
        raise _unreadable_parquet() from None
    if encodings & PREFIX_ENCODINGS:
        reason = "written with DELTA_BYTE_ARRAY encoding, not accepted: write it with the default encoding"
        problem = {"row": None, "field": "file", "reason": reason}
        raise RequestProblem(422, "The Parquet file's encoding is not accepted.", [problem])
    if expanded > max_uncompressed:
        raise RequestProblem(
            413, f"Uncompressed, the Parquet file is larger than the limit of {max_uncompressed:,} bytes."
        )
    return rows


def _decoded_bytes(column: pa.Array) -> int:
    """Bytes `column`'s values take one a row; a dictionary column's without expanding it."""
    if pa.types.is_dictionary(column.type):
        if not (pa.types.is_binary(column.type.value_type) or pa.types.is_string(column.type.value_type)):
            return column.nbytes
        lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
        return int(pc.sum(lengths).as_py() or 0) + 4 * len(column)  # values and their offsets
    return column.nbytes


def _count_parquet_rows(parquet: pq.ParquetFile, max_rows: int, max_bytes: int) -> None:
    """The rows a Parquet file really decodes to and the bytes its values take once decoded, a batch
    at a time; 413 as soon as either passes its limit. Text columns are read as dictionaries
    (`_parquet_file`): a few bytes of file can hold one long value that
    every row repeats, which the footer's sizes (encoded) do not show and decoding would expand
    (1,500 rows sharing a 1 MB surname: 9 KB of file, 3.2 GB of server memory before this check)."""
    counted = decoded = 0
    try:
        for batch in parquet.iter_batches(batch_size=min(PARQUET_COUNT_BATCH, max_rows + 1)):
            counted += batch.num_rows
            decoded += sum(_decoded_bytes(column) for column in batch.columns)
            if counted > max_rows or decoded > max_bytes:
                break
    except Exception:  # a corrupt page: pyarrow's message may quote the file
        raise _unreadable_parquet() from None
    if counted > max_rows:
        raise too_many_pupils(max_rows)
    if decoded > max_bytes:
        raise _decoded_past(max_bytes)


def _decoded_past(max_bytes: int) -> RequestProblem:
    limit = f"the limit of {max_bytes:,} bytes"
    return RequestProblem(413, f"Decoded, the Parquet file's values take more than {limit}.")
