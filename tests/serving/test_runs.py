"""Issue #12: every census scoring is recorded by the service and compared with the last one.

`RunStore` on its own (the tables, which earlier run is compared with), then a server of its own (a
fresh database, so the runs are this module's alone): `POST /score/file` and `POST /score` with
`census` answer `run` and `changes`, `GET /runs` lists runs with no identifiers, `POST /runs/earlier`
takes the UPN in its body, and `format=xlsx` returns the workbook.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import stat

import openpyxl
import pandas as pd
import pytest

from exclusion_risk.models.risk_matrix import load_risk_matrix, need_labels
from exclusion_risk.models.score_runs import change_counts, change_labels, compare, new_run
from exclusion_risk.models.score_workbook import CHANGES_SHEET, NOTICE_SHEET, RANKED_SHEET
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.run_history import RunStore

UPN_SHAPE = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{11}[0-9A-Z](?![A-Za-z0-9])")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scores(rows):
    return pd.DataFrame(
        [
            {"upn": u, "school_urn": s, "probability": p, "likelihood_band": b, "rag": r}
            for u, s, p, b, r in rows
        ]
    )


@pytest.mark.usefixtures("umask_022")
def test_run_store_compares_with_the_latest_run_sharing_a_school(tmp_path):
    path = tmp_path / "service" / "service.db"
    store = RunStore(Database(path))
    facts = {"model_name": "m", "risk_matrix_version": "1", "year": "2018/19"}
    first_rows = [("A1", "100", 0.5, "high", "amber"), ("A2", "200", 0.1, "low", "green")]
    first, pupils = new_run(_scores(first_rows), model_version="1", **facts)
    store.record(first, pupils, "key1")
    other, pupils = new_run(_scores([("B1", "300", 0.9, "very high", "red")]), model_version="2", **facts)
    store.record(other, pupils, "key1")
    same = ("2018/19", "autumn")
    assert store.latest_sharing(["200", "999"], *same) == first  # the later run scored other schools only
    assert store.latest_sharing(["300", "100"], *same) == other  # both share one: the more recent
    assert store.latest_sharing(["999"], *same) is None
    # another year or term is never the run compared with (`score --compare-with last`'s rule)
    assert store.latest_sharing(["100"], "2015/16", "autumn") is None
    assert store.latest_sharing(["100"], "2018/19", "spring") is None
    assert [r.run_id for r in store.recent()] == [other.run_id, first.run_id]
    assert store.pupils(first.run_id)["upn"].tolist() == ["A1", "A2"]
    earlier = store.earlier_scores("A1")
    assert earlier == [
        {"run_id": first.run_id, "recorded_at": first.recorded_at, "year": "2018/19", "census": "autumn",
         "probability": 0.5, "likelihood_band": "high", "rag": "amber", "model_version": "1"}
    ]  # fmt: skip  (the term too: a year's autumn and spring scorings were told apart by date alone)
    assert store.earlier_scores("nobody") == []
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # the pupils' rows are in the private file


# --- a server of its own --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs_service(own_service):
    return own_service


@pytest.fixture(scope="module")
def cohort(champion) -> pd.DataFrame:
    return pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _bands(client) -> list[str]:
    return [band["label"] for band in client.get("/risk-matrix").json()["likelihood_bands"]]


@pytest.mark.slow
def test_census_scorings_are_recorded_and_changes_reported(runs_service, cohort, champion):
    school = cohort["SchoolURN"].value_counts().index[0]  # the largest school
    at_school = cohort.index[cohort["SchoolURN"] == school]
    first_rows = cohort.loc[cohort.index.difference(at_school[-5:])].head(400)
    first_rows = pd.concat([first_rows, cohort.loc[at_school[:30]]]).drop_duplicates()
    gone = cohort.loc[at_school[:3], "UPN"].tolist()  # scored first, absent from the second cohort
    new = cohort.loc[at_school[-5:], "UPN"].tolist()  # at the same school, only in the second
    second_rows = pd.concat([first_rows[~first_rows["UPN"].isin(gone)], cohort.loc[at_school[-5:]]])

    with runs_service.client() as client:
        first = client.post("/score/file", params={"skip_invalid": "true", "reasons": "false"},
                            files={"file": ("census.csv", _csv(first_rows), "text/csv")})  # fmt: skip
        records = client.post("/score", json={"pupils": [{"upn": "A801200111001", "nc_year": 8}]})
        second = client.post("/score", params={"skip_invalid": "true", "reasons": "false"},
                             json={"census": second_rows.to_dict("records")})  # fmt: skip
        bands = _bands(client)
        runs = client.get("/runs")
        known = client.post("/runs/earlier", json={"upn": new[0]})
        both = first_rows.loc[~first_rows["UPN"].isin(gone), "UPN"].iloc[0]
        earlier = client.post("/runs/earlier", json={"upn": both})
        unknown = client.post("/runs/earlier", json={"upn": "Z999999999999"})
        missing = client.post("/runs/earlier", json={"pupil": "A801200111001X"})
        anonymous = client.get("/runs", headers={"X-API-Key": ""})
    assert first.status_code == second.status_code == records.status_code == 200, second.text[:500]

    body1, body2 = first.json(), second.json()
    run1, run2 = body1["run"], body2["run"]
    scores1, scores2 = pd.DataFrame(body1["scores"]), pd.DataFrame(body2["scores"])
    assert body1["changes"] is None  # a fresh database: nothing earlier
    assert (run1["year"], run1["census"], run1["model_version"]) == ("2018/19", "autumn", champion.version)
    assert run1["pupils"] == len(scores1) and run1["schools"] == scores1["school_urn"].nunique()
    assert records.json().get("run") is None  # feature records are not a census scoring

    changes = body2["changes"]
    assert changes["since"] == {"id": run1["id"], "recorded_at": run1["recorded_at"], "year": "2018/19",
                                "census": "autumn", "model_version": champion.version}  # fmt: skip
    listed = pd.DataFrame(changes["pupils"])
    by_change = listed.groupby("change")["upn"].apply(set).to_dict()
    assert by_change["no_longer_on_roll"] == set(gone)
    assert set(new) - by_change.get("new_on_roll", set()) <= by_change.get("new_red", set())
    assert changes["counts"] == {k: len(by_change.get(k, ())) for k in changes["counts"]}
    expected = compare(scores1, scores2, bands)  # the rules, applied to what the two responses said
    assert changes["counts"] == change_counts(expected)
    assert set(listed.columns) == {"upn", "school_urn", "change", "before_band", "after_band", "before_rag",
                                   "after_rag", "before_need", "after_need", "label"}  # fmt: skip
    # each pupil's need level as each scoring gave it, kept in the run and read back for the comparison
    for side, scores in (("before", scores1), ("after", scores2)):
        rows = listed.dropna(subset=[f"{side}_need"])
        assert len(rows) and rows[f"{side}_need"].astype(int).tolist() == (
            scores.set_index("upn").loc[rows["upn"], "need_level"].astype(int).tolist()
        )
    # each change in words, as the page shows it, need levels with the matrix's labels
    labels = need_labels(load_risk_matrix().need_levels)
    assert listed["label"].tolist() == change_labels(expected, labels).tolist()

    assert runs.status_code == 200
    listed_runs = runs.json()["runs"]
    assert [r["id"] for r in listed_runs] == [run2["id"], run1["id"]]  # newest first; feature records: none
    assert listed_runs[0]["rag"] == scores2["rag"].value_counts().reindex(["red", "amber", "green"],
                                                                          fill_value=0).to_dict()  # fmt: skip
    assert not UPN_SHAPE.search(runs.text)  # no identifiers
    assert anonymous.status_code == 401

    assert [s["run_id"] for s in known.json()["scores"]] == [run2["id"]]
    got = earlier.json()
    assert got["upn"] == both and [s["run_id"] for s in got["scores"]] == [run2["id"], run1["id"]]
    assert got["scores"][1]["probability"] == pytest.approx(
        scores1.set_index("upn").loc[both, "probability"], abs=1e-9
    )
    assert unknown.status_code == 200 and unknown.json()["scores"] == []
    assert missing.status_code == 422 and "A801200111001X" not in missing.text

    scorer_id = runs_service.keys["scorer"].split(".")[1]
    with sqlite3.connect(runs_service.database) as db:
        stored = db.execute("SELECT run_id, key_id, pupils FROM scoring_runs ORDER BY rowid").fetchall()
        pupils = db.execute("SELECT COUNT(*) FROM scoring_run_pupils").fetchone()[0]
        audit = db.execute("SELECT * FROM audit_log").fetchall()
    assert stored == [(run1["id"], scorer_id, len(scores1)), (run2["id"], scorer_id, len(scores2))]
    assert pupils == len(scores1) + len(scores2)
    assert stat.S_IMODE(os.stat(runs_service.database).st_mode) == 0o600
    logged = " ".join(str(v) for row in audit for v in row) + runs_service.log_text()
    assert "/runs/earlier" in logged and not UPN_SHAPE.search(logged)  # the UPN went in the body only


@pytest.mark.slow
def test_score_file_as_a_workbook(runs_service, cohort):
    sample = cohort.tail(120)
    params = {"format": "xlsx", "skip_invalid": "true", "reasons": "false"}
    with runs_service.client() as client:
        before = client.post(
            "/score/file", params={**params, "format": "csv"},
            files={"file": ("census.csv", _csv(sample), "text/csv")},
        )
        response = client.post("/score/file", params=params, content=_csv(sample),
                               headers={"Content-Type": "text/csv"})  # fmt: skip
        runs = client.get("/runs").json()["runs"]
    assert before.status_code == response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == XLSX
    assert response.headers["x-decision-support-notice"] == DECISION_SUPPORT_NOTICE
    # named by the census scored, the model and the run (before: "scores_model_N", every term's list one
    # name; then every scoring of one census)
    named = f'attachment; filename="scores_2018-19_autumn_model_{runs[0]["model_version"]}_run_'
    assert before.headers["content-disposition"] == named + f'{runs[1]["id"][:8]}.csv"'
    assert response.headers["content-disposition"] == named + f'{runs[0]["id"][:8]}.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:3] == [NOTICE_SHEET, RANKED_SHEET, CHANGES_SHEET]  # compared with `before`
    notice = [v for row in book[NOTICE_SHEET].iter_rows(values_only=True) for v in row if v]
    assert DECISION_SUPPORT_NOTICE in notice
    assert any(str(v).startswith("0 new red since the 2018/19 autumn scoring of") for v in notice)
    ranked = list(book[RANKED_SHEET].iter_rows(values_only=True))
    assert len(ranked) - 1 == runs[0]["pupils"]  # recorded as a run too
    assert book[RANKED_SHEET].freeze_panes == "A2" and book[RANKED_SHEET].auto_filter.ref
    table = pd.DataFrame(ranked[1:], columns=ranked[0])
    for urn, rows in table.groupby("school_urn"):
        (title,) = [n for n in book.sheetnames if n.split(" ")[0] == str(urn)]
        assert [r[0] for r in list(book[title].iter_rows(values_only=True))[6:]] == rows["upn"].tolist()


@pytest.mark.slow
def test_a_workbook_of_a_file_just_scored_is_not_recorded_twice(runs_service, cohort):
    """The page's workbook download sends the file it has just scored again: `record=false` leaves the
    runs as they were, and `since` compares with the run the first scoring was compared with, so the
    workbook's changes are the page's (without it, the file would be compared with itself)."""
    sample = cohort.tail(80)
    files = {"file": ("census.csv", _csv(sample), "text/csv")}
    quick = {"skip_invalid": "true", "reasons": "false"}
    with runs_service.client() as client:
        earlier = client.post("/score/file", params=quick, files=files).json()["run"]
        scored = client.post("/score/file", params=quick, files=files).json()
        before = [r["id"] for r in client.get("/runs").json()["runs"]]
        workbook = client.post("/score/file", files=files, params={
            **quick, "format": "xlsx", "record": "false", "since": scored["changes"]["since"]["id"]})
        after = [r["id"] for r in client.get("/runs").json()["runs"]]
        unknown = client.post("/score/file", files=files, params={**quick, "since": "0" * 32})
    assert scored["changes"]["since"]["id"] == earlier["id"]
    assert workbook.status_code == 200, workbook.text[:300]
    assert after == before  # not recorded again
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    notice = [str(v) for row in book[NOTICE_SHEET].iter_rows(values_only=True) for v in row if v]
    assert any(earlier["recorded_at"][:10] in line and "since" in line for line in notice)
    assert unknown.status_code == 422 and "since" in unknown.json()["detail"]
    assert [r["id"] for r in client_runs(runs_service)] == after  # a refused `since` records nothing


def client_runs(service):
    with service.client() as client:
        return client.get("/runs").json()["runs"]


@pytest.mark.slow
def test_a_workbook_of_a_first_scoring_is_compared_with_nothing(runs_service, cohort):
    """A school's first scoring has nothing to compare with (`changes` null); its workbook, the file sent
    again with `record=false` and `recorded_as`, said "0 new red since" the run just recorded for it."""
    sample = cohort.tail(40).assign(SchoolURN="999101")  # a school no run of this server has scored
    files = {"file": ("census.csv", _csv(sample), "text/csv")}
    quick = {"skip_invalid": "true", "reasons": "false"}
    with runs_service.client() as client:
        first = client.post("/score/file", params=quick, files=files).json()
        workbook = client.post("/score/file", files=files, params={
            **quick, "format": "xlsx", "record": "false", "recorded_as": first["run"]["id"]})
        unknown = client.post("/score/file", files=files, params={
            **quick, "record": "false", "recorded_as": "0" * 32})
    assert first["changes"] is None
    assert workbook.status_code == 200, workbook.text[:300]
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert CHANGES_SHEET not in book.sheetnames
    notice = [str(v) for row in book[NOTICE_SHEET].iter_rows(values_only=True) for v in row if v]
    assert not any("since" in line for line in notice), notice
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("recorded_as: ")


@pytest.mark.slow
def test_changes_name_the_schools_not_compared(runs_service, cohort):
    """A school scored once, then with a school never scored: `changes` (and the workbook's changes
    sentence) say the new school was not compared, as `exclusion-risk score` does; they said only "0 new
    red", though its pupils were never scored before."""
    scored, fresh = cohort.head(40).assign(SchoolURN="999301"), cohort.tail(30).assign(SchoolURN="999302")
    both = {"file": ("census.csv", _csv(pd.concat([scored, fresh])), "text/csv")}
    quick = {"skip_invalid": "true", "reasons": "false", "record": "false"}
    with runs_service.client() as client:
        client.post("/score/file", params={"skip_invalid": "true", "reasons": "false"},
                    files={"file": ("census.csv", _csv(scored), "text/csv")})
        changes = client.post("/score/file", params=quick, files=both).json()["changes"]
        workbook = client.post("/score/file", params={**quick, "format": "xlsx"}, files=both)
    (note,) = changes["notes"]  # not also "compared with a scoring before it": they are not compared
    assert note.startswith("Not compared: 1 school (999302; 30 pupils) scored only in this one.")
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    notice = [str(v) for row in book[NOTICE_SHEET].iter_rows(values_only=True) for v in row if v]
    assert any(line.startswith("0 new red since") and note in line for line in notice), notice
    assert not any("compared with a scoring before it" in line for line in notice)  # nor the workbook
