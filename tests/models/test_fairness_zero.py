"""A group with none of the event (0 of 549 Indian pupils excluded against about 7 predicted) read
"0.00 [0.00, 0.00]": every bootstrap replicate of a zero count is zero, so its ratio's interval read as
certainty; `outside` asked for a ratio above 0, so it was never a finding; and the comparisons were
de-duplicated by their numbers, so 11 different groups at "0.00 [0.00, 0.00]" counted as one ratio
compared (26 on the page, not 36), making Holm's adjustment less strict. A zero ratio's interval is now
exact (`models/fairness_zero.py`), it is a finding like any other, and a comparison is one only where it
is the same pupils restated."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness, fairness_chance, fairness_report
from exclusion_risk.models.band_precision import wilson
from exclusion_risk.models.fairness_intersections import intersection_groups

MODEL = {"model_type": "lightgbm", "year": "x", "include_protected": False}


def _frame():
    """White British pupils calibrated; Asian and Chinese/other pupils (600 each, every one predicted
    0.02: about 12 expected each) of whom none is excluded; Mixed pupils calibrated at 0.04, below the
    top 10%, so none of them is selected. One SEN group: sex x SEN restates sex."""
    rng = np.random.default_rng(7)
    ethnicity = ["White British"] * 4000 + ["Asian"] * 600 + ["Chinese/other"] * 600 + ["Mixed"] * 300
    n = len(ethnicity)
    frame = pd.DataFrame({"sex": rng.choice(["M", "F"], n), "ethnicity_group": ethnicity,
                          "sen_provision": "N", "fsm": rng.integers(0, 2, n)})  # fmt: skip
    risk = np.r_[rng.uniform(0.05, 0.3, 4000), np.full(1200, 0.02), np.full(300, 0.04)]
    y = np.r_[rng.random(4000) < risk[:4000], np.zeros(1200, bool), rng.random(300) < 0.04].astype(int)
    return frame, y, risk


@pytest.fixture(scope="module")
def none_excluded():
    frame, y, risk = _frame()
    review = fairness.review(y, risk, frame, 0.1, MODEL, n_boot=200)
    return frame, y, risk, review, fairness_report.report_context(review, figures=False)


def test_a_ratio_of_none_has_an_exact_interval_not_zero_to_zero(none_excluded):
    _, y, risk, review, _ = none_excluded
    calibration = review.calibration["ethnic group"][0].set_index("group")
    year = y.sum() / risk.sum()
    for group in ("Asian", "Chinese/other"):
        row = calibration.loc[group]
        assert row["observed_over_predicted"] == 0 and row["ratio_low"] == 0
        # Poisson's exact 95% upper bound for none seen, 3.689, over the 12 expected
        assert row["ratio_high"] == pytest.approx(math.log(40) / 12, rel=1e-6)
        assert row["relative_low"] == 0
        assert row["relative_high"] == pytest.approx(math.log(40) / 12 / year, rel=1e-6)
    table = review.attributes[1].table.set_index("group")
    reference = table.loc["White British"]
    asian = table.loc["Asian"]
    assert asian["base_rate_ratio"] == 0 and asian["base_rate_ratio_low"] == 0
    # the group's Wilson bound (its rate's interval as the table shows it) over the reference's rate
    assert asian["base_rate_ratio_high"] == pytest.approx(wilson(0, 600)[1] / reference["base_rate"])
    mixed = table.loc["Mixed"]
    assert mixed["selected"] == 0 and mixed["selection_rate_ratio_low"] == 0
    assert mixed["selection_rate_ratio_high"] == pytest.approx(
        wilson(0, 300)[1] / reference["selection_rate"])


def test_none_excluded_against_many_predicted_is_a_calibration_finding(none_excluded):
    *_, context = none_excluded
    found = {f["group"]: f for f in context["findings_all"]
             if f["kind"] == "calibration" and f["attribute"] == "ethnic group"}  # fmt: skip
    for group in ("Asian", "Chinese/other"):
        f = found[group]
        assert f["ratio"] == 0 and f["low"] == 0 and f["high"] < 0.8
        assert f["excludes_1"] and f["beyond_chance"]
        # the chance of none of 12 expected where the model is right: about 2 x e^-12
        assert f["p_value"] < 1e-4
        assert f"None of the 600 {group} pupils was suspended or excluded, against about 12 predicted" in (
            f["meaning"])
        assert "about 0% for them" not in f["meaning"]
    # the selection ratio of Mixed pupils, none of 300 selected, is a finding too
    (selection,) = [f for f in context["findings_all"] if f["metric"] == "selection rate"
                    and f["attribute"] == "ethnic group" and f["group"] == "Mixed"]  # fmt: skip
    assert selection["ratio"] == 0 and selection["high"] < 1 and selection["excludes_1"]
    assert "never selected" in selection["meaning"]
    (both,) = [f for f in context["findings_all"] if f["metric"] == "selection rate"
              and f["attribute"] == "ethnic group" and f["group"] == "Asian"]  # fmt: skip
    assert both["meaning"].endswith("none of them was suspended or excluded either.")


def _members(frame) -> dict[tuple[str, str], frozenset]:
    groups = fairness.review_groups(frame)
    labels = {**groups, **intersection_groups(groups)}
    return {(a, g): frozenset(np.flatnonzero(v.to_numpy() == g)) for a, v in labels.items() for g in set(v)}


def test_comparisons_are_distinct_pupils_not_distinct_numbers(none_excluded):
    frame, _, _, review, context = none_excluded
    members = _members(frame)
    shown = [(a["name"], c["group"]) for a in [*context["attributes"], *context["intersections"]]
             for c in a["calibration"] if c["relative_value"] is not None]  # fmt: skip
    (calibration,) = [c for c in context["comparisons"] if c["family"] == "calibration"]
    # every shown group's calibration once, a group restated (girls / no SEN: girls) once
    assert calibration["compared"] == len({members[k] for k in shown})
    assert calibration["compared"] < len(shown)
    assert not any("compares" in f for f in context["findings_all"])  # who: a digest, not for the page
    # Asian and Chinese/other read alike, [0.00, 0.33], and are two groups: two ratios compared
    zero = [f for f in context["findings_all"] if f["kind"] == "calibration" and f["ratio"] == 0]
    assert len({members[f["attribute"], f["group"]] for f in zero}) == len(zero) >= 2
    (selection,) = [c for c in context["comparisons"] if c["family"] == "selection rate"]
    none_selected = [(a, g) for a, g in shown if a == "ethnic group" and g != "White British"]
    assert selection["compared"] >= len(none_selected) == 3


def test_a_zero_ratio_reads_its_p_value_from_its_exact_upper_bound():
    # none seen against E expected: the upper bound is 3.689 / E and P(none | calibrated) = e^-E
    assert fairness_chance.p_value(0.0, 0.0, math.log(40) / 7.3) == pytest.approx(2 * math.exp(-7.3))
    # an upper bound of 1 is the 5% line: the interval and the p-value agree
    assert fairness_chance.p_value(0.0, 0.0, 1.0) == pytest.approx(0.05)
    assert fairness_chance.p_value(0.0, 0.0, 3.0) > 0.05  # none of about 1.2 expected: common
    assert np.isnan(fairness_chance.p_value(0.0, 0.0, 0.0))


def test_equal_numbers_of_different_pupils_are_two_comparisons():
    findings = [{"ratio": 0.0, "low": 0.0, "high": 0.3, "compares": who, "action": "Act."}
                for who in ("Indian", "Chinese", "Indian")]  # fmt: skip
    families = fairness_chance.mark(findings, lambda f: "calibration", {})
    assert families[0]["compared"] == 2
    assert all(f["comparisons"] == 2 for f in findings)
