"""Per-extract rules: a file's validated text -> the canonical frame of docs/ARCHITECTURE.md.

Codes are mapped to the canonical ones (extended ethnicity to its main code, BESD to SEMH, FIXD and
LUNC to SUSP, ...) and what was read as what is counted for `exclusion-risk check`; UPNs are checked
(an invalid UPN is kept, flagged), postcodes normalised, dates and numbers parsed. Every frame ends
with `_file` and `_row` (the file's name and the row's number in it).

Termly attendance is summed per pupil over the terms of each academic year and fills the census's
`Sessions*` columns of the *following* year (the census columns mean the previous academic year);
values already in the census are kept. Only terms with all three counts present are summed; a pupil
with no such term in that year stays missing.
It also gives each census row the attendance of the year so far (`ATTENDANCE_TO_DATE`): the terms of
the same academic year that ended before that census (none at autumn, the autumn term at spring, autumn
and spring at summer), never the census's own term, which is still running on census day; only terms
with all three counts present are summed (`attendance_to_date`).
Both are keyed by whatever `UPN` the two frames share: linkage.history applies them once termly rows and
census rows carry the same pupil id, so that a pupil whose UPN changed keeps every term.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exclusion_risk import calendar
from exclusion_risk.contract import SCHOOL_NAME
from exclusion_risk.linkage import codes
from exclusion_risk.linkage.arrow_text import (
    TEXT,
    apply_distinct,
    as_text,
    encoded,
    map_codes,
    map_distinct,
    map_flags,
    per_distinct,
    text_series,
)
from exclusion_risk.linkage.parsing import (
    academic_year_of,
    parse_academic_years,
    parse_dates,
    parse_numbers,
    parse_whole_numbers,
)
from exclusion_risk.reference import normalise_postcode
from exclusion_risk.upn import tidy_upn_array, valid_upn_mask

CENSUS_FRAME_COLUMNS = [
    "UPN", "UPNvalid", "FormerUPN", "Surname", "Forename", "MiddleNames", "PreferredSurname", "FormerSurname",
    "DOB", "Sex", "Ethnicity", "FSMeligible", "SENprovision", "SENtype", "SENtype2", "NCyearActual",
    "Postcode", "LSOA", "SchoolURN", SCHOOL_NAME, "EnrolStatus", "AcademicYear", "CensusTerm",
    "SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence",
]  # fmt: skip
EXCLUSION_FRAME_COLUMNS = [
    "RecordID", "UPN", "UPNvalid", "Surname", "Forename", "DOB", "Sex", "SchoolURN", "Category",
    "CategoryRaw", "StartDate", "AcademicYear", "Sessions", "Reason", "ReasonGroups",
]  # fmt: skip
SOCIAL_CARE_FRAME_COLUMNS = [
    "LAchildID", "UPN", "UPNvalid", "Surname", "Forename", "DOB", "Sex", "Ethnicity", "Postcode",
    "Status", "StartDate", "EndDate", "PrimaryNeed", "Factors",
]  # fmt: skip
ATTENDANCE_FRAME_COLUMNS = [
    "UPN", "UPNvalid", "AcademicYear", "Term",
    "TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised",
]  # fmt: skip
# census column -> the termly attendance column summed into it
SESSION_COLUMNS = {
    "SessionsPossible": "TermlySessionsPossible",
    "SessionsAuthorisedAbsence": "TermlySessionsAuthorised",
    "SessionsUnauthorisedAbsence": "TermlySessionsUnauthorised",
}
# census column added by termly attendance -> the termly column summed into it: the terms of the row's own
# year that ended before its census (features.build reads them as "this year so far")
ATTENDANCE_TO_DATE = {
    "SessionsPossibleToDate": "TermlySessionsPossible",
    "SessionsAuthorisedToDate": "TermlySessionsAuthorised",
    "SessionsUnauthorisedToDate": "TermlySessionsUnauthorised",
}
_LSOA = r"^[EW]0[0-9]\d{6}$"


def _col(work: pd.DataFrame, column: str) -> pd.Series:
    """A pre-cleaned column as it is (categorical), or all missing when the file has none."""
    if column in work:
        return work[column]
    return text_series(pa.nulls(len(work), pa.large_string()), work.index)


def _text(work: pd.DataFrame, column: str) -> pd.Series:
    """A pre-cleaned column as arrow text, the canonical frames' string type."""
    return as_text(_col(work, column))


def _code(work: pd.DataFrame, column: str, mapping: dict) -> pd.Series:
    return map_codes(_col(work, column), mapping)


def _dates(work: pd.DataFrame, column: str) -> pd.Series:
    return parse_dates(_col(work, column))


