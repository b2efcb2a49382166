"""`models.evaluate`'s tables on small made-up cohorts: matching, ranking, suppression, the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models.evaluate import (
    GROUP_ATTRIBUTES,
    by_capacity,
    by_category,
    compare_with_stated,
    evaluate_scores,
    headline,
    match,
    shown_positives,
)
from exclusion_risk.privacy import SECONDARY, SUPPRESSED


def _cohort(n: int, positives: set[int], probability=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(run pupils, outcomes) for n pupils U0000..: pupil i has probability 1 - i/n unless given."""
    upns = [f"U{i:04d}" for i in range(n)]
    p = np.asarray(probability if probability is not None else [1 - i / n for i in range(n)], dtype=float)
    pupils = pd.DataFrame({"upn": upns, "school_urn": ["100001"] * n, "probability": p,
                           "likelihood_band": ["low"] * n, "rag": ["green"] * n})  # fmt: skip
    outcomes = pd.DataFrame({"upn": upns, "outcome": [float(i in positives) for i in range(n)],
                             "outcome_school": ["100001"] * n})  # fmt: skip
    for attribute in GROUP_ATTRIBUTES:
        outcomes[attribute] = "all"
    return pupils, outcomes


def test_scored_pupils_without_outcomes_are_counted_not_dropped():
    pupils, outcomes = _cohort(400, set(range(0, 400, 4)))
    extra = pd.DataFrame({"upn": ["Z9999"], "school_urn": ["100001"], "probability": [0.99],
                          "likelihood_band": ["low"], "rag": ["green"]})  # fmt: skip
    matched = match(pd.concat([pupils, extra], ignore_index=True), outcomes.iloc[:-12])
    assert (matched.scored, matched.without_outcomes, matched.not_scored) == (401, 13, 0)
    document = evaluate_scores(matched, ["low"])
    assert document["pupils"]["without_outcomes"] == 13 and document["pupils"]["with_outcomes"] == 388
    few = match(pd.concat([pupils, extra], ignore_index=True), outcomes)
    assert evaluate_scores(few, ["low"])["pupils"]["without_outcomes"] == SUPPRESSED  # 1 pupil: "<10"


def test_the_top_is_taken_as_the_scorer_ranks_ties_by_upn():
    # 200 pupils, every probability tied: the top 5% (10) are U0000..U0009 by UPN, whatever the row order.
    pupils, outcomes = _cohort(200, set(range(10)) | set(range(100, 150)), probability=[0.5] * 200)
    matched = match(pupils.iloc[::-1], outcomes)
    row = next(r for r in by_capacity(matched.frame) if r["capacity"] == 0.05)
    assert (row["selected"], row["true_positives"], row["precision"]) == (10, 10, 1.0)
    # ceil: 5% of 210 is 10.5 pupils -> 11
    pupils, outcomes = _cohort(210, set(range(40)))
    assert by_capacity(match(pupils, outcomes).frame, [0.05])[0]["selected"] == 11


def test_a_small_count_and_the_one_it_could_be_worked_out_from_are_withheld():
    counts = pd.DataFrame({"positives": [50, 3, 40, 200], "others": [500, 600, 700, 800]}, index=list("abcd"))
    shown = shown_positives(counts)
    assert shown["b"] == SUPPRESSED
    assert shown["c"] == SECONDARY  # the smallest other count: the column total no longer gives "b"
    assert shown["a"] == 50 and shown["d"] == 200
    everyone = pd.DataFrame({"positives": [95, 100], "others": [4, 400]}, index=["x", "y"])
    assert list(shown_positives(everyone)) == [SECONDARY, SECONDARY]  # 4 not excluded is a small group too


def test_bands_publish_no_small_count_and_no_rate_from_a_withheld_one():
    pupils, outcomes = _cohort(600, set(range(0, 60)) | {300, 301, 302})
    pupils["likelihood_band"] = np.where(
        np.arange(600) < 100, "high", np.where(np.arange(600) < 400, "medium", "low")
    )
    rows = by_category(match(pupils, outcomes).frame, "likelihood_band", ["high", "medium", "low"], "band")
    assert [r["band"] for r in rows] == ["high", "medium", "low"]
    medium = rows[1]
    assert medium["true_positives"] == SUPPRESSED and medium["precision"] is None and medium["ci_low"] is None
    assert rows[2]["true_positives"] == 0  # a zero is shown (nobody to identify)
    assert rows[0]["true_positives"] == SECONDARY and rows[0]["recall"] is None


@pytest.mark.parametrize(("realised", "inside", "verdict"), [
    (0.32, True, "inside the model's stated interval"),
    (0.25, False, "below the model's stated interval"),
    (0.40, False, "above the model's stated interval"),
])  # fmt: skip
def test_the_verdict_against_the_stated_interval(realised, inside, verdict):
    info = {
        "test_year": "2017/18",
        "metrics": {"precision_at_5pct": {"estimate": 0.318, "interval": "0.3-0.336"}},
    }
    out = compare_with_stated(
        {"precision": realised, "ci_low": realised - 0.02, "ci_high": realised + 0.02}, info
    )
    assert (out["inside"], out["verdict"], out["stated_ci_low"], out["stated_ci_high"]) == (
        inside,
        verdict,
        0.3,
        0.336,
    )
    none = compare_with_stated({"precision": realised}, {})
    assert none["inside"] is None and none["verdict"].startswith("not compared")


def test_the_headline_says_it_in_words():
    document = {
        "label": "any",
        "by_capacity": [{"capacity": 0.05, "selected": 312, "true_positives": 101, "precision": 101 / 312}],
        "comparison": {"test_year": "2017/18", "stated": 0.32, "stated_ci_low": 0.31, "stated_ci_high": 0.34,
                       "verdict": "inside the model's stated interval"},
    }  # fmt: skip
    assert headline(document) == (
        "Of the 312 pupils in the top 5%, 101 (32%) were suspended or excluded later that year; the model's "
        "test year (2017/18) said 32% [31%–34%]: inside the model's stated interval."
    )
