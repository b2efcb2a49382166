"""`review` of extracts that are not the ones the run was trained on (a consortium analyst's other
authority, a later export): it wrote its report onto the model's run without a word, and every later
scoring of that version read the calibration findings of another authority's pupils from there. Now it
is refused without --out, and with --out written there alone, saying whose data it is not."""

from __future__ import annotations

import json
import shutil

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models.fingerprint import data_differs, extracts_source

KEPT = {"2017/18": {"pupils": 4, "labelled": 3, "positives": 1},
        "2018/19": {"pupils": 3, "labelled": 3, "positives": 2}}  # fmt: skip


def _table(*rows: tuple[str, float | None]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["AcademicYear", "label"])


def test_a_table_agrees_with_the_fingerprint_only_where_every_year_named_does():
    same = _table(*[("2017/18", v) for v in (1, 0, 0, None)], *[("2018/19", v) for v in (1, 1, 0)])
    assert data_differs(KEPT, same, ["2017/18", "2018/19"]) is None
    assert data_differs({}, same, ["2017/18", "2018/19"]) is None  # a run that kept no fingerprint
    one_fewer = same.iloc[:-1]
    said = data_differs(KEPT, one_fewer, ["2017/18", "2018/19"])
    # each count as the review page shows it: 1-9 as "<10" (the page beside it withholds them)
    assert said == ("2018/19: <10 pupils, <10 with a known outcome, <10 with it when it was trained, under "
                    "10 fewer pupils, under 10 fewer with a known outcome, <10 with it in these")  # fmt: skip
    # two totals 1-9 apart give that difference back: only which way is said
    close = {"2018/19": {"pupils": 1200, "labelled": 1200, "positives": 40}}
    grown = _table(*[("2018/19", 1.0 if i < 43 else 0.0) for i in range(1203)])
    assert data_differs(close, grown, ["2018/19"]) == (
        "2018/19: 1,200 pupils, 1,200 with a known outcome, 40 with it when it was trained, under 10 more "
        "pupils, under 10 more with a known outcome, under 10 more with it in these")
    big = {"2018/19": {"pupils": 1200, "labelled": 1100, "positives": 40}}
    many = _table(*[("2018/19", 1.0 if i < 5 else 0.0) for i in range(1150)])
    assert data_differs(big, many, ["2018/19"]) == (
        "2018/19: 1,200 pupils, 1,100 with a known outcome, 40 with it when it was trained, 1,150 pupils, "
        "1,150 with a known outcome, <10 with it in these")
    assert data_differs(KEPT, same[same["AcademicYear"] == "2017/18"], ["2018/19"]).startswith("2018/19: ")


def test_review_of_other_extracts_is_refused_without_out_and_never_logged_to_the_run(
    tracking_store, tmp_path, monkeypatch
):
    from exclusion_risk.models import tracking
    from exclusion_risk.models.fairness_run import resolve_run

    mlruns, data, links, _ = tracking_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{mlruns / 'mlflow.db'}")
    other = tmp_path / "other"
    shutil.copytree(data, other)
    census = pd.read_csv(other / "census.csv", dtype=str, keep_default_na=False)
    test_year = census.index[census["AcademicYear"] == "2018/19"]
    census.drop(test_year[::20]).to_csv(other / "census.csv", index=False)  # a pupil in 20 of the year gone
    target = resolve_run("1")
    args = ["review", "1", "--data", str(other), "--links", str(links), "--no-ablation", "--bootstrap", "50"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert f"these extracts are not the ones run {target.run_id[:8]} was trained on (2018/19: " in said
    assert "Give --out to write it there alone" in said
    out = tmp_path / "review" / "fairness.html"
    written = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert written.exit_code == 0, written.output
    said = " ".join(written.output.split())
    assert "not logged to the run: these extracts are not the ones it was trained on (2018/19: " in said
    assert "Reviewed on extracts other than the ones this run was trained on" in out.read_text()
    published = json.loads((out.parent / "fairness.json").read_text())
    assert published["model"]["other_data"].startswith("2018/19")
    assert published["source"] == extracts_source(other) != extracts_source(data)  # which files, as digests
    for path in ("fairness/fairness.json", "fairness/fairness_report.html"):
        assert tracking.read_artifact_text(target.run_id, path) is None  # the run's review is untouched


def test_the_extracts_source_names_each_file_read_by_its_digest(tmp_path):
    (tmp_path / "attendance").mkdir()
    for name, text in (("census.csv", "a"), ("social_care.parquet", "b"), ("attendance/2018-19_AUT.csv", "c"),
                       ("notes.docx", "d"), ("truth/links.csv", "e")):  # fmt: skip
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    source = extracts_source(tmp_path)
    assert sorted(source["files"]) == ["attendance/2018-19_AUT.csv", "census.csv", "social_care.parquet"]
    assert source["files"]["census.csv"] == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    (tmp_path / "census.csv").write_text("a ")  # another export: another hash
    assert extracts_source(tmp_path)["extracts_hash"] != source["extracts_hash"]
