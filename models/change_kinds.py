"""The kinds of change `score_runs.compare` lists, their counts, and each in words for people.

Each pupil listed has one kind, the first that holds: `new_red` (red now; not red before, or not scored
before), `moved_up` / `moved_down` (a higher or lower likelihood band; a rating or need level that changed
with it is said in the pupil's words, `change_labels`), `rating_up` / `rating_down` (a higher or lower RAG
rating in the same likelihood band: the need level changed, or the risk matrix), `need_up` / `need_down`
(the same band and rating, a higher or lower need level: the matrix's cell, and so perhaps its suggested
response, changed), `no_longer_on_roll` and `new_on_roll`. So every pupil whose place in the matrix
changed is listed, and counted once. A need level is known only where both scorings recorded it (runs
recorded before need levels were kept have none: `comparison_notes` says so).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from exclusion_risk.models.risk_matrix import RAG_VALUES

CHANGES = ("new_red", "rating_up", "rating_down", "need_up", "need_down", "moved_up", "moved_down",
           "no_longer_on_roll", "new_on_roll")
# Each change in words, for people (the counts and the filter of the page, whose CHANGE_LABELS in
# details.js say the same); changes.csv and the service's JSON keep the codes.
CHANGE_LABELS = {"new_red": "new red", "rating_up": "rating up within a band",
                 "rating_down": "rating down within a band", "need_up": "need level up within a rating",
                 "need_down": "need level down within a rating", "moved_up": "moved up a band or more",
                 "moved_down": "moved down a band or more", "no_longer_on_roll": "no longer on roll",
                 "new_on_roll": "new on roll"}  # fmt: skip
# The columns of `score_runs.compare`'s answer (changes.csv's, the Changes sheet's, the service's rows)
CHANGE_COLUMNS = ["upn", "school_urn", "change", "before_band", "after_band", "before_rag", "after_rag",
                  "before_need", "after_need"]  # fmt: skip
CHANGE_NEEDS = ("before_need", "after_need")  # whole numbers (Int64), empty where a run kept none
# RAG_VALUES is highest first: a lower index is a higher rating
_RAG_RANK = {rag: i for i, rag in enumerate(RAG_VALUES)}


def rating_moves(before_rag: pd.Series, after_rag: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(rating up, rating down): pupils rated both times whose RAG rating rose or fell."""
    before = before_rag.map(_RAG_RANK).astype("float64")
    after = after_rag.map(_RAG_RANK).astype("float64")
    return after < before, after > before


def _known(level) -> bool:
    return level is not None and not pd.isna(level)


def _level(level, labels: dict[int, str] | None) -> str:
    """A need level in words: '2 (EHC plan or child in need)' with the matrix's labels, else '2'."""
    label = (labels or {}).get(int(level))
    return f"{int(level)} ({label})" if label and label != str(int(level)) else str(int(level))


def need_words(before_need, after_need, labels: dict[int, str] | None = None) -> str:
    """'need level 1 to 2' where both scorings recorded a different level, else ''; with the risk matrix's
    labels (`need_labels`), 'need level 1 (SEN support or FSM) to 2 (EHC plan or child in need)': an
    officer reads what the levels are, not only that one is higher."""
    if not (_known(before_need) and _known(after_need)) or int(before_need) == int(after_need):
        return ""
    return f"need level {_level(before_need, labels)} to {_level(after_need, labels)}"


