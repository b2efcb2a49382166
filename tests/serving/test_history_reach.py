"""A census upload of a year the linked history does not reach (its newest census older than the year
before) is refused, naming the years: scored, every pupil's last year (attendance, exclusions, social
care) would be missing and risk understated without a word (a 2025/26 upload against a history to
2018/19 took red from 147 pupils to 120)."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.serving import scoring
from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.upn import make_upn

UPNS = [make_upn(801, 2001, 2011, i) for i in range(1, 4)]
EMPTY = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})
MODEL_FEATURES = ["fsm", "fsm_ever6", "school_moves_last_year"]


def _read(year):
    rows = [{**EXAMPLE_CENSUS, "UPN": u, "AcademicYear": year, "CensusTerm": "AUT"} for u in UPNS]
    return scoring.read_census_bytes(pd.DataFrame(rows).to_csv(index=False).encode(), "census.csv")


def _cohort(history_years, year, features=MODEL_FEATURES):
    past = pd.concat([_read(y)[0] for y in history_years], ignore_index=True)
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(past), EMPTY, EMPTY)
    state.state = "ready"
    clean, rejects = _read(year)
    return scoring.census_cohort(clean, rejects, state, features, year, skip_invalid=False, census="AUT")


def test_a_year_past_the_history_is_refused_naming_the_years():
    with pytest.raises(RequestProblem) as refused:
        _cohort(["2016/17", "2017/18"], "2025/26")
    problem = refused.value
    assert problem.status_code == 422
    assert "history holds census years up to 2017/18" in problem.message and "2024/25" in problem.message
    reason = "the linked history's newest census is 2017/18; 2024/25 is needed"
    assert problem.problems == [{"row": None, "field": "AcademicYear", "reason": reason}]
    assert not any(u in problem.message for u in UPNS)


@pytest.mark.parametrize("year", ["2018/19", "2017/18", "2016/17"])
def test_a_year_the_history_reaches_is_scored(year):
    assert len(_cohort(["2016/17", "2017/18"], year).features) == len(UPNS)


def test_a_model_without_history_features_is_not_refused():
    assert len(_cohort(["2016/17"], "2025/26", features=["fsm"]).features) == len(UPNS)


def test_the_newest_year_is_taken_once_with_the_history_not_per_request(monkeypatch):
    """The history's newest census year is taken when the history is set (loaded), not by a scan of its
    census rows on each census scoring (before: every request took pd.unique over every census row)."""
    from exclusion_risk.serving import history as history_module

    scans = []
    real = history_module.newest_census_year

    def counted(history):
        scans.append(history is not None)
        return real(history)

    monkeypatch.setattr(history_module, "newest_census_year", counted)
    past = pd.concat([_read(y)[0] for y in ["2016/17", "2017/18"]], ignore_index=True)
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(past), EMPTY, EMPTY)
    state.state = "ready"
    assert state.newest_year == 2017 and sum(scans) == 1
    for year in ("2018/19", "2017/18", "2018/19"):
        clean, rejects = _read(year)
        scoring.census_cohort(clean, rejects, state, MODEL_FEATURES, year, skip_invalid=False, census="AUT")
    with pytest.raises(RequestProblem):
        clean, rejects = _read("2025/26")
        scoring.census_cohort(clean, rejects, state, MODEL_FEATURES, "2025/26", skip_invalid=False,
                              census="AUT")
    assert sum(scans) == 1


def test_no_reference_row_is_said_with_the_right_article():
    """'No pupil has an autumn census row ...', not 'a autumn' (a reviewer's find)."""
    past = pd.concat([_read(y)[0] for y in ["2017/18", "2018/19"]], ignore_index=True)
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(past), EMPTY, EMPTY)
    state.state = "ready"
    clean, rejects = _read("2018/19")
    with pytest.raises(RequestProblem) as refused:  # rows of 2018/19 scored as 2019/20: no autumn row
        scoring.census_cohort(clean, rejects, state, MODEL_FEATURES, "2019/20", skip_invalid=False,
                              census="AUT")
    assert refused.value.message.startswith("No pupil has an autumn census row for the year being scored")


def _excluded(dates):
    """Linked suspensions of the history's first pupil, one on each date."""
    return pd.DataFrame({"upn": pd.Series([UPNS[0]] * len(dates), dtype="string"), "Category": "SUSP",
                         "SchoolURN": EXAMPLE_CENSUS["SchoolURN"], "Sessions": 2.0,
                         "StartDate": pd.to_datetime(pd.Series(dates))})


def _cohort_with(exclusions, year, census_years=("2017/18", "2018/19")):
    past = pd.concat([_read(y)[0] for y in census_years], ignore_index=True)
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(past), exclusions, EMPTY)
    state.state = "ready"
    clean, rejects = _read(year)
    return scoring.census_cohort(clean, rejects, state, MODEL_FEATURES, year, skip_invalid=False,
                                 census="AUT")


# An extract whose exclusions end on 22 July 2019 (the demo's), with 12 in September 2018
DEMO_LIKE = [f"2018-09-{day:02d}" for day in range(3, 15)] + ["2019-07-22"]


def test_a_year_the_exclusions_extract_ends_before_is_refused_naming_the_year_and_date():
    """The reviewer's find: the demo's 2018/19 census sent as 2019/20 (a history to 2018/19, so the census
    check passed) was scored with "no suspensions so far this year" for all 399 pupils, 200 OK and no
    warning, while the exclusions extract's latest exclusion starts on 22 July 2019."""
    with pytest.raises(RequestProblem) as refused:
        _cohort_with(_excluded(DEMO_LIKE), "2019/20")
    problem = refused.value
    assert problem.status_code == 422
    assert "Census rows for 2019/20 are not scored" in problem.message
    assert "22 July 2019" in problem.message and "3 October 2019" in problem.message
    assert "holds 12 in the same weeks a year earlier" in problem.message
    assert problem.problems[0]["field"] == "AcademicYear" and "22 July 2019" in problem.problems[0]["reason"]
    assert not any(u in problem.message for u in UPNS)


def test_a_year_the_exclusions_extract_reaches_or_cannot_judge_is_scored():
    assert len(_cohort_with(_excluded(DEMO_LIKE), "2018/19").features) == len(UPNS)
    # fewer than 10 in the same weeks a year earlier: a quiet spell cannot be told from an old extract
    assert len(_cohort_with(_excluded(DEMO_LIKE[3:]), "2019/20").features) == len(UPNS)
    assert len(_cohort_with(EMPTY, "2019/20").features) == len(UPNS)
