"""Dates written as instants (a time zone or offset) read as the day they were in England.

A UK system that stores midnight on 1 May 2010 (BST) in UTC writes 2010-04-30T23:00:00Z: its UTC date
is the day before. Such values are read in Europe/London time, then the date is taken.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.linkage.parsing import parse_dates
from exclusion_risk.linkage.readers import read_census, read_exclusions
from exclusion_risk.upn import make_upn

UPN_A = make_upn(330, 4001, 2010, 1)
UPN_B = make_upn(330, 4001, 2010, 2)
# a BST instant (the day before in UTC) and a GMT one (the same day in UTC)
INSTANTS = ["2010-04-30T23:00:00Z", "2019-01-15T00:00:00Z"]
DAYS = [pd.Timestamp("2010-05-01"), pd.Timestamp("2019-01-15")]


def _exclusions(exclusion_row, start_dates) -> pd.DataFrame:
    frame = pd.DataFrame([exclusion_row(UPN_A), exclusion_row(UPN_B)])
    frame["StartDate"] = start_dates
    return frame


@pytest.mark.parametrize("unit", ["ns", "us", "ms"])
def test_parquet_start_dates_in_utc_read_as_the_day_in_england(tmp_path, exclusion_row, unit):
    frame = _exclusions(exclusion_row, pd.to_datetime(pd.Series(INSTANTS)).dt.as_unit(unit))
    frame.to_parquet(tmp_path / "exclusions.parquet")
    result = read_exclusions(tmp_path / "exclusions.parquet")
    assert result.rejects.empty
    assert result.clean["StartDate"].tolist() == DAYS


def test_parquet_dates_of_birth_in_another_zone_read_as_the_day_in_england(tmp_path, census_row):
    frame = pd.DataFrame([census_row(UPN_A), census_row(UPN_B)])
    # the same instants held in a named zone and in a fixed offset: the day in England either way
    frame["DoB"] = pd.to_datetime(pd.Series(["2008-03-01T00:00:00Z", "2008-06-30T23:30:00Z"]))
    frame["DoB"] = frame["DoB"].dt.tz_convert("America/New_York")
    frame["EntryDate"] = pd.to_datetime(pd.Series(["2012-08-31T23:00:00Z"] * 2)).dt.tz_convert("+05:00")
    frame.to_parquet(tmp_path / "census.parquet")
    result = read_census(tmp_path / "census.parquet")
    assert result.rejects.empty
    assert result.clean["DOB"].tolist() == [pd.Timestamp("2008-03-01"), pd.Timestamp("2008-07-01")]


def test_parquet_timestamps_without_a_zone_read_as_before(tmp_path, exclusion_row):
    # no zone: the wall-clock date as written (23:00 on 30 April is 30 April)
    naive = pd.to_datetime(pd.Series(["2010-04-30T23:00:00", "2019-01-15T00:00:00"]))
    frame = _exclusions(exclusion_row, naive)
    frame.to_parquet(tmp_path / "exclusions.parquet")
    result = read_exclusions(tmp_path / "exclusions.parquet")
    assert result.rejects.empty
    assert result.clean["StartDate"].tolist() == [pd.Timestamp("2010-04-30"), pd.Timestamp("2019-01-15")]


def test_csv_start_dates_with_z_or_an_offset_read_as_the_day_in_england(
    tmp_path, exclusion_row, csv_text, write
):
    rows = [
        exclusion_row(UPN_A, StartDate=INSTANTS[0]),
        exclusion_row(UPN_B, StartDate="2019-01-15 01:00+01:00"),
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.rejects.empty
    assert result.clean["StartDate"].tolist() == DAYS


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2010-04-30T23:00:00Z", "2010-05-01"),  # BST: an hour ahead of UTC
        ("2010-04-30T22:59:59.999Z", "2010-04-30"),
        ("2019-01-15T00:00:00Z", "2019-01-15"),  # GMT: UTC
        ("2019-01-15T23:30:00z", "2019-01-15"),
        ("2010-05-01T00:00:00+01:00", "2010-05-01"),
        ("2010-05-01 00:00+0100", "2010-05-01"),
        ("2010-04-30 23:00:00+00", "2010-05-01"),  # PostgreSQL's text for a timestamptz
        ("2010-04-30 23:00:00.123456+00", "2010-05-01"),
        ("2010-05-01 00:00:00+01", "2010-05-01"),
        ("2010-4-30 23:00:00.000000000Z", "2010-05-01"),  # as arrow writes a UTC timestamp as text
        ("2019-01-14T19:00:00-05:00", "2019-01-15"),
        ("2016-10-30T00:30:00Z", "2016-10-30"),  # the night the clocks go back: 01:30 BST
        ("2016-10-30T01:30:00Z", "2016-10-30"),  # 01:30 GMT
        ("2010-04-30T23:00:00", "2010-04-30"),  # no offset: the time is ignored, as before
        ("2010-04-30", "2010-04-30"),
        ("30/04/2010", "2010-04-30"),
    ],
)
def test_text_dates_with_an_offset_are_the_day_in_england(text, day):
    assert parse_dates(pd.Series([text], dtype="string")).tolist() == [pd.Timestamp(day)]


@pytest.mark.parametrize(
    "text",
    [
        "2010-04-31T23:00:00Z",  # no 31 April
        "2010-04-30T24:00:00Z",
        "2010-04-30T23:60:00Z",
        "2010-04-30T23:00:00+25:00",
        "2010-04-30T23:00:00+01:60",
        "30/04/2010 23:00Z",  # an instant is written in ISO order only
        "2010-04-30Z",
        "2010-04-30T23:00:00 Z",
        "2010-04-30T23:00:00+1",
    ],
)
def test_text_that_is_not_an_instant_is_not_a_date(text):
    assert parse_dates(pd.Series([text], dtype="string")).isna().all()
