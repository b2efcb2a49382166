"""Drift's arithmetic against hand computations: PSI, decile cells with ties merged, pooling of cells under
10 pupils, missing rates, link and exclusion rates, thresholds and their override."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models.drift import (
    EPSILON,
    DriftError,
    Thresholds,
    compare,
    current_shares,
    feature_profile,
    load_thresholds,
    psi,
    reference_profile,
)
from exclusion_risk.models.drift_data import NOT_CHECKED, scoring_drift_lines, shown_rate


def test_psi_equals_a_hand_computation():
    # (0.4-0.5)ln(0.4/0.5) + (0.4-0.3)ln(0.4/0.3) + 0 = 0.1 ln 1.25 + 0.1 ln(4/3)
    assert psi([0.5, 0.3, 0.2], [0.4, 0.4, 0.2]) == pytest.approx(
        0.1 * math.log(1.25) + 0.1 * math.log(4 / 3)
    )
    # an empty reference cell counts as EPSILON: (0.1 - 0.0001) ln(0.1 / 0.0001), plus the first cell's
    expected = -0.1 * math.log(0.4 / 0.5) + (0.1 - EPSILON) * math.log(0.1 / EPSILON)
    assert psi([0.5, 0.5, 0.0], [0.4, 0.5, 0.1]) == pytest.approx(expected)
    assert psi([0.2, 0.8], [0.2, 0.8]) == 0.0


def test_numeric_cells_are_reference_deciles_with_ties_merged_and_missing_apart():
    # 60 zeros, then 1..40 once each, and 20 missing. Deciles of the 100 known values (numpy's linear
    # rule, position 99q): 0 six times, 0.4, 10.3, 20.2, 30.1; each edge moves to the middle of the gap
    # around it (0 and 0.4 both to 0.5: one edge).
    reference = pd.Series([0.0] * 60 + list(range(1, 41)) + [np.nan] * 20)
    profile = feature_profile(reference, "numeric")
    assert profile["edges"] == [0.5, 10.5, 20.5, 30.5]
    # cells <=0.5, (0.5,10.5], (10.5,20.5], (20.5,30.5], >30.5, missing: 60, 10, 10, 10, 10, 20 of 120
    assert profile["shares"] == pytest.approx([60 / 120, 10 / 120, 10 / 120, 10 / 120, 10 / 120, 20 / 120])
    assert profile["missing"] == pytest.approx(20 / 120) and profile["missing_with"] is None
    # a value on an edge goes to the cell below it: 0.5 with the zeros, 10.5 in (0.5, 10.5]
    ref, now = current_shares(profile, pd.Series([0.5, 10.5, 11.0, 99.0]))
    assert now == [0.25, 0.25, 0.25, 0.0, 0.25, 0.0]


def test_numeric_cells_under_ten_pupils_are_pooled_with_the_smaller_neighbour():
    # 85 zeros, 5 ones, 10 twos: deciles 0 (x8) and 1.1 -> edges 0.5 and 1.5 -> cells 85, 5, 10; the
    # 5 join their smaller neighbour (the 10): cells <=0.5 and >0.5, 85 and 15 pupils
    profile = feature_profile(pd.Series([0.0] * 85 + [1.0] * 5 + [2.0] * 10), "numeric")
    assert profile["edges"] == [0.5] and profile["shares"] == [0.85, 0.15, 0.0]
    ref, now = current_shares(profile, pd.Series([0.0] * 50 + [1.0] * 50))
    assert now == [0.5, 0.5, 0.0]
    by_hand = (0.5 - 0.85) * math.log(0.5 / 0.85) + (0.5 - 0.15) * math.log(0.5 / 0.15)
    assert psi(ref, now) == pytest.approx(by_hand)
    # 5 missing of 100: pooled with the largest cell, and the missing rate withheld
    pooled = feature_profile(pd.Series([0.0] * 50 + [5.0] * 45 + [np.nan] * 5), "numeric")
    assert pooled["missing_with"] == 0 and pooled["missing"] is None
    assert pooled["edges"] == [2.5, 5.0] and pooled["shares"] == [0.55, 0.45, 0.0]  # 5s: the top decile


def test_categories_under_ten_are_pooled_and_a_rare_missing_is_withheld():
    values = pd.Series(["A"] * 50 + ["B"] * 30 + ["C"] * 6 + ["D"] * 5 + [None] * 3 + ["unknown"] * 6)
    profile = feature_profile(values, "categorical")
    # C (6), D (5) and missing (3 + 6 "unknown" = 9) pooled: 20 pupils in one cell
    assert profile["cells"] == [["A"], ["B"], ["C", "D", "missing"]]
    assert profile["shares"] == [0.5, 0.3, 0.2]
    assert profile["missing"] is None  # fewer than 10 missing: not shown
    ref, now = current_shares(profile, pd.Series(["A"] * 20 + ["E"] * 80))  # E never seen: the pooled cell
    assert now == [0.2, 0.0, 0.8] and ref == [0.5, 0.3, 0.2]


def test_binary_flags_and_their_missing_rate():
    values = pd.Series([1.0] * 30 + [0.0] * 50 + [np.nan] * 20)
    profile = feature_profile(values, "binary")
    assert profile["cells"] == [["0"], ["1"], ["missing"]] and profile["missing"] == 0.2
    table = pd.DataFrame({"AcademicYear": "2016/17", "fsm": values})
    report = compare(reference_profile(table, ["2016/17"]), pd.DataFrame({"fsm": [1.0] * 50 + [np.nan] * 50}),
                     "2018/19", Thresholds())  # fmt: skip
    row = report.features[0]
    assert row["missing_reference"] == 0.2 and row["missing_current"] == 0.5 and row["warning"]
    expected = psi([0.5, 0.3, 0.2], [0.0, 0.5, 0.5])
    assert row["psi"] == round(expected, 2)  # published to 2 decimals
    assert any("is missing for 50% of pupils in 2018/19 against 20%" in w for w in report.warnings)


def test_rates_are_withheld_when_fewer_than_ten_stand_behind_them():
    assert shown_rate(90, 100) == 0.9 and shown_rate(100, 100) == 1.0 and shown_rate(0, 100) == 0.0
    assert shown_rate(95, 100) is None  # 5 unlinked
    assert shown_rate(5, 100) is None and shown_rate(4, 8) is None


def test_link_and_base_rate_warnings_at_their_thresholds():
    table = pd.DataFrame({"AcademicYear": ["2016/17"] * 20, "fsm": [0.0] * 20})
    profile = reference_profile(table, ["2016/17"], {"social_care": 0.9, "exclusions": 0.99}, 0.04)
    quiet = compare(profile, table, "2018/19", Thresholds(), {"social_care": 0.75, "exclusions": 0.99},
                    ("2017/18", 0.049))  # fmt: skip
    assert quiet.warnings == []  # 16.7% fewer links, 22.5% more exclusions: under 20% and 25%
    loud = compare(profile, table, "2018/19", Thresholds(), {"social_care": 0.6, "exclusions": 0.99},
                   ("2017/18", 0.03))  # fmt: skip
    assert [r["warning"] for r in loud.link_rates] == [False, True]
    assert "Fewer social-care records of 2018/19 are linked" in loud.warnings[0]
    assert "(33% fewer)" in loud.warnings[0]
    assert "a suspension or permanent exclusion after the autumn census in 2017/18" in loud.warnings[1]
    assert "25% lower" in loud.warnings[1]
    assert loud.base_rate["latest_complete_year"] == "2017/18" and loud.base_rate["warning"]


def test_thresholds_come_from_drift_yaml_and_a_config_overrides_them(tmp_path):
    assert load_thresholds() == Thresholds()
    custom = tmp_path / "drift.yaml"
    custom.write_text("psi_warning: 0.5\nlink_rate_drop: 0.3\n")
    assert load_thresholds(custom) == Thresholds(psi_warning=0.5, link_rate_drop=0.3)
    for bad in ("psi_warnin: 0.5\n", "psi_warning: -1\n", "psi_notice: 0.4\npsi_warning: 0.3\n", "[1, 2]\n"):
        custom.write_text(bad)
        with pytest.raises(DriftError):
            load_thresholds(custom)


def test_a_model_without_a_profile_says_drift_could_not_be_checked():
    lines = scoring_drift_lines({"version": "7"}, pd.DataFrame(), "2018/19")
    assert lines == [NOT_CHECKED.format(version="7")]
