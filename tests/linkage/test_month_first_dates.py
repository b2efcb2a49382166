"""A date column written month-first (US order) stops the read, naming the file and column, no value."""

from __future__ import annotations

import datetime as dt

import pytest

from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census, read_exclusions
from exclusion_risk.upn import make_upn


def _upn(i: int) -> str:
    return make_upn(330, 4001, 2010, i)


# 2 Sep 2015, 15 Oct 2015, 3 Nov 2015, 20 Dec 2015 written m/d/yyyy: two can only be month-first (a
# lone one is taken for a typo and left to the row checks), none only day-first
US_STARTS = ["09/02/2015", "10/15/2015", "11/03/2015", "12/20/2015"]


def test_month_first_start_dates_stop_the_read_naming_file_and_column(tmp_path, exclusion_row, csv_text,
                                                                      write, exclusions_header):
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate(US_STARTS)]
    path = write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header))
    with pytest.raises(ExtractError) as caught:
        read_exclusions(path)
    message = str(caught.value)
    assert caught.value.column == "StartDate" and "exclusions.csv" in message
    assert "month-first" in message and "YYYY-MM-DD" in message and "DD/MM/YYYY" in message
    assert not any(d in message for d in US_STARTS)


def test_month_first_census_dob_stops_the_read(tmp_path, census_row, csv_text, write, mis_header):
    dobs = ["3/1/2008", "3/21/2008", "12/30/2008"]
    rows = [census_row(_upn(i), DoB=d) for i, d in enumerate(dobs)]
    path = write(tmp_path / "census.csv", csv_text(rows, mis_header))
    with pytest.raises(ExtractError, match="month-first") as caught:
        read_census(path)
    assert caught.value.column == "DOB"


def test_day_first_dates_read_as_before(tmp_path, exclusion_row, csv_text, write, exclusions_header):
    starts = ["02/09/2015", "15/10/2015", "03/11/2015"]  # one can only be day-first
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate(starts)]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert len(result.clean) == 3 and result.rows_rejected == 0


def test_ambiguous_only_dates_read_as_day_first(tmp_path, exclusion_row, csv_text, write, exclusions_header):
    starts = ["02/09/2015", "10/11/2015"]  # either order possible: the contract's day-first
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate(starts)]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert len(result.clean) == 2


def test_both_kinds_reject_the_impossible_rows_as_before(tmp_path, exclusion_row, csv_text, write,
                                                         exclusions_header):
    starts = ["15/10/2015", "10/15/2015", "02/09/2015"]  # one day-first only, one month-first only
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate(starts)]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert len(result.clean) == 2 and result.rows_rejected == 1
    assert result.rejects["reason"].str.contains("not a date").all()


def test_one_month_first_typo_among_iso_dates_rejects_only_its_row(tmp_path, exclusion_row, csv_text, write,
                                                                    exclusions_header):
    # 84 YYYY-MM-DD StartDates and one hand-typed m/d/yyyy: the file is ISO, the odd row is rejected
    iso = [(dt.date(2015, 9, 1) + dt.timedelta(days=3 * i)).isoformat() for i in range(84)]
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate([*iso, "03/14/2016"])]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert len(result.clean) == 84 and result.rows_rejected == 1
    assert result.rejects["reason"].str.contains("not a date").all()


def test_day_first_file_with_one_impossible_month_rejects_only_its_row(tmp_path, exclusion_row, csv_text,
                                                                      write, exclusions_header):
    # day-first, no day above 12, one typo with month 13: not evidence of a US file
    starts = ["02/09/2015", "05/10/2015", "11/12/2015", "03/13/2016"]
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate(starts)]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert len(result.clean) == 3 and result.rows_rejected == 1
    assert result.rejects["reason"].str.contains("not a date").all()


def test_a_block_of_month_first_dates_among_iso_ones_stops_the_read(tmp_path, exclusion_row, csv_text, write,
                                                                    exclusions_header):
    """A US-locale export joined to an ISO file (a data officer's find): its ambiguous dates were read with
    day and month swapped and the rest rejected one by one; a block of them now stops the read."""
    iso = [(dt.date(2015, 9, 1) + dt.timedelta(days=3 * i)).isoformat() for i in range(84)]
    us = [f"{(dt.date(2016, 1, 1) + dt.timedelta(days=2 * i)):%m/%d/%Y}" for i in range(30)]  # 24 after 12th
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate([*iso, *us])]
    with pytest.raises(ExtractError, match="month-first") as caught:
        read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert caught.value.column == "StartDate"
    few = [*iso, *us[10:15]]  # a few hand-typed ones (here 5 only month-first): the row checks, as before
    rows = [exclusion_row(_upn(i), StartDate=d) for i, d in enumerate(few)]
    result = read_exclusions(write(tmp_path / "exclusions2.csv", csv_text(rows, exclusions_header)))
    assert len(result.clean) + result.rows_rejected == len(few)


def test_excel_day_numbers_stop_the_read_saying_how_to_save_them(tmp_path, exclusion_row, csv_text, write,
                                                                 exclusions_header):
    """A date column saved from Excel unformatted (42249 for 2 September 2015): every row was rejected as
    "not a date" and nothing said why (a data officer's find)."""
    rows = [exclusion_row(_upn(i), StartDate=str(42249 + 7 * i)) for i in range(6)]
    with pytest.raises(ExtractError, match="day numbers, as Excel saves a date column") as caught:
        read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert caught.value.column == "StartDate" and "42249" not in str(caught.value)
