"""School calendar arithmetic, the one definition every stage and the generator use.

An academic year runs 1 September to 31 August and is written `2016/17` (`format_year`). Census days
(the DfE's usual ones): autumn is the first Thursday of October of the year's first calendar year;
spring and summer are the third Thursdays of January and May. Any of the three can be the reference
census (features as known that day, outcomes after it; autumn by default); people name them `autumn`,
`spring`, `summer` (`CENSUS_NAMES`, read by `parse_census`), extracts by their CensusTerm code.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

_YEAR_PATTERN = re.compile(r"^\s*(\d{4})\s*[/-]\s*(\d{2}|\d{4})\s*$")
THURSDAY = 3
CENSUS_TERMS = ("AUT", "SPR", "SUM")  # in calendar order within an academic year
AUTUMN, SPRING, SUMMER = CENSUS_TERMS
TERM_ORDER = {term: i for i, term in enumerate(CENSUS_TERMS)}  # AUT 0, SPR 1, SUM 2: sorts collections
# The reference census as people name it (a setting, an option, a run record) -> its CensusTerm code.
CENSUS_NAMES = {"autumn": AUTUMN, "spring": SPRING, "summer": SUMMER}


def start_year(academic_year: str | int) -> int:
    """`2016/17` (or `2016-17`, `2016/2017`, 2016) -> 2016. Raises ValueError on anything else."""
    if isinstance(academic_year, int | np.integer):
        return int(academic_year)
    match = _YEAR_PATTERN.match(str(academic_year))
    if not match:
        raise ValueError(f"academic year {academic_year!r} is not of the form 2016/17")
    first, second = int(match.group(1)), int(match.group(2))
    if second % 100 != (first + 1) % 100:
        raise ValueError(f"academic year {academic_year!r}: the second year must follow the first")
    return first


def format_year(first_year: int) -> str:
    """2016 -> `2016/17`."""
    return f"{first_year}/{(first_year + 1) % 100:02d}"


def normalise_year(academic_year: str | int) -> str:
    """Any accepted spelling -> the canonical `2016/17`."""
    return format_year(start_year(academic_year))


# Years a request or an extract may name: from 1990/91 (before any pupil now at school, and before the
# DfE's current collections) to the year after the current one (next year's census being prepared).
# Beyond these a year is a typo or an attack, and far enough out it overflows pandas' timestamps.
EARLIEST_YEAR = 1990


def latest_year(today: date | None = None) -> int:
    """First calendar year of the latest plausible academic year: the year after today's."""
    today = today or date.today()
    return today.year - (1 if today.month < 9 else 0) + 1


def plausible_year(academic_year: str | int) -> str:
    """The canonical `2016/17` of a year between 1990/91 and next year; ValueError otherwise, with a
    message that states the range (never the value, which came from outside)."""
    latest = latest_year()
    wanted = f"must be an academic year from {format_year(EARLIEST_YEAR)} to {format_year(latest)}"
    try:
        first = start_year(academic_year)
    except ValueError:
        raise ValueError(wanted) from None
    if not EARLIEST_YEAR <= first <= latest:
        raise ValueError(wanted)
    return format_year(first)


def shift_year(academic_year: str | int, years: int) -> str:
    """`2016/17` shifted by -1 -> `2015/16`."""
    return format_year(start_year(academic_year) + years)


def _nth_thursday(year: int, month: int, n: int) -> pd.Timestamp:
    first = pd.Timestamp(year=year, month=month, day=1)
    return first + pd.Timedelta(days=(THURSDAY - first.dayofweek) % 7 + 7 * (n - 1))


def census_date(academic_year: str | int, term: str = AUTUMN) -> pd.Timestamp:
    """Census day of a term of the academic year (autumn: the first Thursday of October)."""
    first = start_year(academic_year)
    if term == AUTUMN:
        return _nth_thursday(first, 10, 1)
    if term == SPRING:
        return _nth_thursday(first + 1, 1, 3)
    if term == SUMMER:
        return _nth_thursday(first + 1, 5, 3)
    raise ValueError(f"census term {term!r} is not one of {', '.join(CENSUS_TERMS)}")


def parse_census(text: str) -> str:
    """`autumn` / `spring` / `summer` (any case; the codes AUT / SPR / SUM too) -> the term code.

    ValueError naming the accepted names for anything else.
    """
    key = str(text).strip().lower()
    if key in CENSUS_NAMES:
        return CENSUS_NAMES[key]
    if key.upper() in CENSUS_TERMS:
        return key.upper()
    raise ValueError(f"census {text!r} is not one of {', '.join(CENSUS_NAMES)}")


def census_name(term: str) -> str:
    """Term code (AUT / SPR / SUM, or a name) -> the name people use: `autumn`, `spring`, `summer`."""
    code = parse_census(term)
    return next(name for name, value in CENSUS_NAMES.items() if value == code)


def census_term_of_month(month: int) -> str:
    """Term of a collection date: autumn census in October, spring in January, summer in May."""
    if month >= 9:
        return AUTUMN
    return SPRING if month <= 3 else SUMMER


def census_years(census: pd.DataFrame, term: str = AUTUMN) -> list[str]:
    """The academic years (canonical, ascending) that have a `term` census in a census frame."""
    rows = census.loc[census["CensusTerm"].eq(term), "AcademicYear"].dropna()
    return sorted({normalise_year(y) for y in rows.unique()})


def autumn_years(census: pd.DataFrame) -> list[str]:
    """The academic years (canonical, ascending) that have an autumn census in a census frame."""
    return census_years(census, AUTUMN)


def year_start(academic_year: str | int) -> pd.Timestamp:
    return pd.Timestamp(year=start_year(academic_year), month=9, day=1)


def year_end(academic_year: str | int) -> pd.Timestamp:
    """Last day of the academic year (31 August), inclusive."""
    return pd.Timestamp(year=start_year(academic_year) + 1, month=8, day=31)


def academic_year_start_of(dates: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """First calendar year of each date's academic year (Int64; NA for missing dates)."""
    dates = pd.Series(pd.to_datetime(dates))
    first = dates.dt.year - (dates.dt.month < 9).astype("int64")
    return first.astype("Int64")


def academic_year_of(dates):
    """Academic year (`2016/17`) of each date; 1 Sep - 31 Aug. A scalar date gives a string.

    Series in -> string Series out (same index, NA for missing dates).
    """
    if not isinstance(dates, pd.Series | pd.Index | np.ndarray | list):
        stamp = pd.Timestamp(dates)
        return format_year(stamp.year - (1 if stamp.month < 9 else 0))
    index = dates.index if isinstance(dates, pd.Series) else None
    first = academic_year_start_of(pd.Series(pd.to_datetime(np.asarray(dates))))
    second = (first + 1) % 100
    years = first.astype("string") + "/" + second.astype("string").str.zfill(2)
    if index is not None:
        years.index = index
    return years
