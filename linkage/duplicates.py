"""Exact duplicate rows of a file: the first copy stays, later copies are rejected naming it.
Different rows under one record id: all of them are rejected, each naming another.

Rows are exact copies when every column holds the same text, missing equal to missing; blank and " "
are different text here (both read as missing afterwards).

An exclusion equal to an earlier one in every column but its RecordID is a copy too: the same
suspension exported again under a new id, which kept would be counted twice in the pupil's history
and label. A school does not record two suspensions of one pupil starting the same day with the same
length, category and reasons (an extension, or a conversion to a permanent exclusion, has its own
start, length or category), so such a pair is taken as one record written twice. The rows are
compared as the contract reads them, not as written: a copy exported again is often written another
way (StartDate 2018-09-03 and 03/09/2018, Category FIXD and SUSP, Sessions 2 and 2.0, codes in
another case or padded), and compared as text it escaped and was counted. Extra columns, which the
contract does not read, count as their text, as they do for exact copies: rows differing in any of
them are kept.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk.linkage.exclusion_notes import exclusion_notes
from exclusion_risk.linkage.extract_frames import exclusions_frame
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame

# A row's own id, the one column a copy exported again may change (exclusions only; LAchildID names
# the child, whose episodes are rows of their own, and the census has none).
ROW_ID = "RecordID"
ONCE_READ = "once read (dates, codes, numbers)"  # a copy of a row, seen once both are read


def reject_duplicates(raw: RawFile) -> None:
    """Reject every live row that repeats an earlier live row exactly, then, where the file has a
    ROW_ID (raw.mapping), every row repeating one in the text of every other column.

    The second is `exclusions_without_repeats`'s comparison made early on the text, where it is cheap:
    a copy exported again is most often written alike, and so found before the frame is built, which
    is then built once (at 500,000 rows a second build costs 4.3 s)."""
    every = list(range(raw.num_columns))
    _reject_repeats(raw, every, "exact duplicate of row {}")
    row_id = raw.mapping.get(ROW_ID)
    if row_id is not None:
        _reject_repeats(raw, [p for p in every if p != row_id], f"repeats row {{}} under another {ROW_ID}")


def exclusions_without_repeats(raw: RawFile, work: pd.DataFrame, counts: Counter, name: str) -> pd.DataFrame:
    """The canonical exclusions frame of `work` (a file's validated rows), less every row equal to an
    earlier one as read in every column but RecordID; those rows go to raw.rejects naming the earlier
    row, `counts` gets the counts of the rows kept, and raw.skipped the file's notes on them
    (`exclusion_notes`)."""
    seen: Counter = Counter()
    frame = exclusions_frame(work, seen, name)
    repeats, earlier = _repeats_as_read(raw, frame)
    if repeats.any():
        what = f"under another {ROW_ID}" if ROW_ID in raw.mapping else ONCE_READ
        rows = frame["_row"].to_numpy()[repeats]
        reasons = [f"repeats row {r} {what}" for r in earlier[repeats]]
        raw.rejects.append(reject_frame(raw.name, rows, "", "", reasons))
        # the counts (FIXD read as SUSP, invalid UPNs) are the rows kept's: built again, rarely (copies
        # written alike went before validation)
        seen = Counter()
        frame = exclusions_frame(work[~repeats], seen, name)
    counts.update(seen)
    raw.skipped += exclusion_notes(frame)
    return frame


# Canonical columns that are no reading of the suspension: the category as written (FIXD and SUSP
# both read as SUSP) and where the row came from; and, between copies exported again, the row's own id.
NOT_READ = ("CategoryRaw", "_file", "_row")
NOT_COMPARED = (ROW_ID, *NOT_READ)


def _repeats_as_read(raw: RawFile, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(True where a row of `frame` equals an earlier row in every canonical column but NOT_COMPARED
    and in the text of every column the contract does not read; each row's first such row number).

    Missing equals missing. `frame` is in row order, so the smallest row number of a group is the
    first of it."""
    rows = frame["_row"].to_numpy()
    if len(frame) < 2:
        return np.zeros(len(frame), dtype=bool), rows
    keys = {c: pd.factorize(frame[c], use_na_sentinel=False)[0] for c in frame if c not in NOT_COMPARED}
    at = np.searchsorted(raw.rows, rows)  # the rows' table positions, for the extras' text
    read = set(raw.mapping.values())
    for position in (p for p in range(raw.num_columns) if p not in read):
        # the dictionary codes: equal text, equal code (missing is a code of its own)
        keys[f"extra {position}"] = raw.encoded_column(position).indices.take(pa.array(at)).to_numpy()
    group = pd.DataFrame(keys).groupby(list(keys), sort=False).ngroup().to_numpy()
    first = pd.Series(rows).groupby(group).transform("min").to_numpy()
    return first != rows, first


def _reject_repeats(raw: RawFile, positions: list[int], reason: str) -> None:
    """Reject every live row equal to an earlier live row in the columns at `positions`, `reason`
    formatted with the earlier row's number."""
    live = np.flatnonzero(raw.alive)
    if live.size < 2 or not positions:
        return
    # hash table, not a sort: factorize numbers the distinct hashes in order of first appearance
    which, _ = pd.factorize(_row_hash(raw, positions)[live])
    new = np.ones(len(which), dtype=bool)
    new[1:] = which[1:] > np.maximum.accumulate(which)[:-1]
    first = live[np.flatnonzero(new)[which]]  # table position of the first live row with the same hash
    later = first != live
    if not later.any():
        return
    candidates, originals = live[later], first[later]
    same = _same_rows(raw, candidates, originals, positions)
    dup, original = candidates[same], originals[same]
    if not dup.size:
        return
    reasons = [reason.format(r) for r in raw.rows[original]]
    raw.rejects.append(reject_frame(raw.name, raw.rows[dup], "", "", reasons))
    keep = np.ones(raw.num_rows, dtype=bool)
    keep[dup] = False
    raw.keep(keep)


def _row_hash(raw: RawFile, positions: list[int]) -> np.ndarray:
    """64-bit hash per row from the dictionary codes of the columns at `positions` (missing is its own
    code).

    Equal rows get equal hashes; unequal rows collide with negligible probability, and
    `_reject_repeats` compares the text of every candidate anyway.
    """
    raw.encode_all()
    multipliers = np.random.default_rng(20170105).integers(1, 2**63, len(positions), dtype=np.uint64) | 1
    rows = raw.num_rows
    hashed, scratch = np.zeros(rows, dtype=np.uint64), np.empty(rows, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around arithmetic modulo 2**64 is the point
        for position, multiplier in zip(positions, multipliers, strict=True):  # in place: no temporaries
            ids = raw.encoded_column(position).indices.to_numpy()  # no nulls: missing is a code
            np.add(ids, 1, out=scratch, casting="unsafe")
            np.bitwise_xor(hashed, scratch, out=hashed)
            np.multiply(hashed, multiplier, out=hashed)
            np.right_shift(hashed, np.uint64(29), out=scratch)
            np.bitwise_xor(hashed, scratch, out=hashed)
    return hashed


def _same_rows(raw: RawFile, left: np.ndarray, right: np.ndarray, positions: list[int]) -> np.ndarray:
    """True where row positions `left` and `right` hold the same text in each column at `positions`."""
    same = np.ones(len(left), dtype=bool)
    for position in positions:
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
    # Rows of one id equal as read (case, padding: `m` and `M`; dates, renamed categories, numbers:
    # 2017-01-10 and 10/01/2017) are one record written twice: the first stays and the others are
    # rejected naming it, as exact copies are. Compared as text, both were rejected and it was lost.
    read = exclusions_frame(work[shared], Counter(), raw.name).drop(columns=list(NOT_READ))
    tidied = read.set_axis(work.index[shared]).astype("string").fillna("\x00")  # missing equal to missing
    copies = tidied.duplicated(keep="first").to_numpy()
    if copies.any():
        keyed = tidied.reset_index(names="_row")
        originals = keyed.groupby(list(tidied.columns), sort=False)["_row"].transform("min").to_numpy()
        rows = tidied.index.to_numpy()[copies]
        reasons = [f"repeats row {r} {ONCE_READ}" for r in originals[copies]]
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
