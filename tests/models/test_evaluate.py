"""`exclusion-risk evaluate` end to end on the small synthetic authority: train with test year 2017/18,
score 2018/19, evaluate once 2018/19's outcomes are in.

The key check recomputes the realised precision at 5% from the generator's truth alone (exclusions.csv
joined to truth/exclusion_links.csv, census day from truth/manifest.json, each scored UPN traced to
the truth's UPN through the census), never through `features.labels`.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.history import load_history
from exclusion_risk.models import tracking
from exclusion_risk.models.evaluate import realised_outcomes
from exclusion_risk.models.fingerprint import extracts_source
from exclusion_risk.privacy import SECONDARY, SUPPRESSED
from exclusion_risk.synth.truth import write_truth_links

SCORED, TEST_YEAR = "2018/19", "2017/18"
CONFIG = """
splits: {train: ["2015/16"], validation: "2016/17", test: "2017/18", refit: true}
metrics: {capacities: [0.01, 0.05, 0.10], bootstrap: 50, level: 0.95}
models:
  random_forest: {enabled: false}
  logistic: {enabled: false}
  lightgbm:
    params: {learning_rate: 0.1, n_estimators: 80, min_child_samples: 20}
    grid: {num_leaves: [15]}
    early_stopping_rounds: 10
"""
ROW_KEYS = {"selected", "true_positives", "precision", "recall", "ci_low", "ci_high"}
COUNT_FIELDS = {"selected", "true_positives", "pupils", "excluded", "scored", "with_outcomes",
                "without_outcomes", "on_census_not_scored", "with_outcome"}  # fmt: skip
runner = CliRunner()


@dataclass(frozen=True)
class Evaluated:
    root: Path
    uri: str
    extracts: Path
    links: Path
    scores: Path
    out: Path
    document: dict
    output: str


def _invoke(uri: str, args: list[str]):
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    try:
        return runner.invoke(app, args)
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous


def build_evaluated(small_authority: Path, root: Path) -> Evaluated:
    """train, promote, score and evaluate in `root`: the `evaluated` fixture (tests/models/conftest.py,
    one per session for this module and test_evaluate_beside_scores, which only read it)."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    links = root / "links"
    write_truth_links(small_authority, links)
    (root / "config.yaml").write_text(CONFIG)
    data = ["--data", str(small_authority), "--links", str(links)]
    for args in (["train", *data, "--config", str(root / "config.yaml"), "--quiet"],
                 ["promote", "--best", "--metric", "precision_at_5pct"],
                 ["score", *data, "--year", SCORED, "--out", str(root / "scores" / "scores.csv"),
                  "--no-reasons"]):  # fmt: skip
        result = _invoke(uri, args)
        assert result.exit_code == 0, result.output
    out = root / "evaluation"
    result = _invoke(
        uri, ["evaluate", *data, "--scores", str(root / "scores" / "scores.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads((out / "evaluation.json").read_text())
    return Evaluated(
        root, uri, small_authority, links, root / "scores" / "scores.csv", out, document, result.output
    )


# --- the realised precision, independently -------------------------------------------------------


def truth_excluded(extracts: Path, census_day: pd.Timestamp):
    """A function: UPN as recorded on a census of SCORED -> whether the generator's truth has that pupil
    suspended or excluded after `census_day` (to 31 August), from the truth files and extracts alone."""
    truth = extracts / "truth"
    year_end = pd.Timestamp(census_day.year + (census_day.month >= 9), 8, 31)
    exclusions = pd.read_csv(extracts / "exclusions.csv", dtype=str, keep_default_na=False)
    starts = pd.to_datetime(exclusions["StartDate"], format="%Y-%m-%d")
    after = exclusions[(starts > census_day) & (starts <= year_end)]
    who = pd.read_csv(truth / "exclusion_links.csv", dtype=str).dropna()
    excluded = set(who.loc[who["RecordID"].isin(after["RecordID"]), "upn"])
    # Each recorded UPN -> the truth's (latest) UPN: itself, through FormerUPN on later rows (a
    # temporary UPN replaced), or by name, date of birth and school (a UPN keyed wrongly once).
    census = pd.read_csv(extracts / "census.csv", dtype=str, keep_default_na=False)
    truth_upns = set(pd.read_csv(truth / "pupil_years.csv", dtype=str)["upn"]) | set(who["upn"])
    later = dict(zip(census.loc[census["FormerUPN"] != "", "FormerUPN"],
                     census.loc[census["FormerUPN"] != "", "UPN"], strict=True))  # fmt: skip
    person = census.assign(key=census["Surname"] + "|" + census["Forename"] + "|" + census["DOB"] + "|"
                           + census["SchoolURN"])  # fmt: skip
    by_person = person[person["UPN"].isin(truth_upns)].drop_duplicates("key").set_index("key")["UPN"]
    key_of = person.drop_duplicates("UPN").set_index("UPN")["key"]

    def truth_upn(upn: str) -> str:
        for _ in range(5):
            if upn in truth_upns:
                return upn
            upn = later.get(upn, upn)
        return by_person.get(key_of.get(upn), upn)

    return lambda upn: truth_upn(upn) in excluded


def truth_precision_at(extracts: Path, scores_csv: Path, capacity: float) -> tuple[int, int]:
    """(selected, of them excluded after census day) from the truth files and scores.csv alone."""
    manifest = json.loads((extracts / "truth" / "manifest.json").read_text())
    was_excluded = truth_excluded(extracts, pd.Timestamp(manifest["census_days"][SCORED]))
    scores = pd.read_csv(scores_csv, dtype={"upn": str}, keep_default_na=False)
    ranked = scores.sort_values(["probability", "upn"], ascending=[False, True], kind="mergesort")
    top = ranked.head(math.ceil(capacity * len(ranked)))
    return len(top), int(top["upn"].map(was_excluded).sum())


def test_realised_precision_at_5pct_matches_the_generators_truth(evaluated):
    selected, hits = truth_precision_at(evaluated.extracts, evaluated.scores, 0.05)
    row = next(r for r in evaluated.document["by_capacity"] if r["capacity"] == 0.05)
    assert (row["selected"], row["true_positives"]) == (selected, hits)
    assert row["precision"] == pytest.approx(hits / selected, abs=1e-12)
    assert row["ci_low"] < row["precision"] < row["ci_high"]
    assert evaluated.document["pupils"]["without_outcomes"] == 0
    assert (
        f"Of the {selected:,} pupils in the top 5%, {hits:,} ({100 * hits / selected:.0f}% ["
        in evaluated.output
    )


# --- what evaluation.json holds ------------------------------------------------------------------


def _counts(node, path=""):
    """Every (path, value) of a count field anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in COUNT_FIELDS and not isinstance(value, dict):
                yield f"{path}.{key}", value
            yield from _counts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _counts(value, f"{path}[{i}]")


def test_scores_join_the_feature_table_on_either_key_and_lose_nobody(evaluated, tmp_path):
    """scores.csv names a pupil by the UPN on the scored census (`upn`), the feature table by the pupil
    the linkage knows (`pupil_upn`, links.csv's `upn`); both files carry both columns, so a join on
    either loses nobody. Before, the feature table had only the pupil's id as `upn`: a pupil recorded
    under a temporary UPN (FormerUPN on a later row) or a mistyped one fell out of a join on `upn`."""
    features = tmp_path / "features.csv"
    result = _invoke(evaluated.uri, ["features", "--data", str(evaluated.extracts), "--links",
                                     str(evaluated.links), "--years", SCORED, "--out", str(features)])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(evaluated.scores, dtype=str, keep_default_na=False)
    table = pd.read_csv(features, dtype=str, keep_default_na=False)
    assert len(scores) == len(table) and scores["upn"].is_unique and table["upn"].is_unique
    for key in ("upn", "pupil_upn"):
        assert set(scores[key]) == set(table[key]), key
    pairs = ["upn", "pupil_upn"]
    joined = scores[pairs].merge(table[pairs], how="outer", indicator=True)
    assert joined["_merge"].eq("both").all()  # the same pupil under the same two keys in both files
    known_by_another = scores["upn"] != scores["pupil_upn"]
    assert known_by_another.sum() >= 3  # the authority has such pupils: the check has teeth
    census = pd.read_csv(evaluated.extracts / "census.csv", dtype=str, keep_default_na=False)
    assert scores.loc[known_by_another, "upn"].isin(census["FormerUPN"]).any()  # a temporary UPN among them
    links = pd.read_csv(evaluated.links / "links.csv", dtype=str)
    assert links["upn"].isin(scores["pupil_upn"]).any()  # links.csv's pupils are pupil_upn's


def test_the_json_has_the_promised_shape(evaluated):
    doc = evaluated.document
    assert [r["capacity"] for r in doc["by_capacity"]] == [0.01, 0.05, 0.10]
    for rows, key in ((doc["by_capacity"], "capacity"), (doc["by_band"], "band"), (doc["by_rag"], "rag")):
        assert rows and all(set(r) == ROW_KEYS | {key} for r in rows)
    assert [r["band"] for r in doc["by_band"]] == ["very high", "high", "medium", "low"]
    assert [r["rag"] for r in doc["by_rag"]] == ["red", "amber", "green"]
    assert doc["model_version"] == doc["run"]["model_version"]
    assert doc["run"]["year"] == SCORED and doc["run"]["census"] == "autumn" and doc["run"]["scored_on"]
    assert (
        len(doc["calibration"]) == 10
        and doc["calibration"][0]["mean_predicted"] > doc["calibration"][-1]["mean_predicted"]
    )
    assert {r["attribute"] for r in doc["by_group"]} == {
        "sex", "ethnic group", "free school meals", "SEN provision", "social care",
    }  # fmt: skip
    assert doc["by_school"]
    # each group's realised against predicted, judged (its counts shown), and the page's sentence
    calibrated = doc["calibration_by_group"]
    judged = {(g["attribute"], g["group"]) for g in calibrated["groups"]}
    shown = {(r["attribute"], r["group"]) for r in doc["by_group"]
             if isinstance(r["pupils"], int) and isinstance(r["excluded"], int)}
    assert judged == shown and calibrated["not_assessed"] == len(doc["by_group"]) - len(shown)
    assert calibrated["year_ratio"] > 0 and calibrated["sentence"].startswith("Calibration by group")
    assert calibrated["sentence"] in html.unescape((evaluated.out / "evaluation.html").read_text())
    assert calibrated["sentence"] in evaluated.output  # the console says it too
    comparison = doc["comparison"]
    assert comparison["test_year"] == TEST_YEAR and isinstance(comparison["consistent_with_stated"], bool)
    difference = comparison["realised"] - comparison["stated"]
    consistent = abs(difference) <= 1.96 * comparison["difference_se"]
    assert comparison["consistent_with_stated"] is consistent
    assert (
        comparison["verdict"]
        == ("consistent with" if consistent else "significantly " + ("below" if difference < 0 else "above"))
        + " the model's stated precision"
    )
    assert doc["warnings"] == []  # 2018/19 is after the test year: out of sample
    assert doc["source"] == extracts_source(evaluated.extracts)  # which files, as digests
    assert "not decisions" in doc["notice"]


def test_no_count_from_1_to_9_is_published(evaluated):
    found = list(_counts(evaluated.document))
    assert len(found) > 100
    bad = [
        (path, v)
        for path, v in found
        if not (v in (SUPPRESSED, SECONDARY) or (isinstance(v, int) and (v == 0 or v >= 10)))
    ]
    assert bad == []
    assert any(v == SUPPRESSED for _, v in found)  # the small authority has small groups: they are hidden
    # A withheld count hides the rates made from it.
    for row in [*evaluated.document["by_group"], *evaluated.document["by_school"]]:
        if row["true_positives"] in (SUPPRESSED, SECONDARY):
            assert row["precision"] is None and row["recall"] is None and row["ci_low"] is None
        if row["excluded"] in (SUPPRESSED, SECONDARY):
            assert row["observed"] is None
    html = (evaluated.out / "evaluation.html").read_text()
    assert "not decisions" in html and "data:image/png;base64," in html
    assert not re.search(r"[A-Z][0-9]{11}[0-9A-Z]", html + json.dumps(evaluated.document))  # no UPN


def test_the_check_is_logged_against_the_model_version(evaluated):
    client = MlflowClient(tracking_uri=evaluated.uri)
    version = client.get_model_version(tracking.REGISTERED_MODEL, evaluated.document["model_version"])
    tag = json.loads(version.tags[tracking.LAST_CHECKED])
    row = next(r for r in evaluated.document["by_capacity"] if r["capacity"] == 0.05)
    assert tag["year"] == SCORED and tag["census"] == "autumn"
    assert tag["precision_at_5pct"] == pytest.approx(row["precision"], abs=1e-4)
    assert tag["ci_low"] == pytest.approx(row["ci_low"], abs=1e-4)
    assert tag["consistent_with_stated"] is evaluated.document["comparison"]["consistent_with_stated"]
    (recorded,) = (evaluated.scores.parent / "score_runs").glob("*/run.json")
    facts = json.loads(recorded.read_text())  # the scoring recorded the model that made it
    assert (facts["model_run_id"], facts["model_label"], facts["model_test_year"]) == (
        version.run_id, "any", TEST_YEAR,
    )  # fmt: skip
    run = client.get_run(tag["run_id"])
    assert run.data.tags["kind"] == "evaluate" and run.data.tags["model_version"] == str(version.version)
    assert run.data.metrics["realised_precision_at_5pct"] == pytest.approx(row["precision"])
    assert run.info.experiment_id == client.get_run(version.run_id).info.experiment_id
    os.environ["MLFLOW_TRACKING_URI"], previous = evaluated.uri, os.environ.get("MLFLOW_TRACKING_URI")
    try:
        tracking.setup_read()
        assert tracking.read_last_checked(version.version) == tag  # what the service's /model reads
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI") if previous is None else os.environ.update(
            MLFLOW_TRACKING_URI=previous
        )


# --- refusals ------------------------------------------------------------------------------------


def _refused(evaluated, args: list[str]) -> str:
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["evaluate", *data, "--out", str(evaluated.root / "refused"), *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_an_unknown_run_is_refused(evaluated, tmp_path):
    runs = evaluated.scores.parent / "score_runs"
    assert "no recorded autumn scoring of 2017/18" in _refused(
        evaluated, ["--runs", str(runs), "--year", "2017/18"]
    )
    assert "no recorded spring scoring" in _refused(
        evaluated, ["--runs", str(runs), "--year", SCORED, "--census", "spring"]
    )
    assert "does not exist" in _refused(evaluated, ["--scores", str(tmp_path / "nothing.csv")])
    assert "name the scoring" in _refused(evaluated, [])
    changed = pd.read_csv(evaluated.scores, dtype=str, keep_default_na=False)
    changed.loc[0, "probability"] = "0.000001"
    changed.to_csv(tmp_path / "scores.csv", index=False)
    output = _refused(evaluated, ["--scores", str(tmp_path / "scores.csv"), "--runs", str(runs)])
    assert "no recorded scoring" in output and "has its pupils" in output
    assert changed.loc[0, "upn"] not in output  # never a pupil's value


def test_the_latest_run_of_a_year_is_found_by_year_and_census(evaluated, tmp_path):
    runs = evaluated.scores.parent / "score_runs"
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["evaluate", *data, "--runs", str(runs), "--year", "2018-19",
                                     "--out", str(tmp_path), "--no-log"])  # fmt: skip
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "evaluation.json").read_text())
    assert again["by_capacity"] == evaluated.document["by_capacity"]
    assert again["run"] == evaluated.document["run"]


def test_incomplete_outcomes_are_refused(evaluated, tmp_path):
    """The same extracts cut at 1 March 2019: 2018/19's outcomes are not in yet."""
    cut = tmp_path / "extracts"
    cut.mkdir()
    census = pd.read_csv(evaluated.extracts / "census.csv", dtype=str, keep_default_na=False)
    census[~((census["AcademicYear"] == SCORED) & (census["CensusTerm"] == "SUM"))].to_csv(
        cut / "census.csv", index=False
    )
    exclusions = pd.read_csv(evaluated.extracts / "exclusions.csv", dtype=str, keep_default_na=False)
    exclusions[exclusions["StartDate"] < "2019-03-01"].to_csv(cut / "exclusions.csv", index=False)
    shutil.copy(evaluated.extracts / "social_care.csv", cut / "social_care.csv")
    data = ["--data", str(cut), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["evaluate", *data, "--scores", str(evaluated.scores),
                                     "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        "the outcomes of 2018/19 are not complete in the extracts (complete through 2017/18; no linked "
        "exclusion starts on or after 1 July 2019: the extract ends before it, or its links were written "
        "before those records were added)" in " ".join(result.output.split())
    )
    assert not (tmp_path / "out" / "evaluation.json").exists()


def test_a_spring_scoring_counts_what_happened_after_spring_census_day(evaluated):
    """Outcomes for a spring census run: exclusions after the spring census (17 January 2019, the third
    Thursday), for the pupils on that census under the UPNs recorded then."""
    history = load_history(evaluated.extracts, evaluated.links)
    outcomes = realised_outcomes(history, SCORED, "spring", "any")
    census = pd.read_csv(evaluated.extracts / "census.csv", dtype=str, keep_default_na=False)
    spring = census.loc[(census["AcademicYear"] == SCORED) & (census["CensusTerm"] == "SPR"), "UPN"]
    assert set(outcomes["upn"]) == set(spring)
    was_excluded = truth_excluded(evaluated.extracts, pd.Timestamp("2019-01-17"))
    assert set(outcomes.loc[outcomes["outcome"] == 1, "upn"]) == {u for u in spring if was_excluded(u)}
    autumn = realised_outcomes(history, SCORED, "autumn", "any")
    assert 0 < outcomes["outcome"].sum() < autumn["outcome"].sum()  # a shorter window, fewer outcomes


# --- checking the right model, writing before logging -------------------------------------------


def _run_copy(evaluated, tmp_path, **changes) -> Path:
    """A copy of the recorded scoring's folder with run.json fields changed."""
    (source,) = (evaluated.scores.parent / "score_runs").glob("*/run.json")
    folder = tmp_path / "runs" / source.parent.name
    shutil.copytree(source.parent, folder)
    facts = {**json.loads(source.read_text()), **changes}
    (folder / "run.json").write_text(json.dumps({k: v for k, v in facts.items() if v is not None}))
    return folder


def _last_checked(evaluated) -> str:
    client = MlflowClient(tracking_uri=evaluated.uri)
    return client.get_model_version(tracking.REGISTERED_MODEL, evaluated.document["model_version"]).tags[
        tracking.LAST_CHECKED
    ]


def test_a_scoring_of_other_extracts_is_refused_not_judged_on_the_few_in_common(evaluated, tmp_path):
    # evaluate of one authority's scoring against another's extracts matched 222 of 62,509 pupils, printed
    # "Of the 12 pupils in the top 5%, 0 (0%)", exited 0 and (without --no-log) logged the verdict and
    # re-tagged the version's last check. Refused now, before anything is written or logged.
    folder = _run_copy(evaluated, tmp_path)
    pupils = pd.read_csv(folder / "pupils.csv", dtype=str, keep_default_na=False)
    elsewhere = pupils.index[: int(0.6 * len(pupils))]
    pupils.loc[elsewhere, "upn"] = "Z" + pupils.loc[elsewhere, "upn"].str[1:]  # not on this census
    pupils.to_csv(folder / "pupils.csv", index=False)
    before = _last_checked(evaluated)
    out = tmp_path / "out"
    output = _refused(evaluated, ["--runs", str(folder.parent), "--year", SCORED, "--out", str(out)])
    assert "fewer than half of the" in output and "are these the extracts of the authority" in output
    assert not out.exists() or not any(out.iterdir())
    assert _last_checked(evaluated) == before


def test_refusals_name_what_is_wrong(evaluated, tmp_path):
    # A scoring of a year the extracts hold no census of was told "the outcomes of 2012/13 are not
    # complete ... evaluate once the year's exclusions are in" (waiting would never help); --scores with
    # --year was told "not both" of --scores and --runs, which was never given.
    folder = _run_copy(evaluated, tmp_path, year="2012/13")
    output = _refused(evaluated, ["--runs", str(folder.parent), "--year", "2012/13"])
    assert "the extracts hold no autumn census of 2012/13" in output and "not complete" not in output
    output = _refused(evaluated, ["--scores", str(evaluated.scores), "--year", "2017/18"])
    assert "--year picks a recorded scoring from --runs" in output and "not both" not in output


def test_an_unwritable_out_stops_before_anything_is_logged(evaluated, tmp_path):
    (tmp_path / "afile").write_text("")
    before = _last_checked(evaluated)
    output = _refused(
        evaluated, ["--scores", str(evaluated.scores), "--out", str(tmp_path / "afile" / "sub")]
    )
    assert "cannot write there" in output and len(output.strip().splitlines()) == 1
    assert _last_checked(evaluated) == before  # the version's tag untouched


def test_a_version_that_is_not_the_model_that_scored_is_refused(evaluated, tmp_path):
    """The same version number in the store, but another model (its MLflow run differs)."""
    folder = _run_copy(evaluated, tmp_path, model_run_id="0" * 32)
    before = _last_checked(evaluated)
    output = _refused(evaluated, ["--scores", str(folder)])
    assert "is not the model that made these scores" in output and "MLFLOW_TRACKING_URI" in output
    assert _last_checked(evaluated) == before


def test_a_model_not_in_the_store_needs_its_outcome(evaluated, tmp_path):
    folder = _run_copy(evaluated, tmp_path, model_version="99", model_label="", model_run_id="")
    assert "give --label" in _refused(evaluated, ["--scores", str(folder)])  # never a silent "any"
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["evaluate", *data, "--scores", str(folder), "--label", "any",
                                     "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not in the MLflow store" in result.output
    document = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert document["by_capacity"] == evaluated.document["by_capacity"] and "mlflow_run_id" not in document


def test_a_check_of_the_models_own_test_year_says_it_is_not_out_of_sample(evaluated, tmp_path):
    """The model's test year (as the scoring recorded it, the store lacking the version) at or after the
    scored year: a plain warning, printed and reported."""
    folder = _run_copy(evaluated, tmp_path, model_version="99", model_test_year=SCORED)
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(
        evaluated.uri, ["evaluate", *data, "--scores", str(folder), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    # it had read "is between the model's first train year and its test year 2018/19"
    assert "warning: the scored year 2018/19 is the model's test year:" in " ".join(result.output.split())
    assert "not an out-of-sample check" in result.output
    document = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert len(document["warnings"]) == 1 and "not an out-of-sample check" in document["warnings"][0]
    assert "not an out-of-sample check" in (tmp_path / "out" / "evaluation.html").read_text()


def test_an_old_run_without_the_models_facts_is_still_evaluated(evaluated, tmp_path):
    folder = _run_copy(evaluated, tmp_path, model_run_id=None, model_label=None, model_census=None,
                       model_test_year=None)  # fmt: skip
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["evaluate", *data, "--scores", str(folder), "--no-log",
                                     "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "did not record its model's MLflow run" in result.output


def test_a_year_before_the_test_year_is_said_to_be_between_it_and_the_first_train_year():
    from types import SimpleNamespace

    from exclusion_risk.models.evaluate_cli import sample_warnings

    run = SimpleNamespace(year="2017/18", model_test_year="2018/19")
    (warning,) = sample_warnings(run, {"test_year": "2018/19", "train_years": "2016/17"})
    assert warning.startswith(
        "the scored year 2017/18 is between the model's first train year and its test year 2018/19:"
    )
    assert sample_warnings(SimpleNamespace(year="2019/20", model_test_year="2018/19"), {}) == []


def test_score_at_another_capacity_recuts_the_bands_on_the_calibration_pupils(evaluated, tmp_path):
    """`score --capacity 10%` re-cuts the likelihood bands on the validation year's held-out calibration
    pupils, as training cut the stored ones: the very high band starts at the calibrated probability of
    their top 10% (training's `threshold.10pct` tag on the version), not at every validation pupil's
    (most of whom the refit model was fitted on)."""
    out = tmp_path / "scores.csv"
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["score", *data, "--year", SCORED, "--out", str(out), "--capacity", "10%",
                                     "--no-reasons"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "partly in sample" not in result.output
    client = MlflowClient(tracking_uri=evaluated.uri)
    tags = client.get_model_version(tracking.REGISTERED_MODEL, evaluated.document["model_version"]).tags
    threshold = float(tags["threshold.10pct"])  # 6 significant digits
    scores = pd.read_csv(out)  # probabilities to 6 decimals
    very_high = scores["likelihood_band"] == "very high"
    assert very_high.any() and (~very_high).any()
    assert scores.loc[very_high, "probability"].min() >= threshold - 2e-6
    assert scores.loc[~very_high, "probability"].max() < threshold + 2e-6
    page = " ".join(out.with_suffix(".html").read_text().split())
    validation = tags["validation_year"]
    assert f"top 10%, as the validation year {validation} (held-out calibration pupils) was cut." in page
    # one level of brackets: it had read "(validation year 2017/18 (held-out calibration pupils), capacity"
    assert f"capacity 10%; thresholds: validation year {validation} (held-out calibration pupils);" in page


def test_a_school_none_of_whose_pupils_is_in_the_extracts_is_named(evaluated, tmp_path):
    # With one school's census rows gone from the extracts, evaluate said "2,684 of 2,977 scored pupils
    # matched to outcomes; 293 scored but not on that census", gave a verdict, `warnings: []`, and the
    # school vanished from by_school. Each such school is named now, with its scored pupils.
    folder = _run_copy(evaluated, tmp_path)
    pupils = pd.read_csv(folder / "pupils.csv", dtype=str, keep_default_na=False)
    sizes = pupils["school_urn"].value_counts()
    gone = str(sizes.index[0])
    assert sizes.iloc[0] < 0.5 * len(pupils)
    mask = pupils["school_urn"] == gone
    pupils.loc[mask, "upn"] = pupils.loc[mask, "upn"] + "X"  # 14 characters: on no census
    pupils.to_csv(folder / "pupils.csv", index=False)
    out = tmp_path / "out"
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["evaluate", *data, "--runs", str(folder.parent), "--year", SCORED,
                                     "--out", str(out), "--no-log"])  # fmt: skip
    assert result.exit_code == 0, result.output
    count = f"{int(sizes.iloc[0]):,}" if sizes.iloc[0] >= 10 else "fewer than 10"
    said = f"school {gone}: none of its {count} scored pupils"
    output = " ".join(result.output.split())
    assert f"warning: {said}" in output
    document = json.loads((out / "evaluation.json").read_text())
    (warning,) = [w for w in document["warnings"] if gone in w]
    assert warning.startswith(said) and "wrong ones or incomplete" in warning
    assert "does not cover" in warning
    html = " ".join((out / "evaluation.html").read_text().split())
    assert said in html
    assert gone not in {r["group"] for r in document["by_school"]}
    # the evaluation of the scoring with every school on the census names none
    assert not any("none of its" in w for w in evaluated.document["warnings"])


def test_without_a_default_store_the_model_is_not_in_it_and_none_is_made(evaluated, tmp_path, monkeypatch):
    """No MLFLOW_TRACKING_URI and no ./mlruns: evaluate made an empty store there; it reads none now."""
    folder = _run_copy(evaluated, tmp_path, model_label="", model_run_id="")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = runner.invoke(app, ["evaluate", *data, "--scores", str(folder), "--label", "any",
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not in the MLflow store ./mlruns (none here)" in result.output
    assert not (tmp_path / "mlruns").exists()


def test_pupils_at_none_of_the_models_schools_are_out_of_sample(monkeypatch):
    """Another authority scored with this one's model, in its test year, was called in-sample and its
    comparison withheld (a consortium analyst's find): pupils at none of the model's schools are not."""
    from types import SimpleNamespace

    import pandas as pd

    from exclusion_risk.models import drift_data
    from exclusion_risk.models.evaluate_cli import in_sample, sample_warnings

    learned = {"schools": {"3352001": {}, "3352002": {}}}
    monkeypatch.setattr(drift_data, "stored_profile", lambda run_id: learned)
    run = SimpleNamespace(year="2018/19", model_test_year="2018/19", model_version="3")
    info = {"run_id": "r", "test_year": "2018/19", "train_years": "2016/17"}
    elsewhere = pd.DataFrame({"school_urn": ["9990001", "9990002"]})
    assert not in_sample(run, info, elsewhere)
    (said,) = sample_warnings(run, info, elsewhere)
    assert said.startswith("none of the scored pupils' schools is one model version 3 learned from")
    here = pd.DataFrame({"school_urn": ["3352001", "9990002"]})
    assert in_sample(run, info, here) and sample_warnings(run, info, here)[0].startswith("the scored year")
