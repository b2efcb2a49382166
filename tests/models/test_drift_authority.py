"""`exclusion-risk drift` and the drift check of `score` on the small synthetic authority: an unchanged
year warns only of history features lengthening (and says so), and the specific warning for attendance
halved at one school and for a third of a year's social-care links lost.

The school whose attendance is halved is the one nearest 5% of the year's pupils (3352237, 4.9% of the
6,122; the demo authority's largest holds 3.5%), not the largest: the authority-wide PSI does not see it
(absence PSI 0.02, unauthorised absence 0.04), the school-by-school check does (`models.drift_checks`:
mean absence rate 0.53 against 0.05 at that school).

Measured on this authority (6,000 pupils, 12 schools; 2018/19 against 2016/17 + 2017/18, truth links):
unchanged, no PSI warning (the largest outside the school-context features is 0.021); the only warnings
are features counted over earlier years that rose as the history lengthened (the extracts start in
2015/16: school moves before last year 0.7% to 2.4%), each saying so. Attendance halved
at the largest school (1,466 of the 6,122 pupils on the 2018/19 autumn census) gives absence PSI 0.32,
unauthorised absence 0.35, persistent absence 0.29; at the second largest (1,148) 0.21, 0.23 and 0.19
(PSI notices only), at a 489-pupil school 0.04. A third of the 124 linked social-care children of
2018/19 unlinked: link rate 58.8% against 85.1%, 31% fewer.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from exclusion_risk.calendar import academic_year_start_of
from exclusion_risk.cli import app
from exclusion_risk.models.drift import PROFILE_ARTIFACT, reference_profile
from exclusion_risk.models.fingerprint import extracts_source
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE, share_step
from exclusion_risk.synth.truth import write_truth_links

YEAR, REFERENCE = "2018/19", "2016/17,2017/18"
ABSENCE_WARNING = "the mean absence last year (absence_rate_last_year) is"
SCHOOL_SHARE = 0.05  # the share of the year's pupils at the school whose attendance is halved
LINK_WARNING = "Fewer social-care records of 2018/19 are linked to a census pupil"
DOCUMENT_KEYS = {"notice", "features", "schools", "link_rates", "base_rate", "reference_years", "year",
                 "thresholds", "warnings", "notes", "lookback", "source"}  # fmt: skip
# The extracts start in 2015/16, so 2016/17 and 2017/18 look back over fewer earlier years than 2018/19:
# features counted over earlier years rise with the history, and their warnings say so.
LENGTHENED = "the rise is at least in part the history lengthening, not the cohort changing"
ROW_KEYS = {"feature", "psi", "missing_reference", "missing_current", "prevalence_reference",
            "prevalence_current", "warning", "printed"}  # fmt: skip
# One quick model (logistic only) for the `score` test: the drift profile does not depend on the model.
TRAIN_CONFIG = {"n_jobs": 1, "metrics": {"capacities": [0.05], "bootstrap": 50, "level": 0.95},
                "models": {"random_forest": {"enabled": False}, "lightgbm": {"enabled": False},
                           "logistic": {"params": {"max_iter": 500}, "grid": {"C": [1.0]}}}}  # fmt: skip


def halve_attendance(source: Path, target: Path, year: str = YEAR) -> str:
    """A copy of the authority whose pupils at the school nearest SCHOOL_SHARE of `year`'s autumn census
    attended half the sessions they did in the year before it (the missed half added to authorised and
    unauthorised absence); the school's URN."""
    target.mkdir(parents=True)
    for name in ("exclusions.csv", "social_care.csv"):
        shutil.copy(source / name, target / name)
    shutil.copytree(source / "attendance", target / "attendance")  # termly files, unchanged
    census = pd.read_csv(source / "census.csv", dtype=str, keep_default_na=False)
    rows = census["AcademicYear"].eq(year) & census["CensusTerm"].eq("AUT")
    shares = census.loc[rows, "SchoolURN"].value_counts(normalize=True)
    school = (shares - SCHOOL_SHARE).abs().idxmin()
    assert school != shares.index[0]  # not the largest school
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
    """(root, extracts, links, shifted extracts, fewer links); root / "school" holds the shifted URN."""
    root = tmp_path_factory.mktemp("drift")
    links = write_truth_links(small_authority, root / "links").parent
    (root / "school").write_text(halve_attendance(Path(small_authority), root / "shifted"))
    drop_social_care_links(Path(small_authority), links, root / "fewer_links")
    return root, Path(small_authority), links, root / "shifted", root / "fewer_links"


