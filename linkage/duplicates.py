"""Exact duplicate rows of a file: the first copy stays, later copies are rejected naming it.
Different rows under one record id: all of them are rejected, each naming another.

Rows are equal when every column holds the same text, missing equal to missing; blank and " " are
different text here (both read as missing afterwards).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame


def reject_duplicates(raw: RawFile) -> None:
    """Reject every live row that repeats an earlier live row exactly."""
    live = np.flatnonzero(raw.alive)
    if live.size < 2:
        return
    # hash table, not a sort: factorize numbers the distinct hashes in order of first appearance
    which, _ = pd.factorize(_row_hash(raw)[live])
    new = np.ones(len(which), dtype=bool)
    new[1:] = which[1:] > np.maximum.accumulate(which)[:-1]
    first = live[np.flatnonzero(new)[which]]  # table position of the first live row with the same hash
    later = first != live
    if not later.any():
        return
    candidates, originals = live[later], first[later]
    same = _same_rows(raw, candidates, originals)
    dup, original = candidates[same], originals[same]
    if not dup.size:
        return
    reasons = [f"exact duplicate of row {r}" for r in raw.rows[original]]
    raw.rejects.append(reject_frame(raw.name, raw.rows[dup], "", "", reasons))
    keep = np.ones(raw.num_rows, dtype=bool)
    keep[dup] = False
    raw.keep(keep)


def _row_hash(raw: RawFile) -> np.ndarray:
    """64-bit hash per row from each column's dictionary codes (missing is its own code).

    Equal rows get equal hashes; unequal rows collide with negligible probability, and
    `reject_duplicates` compares the text of every candidate anyway.
    """
    raw.encode_all()
    columns = raw.num_columns
    multipliers = np.random.default_rng(20170105).integers(1, 2**63, columns, dtype=np.uint64) | 1
    rows = raw.num_rows
    hashed, scratch = np.zeros(rows, dtype=np.uint64), np.empty(rows, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around arithmetic modulo 2**64 is the point
        for position, multiplier in enumerate(multipliers):  # in place: no temporaries per column
            ids = raw.encoded_column(position).indices.to_numpy()  # no nulls: missing is a code
            np.add(ids, 1, out=scratch, casting="unsafe")
            np.bitwise_xor(hashed, scratch, out=hashed)
            np.multiply(hashed, multiplier, out=hashed)
            np.right_shift(hashed, np.uint64(29), out=scratch)
            np.bitwise_xor(hashed, scratch, out=hashed)
    return hashed


def _same_rows(raw: RawFile, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """True where row positions `left` and `right` hold the same text in every column."""
    same = np.ones(len(left), dtype=bool)
    for position in range(raw.num_columns):
        a, b = raw.text_at(position, left), raw.text_at(position, right)
        equal = pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False)
        both_missing = pc.and_(pc.is_null(a), pc.is_null(b)).to_numpy(zero_copy_only=False)
        same &= equal | both_missing
    return same


def reject_shared_ids(raw: RawFile, work: pd.DataFrame, column: str) -> pd.DataFrame:
    """`work` (a file's validated rows, indexed by row number) without the rows whose `column`, a
    record's own id naming one row, another of its rows also holds; those rows go to raw.rejects.

    All of them, not the first: the rows differ (exact copies were rejected before), the links and
    the pupil's history are keyed by the id, and which row it means cannot be told. Kept, one
    child's suspension would go into another's history under the other's link."""
    if column not in work.columns:
        return work
    shared = _shared(work[column])
    if not shared.any():
        return work
    # Rows of one id equal once tidied (case, padding: `m` and `M`) are one record written twice:
    # the first stays and the others are rejected naming it, as exact copies are.
    tidied = work[shared].astype("string").fillna("\x00")  # missing equal to missing
    copies = tidied.duplicated(keep="first").to_numpy()
    if copies.any():
        keyed = tidied.reset_index(names="_row")
        originals = keyed.groupby(list(tidied.columns), sort=False)["_row"].transform("min").to_numpy()
        rows = tidied.index.to_numpy()[copies]
        reasons = [f"repeats row {r} once tidied (case, spaces)" for r in originals[copies]]
        raw.rejects.append(reject_frame(raw.name, rows, "", "", reasons))
        work = work.drop(index=rows)
        shared = _shared(work[column])
        if not shared.any():
            return work
    ids = work[column]
    rows = pd.Series(work.index[shared], index=ids[shared].to_numpy())
    first = rows.groupby(level=0).transform("min").to_numpy()
    second = rows.groupby(level=0).transform(lambda r: r.nsmallest(2).iloc[-1]).to_numpy()
    other = np.where(rows.to_numpy() == first, second, first)
    reasons = [f"{column} also on row {r}: a record id must name one row" for r in other]
    raw.rejects.append(reject_frame(raw.name, rows.to_numpy(), column, rows.index.to_numpy(), reasons))
    return work[~shared]


def _shared(ids: pd.Series) -> np.ndarray:
    """Rows whose id (not missing) another row also holds."""
    return (ids.notna() & ids.duplicated(keep=False)).to_numpy()
