"""A census upload is scored at one collection (the latest year's census of the model, or academic_year's):
rows of other collections are read as the pupils' earlier history or not at all, and their pupils who are
not on the census scored are not scored. That is said in `warnings` (counts, years and terms; no pupil's
value), never left silent. Against a real server (`live_service`)."""

from __future__ import annotations

import pandas as pd
import pytest

# End to end: the champion is trained once per run and each xdist worker starts a real uvicorn server.
pytestmark = pytest.mark.slow

NEXT_YEAR = "2019/20"


@pytest.fixture(scope="module")
def upload(champion) -> pd.DataFrame:
    """40 pupils of the 2018/19 autumn census, the first row's year keyed as 2019/20."""
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(40)
    cohort.loc[cohort.index[0], "AcademicYear"] = NEXT_YEAR
    return cohort


@pytest.fixture(scope="module")
def earlier_rows(champion) -> pd.DataFrame:
    """40 pupils of the 2018/19 autumn census, every row but the first keyed as 2017/18: the latest year is
    the history's own (a 2019/20 row scored by default was scored with none of 2019/20's exclusions, which
    the linked extract cannot hold, and is refused now: tests/serving/test_history_reach.py)."""
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(40)
    cohort.loc[cohort.index[1:], "AcademicYear"] = "2017/18"
    return cohort


def _post(live_service, upload, **params):
    with live_service.client() as client:
        return client.post("/score/file", params={"record": "false", **params},
                           files={"file": ("census.csv", upload.to_csv(index=False).encode(), "text/csv")})


def test_rows_of_an_earlier_year_are_said_to_be_history_and_not_scored(live_service, earlier_rows):
    upload = earlier_rows
    response = _post(live_service, upload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["upn"] for s in body["scores"]] == [upload["UPN"].iloc[0]]  # the 2018/19 row's pupil
    said = [w for w in body["warnings"] if "not of the 2018/19 autumn census scored" in w]
    assert len(said) == 1, body["warnings"]
    assert "39 of the upload's 40 rows" in said[0]
    assert "39 rows of 2017/18 autumn (AUT), read as earlier history" in said[0]
    assert "39 pupil(s) on those rows only are not scored" in said[0]
    assert not any(upn in " ".join(body["warnings"]) for upn in upload["UPN"])


def test_rows_after_the_year_asked_for_are_said_to_be_unread(live_service, upload):
    response = _post(live_service, upload, academic_year="2018/19", format="csv")
    assert response.status_code == 200, response.text
    # header and the 39 pupils of the 2018/19 rows: the 2019/20 row's pupil is not on the census scored,
    # so not scored (before: scored from their 2018/19 row in the linked history, 40 rows, while the
    # warning said every pupil was on the census scored)
    assert len(response.text.splitlines()) == 1 + 39
    assert upload["UPN"].iloc[0] not in response.text
    said = response.headers["X-Census-Warnings"]
    assert "1 row of 2019/20 autumn (AUT), after the census scored, not read" in said
    assert "1 pupil(s) on those rows only are not scored" in said