def drift(data: Path, links: Path, out: Path, *extra: str):
    args = ["drift", "--data", str(data), "--links", str(links), "--year", YEAR,
            "--reference-year", REFERENCE, "--out", str(out), *extra]  # fmt: skip
    result = CliRunner().invoke(app, args)
    document = json.loads((out / "drift.json").read_text()) if (out / "drift.json").is_file() else None
    return result, document


def _not_lengthened(document) -> list[dict]:
    """The feature rows of features whose reference years look back as far as the checked year."""
    longer = {row["feature"] for row in document["lookback"]}
    return [row for row in document["features"] if row["feature"] not in longer]


def test_an_unchanged_year_warns_only_of_history_lengthening_and_says_so(authority, tmp_path):
    root, extracts, links, *_ = authority
    result, document = drift(extracts, links, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert set(document) == DOCUMENT_KEYS and document["warnings"]
    assert document["source"] == extracts_source(extracts)  # which files, as digests
    assert all(LENGTHENED in w for w in document["warnings"]) and "no drift warnings" not in result.output
    assert {r["feature"] for r in document["features"] if r["warning"]} <= {r["feature"] for r in
                                                                            document["lookback"]}  # fmt: skip
    assert {"school_moves_earlier", "suspensions_earlier", "cin_ever"} <= {r["feature"] for r in
                                                                          document["lookback"]}  # fmt: skip
    assert any(n.startswith("Shorter look-back in the reference years: the census, exclusion and social-care "
                            "extracts start in 2015/16") for n in document["notes"])  # fmt: skip
    assert "note: Shorter look-back in the reference years" in result.output
    assert result.output.rstrip().endswith(DECISION_SUPPORT_NOTICE)  # the console had no notice
    assert document["year"] == YEAR and document["reference_years"] == REFERENCE.split(",")
    assert all(set(row) == ROW_KEYS and row["warning"] is False for row in _not_lengthened(document))
    assert {r["source"] for r in document["link_rates"]} == {"exclusions", "social_care"}
    assert document["base_rate"]["latest_complete_year"] == YEAR and not document["base_rate"]["warning"]
    html = (tmp_path / "out" / "drift.html").read_text()
    assert "Shorter look-back in the reference years" in html and "decision" in html.lower()


def test_attendance_halved_at_one_school_is_flagged(authority, tmp_path):
    root, _, links, shifted, _ = authority
    result, document = drift(shifted, links, tmp_path / "out")
    assert result.exit_code == 0, result.output
    school = (root / "school").read_text()
    said = f"At school {school}: {ABSENCE_WARNING} "
    assert said in result.output and any(w.startswith(said) for w in document["warnings"])
    flagged = {(row["school"], row["feature"]) for row in document["schools"] if row["warning"]}
    assert (school, "absence_rate_last_year") in flagged
    assert all(urn == school and "absence" in name for urn, name in flagged)
    assert not any(row["warning"] for row in _not_lengthened(document))  # the authority-wide PSI misses it
    assert "no drift warnings" not in result.output


def test_a_third_of_the_years_social_care_links_lost_is_flagged(authority, tmp_path):
    root, extracts, _, _, fewer = authority
    result, document = drift(extracts, fewer, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert LINK_WARNING in result.output
    rates = {row["source"]: row for row in document["link_rates"]}
    assert rates["social_care"]["warning"] and not rates["exclusions"]["warning"]
    assert rates["social_care"]["relative_change"] < -0.2
    assert not any(row["warning"] for row in _not_lengthened(document))


def test_a_thresholds_file_changes_what_warns_and_bad_input_exits_2(authority, tmp_path):
    root, extracts, links, shifted, _ = authority
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("psi_warning: 0.5\nschool_mean_ratio: 1000\nprevalence_ratio: 1000\n")
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


def test_an_out_folder_that_cannot_be_made_exits_2_in_one_line(authority, tmp_path):
    _, extracts, links, *_ = authority
    (tmp_path / "afile").write_text("")
    result, _ = drift(extracts, links, tmp_path / "afile" / "sub")
    # said before the champion and the extracts are read (exclusion_risk.cli_checks.out_folder)
    assert result.exit_code == 2 and "--out" in result.output and "cannot write there" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


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
        assert ("At school " in result.output) is expected  # unchanged: no school line
        assert "population stability index" not in result.output  # the authority-wide PSI stays quiet
        assert "drift could not be checked" not in result.output and "drift not checked" not in result.output


def test_the_stored_profile_holds_no_small_cell_nor_an_exact_share(authority, trained, monkeypatch):
    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.linkage.history import load_history
    from exclusion_risk.models import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained)
    tracking.setup_read()
    version = tracking.resolve_version(tracking.CHAMPION)
    profile = json.loads(tracking.read_artifact_text(version.run_id, PROFILE_ARTIFACT))
    assert profile["years"] == REFERENCE.split(",")  # train year and validation year: the refit's years
    _, extracts, links, *_ = authority
    table = build_feature_table(load_history(extracts, links), profile["years"])
    pupils = len(table)
    exact = {name: [round(share * pupils) for share in feature["shares"]]
             for name, feature in reference_profile(table, profile["years"], names=list(profile["features"]))[
                 "features"].items()}  # fmt: skip
    step = share_step(pupils)  # a decimal place worth 10 pupils or more: no share is an exact count
    assert step * pupils >= 10
    for name, feature in profile["features"].items():
        shares = [*feature["shares"], *(feature.get(k) for k in ("missing", "prevalence"))]
        for share in (s for s in shares if s is not None):
            assert share == round(share, -math.floor(math.log10(step))), (name, share)
        counts = exact[name]  # the cells themselves: pooled, none of 1-9 pupils
        assert all(n == 0 or n >= 10 for n in counts) and sum(counts) == pupils, name
    assert set(profile["link_rates"]) == {"exclusions", "social_care"} and profile["base_rate"] > 0


RATES_OF = [("AUT", "any"), ("SPR", "any"), ("SPR", "permanent"), ("SUM", "repeat")]


@pytest.mark.parametrize("census, label", RATES_OF)
def test_the_exclusion_rate_is_of_the_models_census_and_outcome(authority, census, label):
    """A spring model's profile holds the rate of its own outcome after the spring census (the share
    of the training table's labels, withheld where a part is 1 to 9), and says which it is."""
    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.linkage.history import load_history
    from exclusion_risk.models.drift_checks import shown_rate
    from exclusion_risk.models.drift_data import DriftContext, exclusion_rates, profile_for

    _, extracts, links, *_ = authority
    history = load_history(extracts, links)
    years = REFERENCE.split(",")
    no_links = pd.DataFrame(columns=["source", "year", "records", "linked"])
    context = DriftContext(no_links, exclusion_rates(history))
    table = build_feature_table(history, years, label=label, census=census)
    profile = profile_for(table, years, context, of={"census": census, "label": label})
    assert profile["base_rate_of"] == {"census": census, "label": label}
    assert profile["base_rate"] == shown_rate(int(table["label"].sum()), int(table["label"].notna().sum()))
    if label == "any":  # fewer months left after a later census: a lower rate, never the autumn one
        autumn = build_feature_table(history, years, label=label)["label"].mean()
        later = census != "AUT"
        assert profile["base_rate"] < autumn if later else profile["base_rate"] == pytest.approx(autumn)


def test_drift_against_a_champion_trained_on_other_extracts_says_so(authority, trained, tmp_path,
                                                                     monkeypatch):
    """Another authority's (here: the census less a pupil in 20 of the reference years) checked against the
    champion's years compared those extracts' years with themselves and read no warning of it."""
    root, extracts, links, *_ = authority
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained)
    other = tmp_path / "other"
    shutil.copytree(extracts, other)
    census = pd.read_csv(other / "census.csv", dtype=str, keep_default_na=False)
    earlier = census.index[census["AcademicYear"] != YEAR]
    census.drop(earlier[::20]).to_csv(other / "census.csv", index=False)
    expected = "was trained on other extracts than these ("
    for data, said in ((extracts, False), (other, True)):
        args = ["drift", "--data", str(data), "--links", str(links), "--year", YEAR,
                "--out", str(tmp_path / data.name)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert (expected in " ".join(result.output.split())) is said
        document = json.loads((tmp_path / data.name / "drift.json").read_text())
        assert any(expected in w for w in document["warnings"]) is said
    assert "the model may be another authority's, and its drift is not checked" in " ".join(
        result.output.split())
