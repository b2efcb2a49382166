"""`describe`'s chi-square tests are withheld, with the reason, where pooling the groups with a withheld
count leaves nothing to test (a reviewer's find: "χ² (permanent) = 1.01, 8 dof, p = 0.998" for SEN type,
after "none" and SEMH, holding all 16 permanent exclusions, were pooled into one row) or the expected
counts break Cochran's rule."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.models.describe import EXCLUDED, NOT_EXCLUDED, chi_square, describe_frame, suppress_all
from exclusion_risk.models.describe_analysis import Description, analyse
from exclusion_risk.models.describe_report import _html
from exclusion_risk.privacy import is_withheld
from tests.models.test_describe import _feature_table


def _table(rows: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=[EXCLUDED, NOT_EXCLUDED]).rename_axis("value")


# The reviewer's 3,000-pupil synthetic authority (seed 11), permanent exclusion by SEN type: 8 of 10,534
# with no SEN and 8 of 375 with SEMH, "<10" each, so both pooled; unpooled, chi-square 104 on 12 dof.
SEN_TYPE = _table({"none": [8, 10526], "SEMH": [8, 367], "MLD": [0, 310], "SLCN": [0, 402], "ASD": [0, 260],
                   "SPLD": [0, 140], "HI": [0, 40], "VI": [0, 25], "PD": [0, 60], "OTH": [0, 90]})


def _test(table: pd.DataFrame, outcome: str = "permanent", variable: str = "sen_type"):
    shown = suppress_all({(outcome, variable): table}, [])[(outcome, variable)]
    return chi_square(outcome, variable, table, shown), shown


def test_no_statistic_where_pooling_leaves_the_exclusions_in_one_row():
    test, shown = _test(SEN_TYPE)
    assert is_withheld(shown.loc["none", EXCLUDED]) and is_withheld(shown.loc["SEMH", EXCLUDED])
    assert {"none", "SEMH"} <= set(test.pooled)
    assert test.row["statistic"] is None and test.row["dof"] is None and test.row["p_value"] is None
    assert test.row["not_computed"].startswith("not computed: too few permanent exclusions")
    assert "pooled" in test.row["not_computed"]


def test_no_statistic_where_expected_counts_break_cochrans_rule():
    # 18 pupils of unknown sex, none excluded: expected 0.2 excluded (under 1), so the chi-square
    # approximation does not hold whatever the statistic reads
    test, _ = _test(_table({"F": [20, 3000], "M": [40, 2980], "unknown": [0, 18]}), variable="sex")
    assert test.row["statistic"] is None and test.row["p_value"] is None
    assert "Cochran" in test.row["not_computed"]
    # the observed and expected counts stay: each describes its own group, as before
    assert {c["value"] for c in test.cells} == {"F", "M", "unknown"}


def test_a_test_within_the_rule_stands():
    test, _ = _test(_table({"F": [20, 3000], "M": [40, 2980], "unknown": [0, 300]}), variable="sex")
    assert test.row["statistic"] == pytest.approx(10.07, abs=0.01) and test.row["dof"] == 2
    assert test.row["not_computed"] is None


def test_the_page_gives_the_reason_and_the_rule():
    test, _ = _test(SEN_TYPE)
    assert test.row["not_computed"]
    html = _html(_description_with(test.row))
    assert "χ² (permanent) = not computed: too few permanent exclusions" in html
    assert "Cochran's rule" in html.replace("&#39;", "'")


def _description_with(row: dict) -> Description:
    """A small authority's description with the SEN type permanent test replaced by `row`."""
    description = analyse(describe_frame(_feature_table(1500)), ["2017/18"])
    description.document["chi2"] = [row if (r["outcome"], r["variable"]) == ("permanent", "sen_type") else r
                                    for r in description.document["chi2"]]  # fmt: skip
    return description
