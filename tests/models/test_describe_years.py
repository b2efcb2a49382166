"""`describe` by default describes every year with complete outcomes; a census year it leaves out is named,
with why, on the console and in describe.json and describe.html."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.synth.truth import truth_links

runner = CliRunner()


def test_stale_links_leave_out_the_newest_year_and_describe_says_so(small_authority, tmp_path):
    # Last year's linkage run used with this year's extracts: the links stop at 2017/18, so the linked
    # exclusions never reach 2018/19 and describe described 2015/16-2017/18 with no word of 2018/19, while
    # the exclusions extract holds 2018/19's exclusions that those links do not link.
    exclusions = pd.read_csv(small_authority / "exclusions.csv", dtype=str, keep_default_na=False)
    newer = set(exclusions.loc[exclusions["StartDate"] >= "2018-09-01", "RecordID"])
    assert newer
    links = truth_links(small_authority)
    stale = links[~((links["source"] == "exclusions") & links["record_id"].astype(str).isin(newer))]
    (tmp_path / "links").mkdir()
    stale.to_csv(tmp_path / "links" / "links.csv", index=False)
    out = tmp_path / "out"
    args = ["--links", str(tmp_path / "links"), "--out", str(out), "--ledger", str(tmp_path / "ledger.jsonl")]
    result = runner.invoke(app, ["describe", "--data", str(small_authority), *args])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "describe.json").read_text())
    assert "2018/19" not in doc["years"]
    left_out = {row["year"]: row["reason"] for row in doc["left_out"]}
    assert list(left_out) == ["2018/19"]
    assert f"{len(newer):,} exclusions" in left_out["2018/19"] and "does not link" in left_out["2018/19"]
    assert "2018/19" in result.output and left_out["2018/19"] in result.output
    html = (out / "describe.html").read_text()
    assert "2018/19" in html and "does not link" in html


def test_a_year_whose_exclusions_are_not_yet_in_is_named_as_left_out(small_authority, tmp_path):
    # the ordinary case: the newest census's year is still under way (exclusions stop in June 2019)
    for name in ("census.csv", "social_care.csv"):
        (tmp_path / name).write_bytes((small_authority / name).read_bytes())
    exclusions = pd.read_csv(small_authority / "exclusions.csv", dtype=str, keep_default_na=False)
    exclusions[exclusions["StartDate"] < "2019-06-01"].to_csv(tmp_path / "exclusions.csv", index=False)
    links = truth_links(small_authority)
    kept = set(exclusions.loc[exclusions["StartDate"] < "2019-06-01", "RecordID"])
    links = links[(links["source"] != "exclusions") | links["record_id"].astype(str).isin(kept)]
    (tmp_path / "links").mkdir()
    links.to_csv(tmp_path / "links" / "links.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["describe", "--data", str(tmp_path), "--links", str(tmp_path / "links"),
                                 "--out", str(out), "--ledger", str(tmp_path / "ledger.jsonl")])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "describe.json").read_text())
    left_out = {row["year"]: row["reason"] for row in doc["left_out"]}
    assert list(left_out) == ["2018/19"]
    assert "not complete" in left_out["2018/19"] and "does not link" not in left_out["2018/19"]
    assert left_out["2018/19"] in result.output