# What `check` counts: the rows whose UPN (or FormerUPN) held separators inside it, read without them
UPN_TIDIED = "UPN or FormerUPN value with spaces or hyphens (tidied)"  # values: a row can hold two


def _tidied_upns(work: pd.DataFrame, column: str, counts: Counter) -> tuple[pa.Array, pa.Array]:
    """(each distinct UPN of `column` in its tidy form (upn_key), each row's index into them; null where
    missing), counting the rows whose UPN the tidy changed. The reader has stripped and upper-cased it:
    what is left to tidy is a separator inside it (`E330 205709725`, `E330-205709725`)."""
    dictionary, indices = encoded(_col(work, column))
    tidied = tidy_upn_array(dictionary)
    if tidied is not dictionary:
        changed = np.append(pc.not_equal(tidied, dictionary).to_numpy(zero_copy_only=False), False)
        counts[UPN_TIDIED] += int(changed[pc.fill_null(indices, len(dictionary)).to_numpy()].sum())
    return tidied, indices


def _upn(out: pd.DataFrame, work: pd.DataFrame, counts: Counter) -> None:
    dictionary, indices = _tidied_upns(work, "UPN", counts)
    valid = valid_upn_mask(text_series(dictionary, pd.RangeIndex(len(dictionary)))).to_numpy()
    out["UPN"] = text_series(pc.take(dictionary, indices), work.index)
    # each distinct UPN checked once; a missing UPN is not valid
    out["UPNvalid"] = np.append(valid, False)[pc.fill_null(indices, len(dictionary)).to_numpy()]
    counts["invalid UPN (kept)"] += int((out["UPN"].notna() & ~out["UPNvalid"]).sum())
    counts["blank UPN"] += int(out["UPN"].isna().sum())


def _former_upn(work: pd.DataFrame, counts: Counter) -> pd.Series:
    return text_series(pc.take(*_tidied_upns(work, "FormerUPN", counts)), work.index)


def _postcode(work: pd.DataFrame, counts: Counter) -> pd.Series:
    raw = _col(work, "Postcode")
    postcode = apply_distinct(raw, normalise_postcode)
    counts["unreadable postcode (set missing)"] += int((raw.notna() & postcode.isna()).sum())
    return postcode


def _count_codes(work: pd.DataFrame, column: str, written: list[str], counts: Counter, label: str) -> None:
    """Count values written in an older or finer code and read as another (BESD, FIXD, WENG...)."""
    if column in work:
        counts[label] += int(work[column].isin(written).sum())


SCHOOL_DECIMAL = "school URN written as a decimal (3354028.0) read as a whole number"
POINT_ZEROS = r"\.0+$"  # a whole number written as a decimal: its zeros (the service's school ids too)


def _school(work: pd.DataFrame, counts: Counter) -> pd.Series:
    """SchoolURN as text, a validated `3354028.0` (a spreadsheet's number) read as `3354028`, counted."""
    school = _text(work, "SchoolURN")
    decimal = school.str.contains(POINT_ZEROS, regex=True).fillna(False).astype(bool)
    counts[SCHOOL_DECIMAL] += int(decimal.sum())
    if not decimal.any():
        return school
    return apply_distinct(school, lambda v: v.str.replace(POINT_ZEROS, "", regex=True))


def _lsoa_or_missing(values: pd.Series) -> pd.Series:
    return values.where(values.str.match(_LSOA).fillna(False).astype(bool)).astype(TEXT)


