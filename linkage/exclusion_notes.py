"""What the exclusions reader says of rows it keeps as written but an officer should check at source: an
exclusion written once per reason (each row read as an exclusion of its own), and a suspension whose
length is blank or longer than a suspension can last. Row numbers only, never a value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.linkage import codes
from exclusion_risk.values import counted, number_ranges


def exclusion_notes(frame: pd.DataFrame) -> list[str]:
    """The file's notes on `frame` (the canonical exclusions frame of the rows kept)."""
    return _one_row_per_reason(frame) + _sessions_to_check(frame) + _reasons_not_read(frame)


def _reasons_not_read(frame: pd.DataFrame) -> list[str]:
    """A note naming the rows holding a reason that is neither a code nor the DfE's description: each is
    read as 'other' and `check` counts them by code, but no row was named, so a data lead could not find
    them (they are in no rejects file)."""
    reasons = frame["Reason"].dropna().astype(str)
    if reasons.empty:
        return []
    unknown = {text for text in reasons.unique()
               if any(not codes.is_known_reason(code) for code in text.split(";"))}  # fmt: skip
    rows = np.sort(frame.loc[reasons.index[reasons.isin(unknown)], "_row"].to_numpy())
    if not len(rows):
        return []
    give = "gives" if len(rows) == 1 else "give"
    return [f"{counted(len(rows), 'row')} (rows {number_ranges(rows)}) {give} a reason that is neither a "
            "code nor the DfE's description of one, read as 'other'; check them at source"]


# One suspension as a school records it: a pupil, a day, a school, a category and a length
_SAME_EXCLUSION = ["UPN", "StartDate", "SchoolURN", "Category", "Sessions"]


def _one_row_per_reason(frame: pd.DataFrame) -> list[str]:
    """A note naming the rows that repeat another's pupil, day, school, category and length with other
    reasons: an MIS writing one row per reason had each read as an exclusion of its own, doubling the
    pupil's suspensions and setting the repeat outcome, without a word (an exclusions data lead's find).
    They are kept (two suspensions of one day do happen, rarely); the note says how to join them."""
    keyed = frame.dropna(subset=["UPN", "StartDate"])
    if keyed.empty:
        return []
    same = keyed.duplicated(_SAME_EXCLUSION, keep=False)
    # one vectorised count per group (a Python call per group took 30 s at 500,000 rows); a blank reason
    # is a reason of its own here
    reasons = keyed.loc[same, "Reason"].astype("string").fillna("")
    differing = reasons.groupby([keyed.loc[same, c] for c in _SAME_EXCLUSION], dropna=False).transform(
        "nunique") > 1
    rows = np.sort(keyed.loc[differing[differing].index, "_row"].to_numpy())
    if not len(rows):
        return []
    return [f"{len(rows):,} rows (rows {number_ranges(rows)}) repeat another row's pupil, start date, "
            "school, category and sessions with another reason, each read as an exclusion of its own: "
            "where a system writes one exclusion once per reason, join its reasons in one row (Reason "
            "PD;VA, or Reason2 and Reason3)"]


# A suspension lasts at most 45 school days in a school year in England: 90 sessions
MAX_SUSPENSION_SESSIONS = 90


def _sessions_to_check(frame: pd.DataFrame) -> list[str]:
    """A note naming the suspensions whose Sessions is blank (read as none lost: the pupil's sessions
    features count nothing for them) or more than a suspension can last (read as given: 1,000 sessions
    made a pupil's sessions lost 1,006), each kept (an exclusions data lead's find)."""
    suspensions = frame[frame["Category"] == "SUSP"]
    sessions = pd.to_numeric(suspensions["Sessions"], errors="coerce")
    said = []
    for rows, what in ((suspensions.loc[sessions.isna(), "_row"], "give no Sessions: read as none lost"),
                       (suspensions.loc[sessions > MAX_SUSPENSION_SESSIONS, "_row"],
                        f"give more than {MAX_SUSPENSION_SESSIONS} Sessions, longer than a suspension can "
                        "last (45 school days): read as given")):  # fmt: skip
        if len(rows):
            rows = np.sort(rows.to_numpy())
            said.append(f"{counted(len(rows), 'suspension row')} (rows {number_ranges(rows)}) {what}; "
                        "check them at source")
    return said
