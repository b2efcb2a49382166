"""What a script integrating the service needs of its runs (an integrator's findings): which recorded run
a CSV or workbook download is, every run listed (not the latest 50 without a word), and `record=false`
honoured on `POST /score` with census rows (it was ignored, so a trial was recorded and compared with).
A server of its own (a fresh database, so the runs are this module's alone)."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from exclusion_risk.models.score_workbook import NOTICE_SHEET

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows(champion) -> pd.DataFrame:
    return pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(30)


def _upload(client, frame: pd.DataFrame, **params):
    return client.post("/score/file", params=params,
                       files={"file": ("census.csv", frame.to_csv(index=False).encode(), "text/csv")})


def test_a_download_says_which_recorded_run_it_is(own_service, rows):
    with own_service.client() as client:
        csv = _upload(client, rows, format="csv", reasons="false")
        book = _upload(client, rows, format="xlsx", reasons="false")
        trial = _upload(client, rows, format="csv", reasons="false", record="false")
        listed = client.get("/runs").json()["runs"]
    assert csv.status_code == book.status_code == trial.status_code == 200, csv.text[:300]
    run_csv, run_book = listed[1]["id"], listed[0]["id"]  # newest first; the trial recorded nothing
    assert len(listed) == 2
    # before: no header, and both files "scores_2018-19_autumn_model_N.csv", one overwriting the other
    assert csv.headers["X-Run-Id"] == run_csv and book.headers["X-Run-Id"] == run_book
    assert f'_run_{run_csv[:8]}.csv"' in csv.headers["Content-Disposition"]
    assert f'_run_{run_book[:8]}.xlsx"' in book.headers["Content-Disposition"]
    notice = openpyxl.load_workbook(io.BytesIO(book.content))[NOTICE_SHEET]
    assert f"Recorded run: {run_book}" in [row[0] for row in notice.iter_rows(values_only=True)]
    assert "X-Run-Id" not in trial.headers and "_run_" not in trial.headers["Content-Disposition"]


def test_census_rows_sent_as_json_with_record_false_are_not_recorded(own_service, rows):
    census = rows.head(5).to_dict(orient="records")
    with own_service.client() as client:
        before = client.get("/runs").json()["total"]
        trial = client.post("/score", params={"record": "false"}, json={"census": census})
        during = client.get("/runs").json()["total"]
        recorded = client.post("/score", json={"census": census})
        after = client.get("/runs").json()
    assert trial.status_code == recorded.status_code == 200, trial.text[:300]
    assert trial.json()["run"] is None and during == before  # it had been recorded, run and all
    assert after["total"] == before + 1 and after["runs"][0]["id"] == recorded.json()["run"]["id"]


def test_every_run_can_be_listed_page_by_page(own_service, rows):
    with own_service.client() as client:
        for _ in range(5):  # 5 of its own: the module's other tests may run on another worker
            assert _upload(client, rows.head(3), reasons="false").status_code == 200
        whole = client.get("/runs").json()
        first = client.get("/runs", params={"limit": 2}).json()
        rest = client.get("/runs", params={"limit": 500, "before": first["runs"][-1]["id"]}).json()
        unknown = client.get("/runs", params={"before": "f" * 32})
        too_many = client.get("/runs", params={"limit": 501})
    # before: the latest 50, and no word of the others
    assert whole["total"] == len(whole["runs"]) >= 5
    assert first["total"] == whole["total"] and len(first["runs"]) == 2
    assert [r["id"] for r in first["runs"] + rest["runs"]] == [r["id"] for r in whole["runs"]]
    assert unknown.status_code == too_many.status_code == 422
    assert "no recorded scoring run this key may see has that id" in unknown.json()["detail"]


def test_a_feature_records_answer_has_a_census_rows_types_and_words(own_service):
    pupil = {"upn": "A801200111001", "nc_year": 8, "need_level": 3}
    with own_service.client() as client:
        answer = client.post("/score", json={"pupils": [pupil]})
    assert answer.status_code == 200, answer.text[:300]
    (row,) = answer.json()["scores"]
    # before: "nc_year": 8.0 and "need_label": null, where a census row's answer gives 8 and the words
    assert row["nc_year"] == 8 and isinstance(row["nc_year"], int)
    assert row["need_level"] == 3 and row["need_label"] == "child protection plan or looked after"


def test_every_error_has_one_shape_and_a_json_route_refuses_another_type_alike(own_service):
    with own_service.client() as client:
        as_text = client.post("/runs/earlier", content=b'{"upn": "A801200111001"}',
                              headers={"Content-Type": "text/plain"})  # fmt: skip
        as_form = client.post("/score", content=b'{"pupils": []}',
                              headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        missing = client.get("/no-such-route")
        method = client.put("/runs")
        anonymous = client.get("/runs", headers={"X-API-Key": ""})
    # before: /runs/earlier answered text/plain 200, /score a form 422
    assert as_text.status_code == as_form.status_code == 415
    assert as_text.json() == as_form.json() == {"detail": "The request body is not JSON.", "errors": [
        {"row": None, "field": "body", "reason": "send JSON (Content-Type: application/json)"}]}
    # before: {"detail": ...} alone, where every other error has `errors`
    for response, status in ((missing, 404), (method, 405), (anonymous, 401)):
        assert response.status_code == status and set(response.json()) == {"detail", "errors"}, response.text


def test_the_accept_header_chooses_the_answers_format(own_service, rows):
    from exclusion_risk.serving.answer_format import XLSX_TYPE

    upload = {"file": ("census.csv", rows.head(3).to_csv(index=False).encode(), "text/csv")}
    with own_service.client() as client:
        answers = {accept: client.post("/score/file", params={"record": "false", "reasons": "false"},
                                       headers={"Accept": accept}, files=upload)
                   for accept in ("text/csv;q=0.5, application/json", XLSX_TYPE, "text/csv")}  # fmt: skip
    types = {accept: answer.headers["content-type"].split(";")[0] for accept, answer in answers.items()}
    assert types == {"text/csv;q=0.5, application/json": "application/json", XLSX_TYPE: XLSX_TYPE,
                     "text/csv": "text/csv"}  # fmt: skip
