"""scores.csv's `school_name` (the contract's "where known"): from the census's school-name column,
through the feature table, to `exclusion-risk score`'s scores.csv and the service's JSON; blank where
no census row names the school. The small authority's census names its schools (synth)."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.contract import SCHOOL_NAME

# End to end: the champion is trained once per run and each xdist worker starts a real uvicorn server.
pytestmark = pytest.mark.slow

SCORED_YEAR = "2018/19"
NEW_SCHOOL, UNNAMED_SCHOOL = "3359990", "3359991"  # URNs no row of the authority's census carries


@pytest.fixture(scope="module")
def cohort(champion) -> pd.DataFrame:
    return pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def names(champion) -> dict[str, str]:
    """URN -> the name the authority's census gives the school."""
    census = pd.read_csv(champion.extracts / "census.csv", dtype=str, keep_default_na=False)
    pairs = census[["SchoolURN", SCHOOL_NAME]].drop_duplicates()
    assert pairs["SchoolURN"].is_unique and (pairs[SCHOOL_NAME] != "").all()
    return dict(zip(pairs["SchoolURN"], pairs[SCHOOL_NAME], strict=True))


def _score_cli(data, champion, out, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", champion.tracking_uri)
    out.parent.mkdir(parents=True)
    result = CliRunner().invoke(app, [
        "score", "--data", str(data), "--year", SCORED_YEAR, "--links", str(champion.links),
        "--alias", champion.version, "--no-reasons", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, dtype={"upn": str, "school_urn": str, "school_name": str}, keep_default_na=False)


def test_scores_csv_names_each_pupils_school(champion, names, tmp_path, monkeypatch):
    scores = _score_cli(champion.extracts, champion, tmp_path / "named" / "scores.csv", monkeypatch)
    assert len(scores) > 1000
    assert scores["school_name"].tolist() == scores["school_urn"].map(names).tolist()


def test_scores_csv_without_a_school_name_column_leaves_it_blank(champion, tmp_path, monkeypatch):
    data = tmp_path / "unnamed"
    data.mkdir()
    census = pd.read_csv(champion.extracts / "census.csv", dtype=str, keep_default_na=False)
    census.drop(columns=[SCHOOL_NAME]).to_csv(data / "census.csv", index=False)
    for extract in ("exclusions.csv", "social_care.csv"):
        shutil.copy(champion.extracts / extract, data / extract)
    scores = _score_cli(data, champion, tmp_path / "unnamed_scores" / "scores.csv", monkeypatch)
    assert len(scores) > 1000 and (scores["school_urn"] != "").all()
    assert (scores["school_name"] == "").all()


def _upload(cohort: pd.DataFrame, header: str | None) -> pd.DataFrame:
    """60 pupils of the cohort; three moved to a school new to the authority (named only here), three
    to a school no row names; the school-name column under `header` (dropped when None)."""
    sample = cohort.head(60).copy()
    sample.loc[sample.index[:3], ["SchoolURN", SCHOOL_NAME]] = [NEW_SCHOOL, "Newly Opened Academy"]
    sample.loc[sample.index[3:6], ["SchoolURN", SCHOOL_NAME]] = [UNNAMED_SCHOOL, ""]
    if header is None:
        return sample.drop(columns=[SCHOOL_NAME])
    return sample.rename(columns={SCHOOL_NAME: header})


def _scored(live_service, upload: pd.DataFrame) -> pd.DataFrame:
    data = upload.to_csv(index=False).encode()
    with live_service.client() as client:
        response = client.post("/score/file", files={"file": ("census.csv", data, "text/csv")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rejected"] == [] and len(body["scores"]) == len(upload)
    return pd.DataFrame(body["scores"]).set_index("upn")


def test_an_upload_with_the_column_under_an_alias_names_the_schools(live_service, cohort, names):
    upload = _upload(cohort, "EstabName")
    scores = _scored(live_service, upload)
    school = upload.set_index("UPN")["SchoolURN"]
    assert scores.loc[school.index[:3], "school_name"].tolist() == ["Newly Opened Academy"] * 3
    assert scores.loc[school.index[3:6], "school_name"].isna().all()  # no row names it: blank
    known = school.index[6:]
    assert scores.loc[known, "school_name"].tolist() == school.loc[known].map(names).tolist()


def test_an_upload_without_the_column_takes_names_from_the_linked_census(live_service, cohort, names):
    upload = _upload(cohort, None)
    scores = _scored(live_service, upload)
    school = upload.set_index("UPN")["SchoolURN"]
    # the authority's census of the scored collection names the schools it knows; the others are blank
    assert scores.loc[school.index[:6], "school_name"].isna().all()
    known = school.index[6:]
    assert scores.loc[known, "school_name"].tolist() == school.loc[known].map(names).tolist()


def test_a_formula_leading_name_is_neutralised_in_the_services_csv(live_service, cohort):
    """A school name is text from the file: the one CSV writer neutralises one a spreadsheet would run."""
    upload = _upload(cohort, SCHOOL_NAME)
    upload.loc[upload.index[:3], SCHOOL_NAME] = "=HYPERLINK(1)"
    with live_service.client() as client:
        response = client.post("/score/file", params={"format": "csv"}, content=upload.to_csv(index=False),
                               headers={"Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 200, response.text
    table = pd.read_csv(io.StringIO(response.text), dtype=str, keep_default_na=False).set_index("upn")
    first = upload["UPN"].iloc[:3]
    assert table.loc[first, "school_name"].tolist() == ["'=HYPERLINK(1)"] * 3
