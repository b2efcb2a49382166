"""Fixtures for the features stage's tests: PupilHistory frames made by hand or at random.

`make_history(census, exclusions=(), social_care=())` and `census_frame(rows)`: canonical frames from a
few dicts, unspecified columns missing. `random_history(pupils, years, seed=0)`: a vectorised random
authority; it is not the synthetic authority (synth/ is), it only needs canonical columns, every edge
the builder handles (missing attendance, open episodes, moves, dual rows) and volume for timing.
Its census rows carry this year's attendance so far as the reader derives it from random termly
attendance files (`linkage.extract_frames.apply_attendance`, drawn from a stream of their own so the
rest of the authority is what it was before); those termly rows are its `attendance`.
`truncate_at(history, academic_year, term="AUT")`: what the authority's systems held on that year's
`term` census day (termly rows of the terms ended by then).

All four are stateless and session-scoped, so module-scoped fixtures can use them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.calendar import TERM_ORDER, census_date, format_year, start_year
from exclusion_risk.linkage.codes import reason_group
from exclusion_risk.linkage.extract_frames import ATTENDANCE_TO_DATE, apply_attendance
from exclusion_risk.linkage.history import PupilHistory

CENSUS_COLUMNS = [
    "UPN", "UPNvalid", "FormerUPN", "Sex", "Ethnicity", "FSMeligible", "SENprovision", "SENtype",
    "SENtype2", "NCyearActual", "Postcode", "LSOA", "SchoolURN", "SchoolName", "EnrolStatus", "AcademicYear",
    "CensusTerm",
    "SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence", "_file", "_row",
]
EXCLUSION_COLUMNS = [
    "RecordID", "UPN", "UPNvalid", "Sex", "SchoolURN", "Category", "CategoryRaw", "StartDate",
    "AcademicYear", "Sessions", "Reason", "ReasonGroups", "_file", "_row", "upn",
]
SOCIAL_CARE_COLUMNS = [
    "LAchildID", "UPN", "UPNvalid", "Sex", "Ethnicity", "Postcode", "Status", "StartDate", "EndDate",
    "PrimaryNeed", "Factors", "_file", "_row", "upn",
]
ETHNICITIES = ["WBRI", "WOTH", "MWBC", "APKN", "AIND", "BCRB", "BAFR", "CHNE", "OOTH", "REFU"]
SEN_TYPES = ["SEMH", "MLD", "SLCN", "ASD", "SPLD"]
REASONS = ["PD", "PP", "PA", "VA", "VP", "DM", "DA", "OT", "BU"]


def _census_frame(rows: list[dict]) -> pd.DataFrame:
    """Canonical census frame from a few dicts; unspecified columns are missing."""
    frame = pd.DataFrame(rows)
    for column in CENSUS_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    frame["_row"] = np.arange(1, len(frame) + 1)
    frame["FSMeligible"] = frame["FSMeligible"].astype("boolean")
    so_far = [c for c in ATTENDANCE_TO_DATE if c in frame]  # only where a row gives it, as the reader
    for column in ("SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence", *so_far):
        frame[column] = frame[column].astype("Int64")
    text = [c for c in CENSUS_COLUMNS if c not in ("FSMeligible", "_row") and not c.startswith("Sessions")]
    for column in text:
        frame[column] = frame[column].astype("string")
    return frame[CENSUS_COLUMNS + so_far]


def _typed_frame(rows: list[dict], columns: list[str], dates: tuple[str, ...], floats: tuple[str, ...] = ()):
    """`rows` as a reader would type them: every column present (missing ones NA), dates parsed."""
    frame = pd.DataFrame(rows, columns=None if rows else columns)
    for column in columns:
        if column not in frame:
            frame[column] = pd.NA
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    for column in floats:
        frame[column] = frame[column].astype("Float64")
    return frame[columns]


def _exclusions_frame(rows: list[dict]) -> pd.DataFrame:
    return _typed_frame(rows, EXCLUSION_COLUMNS, dates=("StartDate",), floats=("Sessions",))


def _social_care_frame(rows: list[dict]) -> pd.DataFrame:
    return _typed_frame(rows, SOCIAL_CARE_COLUMNS, dates=("StartDate", "EndDate"))


def _make_history(
    census: list[dict], exclusions: list[dict] = (), social_care: list[dict] = ()
) -> PupilHistory:
    return PupilHistory(_census_frame(census), _exclusions_frame(list(exclusions)),
                        _social_care_frame(list(social_care)))


def _random_history(
    pupils: int, years: list[str], seed: int = 0, terms=("AUT", "SPR", "SUM")
) -> PupilHistory:
    """A vectorised random authority: `pupils` children, each on the census for every year given."""
    from exclusion_risk.reference import postcode_lookup

    rng = np.random.default_rng(seed)
    first = [start_year(y) for y in years]
    upns = np.array([f"A{n:012d}" for n in range(pupils)])
    start_nc = rng.integers(0, 11 - len(years) + 2, pupils)
    schools = np.array([f"1{n:05d}" for n in range(120)])
    home_school = rng.integers(0, len(schools), pupils)
    postcodes = postcode_lookup()["Postcode"]
    postcodes = postcodes[postcodes.str.startswith("WS")].to_numpy()
    postcode = rng.choice(postcodes, pupils)
    postcode[rng.random(pupils) < 0.03] = "XX1 1XX"  # unknown postcode -> missing IDACI
    sex = rng.choice(["M", "F"], pupils)
    ethnicity = rng.choice(ETHNICITIES, pupils)
    sen = rng.choice(["N", "K", "E"], pupils, p=[0.82, 0.14, 0.04])
    sen_type = np.where(sen == "N", None, rng.choice(SEN_TYPES, pupils))
    frames = []
    for offset, year in enumerate(first):
        for term in terms:
            moved = rng.random(pupils) < 0.02
            home_school = np.where(moved, rng.integers(0, len(schools), pupils), home_school)
            nc = start_nc + offset
            possible = rng.integers(250, 380, pupils).astype("float64")
            possible[rng.random(pupils) < 0.05] = np.nan
            frames.append(pd.DataFrame({
                "UPN": upns, "UPNvalid": True, "Sex": sex, "Ethnicity": ethnicity,
                "FSMeligible": rng.random(pupils) < 0.25, "SENprovision": sen, "SENtype": sen_type,
                "NCyearActual": np.where(nc == 0, "R", nc.astype(str)),
                "Postcode": postcode, "SchoolURN": schools[home_school], "AcademicYear": format_year(year),
                "CensusTerm": term, "SessionsPossible": possible,
                "SessionsAuthorisedAbsence": np.floor(possible * rng.beta(1, 20, pupils)),
                "SessionsUnauthorisedAbsence": np.floor(possible * rng.beta(0.5, 40, pupils)),
            }))
    census = pd.concat(frames, ignore_index=True)
    census["_file"] = "census.csv"
    census["_row"] = np.arange(1, len(census) + 1)
    census["FSMeligible"] = census["FSMeligible"].astype("boolean")
    for column in ("SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"):
        census[column] = census[column].astype("Int64")
    termly = random_termly_attendance(census, seed)
    to_date = apply_attendance(census, termly)
    census = census.assign(**{column: to_date[column] for column in ATTENDANCE_TO_DATE})

    span_start = pd.Timestamp(year=first[0], month=9, day=1)
    span_days = (pd.Timestamp(year=first[-1] + 1, month=7, day=22) - span_start).days
    risk = rng.gamma(0.3, 1.0, pupils)
    n_events = rng.poisson(risk * 0.4 * len(years))
    who = np.repeat(np.arange(pupils), n_events)
    starts = span_start + pd.to_timedelta(rng.integers(0, span_days, len(who)), unit="D")
    reasons = rng.choice(REASONS, len(who))
    exclusions = pd.DataFrame({
        "RecordID": np.arange(1, len(who) + 1).astype(str), "UPN": upns[who], "upn": upns[who],
        "SchoolURN": schools[rng.integers(0, len(schools), len(who))],
        "Category": np.where(rng.random(len(who)) < 0.03, "PERM", "SUSP"),
        "StartDate": starts, "Sessions": rng.integers(1, 10, len(who)).astype("float64"),
        "Reason": reasons, "ReasonGroups": [reason_group(r) for r in reasons],
    })

    in_care = rng.random(pupils) < 0.08
    child = np.flatnonzero(in_care)
    sc_start = span_start - pd.Timedelta(days=700) + pd.to_timedelta(
        rng.integers(0, span_days + 700, len(child)), unit="D")
    sc_end = sc_start + pd.to_timedelta(rng.integers(30, 900, len(child)), unit="D")
    sc_end = sc_end.where(rng.random(len(child)) < 0.7)
    social_care = pd.DataFrame({
        "LAchildID": [f"C{n}" for n in range(len(child))], "upn": upns[child],
        "Status": rng.choice(["CIN", "CPP", "CLA"], len(child), p=[0.6, 0.25, 0.15]),
        "StartDate": sc_start, "EndDate": sc_end,
        "Factors": rng.choice(["3A;4A", "4B", "1B;2B", "", "21"], len(child)),
    })
    return PupilHistory(_census_frame_like(census), _exclusions_frame_like(exclusions),
                        _social_care_frame_like(social_care), attendance=termly)


def _census_frame_like(frame: pd.DataFrame) -> pd.DataFrame:
    for column in CENSUS_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    return frame[CENSUS_COLUMNS + [c for c in ATTENDANCE_TO_DATE if c in frame]]


def _exclusions_frame_like(frame: pd.DataFrame) -> pd.DataFrame:
    for column in EXCLUSION_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    return frame[EXCLUSION_COLUMNS]


def _social_care_frame_like(frame: pd.DataFrame) -> pd.DataFrame:
    for column in SOCIAL_CARE_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    return frame[SOCIAL_CARE_COLUMNS]


def random_termly_attendance(census: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Termly attendance rows (as `linkage.readers.read_attendance` gives them) for every census row's
    pupil and term, about 1 in 20 missing; drawn from a generator of their own."""
    rng = np.random.default_rng([seed, 1])
    rows = census[["UPN", "AcademicYear", "CensusTerm"]].rename(columns={"CensusTerm": "Term"})
    rows = rows[rng.random(len(rows)) >= 0.05].reset_index(drop=True)
    possible = rng.integers(100, 140, len(rows))
    unauthorised = rng.binomial(possible, rng.beta(0.5, 30, len(rows)))
    authorised = rng.binomial(possible - unauthorised, rng.beta(1, 18, len(rows)))
    return rows.assign(
        TermlySessionsPossible=pd.array(possible, dtype="Int64"),
        TermlySessionsAuthorised=pd.array(authorised, dtype="Int64"),
        TermlySessionsUnauthorised=pd.array(unauthorised, dtype="Int64"),
    )


