"""The service's workbook (format=xlsx, the page's "Download workbook") carries the drift check's lines
on its Notice sheet, as the CLI's scores.xlsx does: before, its notice held the cohort's warnings only,
so an officer's workbook lacked what the JSON's `drift_warnings` and the page's banner said."""

from __future__ import annotations

from exclusion_risk.models import drift_data
from tests.serving.test_blank_need_warning import notice_text, service  # noqa: F401 (fixture)
from tests.serving.test_limits import call, census_csv, census_rows


def _score(service, fmt: str):  # noqa: F811
    rows = census_rows(20, FSMeligible="0", SENprovision="N", SENtype="")
    return call(service, "POST", f"/score/file?record=false&format={fmt}", content=census_csv(rows),
                headers={"Content-Type": "text/csv"})


def test_the_workbook_notice_carries_the_drift_lines(service, monkeypatch):  # noqa: F811
    shifted = "Absence last year (absence_rate_last_year) has shifted in 2018/19: a stand-in warning."
    monkeypatch.setattr(drift_data, "stored_profile", lambda run_id: {"features": {}})
    monkeypatch.setattr(drift_data, "load_thresholds", lambda: {})
    monkeypatch.setattr(drift_data, "part_of_cohort", lambda *args: None)
    monkeypatch.setattr(drift_data, "drift_report",
                        lambda *args: type("Report", (), {"warnings": [shifted]})())
    answer = _score(service, "json")
    assert answer.status_code == 200, answer.text
    assert answer.json()["drift_warnings"] == [shifted]
    workbook = _score(service, "xlsx")
    assert workbook.status_code == 200, workbook.text
    assert shifted in notice_text(workbook.content)


def test_the_workbook_says_when_drift_could_not_be_checked(service):  # noqa: F811
    # the stand-in's run has no reference profile: the CLI's notice says so, and so does this one
    said = drift_data.NOT_CHECKED.format(version="1")
    assert said in notice_text(_score(service, "xlsx").content)


def test_the_workbook_notice_carries_the_fairness_reviews_findings(service, monkeypatch):  # noqa: F811
    # the CLI's scores.xlsx repeats the review's calibration findings; the service's had none of them
    from tests.models.test_score_fairness import _finding, _logged
    from tests.serving.test_blank_need_warning import WorkbookScorer

    asian = _finding("ethnic group", "Asian", 0.53)
    seen = _logged(monkeypatch, {"top": [asian], "all": [asian]})
    monkeypatch.setattr(WorkbookScorer, "info", lambda self: {"name": "er", "version": "1", "run_id": "r1"})
    notice = notice_text(_score(service, "xlsx").content)
    assert "For Asian pupils the model over-predicts: observed / predicted 0.53." in notice
    assert "the fairness review of version" in notice and ("r1", "fairness/fairness.json") in seen
