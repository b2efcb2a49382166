"""A spring census upload whose pupils have no termly attendance for the year in the history is scored
with this year's absence features missing, and the response says so in a plain sentence (no pupil's
value); with the autumn term's file in the history the features are there and nothing is said. A
material share without it is said too (count, share, schools), and so is a summer upload whose history
lacks the spring term. The sentences reach a CSV download (a header) and the workbook's notice sheet."""

from __future__ import annotations

import asyncio
import io

import httpx
import openpyxl
import pandas as pd
import pytest

from exclusion_risk import calendar
from exclusion_risk.contract import SCORE_COLUMNS
from exclusion_risk.features.census_upload import ATTENDANCE_SO_FAR_FEATURES
from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.models.score_workbook import NOTICE_SHEET
from exclusion_risk.serving import scoring
from exclusion_risk.serving.answer_format import WARNINGS_HEADER, lines_header
from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.process import add_key
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.serving.settings import ServiceSettings
from exclusion_risk.upn import make_upn

YEAR = "2018/19"
UPNS = [make_upn(801, 2001, 2011, i) for i in range(1, 4)]
EMPTY = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})
SCHOOL_A, SCHOOL_B = "104321", "104322"


def _clean(term: str, upns=UPNS, schools=None):
    schools = schools or [SCHOOL_A] * len(upns)
    rows = [{**EXAMPLE_CENSUS, "UPN": u, "AcademicYear": YEAR, "CensusTerm": term, "SchoolURN": s}
            for u, s in zip(upns, schools, strict=True)]  # fmt: skip
    return scoring.read_census_bytes(pd.DataFrame(rows).to_csv(index=False).encode(), "census.csv")


def _history(termly_year: str, upns=UPNS, schools=None, with_termly=None, terms=("AUT",)) -> HistoryState:
    """The autumn census of YEAR (no spring census yet), with the `terms` files of `termly_year` holding
    the pupils `with_termly` (default every one)."""
    autumn, _ = _clean(calendar.AUTUMN, upns, schools)
    named = list(upns if with_termly is None else with_termly)
    termly = pd.DataFrame({
        "UPN": named * len(terms), "AcademicYear": termly_year, "Term": [t for t in terms for _ in named],
        **{f"TermlySessions{c}": pd.array([n] * len(named) * len(terms), dtype="Int64")
           for c, n in (("Possible", 140), ("Authorised", 7), ("Unauthorised", 7))},
    })  # fmt: skip
    state = HistoryState(None, None)
    # and the year before's autumn census: a history holding nothing before YEAR is warned of too
    before = autumn.assign(AcademicYear=calendar.shift_year(YEAR, -1))
    census = drop_identifying(pd.concat([before, autumn], ignore_index=True))
    state.history = PupilHistory(census, EMPTY, EMPTY, attendance=termly)
    state.state = "ready"
    return state


def _cohort(history: HistoryState, upns=UPNS, schools=None, term: str = calendar.SPRING):
    clean, rejects = _clean(term, upns, schools)
    features = list(ATTENDANCE_SO_FAR_FEATURES)
    return scoring.census_cohort(clean, rejects, history, features, YEAR, skip_invalid=False, census=term)


def test_a_spring_upload_without_termly_attendance_for_its_year_is_warned_of():
    cohort = _cohort(_history("2017/18"))  # last year's files only
    assert cohort.warnings == [
        "no termly attendance for 2018/19 before the spring census in the history: this year's absence "
        "features are missing for 3 pupils"
    ]
    assert set(ATTENDANCE_SO_FAR_FEATURES) <= set(cohort.missing_features)
    assert cohort.features["absence_rate_this_year"].isna().all()
    assert not any(u in " ".join(cohort.warnings) for u in UPNS)


def test_a_spring_upload_with_the_autumn_terms_file_gets_it_and_no_warning():
    cohort = _cohort(_history(YEAR))
    assert cohort.warnings == [] and cohort.missing_features == []
    assert cohort.features["absence_rate_this_year"].tolist() == pytest.approx([0.1] * 3)
    assert cohort.features["persistent_absence_this_year"].tolist() == [1.0] * 3


MANY = [make_upn(801, 2001, 2011, i) for i in range(1, 11)]
SCHOOLS = [SCHOOL_A] * 4 + [SCHOOL_B] * 6


