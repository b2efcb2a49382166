"""What each extract's columns are called, which are required, and what a valid value is.

Each extract is a tuple of `Field`s (canonical name, accepted header aliases, kind, required column,
blank allowed). The pandera schemas validate the *pre-cleaned* text of a file (stripped, blank ->
NA, codes upper-cased; held as categoricals so that each distinct text is checked once), before
anything is converted, so that every failure keeps the value as it
was written and the row it came from. Every check is vectorised (one call per column); code checks
factorize first, so a million rows of a few dozen codes cost little. The parsers here are the ones
the readers use to build the canonical frames, so "valid" and "convertible" cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from exclusion_risk import calendar
from exclusion_risk.contract import HEADER_ALIASES
from exclusion_risk.linkage import codes

TEXT = codes.TEXT

# --- value parsers (vectorised) ------------------------------------------------------------------

# ISO YYYY-MM-DD or UK DD/MM/YYYY (one-digit day/month as Excel writes them), optionally followed
# by a time, which is ignored.
_DATE = (
    r"^(?:(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})|(?P<d2>\d{1,2})/(?P<m2>\d{1,2})/(?P<y2>\d{4}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
EARLIEST_DATE = pd.Timestamp("1980-01-01")  # MIS placeholders such as 1900-01-01 are not dates
LATEST_DATE = pd.Timestamp("2100-12-31")


def _int_field(struct: pyarrow.StructArray, first: str, second: str) -> np.ndarray:
    # pc.struct_field (unlike StructArray.field) carries the null of a row the pattern did not match
    a, b = pc.struct_field(struct, first), pc.struct_field(struct, second)
    part = pc.if_else(pc.equal(a, ""), b, a)
    return pc.fill_null(pc.cast(pc.fill_null(part, "0"), pyarrow.int64()), 0).to_numpy()


def _parse_distinct_dates(text: pyarrow.Array) -> np.ndarray:
    struct = pc.extract_regex(text, _DATE)
    matched = pc.is_valid(struct).to_numpy(zero_copy_only=False)
    year = _int_field(struct, "y1", "y2")
    month = _int_field(struct, "m1", "m2")
    day = _int_field(struct, "d1", "d2")
    ok = matched & (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1678) & (year <= 2261)
    months = np.where(ok, (year - 1970) * 12 + (month - 1), 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    days_in_month = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= day <= days_in_month
    dates = (first + np.where(ok, day - 1, 0)).astype("datetime64[ns]")
    dates[~ok] = np.datetime64("NaT")
    return dates


def parse_dates(values: pd.Series) -> pd.Series:
    """Text -> datetime64[ns]; NaT where blank or not a real calendar date (31/02/2010 is NaT).

    Parses each distinct text once: a million dates of birth hold a few thousand distinct days.
    """
    dictionary, indices = codes.encoded(values)
    parsed = _parse_distinct_dates(dictionary)
    idx = pc.fill_null(indices, -1).to_numpy()
    dates = np.append(parsed, np.datetime64("NaT", "ns"))[idx]
    return pd.Series(dates, index=values.index)


def _on_distinct(values: pd.Series, parse, dtype: str) -> pd.Series:
    """Run an arrow parser on the distinct texts only, then spread the result over the rows."""
    dictionary, indices = codes.encoded(values)
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
        return calendar.normalise_year(str(text))
    except ValueError:
        return None


def parse_academic_years(values: pd.Series) -> pd.Series:
    """'2016/17', '2016-17', '2016/2017' -> '2016/17'; NA otherwise."""
    distinct, _ = codes.encoded(values)
    return codes.map_codes(values, {u: _academic_year(u) for u in distinct.to_pylist()})


def academic_year_of(dates: pd.Series) -> pd.Series:
    """Academic year (1 September - 31 August) of each date, as '2016/17'; NA for NaT."""
    return calendar.academic_year_of(dates).astype(TEXT)


def _factor_lists(values: pd.Series) -> set[str]:
    """The distinct texts of `values` that are lists of assessment factor codes."""
    dictionary, _ = codes.encoded(values)
    return {text for text in dictionary.to_pylist() if _FACTOR_LIST.match(text)}


_FACTORS = r"^\s*\d{1,2}[A-Za-z]?\s*(?:[;,]\s*\d{1,2}[A-Za-z]?\s*)*;?\s*$"
_FACTOR_LIST = re.compile(_FACTORS)


# --- fields --------------------------------------------------------------------------------------

KINDS = ("upn", "text", "code", "date", "whole", "number", "year", "reasons", "factors", "postcode", "lsoa")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool = True  # the column must be in the file
    nullable: bool = True  # a blank value is allowed
    aliases: tuple[str, ...] = ()
    mapping: dict | None = None  # code kinds: accepted spelling -> canonical code
    label: str = ""  # what the code list is called in messages

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind}")


def header_key(name: str) -> str:
    """How headers are compared: case, spaces and punctuation ignored ('FSME on Census Day')."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


