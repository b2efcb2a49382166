"""Rows of one census collection that give one UPN with different dates of birth: two pupils under one UPN.

A pupil on two rows of one collection is a dual registration (`linkage.registrations`: one row stands,
the rest are counted), and so, until this check, were two different children given the same UPN (a
keying slip, or two authorities' extracts pooled by a consortium whose schools share an LA number): a
consortium analyst's 10 such pairs were merged, one child of each disappearing from the list and the
other taking on their exclusions (6 of the 10 rated red on another child's suspensions). A dual
registration's rows are one child's, so their dates of birth and names agree; rows whose dates of birth
and names both differ are rejected, every one of them, naming the other rows: which child the UPN is
cannot be told, and either kept would carry the other's history. Correct the UPN at source. A date of
birth mistyped at one school of a dual registration (the names agreeing) stays one child (a reviewer's
find: both rows were rejected); without name columns, the dates alone decide.

Only a file's own rows are compared (a collection split over two files is checked within each).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.linkage.parsing import parse_dates
from exclusion_risk.linkage.raw_file import RawFile
from exclusion_risk.linkage.rejects import reject_frame
from exclusion_risk.linkage.standardise import clean_name
from exclusion_risk.linkage.upn_columns import tidy_upn_column

COLLECTION = ("AcademicYear", "CensusTerm")  # a file's own columns; absent where its name gives them
NAMES = ("Surname", "Forename")


def reject_upn_conflicts(raw: RawFile, work: pd.DataFrame) -> pd.DataFrame:
    """`work` (a census file's validated rows, indexed by row number) without the rows that share a UPN
    and a collection with a row of another date of birth; those rows go to raw.rejects."""
    if "UPN" not in work.columns or "DOB" not in work.columns:
        return work
    upn = tidy_upn_column(work["UPN"].astype("string"))
    keys = pd.DataFrame({"upn": upn, **{c: work[c].astype("string") for c in COLLECTION if c in work}})
    repeated = (upn.notna() & keys.duplicated(keep=False)).to_numpy()
    if not repeated.any():
        return work
    some = keys[repeated].assign(dob=parse_dates(work.loc[repeated, "DOB"].astype("string")))
    names = [c for c in NAMES if c in work.columns]
    compared = ["dob"]
    if names:  # one child's dual registration with a date mistyped at one school is still one child
        # as linkage compares names (accents, case, spaces and punctuation aside: 'Zoë' is 'Zoe')
        cleaned = work.loc[repeated, names].apply(clean_name).fillna("")
        some["name"], compared = cleaned.agg("|".join, axis=1), ["dob", "name"]
    group = [c for c in some.columns if c not in ("dob", "name")]
    differ = some.groupby(group, dropna=False, sort=False)[compared].transform("nunique")
    conflict = some.index[(differ > 1).all(axis=1).to_numpy()]
    if not len(conflict):
        return work
    rows = some.loc[conflict].reset_index(names="_row")
    pair = rows.groupby(group, dropna=False, sort=False).ngroup()  # the rows sharing one UPN, numbered
    members = rows.groupby(pair)["_row"].agg(list)
    reasons = [f"UPN also on row(s) {', '.join(str(r) for r in members[g] if r != row)} of this collection "
               "with another date of birth and name: two pupils under one UPN? Correct it at source"
               for row, g in zip(rows["_row"], pair, strict=True)]  # fmt: skip
    raw.rejects.append(reject_frame(raw.name, rows["_row"].to_numpy(), "UPN",
                                    work.loc[conflict, "UPN"].to_numpy(), reasons))  # fmt: skip
    keep = np.ones(len(work), dtype=bool)
    keep[work.index.get_indexer(conflict)] = False
    return work[keep]
