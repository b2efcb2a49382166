"""`score` says what the extracts' read rejected, and the drift check's warnings, wherever the scores are
read: console, scores.html and the workbook's notice sheet. Six bad census values had dropped six
pupils from a 62,509-pupil list with no word anywhere."""

from __future__ import annotations

from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models import score_fairness
from exclusion_risk.models.score_notes import rejected_census_words
from exclusion_risk.models.score_workbook import NOTICE_SHEET
from exclusion_risk.models.scoring import CohortScorer
from tests.models.test_score_runs import _census


def _score(training, write_small_extracts, tmp_path, monkeypatch, census):
    """`score` of 2018/19 by the small training's LightGBM on `census` (the small extracts' other files):
    (the CLI's result, scores.csv's path, the extracts' folder)."""
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: scorer))
    data, links = write_small_extracts(tmp_path / "extracts", census, "104002")
    out = tmp_path / "scores" / "scores.csv"
    run = CliRunner().invoke(app, ["score", "--data", str(data), "--links", str(links), "--year", "2018/19",
                                   "--out", str(out), "--no-reasons"])  # fmt: skip
    return run, out, data


def _page_text(out) -> str:
    """scores.html's words, one space between each."""
    return " ".join(out.with_suffix(".html").read_text(encoding="utf-8").split())


def _notice_text(out) -> str:
    """The workbook's notice sheet's cells, joined."""
    book = openpyxl.load_workbook(out.with_suffix(".xlsx"), read_only=True)
    return " ".join(str(c) for row in book[NOTICE_SHEET].iter_rows(values_only=True) for c in row if c)


def test_rejected_census_rows_are_said_beside_the_scores(
    training, write_small_extracts, tmp_path, monkeypatch
):
    census = _census()
    census.loc[3, "DOB"] = "Zebedee"  # no date: the row, and with it the pupil, is rejected
    census.loc[7, "Sex"] = "Xylophone"
    census.loc[[10, 11, 12], "FSMeligible"] = ""  # 10 and 12 have no SEN: their need level rests on it
    run, out, data = _score(training, write_small_extracts, tmp_path, monkeypatch, census)
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert "scored 38 pupils" in said
    assert "Rows rejected as the extracts were read (bad or missing values): census 2 rows." in said
    assert "is not scored" in said and f"exclusion-risk check --data {data}" in said
    assert "Zebedee" not in run.output and "Xylophone" not in run.output  # never a pupil's value
    assert "2 pupil(s) have a need level that may rest on a blank free-school-meals value" in said
    page = _page_text(out)
    assert "Read before using these scores" in page and "census fewer than 10 rows" in page
    assert "census 2 rows" not in page  # the page that is passed on: no count under 10
    assert "Fewer than 10 pupils have a need level that may rest on a blank" in page
    notice = _notice_text(out)
    assert "census 2 rows" in notice


def test_the_fairness_reviews_calibration_findings_are_said_beside_the_scores(
    training, write_small_extracts, tmp_path, monkeypatch
):
    # the review advised reading a group's probabilities as lower than stated; only its own page said so
    finding = "For Asian pupils the model over-predicts. Read their probabilities as lower than stated."
    # score imports fairness_lines when it runs (tests/test_cli_imports.py): patched where it is defined
    monkeypatch.setattr(score_fairness, "fairness_lines", lambda info: [finding])
    run, out, _ = _score(training, write_small_extracts, tmp_path, monkeypatch, _census())
    assert run.exit_code == 0, run.output
    assert finding in " ".join(run.output.split())
    assert finding in " ".join(out.with_suffix(".html").read_text(encoding="utf-8").split())
    notice = _notice_text(out)
    assert finding in notice