def census_frame(
    work: pd.DataFrame, counts: Counter, name: str, columns: Collection[str] | None = None
) -> pd.DataFrame:
    """The canonical census frame of one file's validated text (`counts` gathers what was read as what).

    `columns`: build only these (and UPN, UPNvalid, `_file`, `_row`). The columns whose reading is
    counted (UPN, Postcode, LSOA, SchoolURN; extended ethnicity and BESD codes) are still read, so
    `counts` is the same; the others are not converted at all, their values already checked by
    validation. At 2,000,000 pupils the typed SEN, FSM, ethnicity, LSOA and attendance columns that a
    linkage run never reads were held beside the file's text; converting them only to drop them took
    3-4 s of its read."""
    out = pd.DataFrame(index=work.index)

    def wanted(column: str) -> bool:
        return columns is None or column in columns

    def put(column: str, make: Callable[[], pd.Series]) -> None:
        if wanted(column):
            out[column] = make()

    _upn(out, work, counts)
    put("FormerUPN", partial(_former_upn, work, counts))
    for column in ("Surname", "Forename", "MiddleNames", "PreferredSurname", "FormerSurname"):
        put(column, partial(_text, work, column))
    put("DOB", partial(_dates, work, "DOB"))
    put("Sex", partial(_code, work, "Sex", codes.SEX_MAP))
    put("Ethnicity", partial(_code, work, "Ethnicity", codes.ETHNICITY_MAP))
    extended = [c for c, main in codes.ETHNICITY_MAP.items() if c != main]
    _count_codes(work, "Ethnicity", extended, counts, "extended ethnicity code read as main code")
    put("FSMeligible", lambda: map_flags(_col(work, "FSMeligible"), codes.FSM_MAP))
    put("SENprovision", partial(_code, work, "SENprovision", codes.SEN_PROVISION_MAP))
    put("SENtype", partial(_code, work, "SENtype", codes.SEN_TYPE_MAP))
    put("SENtype2", partial(_code, work, "SENtype2", codes.SEN_TYPE_MAP))
    _count_codes(work, "SENtype", ["BESD"], counts, "SEN type BESD read as SEMH")
    put("NCyearActual", partial(_code, work, "NCyearActual", codes.NC_YEAR_MAP))
    postcode = _postcode(work, counts)
    if wanted("Postcode"):
        out["Postcode"] = postcode
    lsoa = _col(work, "LSOA")
    lsoa_read = apply_distinct(lsoa, _lsoa_or_missing)
    counts["unrecognised LSOA (set missing)"] += int((lsoa.notna() & lsoa_read.isna()).sum())
    if wanted("LSOA"):
        out["LSOA"] = lsoa_read
    del lsoa_read
    school = _school(work, counts)  # counted whether kept or not, as the postcode is
    if wanted("SchoolURN"):
        out["SchoolURN"] = school
    del school
    put("EnrolStatus", partial(_code, work, "EnrolStatus", codes.ENROL_STATUS_MAP))
    put(SCHOOL_NAME, partial(_text, work, SCHOOL_NAME))  # stripped, blank -> missing; all missing without one
    put("AcademicYear", lambda: parse_academic_years(_col(work, "AcademicYear")))
    put("CensusTerm", partial(_code, work, "CensusTerm", codes.CENSUS_TERM_MAP))
    for column in SESSION_COLUMNS:
        put(column, lambda column=column: parse_whole_numbers(_col(work, column)))
    return _finish(out, [c for c in CENSUS_FRAME_COLUMNS if c in out.columns], name)


def _reasons(work: pd.DataFrame, counts: Counter) -> tuple[pd.Series, pd.Series]:
    parts = [_text(work, c) for c in ("Reason", "Reason2", "Reason3") if c in work]
    combined = parts[0] if parts else _text(work, "Reason")
    for extra in parts[1:]:
        combined = combined.str.cat(extra, sep=";", na_rep="").where(combined.notna() | extra.notna())
    combined = combined.astype(TEXT)

    def split(text: str) -> tuple[str | None, str | None, list[str]]:
        found = codes.split_reasons(text)
        if not found:
            return None, None, []
        groups = list(dict.fromkeys(codes.reason_group(c) for c in found))
        return ";".join(found), ";".join(groups), [c for c in found if not codes.is_known_reason(c)]

    parsed = map_distinct(combined, split).to_numpy()
    none = (None, None, [])
    reason = pd.Series([(p or none)[0] for p in parsed], index=work.index, dtype=TEXT)
    groups = pd.Series([(p or none)[1] for p in parsed], index=work.index, dtype=TEXT)
    for p in parsed:
        for code in (p or none)[2]:
            # a code is shown only if it is shaped like one: the console never echoes free text
            shown = code if _CODE_SHAPE.match(code) else "(not shaped like a code)"
            counts[f"unknown reason code {shown} (group other)"] += 1
    return reason, groups


_CODE_SHAPE = re.compile(r"^[A-Z0-9]{1,4}$")


def exclusions_frame(work: pd.DataFrame, counts: Counter, name: str) -> pd.DataFrame:
    """The canonical exclusions frame of one file's validated text."""
    out = pd.DataFrame(index=work.index)
    if "RecordID" in work:
        out["RecordID"] = _text(work, "RecordID")
    else:  # no id in the file: the data row number is the record's id
        out["RecordID"] = pd.Series(work.index.astype(str), index=work.index, dtype=TEXT)
    _upn(out, work, counts)
    out["Surname"], out["Forename"] = _text(work, "Surname"), _text(work, "Forename")
    out["DOB"] = _dates(work, "DOB")
    out["Sex"] = _code(work, "Sex", codes.SEX_MAP)
    out["SchoolURN"] = _school(work, counts)
    out["Category"] = _code(work, "Category", codes.CATEGORY_MAP)
    out["CategoryRaw"] = _text(work, "Category")
    _count_codes(work, "Category", ["FIXD", "LUNC"], counts, "category FIXD/LUNC read as SUSP")
    out["StartDate"] = _dates(work, "StartDate")
    out["AcademicYear"] = academic_year_of(out["StartDate"])
    out["Sessions"] = parse_numbers(_col(work, "Sessions"))
    out["Reason"], out["ReasonGroups"] = _reasons(work, counts)
    return _finish(out, EXCLUSION_FRAME_COLUMNS, name)