_NAMES = (
    Field("Surname", "text"),
    Field("Forename", "text"),
)

CENSUS_FIELDS = (
    Field("UPN", "upn", nullable=False),
    Field("FormerUPN", "upn", required=False),
    *_NAMES,
    Field("MiddleNames", "text", required=False),
    Field("PreferredSurname", "text", required=False),
    Field("FormerSurname", "text", required=False),
    Field("DOB", "date", nullable=False),
    Field("Sex", "code", mapping=codes.SEX_MAP, label="Sex"),
    Field("Ethnicity", "code", mapping=codes.ETHNICITY_MAP, label="Ethnicity"),
    Field(
        "FSMeligible",
        "code",
        mapping=codes.FSM_MAP,
        label="FSM",
    ),
    Field("SENprovision", "code", nullable=False, mapping=codes.SEN_PROVISION_MAP, label="SEN provision"),
    Field(
        "SENtype",
        "code",
        mapping=codes.SEN_TYPE_MAP,
        label="SEN type",
    ),
    Field(
        "SENtype2",
        "code",
        required=False,
        mapping=codes.SEN_TYPE_MAP,
        label="SEN type",
    ),
    Field(
        "NCyearActual",
        "code",
        nullable=False,
        mapping=codes.NC_YEAR_MAP,
        label="NC year",
    ),
    Field("Postcode", "postcode", required=False),
    Field("LSOA", "lsoa", required=False),
    Field("SchoolURN", "text", nullable=False),
    Field("AcademicYear", "year", nullable=False),
    Field(
        "CensusTerm", "code", nullable=False, mapping=codes.CENSUS_TERM_MAP, label="term"
    ),
    Field("SessionsPossible", "whole", required=False),
    Field("SessionsAuthorisedAbsence", "whole", required=False),
    Field("SessionsUnauthorisedAbsence", "whole", required=False),
)

EXCLUSION_FIELDS = (
    Field("RecordID", "text", required=False, nullable=False),
    Field("UPN", "upn"),
    Field("Surname", "text", required=False),
    Field("Forename", "text", required=False),
    Field("DOB", "date", required=False),
    Field("Sex", "code", required=False, mapping=codes.SEX_MAP, label="Sex"),
    Field("SchoolURN", "text", nullable=False),
    Field(
        "Category",
        "code",
        nullable=False,
        mapping=codes.CATEGORY_MAP,
        label="exclusion category",
    ),
    Field("StartDate", "date", nullable=False),
    Field("Sessions", "number"),
    Field("Reason", "reasons"),
    Field("Reason2", "reasons", required=False),
    Field("Reason3", "reasons", required=False),
)

