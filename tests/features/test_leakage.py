"""Features for year Y from data cut at Y's census day equal features from the full data.

If any feature looked past census day (a spring census row, an exclusion or social-care episode after
the date, a school's events of year Y), the truncated rebuild would differ.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk import calendar
from exclusion_risk.features import registry
from exclusion_risk.features.build import build_feature_table

YEARS = ["2014/15", "2015/16", "2016/17", "2017/18"]
COMPARED = ["upn", "AcademicYear", "SchoolURN", *[f.name for f in registry.FEATURES], "need_level"]


@pytest.fixture(scope="module")
def full_history(random_history):
    return random_history(3000, YEARS, seed=11)


@pytest.mark.parametrize("year", YEARS[1:])
def test_truncated_data_give_identical_features(full_history, year, truncate_at):
    truncated = truncate_at(full_history, year)
    # the cut really removes later data that a leaky feature would see
    assert len(truncated.census) < len(full_history.census)
    assert len(truncated.exclusions) < len(full_history.exclusions)
    assert truncated.social_care["EndDate"].notna().sum() < full_history.social_care["EndDate"].notna().sum()

    full = build_feature_table(full_history, [year]).sort_values("upn", ignore_index=True)
    cut = build_feature_table(truncated, [year]).sort_values("upn", ignore_index=True)
    assert len(full) == 3000
    pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED], check_exact=True)
    # outcomes lie after the cut: known in the full data, unknown in the truncated data
    assert full["label"].notna().all() and full["label"].sum() > 0
    assert cut["label"].isna().all()


def test_the_leakage_check_detects_a_leak(full_history, monkeypatch, truncate_at):
    """The check itself: a builder that read exclusions and episodes up to the year's end is caught."""
    year = "2016/17"
    truncated = truncate_at(full_history, year)
    monkeypatch.setattr(calendar, "census_date", calendar.year_end)
    full = build_feature_table(full_history, [year]).sort_values("upn", ignore_index=True)
    cut = build_feature_table(truncated, [year]).sort_values("upn", ignore_index=True)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED])
