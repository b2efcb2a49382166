"""The kinds of change `score_runs.compare` lists, their counts, and each in words for people.

Each pupil listed has one kind, the first that holds: `new_red` (red now; not red before, or not scored
before), `rating_up` / `rating_down` (a higher or lower RAG rating in the same likelihood band: the need
level changed, or the risk matrix), `moved_up` / `moved_down` (a higher or lower likelihood band; a rating
that changed with it is said in the pupil's words, `change_labels`), `no_longer_on_roll` and
`new_on_roll`. So every pupil whose rating changed is listed, and counted once.
"""

from __future__ import annotations

import pandas as pd

from exclusion_risk.models.risk_matrix import RAG_VALUES

CHANGES = ("new_red", "rating_up", "rating_down", "moved_up", "moved_down", "no_longer_on_roll",
           "new_on_roll")
# Each change in words, for people (the counts and the filter of the page, whose CHANGE_LABELS in
# details.js say the same); changes.csv and the service's JSON keep the codes.
CHANGE_LABELS = {"new_red": "new red", "rating_up": "rating up within a band",
                 "rating_down": "rating down within a band", "moved_up": "moved up a band",
                 "moved_down": "moved down a band", "no_longer_on_roll": "no longer on roll",
                 "new_on_roll": "new on roll"}  # fmt: skip
# RAG_VALUES is highest first: a lower index is a higher rating
_RAG_RANK = {rag: i for i, rag in enumerate(RAG_VALUES)}


def rating_moves(before_rag: pd.Series, after_rag: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(rating up, rating down): pupils rated both times whose RAG rating rose or fell."""
    before = before_rag.map(_RAG_RANK).astype("float64")
    after = after_rag.map(_RAG_RANK).astype("float64")
    return after < before, after > before


def change_label(change: str, before_band, after_band, before_rag, after_rag) -> str:
    """One listed pupil's change in plain words: 'rating up: green to amber (same likelihood band: need
    level or risk matrix changed)', 'moved down a band; rating down: amber to green', 'new red'. The runs
    keep no need level, and the two scorings may have used different matrices (`comparison_notes` says
    so): the words name both causes, not the need level alone."""
    label = CHANGE_LABELS.get(change, change)
    rated = isinstance(before_rag, str) and isinstance(after_rag, str)
    if change not in ("rating_up", "rating_down", "moved_up", "moved_down") or not rated:
        return label
    if before_rag == after_rag:
        return label
    up = _RAG_RANK.get(after_rag, 0) < _RAG_RANK.get(before_rag, 0)
    rating = f"rating {'up' if up else 'down'}: {before_rag} to {after_rag}"
    if change.startswith("moved_"):
        return f"{label}; {rating}"
    same_band = isinstance(before_band, str) and before_band == after_band
    return f"{rating} (same likelihood band: need level or risk matrix changed)" if same_band else rating


def change_labels(changes: pd.DataFrame) -> pd.Series:
    """`change_label` of each row of `compare`'s answer, in its order."""
    columns = ["change", "before_band", "after_band", "before_rag", "after_rag"]
    rows = changes.reindex(columns=columns).astype(object)  # a frame without bands or RAG: the kind's words
    rows = rows.where(rows.notna(), None)
    return pd.Series([change_label(*row) for row in rows.itertuples(index=False)], index=changes.index,
                     dtype=object)  # fmt: skip


def change_counts(changes: pd.DataFrame) -> dict[str, int]:
    counts = changes["change"].value_counts() if len(changes) else {}
    return {change: int(counts.get(change, 0)) for change in CHANGES}


def changes_sentence(counts: dict[str, int], since: str) -> str:
    """The counts in words: 12 new red since <since>; 8 rating up and 2 rating down within a band; 30 moved
    up a band, 25 down, 4 no longer on roll, 3 new on roll."""
    return (
        f"{counts['new_red']:,} new red since {since}; {counts['rating_up']:,} rating up and "
        f"{counts['rating_down']:,} rating down within a band; {counts['moved_up']:,} moved up a band, "
        f"{counts['moved_down']:,} down, {counts['no_longer_on_roll']:,} no longer on roll, "
        f"{counts['new_on_roll']:,} new on roll"
    )
