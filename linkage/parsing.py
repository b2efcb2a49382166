"""Text -> typed values (dates, whole and decimal numbers, academic years), each distinct text once.

The schemas (linkage.schemas) validate with these parsers and the readers build the canonical frames
with them, so "valid" and "convertible" cannot disagree. A text that does not parse gives NA / NaT.
A date and time with a UTC offset (`Z`, `+01:00`; a Parquet timestamp with a time zone, as text) is
read as the day it was in England (Europe/London), not its UTC day.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

from exclusion_risk import calendar
from exclusion_risk.linkage.arrow_text import TEXT, encoded, map_codes

# ISO YYYY-MM-DD or UK DD/MM/YYYY (one-digit day/month as Excel writes them), optionally followed
# by a time without an offset, which is ignored (a time with one: `_INSTANT`).
_DATE = (
    r"^(?:(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})|(?P<d2>\d{1,2})/(?P<m2>\d{1,2})/(?P<y2>\d{4}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
# An ISO date and time with a UTC offset (Z, +01:00, +0100, or +01 as PostgreSQL writes it) is an
# instant: read as the day it was in England. A UK system's midnight on 1 May 2010 (BST) stored in UTC
# is 2010-04-30T23:00:00Z, a day early in UTC. Arrow writes a Parquet timestamp with a time zone as text
# in this form (loading.py).
_INSTANT = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"[ T](?P<hh>\d{1,2}):(?P<mm>\d{2})(?::(?P<ss>\d{2})(?:\.\d+)?)?"
    r"(?:[Zz]|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)$"
)
LOCAL_ZONE = "Europe/London"  # the authority's own time
EARLIEST_DATE = pd.Timestamp("1980-01-01")  # MIS placeholders such as 1900-01-01 are not dates
LATEST_DATE = pd.Timestamp("2100-12-31")


def _int_field(struct: pyarrow.StructArray, first: str, second: str) -> np.ndarray:
    # pc.struct_field (unlike StructArray.field) carries the null of a row the pattern did not match
    a, b = pc.struct_field(struct, first), pc.struct_field(struct, second)
    part = pc.if_else(pc.equal(a, ""), b, a)
    return pc.fill_null(pc.cast(pc.fill_null(part, "0"), pyarrow.int64()), 0).to_numpy()


def _group_ints(struct: pyarrow.StructArray, name: str) -> np.ndarray:
    # an optional group that took no part in the match is "" (a row the pattern did not match: null)
    part = pc.struct_field(struct, name)
    return pc.fill_null(pc.cast(pc.if_else(pc.equal(part, ""), "0", part), pyarrow.int64()), 0).to_numpy()


def _calendar_days(
    year: np.ndarray, month: np.ndarray, day: np.ndarray, matched: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[ns] days, ok): ok where the text matched and names a real calendar day."""
    ok = matched & (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1678) & (year <= 2261)
    months = np.where(ok, (year - 1970) * 12 + (month - 1), 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    days_in_month = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= day <= days_in_month
    return (first + np.where(ok, day - 1, 0)).astype("datetime64[ns]"), ok


def _days_in_england(text: pyarrow.Array) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[ns] days, ok) of the texts that are instants (`_INSTANT`): the day in England."""
    struct = pc.extract_regex(text, _INSTANT)
    matched = pc.is_valid(struct).to_numpy(zero_copy_only=False)
    if not matched.any():
        return np.full(len(text), np.datetime64("NaT", "ns")), matched
    g = {name: _group_ints(struct, name) for name in ("y", "m", "d", "hh", "mm", "ss", "oh", "om")}
    days, ok = _calendar_days(g["y"], g["m"], g["d"], matched)
    ok &= (g["hh"] <= 23) & (g["mm"] <= 59) & (g["ss"] <= 59) & (g["oh"] <= 18) & (g["om"] <= 59)
    sign = pc.fill_null(pc.struct_field(struct, "sign"), "").to_numpy(zero_copy_only=False)
    east = np.where(sign == "-", -1, 1)  # +01:00 is an hour ahead of UTC: subtract it
    seconds = g["hh"] * 3600 + g["mm"] * 60 + g["ss"] - east * (g["oh"] * 3600 + g["om"] * 60)
    utc = days + np.where(ok, seconds, 0).astype("timedelta64[s]")
    local = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(LOCAL_ZONE).tz_localize(None).normalize()
    dates = local.to_numpy(dtype="datetime64[ns]")
    dates[~ok] = np.datetime64("NaT")
    return dates, ok


def _parse_distinct_dates(text: pyarrow.Array) -> np.ndarray:
    struct = pc.extract_regex(text, _DATE)
    matched = pc.is_valid(struct).to_numpy(zero_copy_only=False)
    year = _int_field(struct, "y1", "y2")
    month = _int_field(struct, "m1", "m2")
    day = _int_field(struct, "d1", "d2")
    dates, ok = _calendar_days(year, month, day, matched)
    instants, in_england = _days_in_england(text)  # no text matches both patterns
    dates[in_england] = instants[in_england]
    dates[~(ok | in_england)] = np.datetime64("NaT")
    return dates


def parse_dates(values: pd.Series) -> pd.Series:
    """Text -> datetime64[ns]; NaT where blank or not a real calendar date (31/02/2010 is NaT).

    Parses each distinct text once: a million dates of birth hold a few thousand distinct days.
    """
    dictionary, indices = encoded(values)
    parsed = _parse_distinct_dates(dictionary)
    idx = pc.fill_null(indices, -1).to_numpy()
    dates = np.append(parsed, np.datetime64("NaT", "ns"))[idx]
    return pd.Series(dates, index=values.index)


def _on_distinct(values: pd.Series, parse, dtype: str) -> pd.Series:
    """Run an arrow parser on the distinct texts only, then spread the result over the rows."""
    dictionary, indices = encoded(values)
    parsed = pc.take(parse(dictionary), indices)
    return pd.Series(pd.array(parsed, dtype=dtype), index=values.index)


def _whole(text: pyarrow.Array) -> pyarrow.Array:
    ok = pc.match_substring_regex(text, r"^\d{1,9}(?:\.0*)?$")
    return pc.cast(pc.replace_substring_regex(pc.if_else(ok, text, None), r"\.0*$", ""), pyarrow.int64())


def _number(text: pyarrow.Array) -> pyarrow.Array:
    ok = pc.match_substring_regex(text, r"^(?:\d{1,9}(?:\.\d*)?|\.\d+)$")
    return pc.cast(pc.if_else(ok, text, None), pyarrow.float64())


def parse_whole_numbers(values: pd.Series) -> pd.Series:
    """'12', '12.0' -> 12 (Int64); NA where blank or not a non-negative whole number."""
    return _on_distinct(values, _whole, "Int64")


def parse_numbers(values: pd.Series) -> pd.Series:
    """'2', '2.5' -> Float64; NA where blank or not a non-negative number."""
    return _on_distinct(values, _number, "Float64")


_ACADEMIC_YEAR = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")


def _academic_year(text: object) -> str | None:
    # stricter than calendar.start_year about spaces at the ends: the readers strip cells first
    if not _ACADEMIC_YEAR.match(str(text)):
        return None
    try:
        return calendar.plausible_year(str(text))  # 1990/91 to next year: beyond is a typo, or worse
    except ValueError:
        return None


def parse_academic_years(values: pd.Series) -> pd.Series:
    """'2016/17', '2016-17', '2016/2017' -> '2016/17'; NA otherwise (and outside 1990/91 to next year)."""
    distinct, _ = encoded(values)
    return map_codes(values, {u: _academic_year(u) for u in distinct.to_pylist()})


def academic_year_of(dates: pd.Series) -> pd.Series:
    """Academic year (1 September - 31 August) of each date, as '2016/17'; NA for NaT."""
    return calendar.academic_year_of(dates).astype(TEXT)
