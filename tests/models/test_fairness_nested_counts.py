"""A row's counts that hold one another: the pupils less the excluded (or the selected) is a count too.

The fairness review shows each group's pupils, selected and excluded. Before this rule a group of 15
pupils, 10 of them excluded, showed both, and so its 5 not excluded; a group of 30 with 25 selected its
5 not selected. `group_counts.closed` now withholds the smaller of such a pair ("x", `nested_small`),
and the rates resting on it follow (`rate_withheld`): the tables, calibration, the plot and the summary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.group_counts import NESTED, PROTECTED, nested_small, shown_group_counts
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, TOTAL, is_withheld

from .disclosure_audit import Equations, fairness_equations, small_counts_determined

MODEL = {"model_type": "x", "year": "x", "include_protected": False}
SHOWN_PAIRS = (("positives", "n"), ("selected", "n"))  # the pairs the review's tables print


def _cohort():
    """2,000 pupils, the top 5% (100) selected: White British 1,855 (150 excluded, 75 selected, all
    excluded), Asian 100 (20 excluded), Black 30 (12 excluded, 25 selected: 5 not), Mixed 15 (10
    excluded: 5 not; all boys, so boys / Mixed is the same 15 and 10)."""
    groups = np.array(["White British"] * 1855 + ["Asian"] * 100 + ["Black"] * 30 + ["Mixed"] * 15)
    n = groups.size
    y, p = np.zeros(n, dtype=int), np.full(n, 0.01)
    for group, excluded, selected in (("White British", 150, 75), ("Asian", 20, 0), ("Black", 12, 25),
                                      ("Mixed", 10, 0)):  # fmt: skip
        rows = np.flatnonzero(groups == group)
        y[rows[:excluded]] = 1
        p[rows[:selected]] = 0.9 if group == "White British" else 0.8
    frame = pd.DataFrame({"sex": np.where(np.arange(n) % 2, "M", "F"), "ethnicity_group": groups,
                          "sen_provision": "N", "fsm": 0})  # fmt: skip
    frame.loc[groups == "Mixed", "sex"] = "M"
    return y, p, frame


def _gives_back(row: dict) -> list[tuple[str, str, int]]:
    values = {c: row[c] for pair in SHOWN_PAIRS for c in pair}
    return [(part, whole, int(values[whole]) - int(values[part])) for part, whole in SHOWN_PAIRS
            if not is_withheld(values[part]) and not is_withheld(values[whole])
            and 0 < int(values[whole]) - int(values[part]) < SUPPRESSION_THRESHOLD]  # fmt: skip


@pytest.fixture(scope="module")
def reviewed():
    y, p, frame = _cohort()
    review = fairness.review(y, p, frame, 0.05, MODEL, n_boot=20)
    return review, fairness_report.report_context(review, figures=False)


def test_no_row_of_the_review_shows_two_counts_a_count_of_1_to_9_apart(reviewed):
    review, context = reviewed
    tables = {a.attribute: a.table.set_index("group") for a in review.attributes}
    assert tables["ethnic group"].loc["Mixed", ["n", "positives"]].tolist() == [15, 10]
    assert tables["ethnic group"].loc["Black", ["n", "selected"]].tolist() == [30, 25]
    for a in [*context["attributes"], *context["intersections"]]:
        for row in a["rows"]:
            assert _gives_back(row) == [], (a["name"], row["group"])
    rows = {r["group"]: r for r in context["attributes"][1]["rows"]}
    assert context["attributes"][1]["name"] == "ethnic group"
    assert rows["Mixed"]["n"] == 15 and is_withheld(rows["Mixed"]["positives"])  # the smaller goes
    assert rows["Black"]["n"] == 30 and is_withheld(rows["Black"]["selected"])


def test_the_rates_calibration_and_summary_follow_the_withheld_counts(reviewed):
    review, context = reviewed
    document = fairness_report.summary_json(review, context)
    base = fairness_report.REPORT_METRICS.index(fairness.BASE_RATE)
    selection = fairness_report.REPORT_METRICS.index("selection_rate")
    rows = {r["group"]: r for r in document["groups"][1]["rows"]}
    # 10 / 15 excluded and 25 / 30 selected would give the withheld counts back with the pupils
    assert rows["Mixed"]["metrics"][base]["value"] is None and rows["Mixed"]["metrics"][base]["rate"] == "-"
    assert rows["Black"]["metrics"][selection]["value"] is None
    calibration = {c["group"]: c for c in document["calibration"]["ethnic group"]}
    assert calibration["Mixed"]["observed"] == "-" and calibration["Mixed"]["observed_value"] is None
    named = {(f["attribute"], f["group"], f["metric"]) for f in document["summary"]["all"]}
    for group in ("Mixed", "Black"):
        assert not any(g == group for _, g, _ in named), named
    assert ("sex × ethnic group", "boys / Mixed", fairness.METRIC_LABELS["base_rate"]) not in named
    # read as a whole (negatives = pupils less excluded, not selected = pupils less selected), nothing 1-9
    equations = Equations()
    fairness_equations(equations, document)
    assert small_counts_determined(equations) == []


def test_the_calibration_plot_leaves_out_a_group_whose_excluded_is_withheld(reviewed, monkeypatch):
    review, _ = reviewed
    drawn = {}
    monkeypatch.setattr(fairness_report, "calibration_by_group_png",
                        lambda bins, attribute, hidden: drawn.setdefault(attribute, set(hidden)) and "")
    fairness_report.report_context(review)
    assert "Mixed" in drawn["ethnic group"]


def test_the_smaller_of_a_pair_is_withheld_and_the_populations_row_too():
    """A of 40 pupils, 32 excluded (8 not); B of 25, 20 selected (5 not); together 65 and 57 (8 not)."""
    table = pd.DataFrame({"n": [40, 25], "selected": [20, 20], "positives": [32, 25]}, index=["A", "B"])
    table["tp"], table["fp"] = [20, 20], [0, 0]
    table["fn"] = table["positives"] - table["tp"]
    table["tn"] = table["n"] - table["selected"] - table["fn"]
    assert nested_small(table.loc["A"].to_dict()) == {"positives"}
    assert nested_small(table.loc["B"].to_dict()) == {"selected", "tp"}  # tp: 5 from each of n, positives
    shown = shown_group_counts(table[list(PROTECTED)])
    for group, counts in shown.items():
        for part, whole in NESTED:
            if not is_withheld(counts[part]) and not is_withheld(counts[whole]):
                assert not 0 < int(counts[whole]) - int(counts[part]) < SUPPRESSION_THRESHOLD, (group, part)
    assert shown["A"]["n"] == 40 and is_withheld(shown["A"]["positives"])
    assert shown["B"]["n"] == 25 and is_withheld(shown["B"]["selected"])
    assert shown[TOTAL]["n"] == 65 and is_withheld(shown[TOTAL]["positives"])