def _factors(values: pd.Series) -> pd.Series:
    joined = map_distinct(values, lambda text: ";".join(codes.split_codes(text)) or None)
    return joined.astype(TEXT)


def social_care_frame(work: pd.DataFrame, counts: Counter, name: str) -> pd.DataFrame:
    """The canonical social-care frame of one file's validated text."""
    out = pd.DataFrame(index=work.index)
    out["LAchildID"] = _text(work, "LAchildID")
    _upn(out, work, counts)
    out["Surname"], out["Forename"] = _text(work, "Surname"), _text(work, "Forename")
    out["DOB"] = _dates(work, "DOB")
    out["Sex"] = _code(work, "Sex", codes.SEX_MAP)
    out["Ethnicity"] = _code(work, "Ethnicity", codes.ETHNICITY_MAP)
    out["Postcode"] = _postcode(work, counts)
    out["Status"] = _code(work, "Status", codes.STATUS_MAP)
    out["StartDate"] = _dates(work, "StartDate")
    out["EndDate"] = _dates(work, "EndDate")
    out["PrimaryNeed"] = _code(work, "PrimaryNeed", codes.PRIMARY_NEED_MAP)
    out["Factors"] = _factors(_col(work, "Factors"))
    # one id, two children: linked as one child (`link` warns too)
    counts["child id with two or more dates of birth"] += ids_with_two_dates_of_birth(out, "LAchildID")
    return _finish(out, SOCIAL_CARE_FRAME_COLUMNS, name)


def ids_with_two_dates_of_birth(frame: pd.DataFrame, id_column: str) -> int:
    """Record ids whose rows give two or more different dates of birth: one id held by two children
    (an id re-used or mistyped at entry), which linkage takes as one child, with both's episodes."""
    if frame.empty or not {id_column, "DOB"} <= set(frame.columns):
        return 0
    dated = frame[[id_column, "DOB"]].dropna()
    return int((dated.groupby(id_column, sort=False)["DOB"].nunique() > 1).sum())


def attendance_frame(
    work: pd.DataFrame, counts: Counter, name: str, academic_year: str, term: str
) -> pd.DataFrame:
    """The canonical frame of one termly attendance file (its year and term come from the file name)."""
    out = pd.DataFrame(index=work.index)
    _upn(out, work, counts)
    out["AcademicYear"] = pd.Series(academic_year, index=work.index, dtype=TEXT)
    out["Term"] = pd.Series(term, index=work.index, dtype=TEXT)
    for column in SESSION_COLUMNS.values():
        out[column] = parse_whole_numbers(_col(work, column))
    return _finish(out, ATTENDANCE_FRAME_COLUMNS, name)


def _finish(frame: pd.DataFrame, columns: list[str], name: str) -> pd.DataFrame:
    """The canonical columns plus `_file` and `_row`, numbered from 0 (built once, no frame copies)."""
    data = {}
    for column in columns:
        series = frame[column]
        data[column] = series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array
    data["_file"] = pd.array(pa.repeat(pa.scalar(name, pa.large_string()), len(frame)), dtype=TEXT)
    data["_row"] = frame.index.to_numpy(dtype=np.int64)
    return pd.DataFrame(data, index=pd.RangeIndex(len(frame)), copy=False)


def _next_year(academic_year: pd.Series) -> pd.Series:
    following = {year: calendar.shift_year(year, 1) for year in academic_year.dropna().unique()}
    return academic_year.map(following).astype(TEXT)


def empty_attendance_frame() -> pd.DataFrame:
    """A canonical termly attendance frame with no rows (an authority without termly files)."""
    text = ("UPN", "AcademicYear", "Term", "_file")
    columns = [*ATTENDANCE_FRAME_COLUMNS, "_file", "_row"]
    return pd.DataFrame({
        c: pd.Series(dtype=TEXT if c in text else "bool" if c == "UPNvalid" else "Int64") for c in columns
    })  # fmt: skip


