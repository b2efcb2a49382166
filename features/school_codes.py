"""A school that changed its code in the census's years (an academy conversion's new URN, a new MIS writing
the URN where the old wrote the LAEstab) is one school to the features.

Under two codes it was two: a data officer's school recorded under a new code from January had its
spring and summer suspensions divided by an autumn roll of none (`build.school_rates`: 0.387 suspensions
a pupil where it had 0.068), 417 of its pupils who never moved read as having moved school in the last
year, and 177 of them were rated red where 23 were. The README said a new URN after conversion is scored
with the authority's rates; where the census shows the school carried on under the new code, its own
history is the better guide.

The rule. A code whose last collection is not the census's last is succeeded by a code first seen in the
very next collection when most of its pupils (`SUCCESSOR_SHARE`, 80%) still on the census then are at that
code, leaving aside pupils changing school at a usual transfer year, and those are at least `MIN_PUPILS`
(10) and half its roll (`FOLLOWING_SHARE`: one pupil of a closed school's 40 found at a new school made it
the closed school's successor, a reviewer's find). A school closing whose pupils scatter, or merging into a
school that already existed, is not a change of code. The successor's code stands for both (chains
followed), so a pupil scored under the new code is read with the school's earlier years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUCCESSOR_SHARE = 0.8
MIN_PUPILS = 10
FOLLOWING_SHARE = 0.5  # of the old code's roll: a closure whose pupils mostly leave the census is no recoding


def successor_codes(census: pd.DataFrame, transfer_years: tuple[int, ...]) -> dict[str, str]:
    """Old school code -> the code it carried on under, from `census` (one row per pupil and collection:
    `pid`, `year`, `term`, `school`, `nc_year`, as `build._prepare_census` makes it). Worked on the rows of
    the codes in question only, each row looked at once (stray one-off codes on 2,000,000 rows cost
    seconds each when every code scanned every row: a reviewer's find)."""
    rows = census.loc[census["school"].notna(), ["pid", "year", "term", "school", "nc_year"]]
    if rows.empty:
        return {}
    codes, names = pd.factorize(rows["school"])  # each code a number: grouped and compared as such
    rows = pd.DataFrame({"pid": rows["pid"].to_numpy(), "when": rows["year"].to_numpy() * 10
                         + rows["term"].to_numpy(), "school": codes, "nc_year": rows["nc_year"].to_numpy()})
    span = rows.groupby("school")["when"].agg(["min", "max"])
    collections = np.unique(rows["when"].to_numpy())
    following = pd.Series(collections[1:], index=collections[:-1])
    new_at = span.loc[span["min"] > collections[0], "min"]  # codes first seen after the first collection
    ending = span.loc[span["max"] < collections[-1], "max"]
    ending = ending[ending.map(following).isin(set(new_at))]  # a code is first seen at the next collection
    if ending.empty:
        return {}
    last = rows[rows["school"].isin(ending.index)]
    last = last[last["when"].to_numpy() == last["school"].map(ending).to_numpy()]
    roll = last.groupby("school").size()
    last = last[last["school"].isin(roll.index[roll >= MIN_PUPILS])].assign(
        next=lambda f: f["school"].map(ending).map(following).astype("int64"))
    after = rows.loc[rows["when"].isin(set(last["next"])) & rows["pid"].isin(set(last["pid"])),
                     ["pid", "when", "school", "nc_year"]].rename(columns={"when": "next", "school": "to"})
    moved = last[["pid", "school", "when", "next"]].merge(after, on=["pid", "next"])
    new_year = moved["next"] // 10 > moved["when"] // 10  # the usual transfers say nothing of the school
    moved = moved[~(new_year & moved["nc_year"].isin(transfer_years))]
    successors: dict[str, str] = {}
    for old, to in moved.groupby("school")["to"]:
        counts = to.value_counts()
        top, followers = counts.index[0], int(counts.iloc[0])
        first_seen = new_at.get(top)
        if (first_seen == following[ending[old]] and followers >= MIN_PUPILS
                and followers >= SUCCESSOR_SHARE * len(to) and followers >= FOLLOWING_SHARE * roll[old]):
            successors[str(names[old])] = str(names[top])
    for old in list(successors):  # X -> Y -> Z: X is Z
        seen = {old}
        while successors[old] in successors and successors[old] not in seen:
            seen.add(successors[old])
            successors[old] = successors[successors[old]]
    return successors
