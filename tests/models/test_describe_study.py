"""describe's side by side with the Walsall study, read: shares in the study's units with their
agreement in words, significance for chi-square, sign for a correlation, direction for observed -
expected, and one conclusion naming where this authority differs. The table had put "16%" beside
0.3641 and drawn no conclusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models.describe_study import percent, read_side_by_side, residual_p_value


def test_each_measure_is_read_and_the_differences_are_named():
    rows = [
        ("share excluded (any)", "about 3.5%", percent(0.0333), "", None),
        ("SEMH among permanently excluded", "16%", percent(0.3641), "", None),
        ("excluded in Year 1 with SEND", "over 75%", percent(0.81), "", None),
        ("chi-square, boys vs all others", 584, 212.5, "", None),
        ("school permanent-exclusion rate vs deprivation", "0.04 (secondary schools)", -0.31, "", 0.002),
        ("observed - expected excluded, Indian", -139.8, 42.0, "", 0.001),
        ("observed - expected excluded, Black Caribbean", 42.6, None, "", None),  # withheld: not read
    ]
    table, conclusion = read_side_by_side(
        pd.DataFrame(rows, columns=["measure", "study", "here", "note", "p_value"]))
    assert table["here"].tolist()[:2] == ["3.3%", "36.4%"]  # the study's units
    assert "p_value" not in table
    assert table["reading"].tolist() == [
        "about the same as the study", "higher than the study (2.3 times)", "also over 75% here",
        "significant here, as in the study",
        "more exclusion in more deprived areas here, where the study found no relation",
        "over-excluded here, unlike the study", "",
    ]
    assert conclusion == (
        "This authority agrees with the study on 3 of 6 measures read; it differs on: SEMH among "
        "permanently excluded; school permanent-exclusion rate vs deprivation; observed - expected "
        "excluded, Indian."
    )


def test_a_measure_not_significant_here_is_neither_agreement_nor_difference():
    """The demo's 131 schools correlated at -0.163 (p = 0.063) and Mixed White & Asian pupils 11.4 under
    their expected count (residual -1.12) were each counted as differing from the study."""
    rows = [
        ("share excluded (any)", "about 3.5%", percent(0.0333), "", None),
        ("school permanent-exclusion rate vs deprivation", "0.04 (secondary schools)", -0.163, "", 0.063),
        ("observed - expected excluded, Mixed White & Asian", 12.9, -11.4, "", residual_p_value(-1.12)),
    ]
    table, conclusion = read_side_by_side(
        pd.DataFrame(rows, columns=["measure", "study", "here", "note", "p_value"]))
    assert table["reading"].tolist()[1:] == [
        "no clear relation here (p = 0.063)",
        "neither clearly over- nor under-excluded here (p >= 0.05)",
    ]
    assert conclusion == (
        "This authority agrees with the study on 1 of 1 measures read. Not clear here either way "
        "(p >= 0.05, or too few to test): school permanent-exclusion rate vs deprivation; observed - "
        "expected excluded, Mixed White & Asian."
    )


def test_a_residual_is_read_as_a_two_sided_normal_deviate():
    assert residual_p_value(1.96) == pytest.approx(0.05, abs=1e-3)
    assert residual_p_value(-1.12) == pytest.approx(0.263, abs=1e-3)


def test_a_groups_residual_is_read_adjusted_so_it_agrees_with_its_own_two_by_two_test():
    """A statistician's 10,092-pupil authority: White British 216 excluded of 6,427 against 198.7 expected.
    The Pearson residual (1.23, p = 0.22) was read as a normal deviate, so the table said "neither clearly
    over- nor under-excluded" beside "chi-square, White British vs others: 4.3, significant"."""
    from scipy.stats import chi2_contingency

    from exclusion_risk.models.describe_study import adjusted_residuals

    counts = np.array([[216, 6211], [96, 3569]])
    result = chi2_contingency(counts, correction=False)
    pearson = (counts - result.expected_freq) / np.sqrt(result.expected_freq)
    adjusted = adjusted_residuals(counts, result.expected_freq)
    assert residual_p_value(pearson[0, 0]) > 0.2  # what was read
    assert adjusted[0, 0] ** 2 == pytest.approx(result.statistic)  # its own 2x2 test's
    assert residual_p_value(adjusted[0, 0]) == pytest.approx(result.pvalue) and result.pvalue < 0.05


def test_too_few_expected_or_too_few_schools_is_not_read_as_a_finding():
    from exclusion_risk.models.describe_analysis import MIN_SCHOOLS, _spearman

    # 3 secondary schools: rho -1.0 with scipy's "p = 0.0" was read as a difference from the study
    three = pd.DataFrame({"permanent": [11, 5, 2], "pupils": [100, 100, 80], "idaci": [2.32, 3.33, 4.58]})
    assert MIN_SCHOOLS == 10 and _spearman(three, "permanent") == (None, None)
    # a group expected to have under 5 excluded is given no p-value, and so no direction
    rows = [("observed - expected excluded, Mixed White & Asian", 12.9, -3.9, "", None)]
    table, _ = read_side_by_side(pd.DataFrame(rows, columns=["measure", "study", "here", "note", "p_value"]))
    assert table["reading"].tolist() == ["not tested here (fewer than 5 expected, or withheld)"]
