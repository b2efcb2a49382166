"""A census scoring's drift lines and the fairness review's calibration findings reach every format the
service answers in, not the workbook alone: the JSON's `fairness_findings` (which the page shows), and a
CSV download's `X-Drift-Warnings` and `X-Fairness-Findings` headers (a CSV has no envelope; before, its
headers carried the cohort's warnings only, so the officer downloading a CSV was never told that the
cohort had drifted from the training years or that a group's probabilities run high)."""

from __future__ import annotations

from exclusion_risk.models import drift_data
from exclusion_risk.serving.answer_format import DRIFT_HEADER, FAIRNESS_HEADER, lines_header
from tests.serving.test_blank_need_warning import service  # noqa: F401 (fixture)
from tests.serving.test_limits import call, census_csv, census_rows

SHIFTED = "Absence last year (absence_rate_last_year) has shifted in 2018/19: a stand-in warning."
ASIAN = "For Asian pupils the model over-predicts: observed / predicted 0.53."


def _score(service, fmt: str):  # noqa: F811
    rows = census_rows(20, FSMeligible="0", SENprovision="N", SENtype="")
    return call(service, "POST", f"/score/file?record=false&format={fmt}", content=census_csv(rows),
                headers={"Content-Type": "text/csv"})


def _reviewed_and_drifted(monkeypatch) -> None:
    from tests.models.test_score_fairness import _finding, _logged
    from tests.serving.test_blank_need_warning import WorkbookScorer

    monkeypatch.setattr(drift_data, "stored_profile", lambda run_id: {"features": {}})
    monkeypatch.setattr(drift_data, "load_thresholds", lambda: {})
    monkeypatch.setattr(drift_data, "part_of_cohort", lambda *args: None)
    monkeypatch.setattr(drift_data, "drift_report",
                        lambda *args: type("Report", (), {"warnings": [SHIFTED]})())
    asian = _finding("ethnic group", "Asian", 0.53)
    _logged(monkeypatch, {"top": [asian], "all": [asian]})
    monkeypatch.setattr(WorkbookScorer, "info", lambda self: {"name": "er", "version": "1", "run_id": "r1"})


def test_the_json_carries_the_fairness_reviews_findings(service, monkeypatch):  # noqa: F811
    _reviewed_and_drifted(monkeypatch)
    answer = _score(service, "json")
    assert answer.status_code == 200, answer.text
    findings = answer.json()["fairness_findings"]
    assert any(ASIAN in line for line in findings), findings
    assert answer.json()["drift_warnings"] == [SHIFTED]


def test_a_csv_download_carries_drift_and_fairness_in_headers(service, monkeypatch):  # noqa: F811
    _reviewed_and_drifted(monkeypatch)
    answer = _score(service, "csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers[DRIFT_HEADER] == SHIFTED
    assert ASIAN in answer.headers[FAIRNESS_HEADER]
    assert answer.headers[FAIRNESS_HEADER].isascii()  # the review's "x" of an intersection fits a header


def test_a_workbook_download_carries_the_same_headers(service, monkeypatch):  # noqa: F811
    # its notice sheet has them all; the headers too, as before bbce178 the cohort's warnings were
    _reviewed_and_drifted(monkeypatch)
    answer = _score(service, "xlsx")
    assert answer.status_code == 200, answer.text
    assert answer.headers[DRIFT_HEADER] == SHIFTED and ASIAN in answer.headers[FAIRNESS_HEADER]


def test_a_model_never_reviewed_adds_no_fairness_header(service):  # noqa: F811
    answer = _score(service, "csv")
    assert answer.status_code == 200, answer.text
    assert FAIRNESS_HEADER not in answer.headers
    assert _score(service, "json").json()["fairness_findings"] == []


def test_a_headers_non_ascii_reads_as_its_ascii_twin_not_a_question_mark():
    # the review's count of the rest reads "intersections such as sex × ethnic group"; it came out
    # "sex ? ethnic group" in X-Fairness-Findings
    said = lines_header(["intersections such as sex × ethnic group", "1–9 pupils at Zoë’s “school”…"])
    assert said == 'intersections such as sex x ethnic group | 1-9 pupils at Zoe\'s "school"...'
    assert lines_header(["a 中 b"]) == "a ? b"  # what has no twin still fits a header
