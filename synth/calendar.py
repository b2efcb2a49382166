"""School calendar of the synthetic authority: the school days events fall on.

Census days are the project's own (`exclusion_risk.calendar.census_date`): the generator and the
readers agree on them by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from dateutil.easter import easter

from exclusion_risk import calendar

TERMS = calendar.CENSUS_TERMS


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def census_day(start_year: int, term: str = calendar.AUTUMN) -> date:
    return calendar.census_date(start_year, term).date()


@dataclass(frozen=True)
class SchoolYear:
    start_year: int
    days: np.ndarray  # datetime64[D] school days, ascending
    census: dict[str, np.datetime64]  # term -> census day


@lru_cache(maxsize=32)
def school_year(start_year: int) -> SchoolYear:
    """Weekdays from early September to late July, less half terms, Christmas, Easter, bank holidays."""
    y, n = start_year, start_year + 1
    first = _nth_weekday(y, 9, 2, 1)  # first Wednesday of September
    last = date(n, 7, 22)
    closed: list[tuple[date, date]] = []
    oct_half = _last_weekday(y, 10, 0)
    closed.append((oct_half, oct_half + timedelta(days=4)))
    closed.append((date(y, 12, 21), date(n, 1, 3)))
    feb_half = _nth_weekday(n, 2, 0, 3)
    closed.append((feb_half, feb_half + timedelta(days=4)))
    good_friday = easter(n) - timedelta(days=2)
    closed.append((good_friday - timedelta(days=4), good_friday + timedelta(days=10)))
    may_bank = _nth_weekday(n, 5, 0, 1)
    closed.append((may_bank, may_bank))
    may_half = _last_weekday(n, 5, 0)
    closed.append((may_half, may_half + timedelta(days=4)))
    days = np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")
    weekday = (days.astype("int64") - 4) % 7  # 1970-01-01 was a Thursday -> Monday = 0
    keep = weekday < 5
    for a, b in closed:
        keep &= ~((days >= np.datetime64(a)) & (days <= np.datetime64(b)))
    census = {t: np.datetime64(census_day(y, t)) for t in TERMS}
    return SchoolYear(start_year=y, days=days[keep], census=census)


def fraction_before_census(start_year: int) -> float:
    """Share of the year's school days before autumn census day (events then are known at census)."""
    sy = school_year(start_year)
    return float((sy.days < sy.census[calendar.AUTUMN]).sum() / (len(sy.days) - 1))


def term_of(dates: np.ndarray, start_year: int) -> np.ndarray:
    """0/1/2: the census term in force on each date (last census on or before it, AUT before any)."""
    sy = school_year(start_year)
    return sum((dates >= sy.census[term]).astype(np.int64) for term in TERMS[1:])