def test_a_material_share_without_attendance_so_far_is_warned_of_naming_the_schools():
    """Four of ten pupils lack it, all at one school (its autumn return missing): their number, share and
    school are said; the features stay computed (six pupils have them), and no UPN is named."""
    history = _history(YEAR, MANY, SCHOOLS, with_termly=MANY[4:])
    cohort = _cohort(history, MANY, SCHOOLS)
    assert cohort.warnings == [
        "4 of 10 pupils (40%) have no termly attendance for 2018/19 before the spring census in the "
        f"history: their absence features for this year are missing; at least half the pupils lack it at "
        f"SchoolURN {SCHOOL_A}"
    ]
    assert cohort.missing_features == []
    assert cohort.features["absence_rate_this_year"].notna().sum() == 6
    assert not any(u in " ".join(cohort.warnings) for u in MANY)


def test_a_share_at_or_below_the_threshold_is_not_warned_of():
    """One pupil in ten (a pupil new to the authority) is expected: nothing is said."""
    history = _history(YEAR, MANY, SCHOOLS, with_termly=MANY[1:])
    assert _cohort(history, MANY, SCHOOLS).warnings == []


def test_a_summer_upload_whose_history_lacks_the_spring_term_is_told():
    """The history has the autumn term of the year but not the spring file: every pupil's attendance so
    far is the autumn term's only, which is said."""
    cohort = _cohort(_history(YEAR), term=calendar.SUMMER)
    assert cohort.warnings == [
        "no spring term attendance for 2018/19 in the history: this year's absence features of 3 of 3 "
        "pupils (100%) count the earlier term(s) only"
    ]
    assert cohort.missing_features == []
    full = _cohort(_history(YEAR, terms=("AUT", "SPR")), term=calendar.SUMMER)
    assert full.warnings == []


class SpringStandIn:
    """What the routes use of a spring census model's CohortScorer: this year's absence features, every
    pupil 0.5 and green (what is tested is what the response carries beside the scores)."""

    name, model_version, census, risk_matrix = "exclusion-risk", "1", calendar.SPRING, None
    feature_names = list(ATTENDANCE_SO_FAR_FEATURES)
    matrix = load_risk_matrix()

    def score(self, features: pd.DataFrame, reasons: bool = True) -> pd.DataFrame:
        rows = [{"upn": str(u), "probability": 0.5, "likelihood_band": "low", "need_level": 0, "rag": "green",
                 "matrix_cell": "L-N0", "reasons": "", "model_version": "1"} for u in features["upn"]]
        return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _download(tmp_path, fmt: str) -> httpx.Response:
    """A spring upload scored as `fmt` by the app over a history with last year's termly files only."""
    settings = ServiceSettings(database=tmp_path / "service.db", data_dir=None, max_concurrent_jobs=1)
    app = create_app(settings, loader=SpringStandIn)
    app.state.model.load_initial()
    app.state.history = _history("2017/18")
    key = add_key(settings.database, "scorer")
    rows = [{**EXAMPLE_CENSUS, "UPN": u, "AcademicYear": YEAR, "CensusTerm": calendar.SPRING} for u in UPNS]

    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/score/file", params={"format": fmt, "reasons": "false"},
                                     content=pd.DataFrame(rows).to_csv(index=False).encode(),
                                     headers={"X-API-Key": key, "Content-Type": "text/csv"})  # fmt: skip

    response = asyncio.run(go())
    assert response.status_code == 200, response.text[:300]
    return response


SAID = ("no termly attendance for 2018/19 before the spring census in the history: this year's absence "
        "features are missing for 3 pupils")  # fmt: skip


def test_a_csv_download_carries_the_warning_in_a_header(tmp_path):
    response = _download(tmp_path, "csv")
    assert response.headers[WARNINGS_HEADER] == SAID
    assert len(pd.read_csv(io.StringIO(response.text))) == 3  # the CSV itself is the scores only


def test_the_workbooks_notice_sheet_carries_the_warning(tmp_path):
    response = _download(tmp_path, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    notice = [str(v) for row in book[NOTICE_SHEET].iter_rows(values_only=True) for v in row if v]
    assert f"Warning: {SAID}" in notice


def test_the_header_is_one_ascii_line():
    """A header value is latin-1 at most: a sentence with a line break or a non-ASCII letter (a school
    named someday) must neither split the header nor fail the response."""
    value = lines_header(["first\nsentence", "caf\u00e9 \u2013 second"])
    assert value == "first sentence | cafe - second"  # the accent dropped, the dash its ASCII twin
    assert lines_header([]) == ""  # no header at all (the route leaves an empty value out)