def _truncate_at(history: PupilHistory, academic_year: str, term: str = "AUT") -> PupilHistory:
    """What the authority's systems held on the `term` census day of `academic_year` (default autumn)."""
    day = census_date(academic_year, term)
    year = start_year(academic_year)
    c = history.census
    years = c["AcademicYear"].map(start_year)
    same_year_so_far = c["CensusTerm"].map(TERM_ORDER) <= TERM_ORDER[term]
    keep = (years < year) | ((years == year) & same_year_so_far)
    e = history.exclusions
    s = history.social_care
    s = s[s["StartDate"] <= day].copy()
    s.loc[s["EndDate"] > day, "EndDate"] = pd.NaT
    # termly files of the terms that had ended by census day (the running term's is not written yet)
    a = history.attendance
    a_years = a["AcademicYear"].map(start_year)
    ended = (a_years < year) | ((a_years == year) & (a["Term"].map(TERM_ORDER) < TERM_ORDER[term]))
    return PupilHistory(c[keep.to_numpy()].copy(), e[e["StartDate"] <= day].copy(), s,
                        attendance=a[ended.to_numpy()].copy())


@pytest.fixture(scope="session")
def census_frame() -> Callable[[list[dict]], pd.DataFrame]:
    return _census_frame


@pytest.fixture(scope="session")
def make_history() -> Callable[..., PupilHistory]:
    return _make_history


@pytest.fixture(scope="session")
def random_history() -> Callable[..., PupilHistory]:
    return _random_history


@pytest.fixture(scope="session")
def termly_attendance() -> Callable[[pd.DataFrame, int], pd.DataFrame]:
    return random_termly_attendance


@pytest.fixture(scope="session")
def truncate_at() -> Callable[..., PupilHistory]:
    return _truncate_at


@pytest.fixture
def upload(census_frame):
    """`upload(rows)`: canonical census rows plus the names and DOB an MIS export carries."""

    def make(rows):
        frame = census_frame(rows)
        frame["Surname"], frame["Forename"], frame["DOB"] = "Smith", "Sam", pd.Timestamp("2006-01-01")
        return frame

    return make
