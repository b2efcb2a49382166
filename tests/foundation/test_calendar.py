"""School calendar arithmetic: academic years, census days, the years a census frame covers."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk import calendar


@pytest.mark.parametrize(
    "year, day",
    [("2015/16", "2015-10-01"), ("2016/17", "2016-10-06"), ("2017/18", "2017-10-05"),
     ("2020/21", "2020-10-01"), ("2024/25", "2024-10-03"), (2018, "2018-10-04")],
)
def test_census_day_is_first_thursday_of_october(year, day):
    stamp = calendar.census_date(year)
    assert stamp == pd.Timestamp(day)
    assert stamp.day_name() == "Thursday" and stamp.day <= 7


def test_academic_year_of_dates_and_boundaries():
    days = pd.to_datetime(["2016-08-31", "2016-09-01", "2017-08-31", None])
    dates = pd.Series(days, index=[10, 11, 12, 13])
    years = calendar.academic_year_of(dates)
    assert years.index.tolist() == [10, 11, 12, 13]
    assert years.iloc[:3].tolist() == ["2015/16", "2016/17", "2016/17"]
    assert pd.isna(years.iloc[3])
    assert calendar.academic_year_of("2000-01-15") == "1999/00"
    assert calendar.normalise_year("2016-2017") == "2016/17"
    assert calendar.shift_year("2016/17", -1) == "2015/16"
    with pytest.raises(ValueError, match="2016/18"):
        calendar.start_year("2016/18")


@pytest.mark.parametrize(
    "term, day", [("AUT", "2017-10-05"), ("SPR", "2018-01-18"), ("SUM", "2018-05-17")]
)
def test_each_terms_census_day(term, day):
    assert calendar.census_date("2017/18", term) == pd.Timestamp(day)
    with pytest.raises(ValueError, match="census term"):
        calendar.census_date("2017/18", "WIN")


def test_a_collection_dates_term_and_the_autumn_years_of_a_census():
    assert [calendar.census_term_of_month(m) for m in (10, 1, 5, 9, 3, 7)] == [
        "AUT", "SPR", "SUM", "AUT", "SPR", "SUM",
    ]
    census = pd.DataFrame(
        {"AcademicYear": ["2017/18", "2016-17", "2017/18", None], "CensusTerm": ["AUT", "AUT", "SPR", "AUT"]}
    )
    assert calendar.autumn_years(census) == ["2016/17", "2017/18"]
