"""A school that changed its code in the census's years (an academy conversion's new URN, a new MIS writing
the URN where the old wrote the LAEstab) is one school to the features.

Under two codes it was two: a data officer's school recorded under a new code from January had its
spring and summer suspensions divided by an autumn roll of none (`build.school_rates`: 0.387 suspensions
a pupil where it had 0.068), 417 of its pupils who never moved read as having moved school in the last
year, and 177 of them were rated red where 23 were. The README said a new URN after conversion is scored
with the authority's rates; where the census shows the school carried on under the new code, its own
history is the better guide.

The rule. A code whose last collection is not the census's last is succeeded by a code first seen in the
very next collection when most of its pupils (`SUCCESSOR_SHARE`, 80%) still on the census then are at
that code, leaving aside pupils changing school at a usual transfer year, and it had at least
`MIN_PUPILS` (10) pupils. A school closing whose pupils scatter, or merging into a school that already
existed, is not a change of code. The successor's code stands for both (chains followed), so a pupil
scored under the new code is read with the school's earlier years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUCCESSOR_SHARE = 0.8
MIN_PUPILS = 10


def successor_codes(census: pd.DataFrame, transfer_years: tuple[int, ...]) -> dict[str, str]:
    """Old school code -> the code it carried on under, from `census` (one row per pupil and collection:
    `pid`, `year`, `term`, `school`, `nc_year`, as `build._prepare_census` makes it)."""
    rows = census.loc[census["school"].notna(), ["pid", "year", "term", "school", "nc_year"]]
    if rows.empty:
        return {}
    when = rows["year"].to_numpy() * 10 + rows["term"].to_numpy()  # collections in order
    rows = rows.assign(when=when)
    span = rows.groupby("school", observed=True)["when"].agg(["min", "max"])
    collections = np.unique(when)
    following = dict(zip(collections[:-1], collections[1:], strict=True))
    firsts = span[span["min"] > collections[0]].groupby("min").groups  # collection -> codes first seen
    successors: dict[str, str] = {}
    for old, last in span.loc[span["max"] < collections[-1], "max"].items():
        next_one = following[last]
        if next_one not in firsts:
            continue
        before = rows.loc[(rows["when"] == last) & (rows["school"] == old), "pid"]
        if len(before) < MIN_PUPILS:
            continue
        after = rows[(rows["when"] == next_one) & rows["pid"].isin(before)]
        if next_one // 10 > last // 10:  # a new year: the usual transfers say nothing of the school
            after = after[~after["nc_year"].isin(transfer_years)]
        if after.empty:
            continue
        shares = after["school"].value_counts(normalize=True)
        if shares.iloc[0] >= SUCCESSOR_SHARE and shares.index[0] in set(firsts[next_one]):
            successors[str(old)] = str(shares.index[0])
    for old in list(successors):  # X -> Y -> Z: X is Z
        seen = {old}
        while successors[old] in successors and successors[old] not in seen:
            seen.add(successors[old])
            successors[old] = successors[successors[old]]
    return successors
