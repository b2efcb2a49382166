"""A rating that changed within a likelihood band is a change (an inclusion officer's report): a green
pupil of a band whose need level rose to amber ("universal" -> "targeted early help") was in no count and
no row of "what changed", nor one going back, nor red -> amber through a need level down."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from exclusion_risk.models import score_runs
from exclusion_risk.models.score_runs import change_counts, changes_records, changes_sentence, compare
from exclusion_risk.models.score_workbook import CHANGES_SHEET, write_scores_workbook

BANDS = ["very high", "high", "medium", "low"]
SAME = [(f"S{i}", "100", "low", "green") for i in range(6)]


def _pupils(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"upn": u, "school_urn": s, "probability": 0.5, "likelihood_band": b, "rag": r}
                         for u, s, b, r in rows])  # fmt: skip


BEFORE = _pupils([
    ("R1", "100", "medium", "green"),  # -> medium amber (need level up): rating up
    ("R2", "100", "high", "red"),  # -> high amber (need level down): rating down
    ("R3", "100", "low", "green"),  # -> medium amber: moved up a band, its rating up said too
    ("R4", "100", "medium", "amber"),  # -> high amber: moved up a band, rating the same
    ("R5", "100", "high", "amber"),  # -> high red: new red (within a band)
    ("R6", "100", "medium", "amber"),  # the same: not listed
    *SAME,
])  # fmt: skip
AFTER = _pupils([
    ("R1", "100", "medium", "amber"), ("R2", "100", "high", "amber"), ("R3", "100", "medium", "amber"),
    ("R4", "100", "high", "amber"), ("R5", "100", "high", "red"), ("R6", "100", "medium", "amber"), *SAME,
])  # fmt: skip


def test_every_pupil_whose_rating_changed_is_listed_counted_and_said_in_words():
    changes = compare(BEFORE, AFTER, BANDS)
    got = dict(zip(changes["upn"], changes["change"], strict=True))
    assert got == {"R1": "rating_up", "R2": "rating_down", "R3": "moved_up", "R4": "moved_up",
                   "R5": "new_red"}  # fmt: skip
    counts = change_counts(changes)
    assert counts == {"new_red": 1, "rating_up": 1, "rating_down": 1, "need_up": 0, "need_down": 0,
                      "moved_up": 2, "moved_down": 0,
                      "no_longer_on_roll": 0, "new_on_roll": 0}  # fmt: skip
    labels = dict(zip(changes["upn"], score_runs.change_labels(changes), strict=True))
    assert labels == {
        "R1": "rating up: green to amber (same likelihood band: need level or risk matrix changed)",
        "R2": "rating down: red to amber (same likelihood band: need level or risk matrix changed)",
        "R3": "moved up: low to medium; rating up: green to amber",  # the bands: a move may be two
        "R4": "moved up: medium to high",
        "R5": "new red (was amber, high likelihood)",  # where they were
    }
    assert [row["label"] for row in changes_records(changes)] == list(score_runs.change_labels(changes))
    assert changes_sentence(counts, "then") == (
        "1 new red since then; 1 rating up and 1 rating down within a band; 0 need level up and 0 down "
        "within a rating; 2 moved up a band or more, 0 down, 0 no longer on roll, 0 new on roll"
    )


def test_the_reverse_comparison_lists_the_ratings_going_back():
    changes = compare(AFTER, BEFORE, BANDS)
    got = dict(zip(changes["upn"], changes["change"], strict=True))
    assert got == {"R1": "rating_down", "R2": "new_red", "R3": "moved_down", "R4": "moved_down",
                   "R5": "rating_down"}  # fmt: skip
    labels = dict(zip(changes["upn"], score_runs.change_labels(changes), strict=True))
    same_band = "(same likelihood band: need level or risk matrix changed)"
    assert labels["R1"] == f"rating down: amber to green {same_band}"
    assert labels["R5"] == f"rating down: red to amber {same_band}"
    assert labels["R3"] == "moved down: medium to low; rating down: amber to green"


def test_the_workbook_changes_sheet_says_each_change_in_words():
    changes = compare(BEFORE, AFTER, BANDS)
    scores = AFTER.assign(need_level=1)
    buffer = io.BytesIO()
    write_scores_workbook(scores, buffer, notice_lines=["Model: m version 1"], changes=changes,
                          changes_summary=changes_sentence(change_counts(changes), "then"))  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))[CHANGES_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    said = {row[0]: row[2] for row in rows[1:]}
    assert said["R1"] == "rating up: green to amber (same likelihood band: need level or risk matrix changed)"
    assert said["R3"] == "moved up: low to medium; rating up: green to amber"


def test_a_red_joiner_is_new_red_and_its_words_say_new_on_roll():
    """A SENCO read "3 new red, 0 new on roll" where the three were red joiners: counted once, as new red,
    their rows said only "new red", as if pupils already on roll had risen."""
    joiner = _pupils([("J1", "100", "very high", "red")])
    changes = compare(BEFORE, pd.concat([AFTER, joiner], ignore_index=True), BANDS)
    row = changes.set_index("upn").loc["J1"]
    assert row["change"] == "new_red" and pd.isna(row["before_rag"])
    labels = dict(zip(changes["upn"], score_runs.change_labels(changes), strict=True))
    assert labels["J1"] == "new red; new on roll (not scored before)"