def change_label(change: str, before_band, after_band, before_rag, after_rag, before_need=None,
                 after_need=None, labels: dict[int, str] | None = None) -> str:
    """One listed pupil's change in plain words: 'rating up: green to amber (same likelihood band; need
    level 1 to 2)', 'need level up: 1 to 2 (still amber, same likelihood band)', 'moved down: high to
    medium; rating down: amber to green', 'new red (was amber, high likelihood)', 'new red; new on roll
    (not scored before)'. Where either scoring kept no need level (runs recorded before they
    were), a rating change in the same band names both causes it may have had: the need level or the risk
    matrix (the two scorings may have used different matrices; `comparison_notes` says so)."""
    label = CHANGE_LABELS.get(change, change)
    need = need_words(before_need, after_need, labels)
    same_band = isinstance(before_band, str) and before_band == after_band
    if change in ("need_up", "need_down") and need:
        direction = "up" if change == "need_up" else "down"
        # a band the matrix no longer names counts as no move (`compare`), but is not "the same band"
        said = [f"still {after_rag}"] * isinstance(after_rag, str) + ["same likelihood band"] * same_band
        words = f"need level {direction}: {need.removeprefix('need level ')}"
        if not said:
            return words
        # the levels' labels are in brackets already: the rest after a semicolon, not in brackets again
        return f"{words}; {', '.join(said)}" if labels else f"{words} ({', '.join(said)})"
    if change == "new_red" and isinstance(after_rag, str):
        # a joiner who is red is counted once, as new red: the words say they are new on roll (a SENCO
        # read "0 new on roll" beside three red joiners); one scored before, where they were
        if not isinstance(before_rag, str):
            return f"{label}; new on roll (not scored before)"
        was = f"was {before_rag}" + (f", {before_band} likelihood" if isinstance(before_band, str) else "")
        return f"{label} ({'; '.join(filter(None, (was, need)))})"
    rated = isinstance(before_rag, str) and isinstance(after_rag, str)
    if change not in ("rating_up", "rating_down", "moved_up", "moved_down") or not rated:
        return label
    if change.startswith("moved_") and isinstance(before_band, str) and isinstance(after_band, str):
        # the bands themselves: "a band" was said of a move from low to high too
        label = f"moved {change.removeprefix('moved_')}: {before_band} to {after_band}"
    if before_rag == after_rag:
        return f"{label}; {need}" if change.startswith("moved_") and need else label
    up = _RAG_RANK.get(after_rag, 0) < _RAG_RANK.get(before_rag, 0)
    rating = f"rating {'up' if up else 'down'}: {before_rag} to {after_rag}"
    if change.startswith("moved_"):
        return "; ".join(filter(None, (label, rating, need)))
    if not same_band:
        return rating
    if need and (int(after_need) > int(before_need)) != up:
        # the shipped matrix never rates a higher need lower, but an authority's own may (or it changed)
        which = "a lower need with a higher" if up else "a higher need with a lower"
        return f"{rating} (same likelihood band; {need}: {which} rating, as the risk matrix has it)"
    if need:
        return f"{rating} (same likelihood band; {need})"
    if _known(before_need) and _known(after_need):  # the same need level: only the matrix can have moved it
        return f"{rating} (same likelihood band and need level: the risk matrix changed)"
    return f"{rating} (same likelihood band: need level or risk matrix changed)"


def change_labels(changes: pd.DataFrame, labels: dict[int, str] | None = None) -> pd.Series:
    """`change_label` of each row of `compare`'s answer, in its order (`labels`: `need_labels`)."""
    columns = ["change", "before_band", "after_band", "before_rag", "after_rag", "before_need", "after_need"]
    rows = changes.reindex(columns=columns).astype(object)  # a frame without some: the kind's words
    rows = rows.where(rows.notna(), None)
    return pd.Series([change_label(*row, labels=labels) for row in rows.itertuples(index=False)],
                     index=changes.index, dtype=object)  # fmt: skip


def changes_records(changes: pd.DataFrame, labels: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """CHANGE_COLUMNS rows as JSON-ready dicts (missing values None), each with its `label` in words."""
    frame = changes[CHANGE_COLUMNS].astype(object)
    frame = frame.where(changes[CHANGE_COLUMNS].notna(), None)
    return frame.assign(label=change_labels(changes, labels)).to_dict("records")


def change_counts(changes: pd.DataFrame) -> dict[str, int]:
    counts = changes["change"].value_counts() if len(changes) else {}
    return {change: int(counts.get(change, 0)) for change in CHANGES}


def changes_sentence(counts: dict[str, int], since: str) -> str:
    """The counts in words: 12 new red since <since>; 8 rating up and 2 rating down within a band; 5 need
    level up and 1 down within a rating; 30 moved up a band or more, 25 down, 4 no longer on roll, 3 new on
    roll."""
    return (
        f"{counts['new_red']:,} new red since {since}; {counts['rating_up']:,} rating up and "
        f"{counts['rating_down']:,} rating down within a band; {counts['need_up']:,} need level up and "
        f"{counts['need_down']:,} down within a rating; {counts['moved_up']:,} moved up a band or more, "
        f"{counts['moved_down']:,} down, {counts['no_longer_on_roll']:,} no longer on roll, "
        f"{counts['new_on_roll']:,} new on roll"
    )