SOCIAL_CARE_FIELDS = (
    Field("LAchildID", "text", nullable=False),
    Field("UPN", "upn", required=False),
    *_NAMES,
    Field("DOB", "date"),
    Field("Sex", "code", mapping=codes.SEX_MAP, label="Sex"),
    Field("Ethnicity", "code", required=False, mapping=codes.ETHNICITY_MAP, label="Ethnicity"),
    Field("Postcode", "postcode", required=False),
    Field("Status", "code", nullable=False, mapping=codes.STATUS_MAP, label="social-care status"),
    Field("StartDate", "date", nullable=False),
    Field("EndDate", "date"),
    Field(
        "PrimaryNeed",
        "code",
        required=False,
        mapping=codes.PRIMARY_NEED_MAP,
        label="primary need",
    ),
    Field("Factors", "factors", required=False),
)

# Termly attendance files (see readers.py for the folder layout).
ATTENDANCE_FIELDS = (
    Field("UPN", "upn", nullable=False),
    Field("TermlySessionsPossible", "whole", nullable=False),
    Field("TermlySessionsAuthorised", "whole"),
    Field("TermlySessionsUnauthorised", "whole"),
)



def _with_aliases(extract: str, fields: tuple[Field, ...]) -> tuple[Field, ...]:
    """The fields with the header spellings the data contract accepts for each (contract.HEADER_ALIASES)."""
    aliases = HEADER_ALIASES[extract]
    return tuple(replace(f, aliases=aliases.get(f.name, ())) for f in fields)


FIELDS: dict[str, tuple[Field, ...]] = {
    "census": _with_aliases("census", CENSUS_FIELDS),
    "exclusions": _with_aliases("exclusions", EXCLUSION_FIELDS),
    "social_care": _with_aliases("social_care", SOCIAL_CARE_FIELDS),
    "attendance": _with_aliases("attendance", ATTENDANCE_FIELDS),
}

# --- pandera schemas -----------------------------------------------------------------------------

MISSING = "missing value"
DATE_ERROR = "not a date (YYYY-MM-DD or DD/MM/YYYY, 1980 to 2100)"
FUTURE_DOB_ERROR = "date of birth in the future"
END_BEFORE_START = "EndDate before StartDate"


def _in_range(dates: pd.Series) -> pd.Series:
    return dates.between(EARLIEST_DATE, LATEST_DATE)


def _not_blank_or(ok: pd.Series, values: pd.Series) -> pd.Series:
    return ok | values.isna()


def _checks(field: Field) -> list[pa.Check]:
    if field.kind == "code":
        return [
            pa.Check(lambda s, m=field.mapping: codes.known_codes(s, m), error=f"unknown {field.label} code")
        ]
    if field.kind == "date":
        checks = [pa.Check(lambda s: _not_blank_or(_in_range(parse_dates(s)), s), error=DATE_ERROR)]
        if field.name == "DOB":
            checks.append(pa.Check(lambda s: ~(parse_dates(s) > pd.Timestamp.now()), error=FUTURE_DOB_ERROR))
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
                error="not an academic year (YYYY/YY)",
            )
        ]
    if field.kind == "factors":
        return [
            pa.Check(
                lambda s: codes.known_codes(s, _factor_lists(s)),
                error="not assessment factor codes (e.g. 3A;4A)",
            )
        ]
    return []


def _end_not_before_start(frame: pd.DataFrame) -> pd.Series:
    if "EndDate" not in frame or "StartDate" not in frame:
        return pd.Series(True, index=frame.index)
    return ~(parse_dates(frame["EndDate"]) < parse_dates(frame["StartDate"]))


def build_schema(extract: str) -> pa.DataFrameSchema:
    """The pandera schema of one extract's pre-cleaned text (columns already renamed to canonical)."""
    columns = {
        f.name: pa.Column(None, _checks(f), nullable=f.nullable, required=False) for f in FIELDS[extract]
    }
    frame_checks = []
    if extract == "social_care":
        frame_checks.append(pa.Check(_end_not_before_start, error=END_BEFORE_START))
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False, name=extract)


# A frame-level check fails a whole row; the rejects name the column the check is about.
FRAME_CHECK_COLUMN = {END_BEFORE_START: "EndDate"}
