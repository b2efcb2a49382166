"""Features for year Y from data cut at Y's reference census day equal features from the full data.

For each reference census (autumn, spring, summer): if any feature looked past that census day (a
later census row of the year or the next, an exclusion or social-care episode after the date, a
school's events of year Y), the truncated rebuild would differ. The check itself is checked: builders
that leak a later census row, a later exclusion or a later episode are caught at every census.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk import calendar
from exclusion_risk.features import build, registry
from exclusion_risk.features.build import build_feature_table

YEARS = ["2014/15", "2015/16", "2016/17", "2017/18"]
COMPARED = ["upn", "AcademicYear", "SchoolURN", *[f.name for f in registry.FEATURES], "need_level"]
CENSUSES = list(calendar.CENSUS_TERMS)
LEAK_YEAR = "2016/17"  # a year with a later year after it: every census has a later collection


@pytest.fixture(scope="module")
def full_history(random_history):
    return random_history(3000, YEARS, seed=11)


def _features(history, year, census):
    return build_feature_table(history, [year], census=census).sort_values("upn", ignore_index=True)


@pytest.mark.parametrize("census", CENSUSES)
@pytest.mark.parametrize("year", YEARS[1:])
def test_truncated_data_give_identical_features(full_history, year, census, truncate_at):
    truncated = truncate_at(full_history, year, census)
    # the cut really removes later data that a leaky feature would see (the last year's summer census
    # has no later collection in these data)
    if not (census == calendar.SUMMER and year == YEARS[-1]):
        assert len(truncated.census) < len(full_history.census)
    assert len(truncated.exclusions) < len(full_history.exclusions)
    assert truncated.social_care["EndDate"].notna().sum() < full_history.social_care["EndDate"].notna().sum()

    full = _features(full_history, year, census)
    cut = _features(truncated, year, census)
    assert len(full) == 3000
    pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED], check_exact=True)
    # outcomes lie after the cut: known in the full data, unknown in the truncated data
    assert full["label"].notna().all() and full["label"].sum() > 0
    assert cut["label"].isna().all()


def _later_census_row(real):
    """A census-history builder that also reads the collection after the reference one (at autumn
    the spring row, at spring the summer row, at summer next year's autumn row)."""

    def leaky(prep, ref, year, term):
        following = year * build.TERMS_A_YEAR + term + 1
        return real(prep, ref, following // build.TERMS_A_YEAR, following % build.TERMS_A_YEAR)

    return leaky


def _later_exclusion(real):
    """An exclusion builder that counts exclusions up to the year's end (31 August)."""

    def leaky(prep, ref, year, day):
        return real(prep, ref, year, calendar.year_end(year))

    return leaky


def _later_episode(real):
    """A social-care builder that sees episodes started (and ended) up to the year's end."""

    def leaky(prep, ref, day):
        return real(prep, ref, calendar.year_end(calendar.academic_year_of(day)))

    return leaky


# leak -> (the builder function it replaces, a maker of the leaky variant from the real one)
LEAKS = {
    "later census row": ("_census_history_features", _later_census_row),
    "later exclusion": ("_exclusion_features", _later_exclusion),
    "later social-care episode": ("_social_care_features", _later_episode),
}


@pytest.mark.parametrize("census", CENSUSES)
@pytest.mark.parametrize("leak", list(LEAKS))
def test_the_leakage_check_detects_a_leak(full_history, monkeypatch, truncate_at, census, leak):
    """The check itself: at each reference census, a builder that reads a later census row, a later
    exclusion or a later social-care episode gives different features on the truncated data."""
    truncated = truncate_at(full_history, LEAK_YEAR, census)
    name, make_leaky = LEAKS[leak]
    monkeypatch.setattr(build, name, make_leaky(getattr(build, name)))
    full = _features(full_history, LEAK_YEAR, census)
    cut = _features(truncated, LEAK_YEAR, census)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED])


def test_a_census_date_past_the_census_is_caught(full_history, monkeypatch, truncate_at):
    """Every date cut moved to the year's end at once (the autumn check as it always was)."""
    truncated = truncate_at(full_history, LEAK_YEAR)
    monkeypatch.setattr(calendar, "census_date", lambda year, term=calendar.AUTUMN: calendar.year_end(year))
    full = _features(full_history, LEAK_YEAR, calendar.AUTUMN)
    cut = _features(truncated, LEAK_YEAR, calendar.AUTUMN)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(full[COMPARED], cut[COMPARED])
