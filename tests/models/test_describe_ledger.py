"""Two `describe` outputs over the same pupils subtract to counts each withholds (an SDC tester's find:
2015/16-2018/19 less 2015/16-2017/18 gave 2018/19's 4 permanent exclusions, all White British, which the
single year's output withholds whole). Each output is recorded in a ledger beside --out, and one that
shares a year and a school with an earlier output, and is not that output again, is refused before
anything is written (models.describe_ledger)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.models.describe_ledger import (
    LEDGER_FILE,
    LedgerError,
    publication,
    read_ledger,
    record,
    refuse_overlap,
)
from exclusion_risk.models.fingerprint import extracts_source
from exclusion_risk.synth.truth import write_truth_links


def _published(years, schools=("100001", "100002"), cell=12, out="/reports/a"):
    tables = {"rates.csv": pd.DataFrame({"excluded": [cell]}), "models_importance.csv": pd.DataFrame()}
    return publication(list(years), pd.Series(list(schools)), tables, out)


def test_a_window_grown_by_a_year_is_refused_naming_the_earlier_output(tmp_path):
    ledger = tmp_path / LEDGER_FILE
    record(ledger, _published(["2015/16", "2016/17", "2017/18"]))
    with pytest.raises(LedgerError) as refused:
        refuse_overlap(ledger, _published(["2015/16", "2016/17", "2017/18", "2018/19"], cell=16))
    said = str(refused.value)
    assert said.startswith("describing 2015/16-2018/19 (4 years) covers pupils that describe published in "
                           "2015/16-2017/18 (3 years) to /reports/a on ")
    assert "Publish 2018/19 alone (--years 2018/19) or 2015/16-2017/18 (3 years) again" in said
    assert f"remove its line from {ledger}" in said
    with pytest.raises(LedgerError):  # a year less, too: the first less this is 2015/16's table
        refuse_overlap(ledger, _published(["2016/17", "2017/18"]))


def test_the_same_output_again_new_years_alone_and_another_authority_are_recorded(tmp_path):
    ledger = tmp_path / LEDGER_FILE
    first = _published(["2016/17", "2017/18"])
    record(ledger, first)
    for same_again in (first, _published(["2017/18", "2016/17"], out="/reports/b")):
        refuse_overlap(ledger, same_again)  # a re-run on the same extracts: nothing new to subtract
        record(ledger, same_again)
    assert len(read_ledger(ledger)) == 1
    for beside in (_published(["2018/19"]), _published(["2016/17"], schools=("200001",))):
        refuse_overlap(ledger, beside)  # no year, or no school, in common with any earlier output
        record(ledger, beside)
    assert [p.years for p in read_ledger(ledger)] == [("2016/17", "2017/18"), ("2018/19",), ("2016/17",)]
    assert all(json.loads(line)["years"] for line in ledger.read_text().splitlines())


def test_the_same_years_with_other_tables_are_refused(tmp_path):
    """Corrected extracts described for the same years: the two outputs differ by the corrected pupils."""
    ledger = tmp_path / LEDGER_FILE
    record(ledger, _published(["2017/18"]))
    with pytest.raises(LedgerError, match=r"the same years with other tables .* The earlier tables stand"):
        refuse_overlap(ledger, _published(["2017/18"], cell=13))


def test_a_ledger_line_describe_did_not_write_is_named(tmp_path):
    ledger = tmp_path / LEDGER_FILE
    ledger.write_text('{"years": ["2017/18"]}\n')
    with pytest.raises(LedgerError, match=rf"--ledger {ledger}, line 1: not a publication"):
        read_ledger(ledger)


def test_describe_refuses_an_overlapping_window_before_writing(small_authority, tmp_path, monkeypatch):
    """The ledger is the project's (the MLflow store's folder), so next year's output in a folder of its
    own is checked against this year's (a reviewer's find: a ledger beside --out began afresh)."""
    from exclusion_risk.cli import app

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}")
    ledger = tmp_path / "store" / LEDGER_FILE
    links = write_truth_links(small_authority, tmp_path / "links").parent
    runner = CliRunner()

    def describe(years: str, out: str):
        return runner.invoke(app, ["describe", "--data", str(small_authority), "--links", str(links),
                                   "--years", years, "--out", str(tmp_path / out / "describe")])  # fmt: skip

    first = describe("2016/17", "r2019")
    assert first.exit_code == 0, first.output
    assert f"recorded in {ledger}" in first.output
    tables = sorted((tmp_path / "r2019" / "describe").glob("*.csv"))
    # the tables counted are the CSVs (describe.json was counted as a sixth)
    assert f"describe.json and {len(tables)} tables in " in " ".join(first.output.split())
    document = json.loads((tmp_path / "r2019" / "describe" / "describe.json").read_text())
    assert document["source"] == extracts_source(small_authority)  # which files, as digests
    grown = describe("2016/17,2017/18", "r2020")
    assert grown.exit_code == 2, grown.output
    assert "error: describing 2016/17-2017/18 (2 years) covers pupils that describe published" in grown.output
    assert not (tmp_path / "r2020").exists()
    assert describe("2017/18", "r2020").exit_code == 0  # the new year alone
    assert describe("2016/17", "r2019").exit_code == 0  # the first again
    assert [p.years for p in read_ledger(ledger)] == [("2016/17",), ("2017/18",)]
