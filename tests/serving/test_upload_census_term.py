"""A census upload's rows without a CensusTerm (blank, or no such column) count as the model's census, as
serving/README.md says: scored as the same rows with the term given, not refused row by row or as a file
missing a required column. Against a real server (`live_service`)."""

from __future__ import annotations

import pandas as pd
import pytest

# End to end: the champion is trained once per run and each xdist worker starts a real uvicorn server.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def upload(champion) -> pd.DataFrame:
    """40 pupils of the scored year's autumn census (the champion is an autumn model)."""
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(40)
    assert set(cohort["CensusTerm"]) == {"AUT"}
    return cohort


def _scores(live_service, frame: pd.DataFrame) -> tuple[dict, list[str]]:
    with live_service.client() as client:
        response = client.post("/score/file", params={"record": "false"},
                               files={"file": ("census.csv", frame.to_csv(index=False).encode(), "text/csv")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == []
    return {row["upn"]: row["probability"] for row in body["scores"]}, body["warnings"]


# said, not silent: a spring census sent without its term was scored as the autumn one without a word
READ_AS = {"blank": "census.csv: 40 rows, UTF-8; 40 row(s) with a blank CensusTerm read as the autumn "
                    "census (AUT)",
           "no column": "census.csv: 40 rows, UTF-8; no CensusTerm column: every row read as the autumn "
                        "census (AUT)"}  # fmt: skip


@pytest.mark.parametrize("without", ["blank", "no column"])
def test_rows_without_a_census_term_are_scored_as_the_models_census(live_service, upload, without):
    given, said = _scores(live_service, upload)  # what the history says of every upload (unlinked children)
    assert not [line for line in said if "CensusTerm" in line]
    frame = upload.assign(CensusTerm="") if without == "blank" else upload.drop(columns=["CensusTerm"])
    scored, warnings = _scores(live_service, frame)
    assert len(given) == len(upload)
    assert scored == given  # every pupil, with the same score as when the term is given
    assert warnings == [READ_AS[without], *said]  # the file's read note first


def test_census_json_rows_without_a_census_term_are_scored(live_service, upload):
    rows = upload.drop(columns=["CensusTerm"]).head(5).to_dict(orient="records")
    with live_service.client() as client:
        response = client.post("/score", json={"census": rows})
    assert response.status_code == 200, response.text
    assert len(response.json()["scores"]) == 5


def test_a_term_from_the_upload_file_name_is_said_in_the_refusal(live_service, upload):
    """census_2024-01-18.csv without a CensusTerm is the spring census by its name: the autumn model's
    refusal says where the term came from (it said only "the rows ... are for the spring census")."""
    frame = upload.drop(columns=["CensusTerm"])
    with live_service.client() as client:
        response = client.post("/score/file", params={"record": "false"}, files={
            "file": ("census_2024-01-18.csv", frame.to_csv(index=False).encode(), "text/csv")})
    assert response.status_code == 422, response.text
    assert "no CensusTerm column: every row read as the spring census (SPR), from the date in the file name" \
        in response.json()["detail"]