def test_no_census_for_the_year_says_how_many_census_rows_the_read_rejected(
    training, write_small_extracts, tmp_path, monkeypatch
):
    # A stray quote had rejected every 2018/19 row as the census was read; `score` then said only "no
    # autumn census for 2018/19 ... none", as if the extract held none.
    last_year = _census().assign(AcademicYear="2017/18", NCyearActual="4")  # read: the pupils are known
    census = pd.concat([last_year, _census().assign(DOB="Zebedee")], ignore_index=True)
    this_year = census["AcademicYear"] == "2018/19"  # every row of the year rejected (no date)
    run, out, data = _score(training, write_small_extracts, tmp_path, monkeypatch, census)
    assert run.exit_code == 2, run.output
    said = " ".join(run.output.split())
    assert "no autumn census for 2018/19" in said
    rows = int(this_year.sum())
    assert f"{rows} census rows (of any year: a rejected row's year is not known) were rejected" in said
    assert "some of which may be 2018/19's" in said
    assert f"exclusion-risk check --data {data}" in said and "rejects.csv" in said
    assert "Zebedee" not in run.output and "Traceback" not in run.output


@pytest.mark.parametrize("n", [1, 7])
def test_the_refusals_rejected_census_rows_are_not_said_to_be_the_years(tmp_path, n):
    # "7 census rows were rejected as the extracts were read, and that year's may be among them" counted
    # every rejected census row, of any year (a rejected row's year is unknown), beside "no autumn census
    # for 2018/19": as if the 7 were that year's. Now said to be of any year, some perhaps that year's.
    extracts = SimpleNamespace(results={"census": SimpleNamespace(rows_rejected=n)})
    said = rejected_census_words(extracts, tmp_path / "extracts", None, "2018/19")
    rows = "1 census row (of any year" if n == 1 else f"{n} census rows (of any year"
    assert said.startswith(f"; {rows}: a rejected row's year is not known)")
    assert ("which may be 2018/19's" if n == 1 else "some of which may be 2018/19's") in said
    assert "that year's may be among them" not in said
    assert rejected_census_words(SimpleNamespace(results={}), tmp_path, None, "2018/19") == ""


def test_an_invalid_upn_the_history_does_not_know_is_said_beside_the_scores(
    training, write_small_extracts, tmp_path, monkeypatch
):
    """`score` said nothing of a census UPN that fails the check and matches no pupil of the linked
    history, though that pupil is scored without their history (the service says so of an upload): the
    same words now, counted on the census scored, on the console, in scores.html and the workbook."""
    last_year = _census().assign(AcademicYear="2017/18", NCyearActual="4")
    this_year = _census()
    upns = this_year["UPN"].tolist()
    unknown = "NOTAUPN-Okafor"  # pupil 5: not a UPN, and not one keying slip from theirs
    slip = ("Z" if upns[6][0] != "Z" else "Y") + upns[6][1:]  # pupil 6: a wrong check letter, merged
    kept = "X" + upns[7][1:] if upns[7][0] not in "XY" else "W" + upns[7][1:]  # pupil 7: wrong both years
    this_year.loc[[5, 6, 7], "UPN"] = [unknown, slip, kept]
    last_year.loc[7, "UPN"] = kept
    census = pd.concat([last_year, this_year], ignore_index=True)
    run, out, _ = _score(training, write_small_extracts, tmp_path, monkeypatch, census)
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert ("3 of 40 pupils scored have a UPN that is not valid (a wrong check letter, or not a UPN's "
            "shape): they are scored under the UPN as the census gives it; check it in the MIS.") in said
    assert ("1 pupil scored with an invalid UPN is not in the linked history: their history could not be "
            "found, so they are scored as if they had no earlier exclusions, social care or census rows; "
            "correct the UPN in the MIS and score again.") in said
    page = _page_text(out)
    assert "Fewer than 10 of 40 pupils scored have a UPN that is not valid" in page
    assert "Fewer than 10 pupils scored with an invalid UPN are not in the linked history" in page
    notice = _notice_text(out)
    assert "1 pupil scored with an invalid UPN is not in the linked history" in notice
    for upn in (unknown, slip, kept, "NOTAUPNOKAFOR"):
        assert upn not in run.output and upn not in notice  # counts only, never a pupil's UPN


