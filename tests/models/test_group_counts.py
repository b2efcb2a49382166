"""One population, one suppression pattern: the fairness review and the back-test of the same scores
withhold the same group counts (`models.group_counts`), so reading both gives back nothing either hides."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.evaluate import GROUP_ATTRIBUTES, Matched, evaluate_scores
from exclusion_risk.models.group_counts import PROTECTED, shown_group_counts
from exclusion_risk.privacy import SECONDARY, SUPPRESSED, TOTAL, is_withheld

from .disclosure_audit import Equations, evaluation_equations, fairness_equations, small_counts_determined

PRECISION = fairness_report.REPORT_METRICS.index("precision")
# fairness.json's count -> evaluation.json's name for it
SAME_COUNT = {"n": "pupils", "positives": "excluded", "selected": "selected"}


def _both(training, test_year):
    """(fairness report context, fairness.json, evaluation.json) for one year's pupils scored by one
    model, the top 5% selected in the same order; six pupils made Gypsy/Roma so small cells arise."""
    result, _ = training
    frame = test_year.copy()
    frame.loc[frame.index[:6], "ethnicity_group"] = "Gypsy/Roma"
    p = result.models["lightgbm"].pipeline.predict_proba(frame[result.feature_cols])[:, 1]
    review = fairness.review(frame["label"].to_numpy(), p, frame, 0.05, {"model_type": "x", "year": "x"},
                             n_boot=20)  # fmt: skip
    context = fairness_report.report_context(review, figures=False)
    groups = fairness.review_groups(frame)
    scored = pd.DataFrame({
        "upn": [f"U{i:05d}" for i in range(len(frame))], "probability": p, "likelihood_band": "low",
        "rag": "green", "school_urn": "100001", "outcome": frame["label"].astype(int).to_numpy(),
        **{a: groups[a].to_numpy() for a in GROUP_ATTRIBUTES},
    })  # fmt: skip
    ranked = scored.iloc[np.argsort(-p, kind="stable")].reset_index(drop=True)  # fairness' select_top order
    document = evaluate_scores(Matched(ranked, len(ranked), 0, 0), ["low"])
    return context, json.loads(json.dumps(fairness_report.summary_json(review))), document


def test_the_review_and_the_back_test_of_the_same_pupils_withhold_the_same_cells(training, test_year):
    context, _, document = _both(training, test_year)
    evaluated = {(r["attribute"], r["group"]): r for r in document["by_group"]}
    compared = withheld = 0
    for a in context["attributes"]:
        if a["name"] not in GROUP_ATTRIBUTES:
            continue
        for row in a["rows"]:
            other = evaluated[(a["name"], row["group"])]
            for count, name in SAME_COUNT.items():
                assert row[count] == other[name], (a["name"], row["group"], count, row[count], other[name])
                withheld += is_withheld(row[count])
            precision = row["metrics"][PRECISION]["value"]
            # true positives: shown in the back-test exactly where the review's precision gives them
            assert (precision is None) == (other["precision"] is None), (a["name"], row["group"])
            if precision is not None:
                assert other["true_positives"] == round(precision * row["selected"])
            elif any(row[c] == 0 for c in ("selected", "positives")):
                assert other["true_positives"] == 0, (a["name"], row["group"], other)  # a shown 0 implies it
            else:
                assert is_withheld(other["true_positives"]), (a["name"], row["group"], other)
            compared += 1
    assert compared == len(document["by_group"]) and withheld > 0


def test_read_together_the_two_outputs_pin_down_no_count_under_10(training, test_year):
    _, review, document = _both(training, test_year)
    equations = Equations()
    fairness_equations(equations, review)
    assert small_counts_determined(equations) == []
    evaluation_equations(equations, document)
    assert small_counts_determined(equations) == []


def test_the_audit_finds_a_count_given_back_by_subtraction():
    # girls' true positives (7) hidden, boys' (23) shown with the total (30): the audit must name them.
    equations = Equations()
    rows = [{"group": "boys", "n": 500, "selected": 40, "positives": 60, "metrics": []},
            {"group": "girls", "n": 500, "selected": 20, "positives": 40, "metrics": []}]
    document = {"metrics": [], "pupils": 1000, "positives": 100, "intersections": [],
                "groups": [{"name": "sex", "rows": rows}]}
    fairness_equations(equations, document)
    equations.count("sex", "boys", ("tp",), 23)
    equations.count("population", "all", ("tp",), 30)
    assert small_counts_determined(equations) == [("sex", "girls", "tp", 7)]


def test_the_pattern_depends_on_the_counts_not_the_order_they_come_in():
    table = pd.DataFrame(
        {"n": [400, 6, 300, 300], "selected": [30, 2, 12, 12], "positives": [20, 3, 15, 15],
         "tp": [15, 1, 8, 8], "fp": [15, 1, 4, 4], "fn": [5, 2, 7, 7], "tn": [365, 2, 281, 281]},
        index=["a", "b", "c", "d"],
    )  # fmt: skip
    shown = shown_group_counts(table)
    assert shown_group_counts(table.iloc[::-1]) == shown
    assert shown["b"]["n"] == SUPPRESSED
    # b's pupils are "<10", so another group's are withheld beside them; c and d tie: the name decides.
    assert shown["c"]["n"] == SECONDARY and shown["d"]["n"] == 300
    # a group with one confusion count withheld has all four withheld
    for group, counts in shown.items():
        cells = [is_withheld(counts[c]) for c in PROTECTED[3:]]
        assert group == TOTAL or all(cells) or not any(cells), (group, counts)
