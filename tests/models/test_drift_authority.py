"""`exclusion-risk drift` and the drift check of `score` on the small synthetic authority: quiet on an
unchanged year, and the specific warning for attendance halved at one school and for a third of a year's
social-care links lost.

Measured on this authority (6,000 pupils, 12 schools; 2018/19 against 2016/17 + 2017/18, truth links):
unchanged, no warning (the largest PSI outside the school-context features is 0.021); attendance halved at
the largest school (1,466 of the 6,122 pupils on the 2018/19 autumn census) gives absence PSI 0.32,
unauthorised absence 0.35, persistent absence 0.29; at the second largest (1,148) 0.21, 0.23 and 0.19
(notices, no warning), at a 489-pupil school 0.04. A third of the 124 linked social-care children of
2018/19 unlinked: link rate 58.8% against 85.1%, 31% fewer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from exclusion_risk.calendar import academic_year_start_of
from exclusion_risk.cli import app
from exclusion_risk.models.drift import PROFILE_ARTIFACT
from exclusion_risk.synth.truth import write_truth_links

YEAR, REFERENCE = "2018/19", "2016/17,2017/18"
ABSENCE_WARNING = "Absence last year (absence_rate_last_year) has shifted in 2018/19"
LINK_WARNING = "Fewer social-care records of 2018/19 are linked to a census pupil"
DOCUMENT_KEYS = {"features", "link_rates", "base_rate", "reference_years", "year", "thresholds", "warnings"}
ROW_KEYS = {"feature", "psi", "missing_reference", "missing_current", "warning"}
# One quick model (logistic only) for the `score` test: the drift profile does not depend on the model.
TRAIN_CONFIG = {"n_jobs": 1, "metrics": {"capacities": [0.05], "bootstrap": 50, "level": 0.95},
                "models": {"random_forest": {"enabled": False}, "lightgbm": {"enabled": False},
                           "logistic": {"params": {"max_iter": 500}, "grid": {"C": [1.0]}}}}  # fmt: skip


def halve_attendance(source: Path, target: Path, year: str = YEAR) -> str:
    """A copy of the authority whose largest school's pupils attended half the sessions they did in the
    year before `year`'s autumn census (the missed half added to authorised and unauthorised absence)."""
    target.mkdir(parents=True)
    for name in ("exclusions.csv", "social_care.csv"):
        shutil.copy(source / name, target / name)
    census = pd.read_csv(source / "census.csv", dtype=str, keep_default_na=False)
    rows = census["AcademicYear"].eq(year) & census["CensusTerm"].eq("AUT")
    school = census.loc[rows, "SchoolURN"].value_counts().index[0]
    rows &= census["SchoolURN"].eq(school) & census["SessionsPossible"].ne("")
    possible, authorised, unauthorised = (census.loc[rows, c].astype(int) for c in (
        "SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"))  # fmt: skip
    missed = (possible - authorised - unauthorised) // 2
    census.loc[rows, "SessionsAuthorisedAbsence"] = (authorised + missed // 2).astype(str)
    census.loc[rows, "SessionsUnauthorisedAbsence"] = (unauthorised + missed - missed // 2).astype(str)
    census.to_csv(target / "census.csv", index=False)
    return school


def drop_social_care_links(source: Path, links: Path, target: Path, year: str = YEAR) -> None:
    """links.csv less every third linked social-care child with an episode starting in `year`."""
    care = pd.read_csv(source / "social_care.csv", dtype=str, keep_default_na=False)
    table = pd.read_csv(links / "links.csv", dtype=str)
    started = academic_year_start_of(pd.to_datetime(care["StartDate"])) == int(year[:4])
    linked = table.loc[table["source"] == "social_care", "record_id"]
    children = sorted(set(care.loc[started, "LAchildID"]) & set(linked))
    dropped = (table["source"] == "social_care") & table["record_id"].isin(children[::3])
    target.mkdir(parents=True)
    table[~dropped].to_csv(target / "links.csv", index=False)


@pytest.fixture(scope="module")
def authority(small_authority, tmp_path_factory):
    """(root, extracts, links, shifted extracts, fewer links)."""
    root = tmp_path_factory.mktemp("drift")
    links = write_truth_links(small_authority, root / "links").parent
    halve_attendance(Path(small_authority), root / "shifted")
    drop_social_care_links(Path(small_authority), links, root / "fewer_links")
    return root, Path(small_authority), links, root / "shifted", root / "fewer_links"


def drift(data: Path, links: Path, out: Path, *extra: str):
    args = ["drift", "--data", str(data), "--links", str(links), "--year", YEAR,
            "--reference-year", REFERENCE, "--out", str(out), *extra]  # fmt: skip
    result = CliRunner().invoke(app, args)
    document = json.loads((out / "drift.json").read_text()) if (out / "drift.json").is_file() else None
    return result, document


def test_an_unchanged_year_is_quiet(authority, tmp_path):
    root, extracts, links, *_ = authority
    result, document = drift(extracts, links, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "no drift warnings"
    assert set(document) == DOCUMENT_KEYS and document["warnings"] == []
    assert document["year"] == YEAR and document["reference_years"] == REFERENCE.split(",")
    assert all(set(row) == ROW_KEYS and row["warning"] is False for row in document["features"])
    assert {r["source"] for r in document["link_rates"]} == {"exclusions", "social_care"}
    assert document["base_rate"]["latest_complete_year"] == YEAR and not document["base_rate"]["warning"]
    html = (tmp_path / "out" / "drift.html").read_text()
    assert "No drift warnings" in html and "decision" in html.lower()


def test_attendance_halved_at_one_school_is_flagged(authority, tmp_path):
    root, _, links, shifted, _ = authority
    result, document = drift(shifted, links, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert ABSENCE_WARNING in result.output and ABSENCE_WARNING in " ".join(document["warnings"])
    flagged = {row["feature"] for row in document["features"] if row["warning"]}
    assert "absence_rate_last_year" in flagged and "sex" not in flagged
    assert all("absence" in name for name in flagged)
    assert "no drift warnings" not in result.output


def test_a_third_of_the_years_social_care_links_lost_is_flagged(authority, tmp_path):
    root, extracts, _, _, fewer = authority
    result, document = drift(extracts, fewer, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert LINK_WARNING in result.output
    rates = {row["source"]: row for row in document["link_rates"]}
    assert rates["social_care"]["warning"] and not rates["exclusions"]["warning"]
    assert rates["social_care"]["relative_change"] < -0.2
    assert not any(row["warning"] for row in document["features"])


def test_a_thresholds_file_changes_what_warns_and_bad_input_exits_2(authority, tmp_path):
    root, extracts, links, shifted, _ = authority
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("psi_warning: 0.5\n")
    result, document = drift(shifted, links, tmp_path / "out", "--config", str(lenient))
    assert result.exit_code == 0 and result.output.startswith("no drift warnings")
    assert document["thresholds"]["psi_warning"] == 0.5
    lenient.write_text("psi_warnin: 0.5\n")
    result, _ = drift(extracts, links, tmp_path / "bad", "--config", str(lenient))
    assert result.exit_code == 2 and "unknown drift threshold(s) psi_warnin" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    same = ["drift", "--data", str(extracts), "--links", str(links), "--year", YEAR,
            "--reference-year", "2018/19", "--out", str(tmp_path / "x")]  # fmt: skip
    result = CliRunner().invoke(app, same)
    assert result.exit_code == 2 and "is one of the reference years" in result.output


@pytest.fixture(scope="module")
def trained(authority, tmp_path_factory):
    """A champion (logistic only) trained on the authority in a store of its own: its MLflow URI."""
    root = tmp_path_factory.mktemp("drift_store")
    config = root / "experiment.yaml"
    config.write_text(yaml.safe_dump(TRAIN_CONFIG))
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        _, extracts, links, *_ = authority
        train = ["train", "--data", str(extracts), "--links", str(links), "--config", str(config), "--quiet"]
        for args in (train, ["promote", "--best"]):
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
    return uri


def test_score_prints_the_drift_warning_and_nothing_when_quiet(authority, trained, tmp_path, monkeypatch):
    root, extracts, links, shifted, _ = authority
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained)
    for data, expected in ((shifted, True), (extracts, False)):
        out = tmp_path / data.name / "scores.csv"
        result = CliRunner().invoke(app, ["score", "--data", str(data), "--links", str(links), "--year", YEAR,
                                          "--out", str(out), "--no-reasons"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert (ABSENCE_WARNING in result.output) is expected
        assert ("population stability index" in result.output) is expected  # quiet: no drift line at all
        assert "drift could not be checked" not in result.output


def test_the_stored_profile_holds_no_cell_of_fewer_than_ten_pupils(authority, trained, monkeypatch):
    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.linkage.history import load_history
    from exclusion_risk.models import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained)
    tracking.setup_read()
    version = tracking.resolve_version(tracking.CHAMPION)
    profile = json.loads(tracking.read_artifact_text(version.run_id, PROFILE_ARTIFACT))
    assert profile["years"] == REFERENCE.split(",")  # train year and validation year: the refit's years
    _, extracts, links, *_ = authority
    pupils = len(build_feature_table(load_history(extracts, links), profile["years"]))
    for name, feature in profile["features"].items():
        counts = [round(share * pupils) for share in feature["shares"]]
        assert all(n == 0 or n >= 10 for n in counts), name
        assert sum(counts) == pupils, name
    assert set(profile["link_rates"]) == {"exclusions", "social_care"} and profile["base_rate"] > 0