def test_pupils_at_a_school_new_to_the_history_are_said_to_have_the_authoritys_rates(
    training, write_small_extracts, tmp_path, monkeypatch
):
    """A school under a new URN (academy conversion) has no earlier roll: its pupils get the authority's
    suspension rate, which their context line calls the school's, and nothing said so (a reviewer's
    find: 8.1 per 100 "school's suspensions" against the school's own 6.5, and red, amber and green
    moved). Said now on the console, in scores.html and on the workbook's notice sheet."""
    last_year = _census().assign(AcademicYear="2017/18", NCyearActual="4")
    this_year = _census()
    this_year.loc[[0, 2, 4], "SchoolURN"] = "104009"  # three pupils at a school not in 2017/18's census
    census = pd.concat([last_year, this_year], ignore_index=True)
    run, out, _ = _score(training, write_small_extracts, tmp_path, monkeypatch, census)
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert ("3 pupil(s) at 1 school(s) that the linked history holds no earlier year of (a new school, or "
            "one under a new URN, e.g. after academy conversion) are scored with the authority's") in said
    page = _page_text(out)
    assert "Fewer than 10 pupils at 1 school(s) that the linked history holds no earlier year of" in page
    notice = _notice_text(out)
    assert "3 pupil(s) at 1 school(s)" in notice


def test_no_school_is_said_to_be_new_when_the_history_holds_no_earlier_year():
    from exclusion_risk.models.score_notes import new_school_lines

    features = pd.DataFrame({"SchoolURN": ["104001", "104009"]})
    only_this_year = _census()  # 2018/19 rows only: the rates are not known, and the context says so
    assert new_school_lines(features, [only_this_year, None], "2018/19") == []
    earlier = _census().assign(AcademicYear="2017/18")
    (line,) = new_school_lines(features, [earlier], "2018/19")
    assert line.startswith("1 pupil(s) at 1 school(s)")
    assert new_school_lines(features.iloc[:1], [earlier], "2018/19") == []


def test_scoring_the_historys_first_year_says_no_earlier_year_is_held(
    training, write_small_extracts, tmp_path, monkeypatch
):
    """The history's first year was scored as if no pupil had ever been excluded (185 pupils green, four
    of them red two years on), without a word (a reviewer's find)."""
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: scorer))
    # the extracts' one suspension is of 2017/18: after the year scored
    first_year = _census().assign(AcademicYear="2016/17")
    data, links = write_small_extracts(tmp_path / "extracts", first_year, "104002")
    out = tmp_path / "scores" / "scores.csv"
    run = CliRunner().invoke(app, ["score", "--data", str(data), "--links", str(links), "--year", "2016/17",
                                   "--out", str(out), "--no-reasons"])  # fmt: skip
    assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert "The linked history holds no census row or exclusion before 2016/17" in said
    page = _page_text(out)
    assert "holds no census row or exclusion before 2016/17" in page


def test_a_history_with_an_earlier_year_is_not_said_to_start_with_the_year():
    from exclusion_risk.linkage.history import PupilHistory
    from exclusion_risk.models.score_notes import history_start_lines

    none = pd.DataFrame({"StartDate": pd.Series(dtype=object)})
    this_year = PupilHistory(_census(), none, none)
    assert history_start_lines(this_year, "2018/19")  # nothing before 2018/19
    two_years = pd.concat([_census().assign(AcademicYear="2017/18"), _census()])
    with_last_year = PupilHistory(two_years, none, none)
    assert history_start_lines(with_last_year, "2018/19") == []
    excluded = pd.DataFrame({"StartDate": ["2018-03-01"]})  # an exclusion of 2017/18, census from 2018/19
    assert history_start_lines(PupilHistory(_census(), excluded, none), "2018/19") == []
    assert history_start_lines(None, "2018/19") == []
