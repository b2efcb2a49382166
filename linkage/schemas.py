"""The pandera schema of each extract: what a valid value is, checked on the file's pre-cleaned text.

The schemas validate the text as the readers hold it before anything is converted (stripped, blank
-> NA, codes upper-cased; categoricals, so that each distinct text is checked once), so every
failure keeps the value as it was written and the row it came from. Every check is vectorised (one
call per column); code checks factorize first, so a million rows of a few dozen codes cost little.
Three checks span columns and fail the whole row, naming one column (`frame_check_columns`): social
care's EndDate before StartDate, an exclusion starting before the child was two, and a census row absent
more sessions than possible.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa

from exclusion_risk import calendar
from exclusion_risk.linkage import codes
from exclusion_risk.linkage.arrow_text import encoded, known_codes
from exclusion_risk.linkage.fields import FIELDS, Field
from exclusion_risk.linkage.parsing import (
    EARLIEST_DATE,
    LATEST_DATE,
    parse_academic_years,
    parse_dates,
    parse_numbers,
    parse_whole_numbers,
)
from exclusion_risk.upn import UPN_SEPARATORS

# A school: its URN (6 digits) or its LAEstab (LA number and establishment number, 7 digits); also written
# as a decimal with zeros after the point (3354028.0: a spreadsheet's number), read as the whole number
# (linkage.extract_frames counts them).
SCHOOL = re.compile(r"^[0-9]{6,7}(?:\.0+)?$")  # ASCII digits: Python's \d takes any script's
SCHOOL_ERROR = "not a school URN (6 digits) or LAEstab (7 digits)"
# A record's own id (RecordID, LAchildID): a bounded token, never text a spreadsheet would run.
RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./:-]{0,63}$")
RECORD_ID_ERROR = "not a record id (up to 64 letters, digits and - _ . / :, starting with a letter or digit)"
# A UPN with a wrong check letter or length is kept (flagged invalid; linkage falls back to names),
# but text that cannot be a mistyped UPN (punctuation first, formula characters, a sentence) is not. The
# separators an export writes inside a UPN (spaces, no-break spaces, hyphens: upn.UPN_SEPARATORS) are
# allowed between its letters and digits, which the reader then reads without them (upn.upn_key).
_SEPARATOR = f"[{re.escape(UPN_SEPARATORS)}]"
UPN_LIKE = re.compile(rf"^[A-Z0-9](?:{_SEPARATOR}*[A-Z0-9]){{0,19}}{_SEPARATOR}*$")
UPN_ERROR = "not a UPN (letters and digits, at most 20 characters)"
# assessment factor codes split as `codes.split_codes` splits them: at ; , | / a line break or spaces
# ('3A|4A' and '3A 4A' were rejected here, though the reader splits them), each of `codes.FACTOR_CODE`'s
# shape ("35", "0A" or "99Z" is no code: read as blank, any code beside it kept, `codes.known_factors`)
_FACTOR = codes.FACTOR_CODE
_FACTOR_LIST = re.compile(rf"^\s*{_FACTOR}(?:\s*[;,|/]\s*{_FACTOR}|\s+{_FACTOR})*\s*[;,|/]?\s*$")

MISSING = "missing value"
YEAR_ERROR = (
    f"not an academic year (YYYY/YY, from {calendar.format_year(calendar.EARLIEST_YEAR)} to next year)"
)
DATE_ERROR = "not a date (YYYY-MM-DD or DD/MM/YYYY, 1980 to 2100)"
FUTURE_DOB_ERROR = "date of birth in the future"
FUTURE_START_ERROR = "start date after next academic year (the latest a census year may be)"
END_BEFORE_START = "EndDate before StartDate"
START_BEFORE_SCHOOL_AGE = "StartDate before the child's second birthday (DOB): no school had the child yet"
# No child is on a school's roll before age 2 (the earliest funded nursery place), so an exclusion
# dated earlier, before birth included, is a mistyped date (StartDate or DOB): which is unknown, and
# read as it was it counts as an earlier suspension. Social care is not checked: a child protection
# plan for an unborn child starts before birth.
SCHOOL_AGE_YEARS = 2
# The termly files' reason too (linkage.readers uses it), so `exclusion-risk check` counts both as one.
ABSENCE_OVER_POSSIBLE = "authorised plus unauthorised absence is more than the sessions possible"
POSSIBLE = "SessionsPossible"
ABSENCES = ("SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence")


def _in_range(dates: pd.Series) -> pd.Series:
    return dates.between(EARLIEST_DATE, LATEST_DATE)


def _latest_day() -> pd.Timestamp:
    """The last day of the latest academic year a census may name (calendar.latest_year: next year)."""
    return calendar.year_end(calendar.latest_year())


def _not_blank_or(ok: pd.Series, values: pd.Series) -> pd.Series:
    return ok | values.isna()


def _checks(field: Field) -> list[pa.Check]:
    if field.kind == "code":
        return [
            pa.Check(lambda s, m=field.mapping: known_codes(s, m),
                     error=f"unknown {field.label} code" + (f" ({field.hint})" if field.hint else ""))
        ]
    if field.kind == "date":
        checks = [pa.Check(lambda s: _not_blank_or(_in_range(parse_dates(s)), s), error=DATE_ERROR)]
        if field.name == "DOB":
            checks.append(pa.Check(lambda s: ~(parse_dates(s) > pd.Timestamp.now()), error=FUTURE_DOB_ERROR))
        if field.name == "StartDate":  # an exclusion or episode: by the census's horizon, next year
            checks.append(pa.Check(lambda s: ~(parse_dates(s) > _latest_day()), error=FUTURE_START_ERROR))
        return checks
    if field.kind == "whole":
        return [
            pa.Check(
                lambda s: _not_blank_or(parse_whole_numbers(s).notna(), s), error="not a whole number >= 0"
            )
        ]
    if field.kind == "number":
        return [pa.Check(lambda s: _not_blank_or(parse_numbers(s).notna(), s), error="not a number >= 0")]
    if field.kind == "year":
        return [
            pa.Check(
                lambda s: _not_blank_or(parse_academic_years(s).notna(), s),
                error=YEAR_ERROR,
            )
        ]
    if field.kind in ("upn", "school", "id"):
        pattern, error = {
            "upn": (UPN_LIKE, UPN_ERROR),
            "school": (SCHOOL, SCHOOL_ERROR),
            "id": (RECORD_ID, RECORD_ID_ERROR),
        }[field.kind]
        return [pa.Check(lambda s, p=pattern: known_codes(s, _matching(s, p)), error=error)]
    if field.kind == "factors":
        return [
            pa.Check(
                lambda s: known_codes(s, _matching(s, _FACTOR_LIST)),
                error="not assessment factor codes (e.g. 3A;4A)",
            )
        ]
    return []


def _matching(values: pd.Series, pattern: re.Pattern) -> set[str]:
    """The distinct texts of `values` that match `pattern`."""
    dictionary, _ = encoded(values)
    return {text for text in dictionary.to_pylist() if pattern.match(text)}


def _end_not_before_start(frame: pd.DataFrame) -> pd.Series:
    if "EndDate" not in frame or "StartDate" not in frame:
        return pd.Series(True, index=frame.index)
    return ~(parse_dates(frame["EndDate"]) < parse_dates(frame["StartDate"]))


def _start_not_before_school_age(frame: pd.DataFrame) -> pd.Series:
    """A blank or unreadable date (its own check says so) leaves nothing to compare."""
    if "DOB" not in frame or "StartDate" not in frame:
        return pd.Series(True, index=frame.index)
    earliest = parse_dates(frame["DOB"]) + pd.DateOffset(years=SCHOOL_AGE_YEARS)  # 29 Feb -> 28 Feb
    return ~(parse_dates(frame["StartDate"]) < earliest)


def _whole_numbers(values: pd.Series) -> np.ndarray:
    """Whole numbers as floats, NaN where blank or not one (parse_whole_numbers parses each distinct
    text once: a categorical's categories)."""
    return parse_whole_numbers(values).to_numpy(dtype=float, na_value=np.nan)


def _absences(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each absence column the file has; a blank (or an invalid value, rejected by its own check) as 0:
    what is known of a row's absence is then a floor, never more than it was."""
    return {c: np.nan_to_num(_whole_numbers(frame[c])) for c in ABSENCES if c in frame}


def _absence_within_possible(frame: pd.DataFrame) -> pd.Series:
    """No more sessions absent than possible. A blank SessionsPossible leaves nothing to compare."""
    absences = _absences(frame)
    if POSSIBLE not in frame or not absences:
        return pd.Series(True, index=frame.index)
    over = sum(absences.values()) > _whole_numbers(frame[POSSIBLE])  # NaN possible: False
    return pd.Series(~over, index=frame.index)


def build_schema(extract: str) -> pa.DataFrameSchema:
    """The pandera schema of one extract's pre-cleaned text (columns already renamed to canonical)."""
    columns = {
        f.name: pa.Column(None, _checks(f), nullable=f.nullable, required=False) for f in FIELDS[extract]
    }
    frame_checks = []
    if extract == "social_care":
        frame_checks.append(pa.Check(_end_not_before_start, error=END_BEFORE_START))
    if extract == "exclusions":
        frame_checks.append(pa.Check(_start_not_before_school_age, error=START_BEFORE_SCHOOL_AGE))
    if extract == "census":
        frame_checks.append(pa.Check(_absence_within_possible, error=ABSENCE_OVER_POSSIBLE))
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False, name=extract)


# A frame-level check fails a whole row; the rejects name the column the check is about.
FRAME_CHECK_COLUMN = {END_BEFORE_START: "EndDate", START_BEFORE_SCHOOL_AGE: "StartDate"}


def frame_check_columns(checks: pd.Series, rows: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """The column the rejects name for each row (`rows`: labels of `frame`'s ascending index) failing a
    frame-level check (`checks`: its error). Too much absence names the row's larger absence column
    (authorised on a tie), so that the value shown beside the reason is the one that is too large."""
    columns = checks.map(FRAME_CHECK_COLUMN).to_numpy(dtype=object)
    absence = (checks == ABSENCE_OVER_POSSIBLE).to_numpy()
    if absence.any():
        positions = np.searchsorted(frame.index.to_numpy(), rows[absence])  # not a hash of every label
        counts = _absences(frame.iloc[positions])
        authorised, unauthorised = ABSENCES
        if authorised not in counts or unauthorised not in counts:
            columns[absence] = next(iter(counts))
        else:
            larger = counts[unauthorised] > counts[authorised]
            columns[absence] = np.where(larger, unauthorised, authorised)
    return columns