def apply_attendance(census: pd.DataFrame, termly: pd.DataFrame) -> pd.DataFrame:
    """Fill the census's missing previous-year attendance from termly rows (summed over the year), and
    add this year's attendance so far (`ATTENDANCE_TO_DATE`: terms ended before each row's census)."""
    if termly.empty:
        return census
    keyed, termly = _keyed(census, termly)
    sessions = list(SESSION_COLUMNS.values())
    # complete terms only, as for attendance so far: one term's possible sessions beside another's
    # absences would skew the rate; a pupil with no complete term in the year stays missing
    complete = termly[termly[sessions].notna().all(axis=1).to_numpy()]
    sums = (
        complete.assign(AcademicYear=_next_year(complete["AcademicYear"]).astype(keyed["AcademicYear"].dtype))
        .groupby(["UPN", "AcademicYear"], observed=True)[sessions]
        .sum(min_count=1)
    )
    keys = pd.MultiIndex.from_arrays([keyed["UPN"], keyed["AcademicYear"]])
    found = sums.reindex(keys)
    census = census.copy()
    for census_column, termly_column in SESSION_COLUMNS.items():
        filler = _whole(found[termly_column].to_numpy(dtype="float64", na_value=np.nan))
        census[census_column] = census[census_column].fillna(pd.Series(filler, index=census.index))
    to_date = attendance_to_date(census, termly)
    for census_column, termly_column in ATTENDANCE_TO_DATE.items():
        census[census_column] = pd.Series(_whole(to_date[termly_column]), index=census.index)
    return census


def _whole(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole session counts (float64, NaN missing) as Int64 without pandas' per-value checks (a second on
    a 720k-row history); the sums of whole counts are whole."""
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def term_order(terms: pd.Series) -> np.ndarray:
    """Each term's place in the year (AUT 0, SPR 1, SUM 2, in any case; NaN otherwise), worked out once
    per distinct value: upper-casing every row of a 720k-row history took half a second."""
    order = pd.Series(calendar.TERM_ORDER)
    places = per_distinct(terms, lambda distinct: distinct.astype("string").str.upper().map(order))
    return places.to_numpy(dtype="float64", na_value=np.nan)


def _keyed(census: pd.DataFrame, termly: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both frames with UPN and AcademicYear of one type where they differ, so that keys from frames typed
    differently (the reader's arrow text, an upload's strings) meet; left as they are where they agree."""
    differ = [c for c in ("UPN", "AcademicYear") if census[c].dtype != termly[c].dtype]
    if not differ:
        return census, termly
    as_string = {c: "string" for c in differ}
    return census.astype(as_string), termly.astype(as_string)


def attendance_to_date(census: pd.DataFrame, termly: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per row of `census` (UPN, AcademicYear, CensusTerm): its year's termly sessions summed over the
    terms before its census (NaN: none), keyed by termly column.

    Only complete terms count: a term whose possible, authorised or unauthorised count is blank is left
    out of all three sums, because summing what is there would pair one term's possible sessions with
    another's absences and skew the rate (a blank absence is not known to be zero)."""
    sessions = list(ATTENDANCE_TO_DATE.values())
    out = {column: np.full(len(census), np.nan) for column in sessions}
    row_term = term_order(census["CensusTerm"])
    if not (row_term > 0).any():  # autumn rows only (a service's autumn upload): nothing has ended
        return out
    # only the years and pupils asked about (selected first: the service derives an upload's rows from
    # a whole history's terms), and only complete terms
    later = census[row_term > 0]
    termly = termly[termly["AcademicYear"].isin(later["AcademicYear"].dropna().unique().tolist()).to_numpy()]
    if len(later) * 4 < len(termly):  # a few pupils against many terms: worth a lookup (0.2 s on 700k)
        termly = termly[termly["UPN"].isin(later["UPN"].dropna().unique().tolist()).to_numpy()]
    census, termly = _keyed(census, termly[termly[sessions].notna().all(axis=1).to_numpy()])
    termly_term = term_order(termly["Term"])
    per_term = (
        termly.assign(_term=termly_term)
        .groupby(["UPN", "AcademicYear", "_term"], observed=True)[sessions]
        .sum(min_count=1)
    )
    for term in range(1, len(calendar.CENSUS_TERMS)):  # at autumn (0) no term of the year has ended
        at_term = row_term == term
        if not at_term.any():
            continue
        ended = per_term[per_term.index.get_level_values("_term") < term]
        totals = ended.groupby(level=["UPN", "AcademicYear"], observed=True).sum(min_count=1)
        keys = pd.MultiIndex.from_arrays([census["UPN"][at_term], census["AcademicYear"][at_term]])
        found = totals.reindex(keys)
        for column in out:
            out[column][at_term] = found[column].to_numpy(dtype="float64", na_value=np.nan)
    return out
