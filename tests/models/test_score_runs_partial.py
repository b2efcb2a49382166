"""`score --compare-with last` after a scoring of part of a census: the same rules as the service's
census uploads (tests/serving/test_changes_partial.py). A whole census (2 schools of 20 pupils), then
5 of its pupils (extracts holding them alone), then the whole census again."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models.score_runs import RUNS_FOLDER, compare
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.upn import make_upn
from tests.models.test_score_runs import _census, _pupils

LEAVER, JOINER = "no_longer_on_roll", "new_on_roll"
BANDS = ["very high", "high", "medium", "low"]


def _changes(out) -> pd.DataFrame:
    return pd.read_csv(out.parent / "changes.csv", dtype=str, keep_default_na=False)


@pytest.mark.usefixtures("umask_022")
def test_score_after_a_partial_scoring(training, write_small_extracts, tmp_path, monkeypatch):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: scorer))
    census = _census()
    whole = write_small_extracts(tmp_path / "whole" / "extracts", census, "104002")
    part = write_small_extracts(tmp_path / "part" / "extracts", census.head(5), "104002")
    out = tmp_path / "scores" / "scores.csv"

    def score(extracts, *compare_with):
        data, links = extracts
        args = ["score", "--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out),
                "--no-reasons", *compare_with]  # fmt: skip
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 0, run.output
        return " ".join(run.output.split())

    first = score(whole)
    said = score(part, "--compare-with", "last")
    # the second scoring to one --out replaces the first's files: said, with where the first still is
    assert "held before" not in first
    assert (f"note: the scores {out} held before (and its workbook and page) are replaced; `score` records "
            f"each scoring in its runs folder (this one's is {out.parent / RUNS_FOLDER})") in said
    partial = _changes(out)
    assert LEAVER not in set(partial["change"])  # the 35 pupils not in the part are on the census
    assert "not listed as no longer on roll" in said
    assert not any(upn in said for upn in census["UPN"])

    newer = CohortScorer(result.models["lightgbm"].pipeline, "2")  # a new champion before the whole census
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: newer))
    said = score(whole, "--compare-with", "last")
    again = _changes(out)
    # the 35 compared with the first scoring were scored then by version 1: said, as of the run named
    assert "35 pupils compared with a scoring before the 2018/19 autumn scoring of" in said
    assert ("were scored then with model exclusion-risk version 1, this one with exclusion-risk version 2"
            in said)
    # each pupil compared with their latest scoring: the 35 are not new on roll, nor new red
    assert set(again["upn"]) <= set(census["UPN"].head(5))
    assert JOINER not in set(again["change"]) and LEAVER not in set(again["change"])
    assert "35 pupils of this scoring were not in the 2018/19 autumn scoring" in said
    assert "At 2 schools (104001, 104002), pupils no longer on roll are taken from the school's" in said


def test_compare_lists_leavers_only_where_both_runs_hold_the_schools_census():
    """One of a school's 2 earlier pupils is not its census (the tester's 5-row upload passed 'half');
    27 of 40 is two thirds, 26 is not; and a run with 12 of the school's 29 pupils now was not its census."""
    tiny = [("T1", "100", "low", "green"), ("T2", "100", "low", "green")]
    assert compare(_pupils(tiny), _pupils(tiny[:1]), BANDS).empty
    forty = [(f"F{i:02d}", "200", "low", "green") for i in range(40)]
    for kept, listed in ((27, 13), (26, 0)):
        changes = compare(_pupils(forty), _pupils(forty[:kept]), BANDS)
        assert (changes["change"] == LEAVER).sum() == listed
    thirty = [(f"H{i:02d}", "300", "low", "green") for i in range(30)]
    part = thirty[:12] + [("H99", "300", "low", "green")]  # one of the 13 then gone now
    changes = compare(_pupils(part), _pupils(thirty[:11] + thirty[12:]), BANDS)
    assert LEAVER not in set(changes["change"])


@pytest.mark.usefixtures("umask_022")
def test_compare_with_a_scoring_of_no_school_in_common_says_nothing_was_compared(
    training, write_small_extracts, tmp_path, monkeypatch
):
    """A consortium's second authority scored into the first's folder, `--compare-with last`: the
    earlier scoring held none of its schools, so no pupil was compared. It headed the output '0 new red
    since ...; 0 moved up ...' (news of nobody) and wrote a changes.csv with no row."""
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: scorer))
    first = _census()
    other = first.assign(UPN=[make_upn(331, 4001, 2010, i) for i in range(1, 41)],
                         SchoolURN=["204001", "204002"] * 20)  # fmt: skip
    out = tmp_path / "scores" / "scores.csv"
    for name, census, compare_with in (("a", first, []), ("b", other, ["--compare-with", "last"])):
        data, links = write_small_extracts(tmp_path / name / "extracts", census, str(census["SchoolURN"][1]))
        args = ["score", "--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out),
                "--no-reasons", *compare_with]  # fmt: skip
        run = CliRunner().invoke(app, args)
        assert run.exit_code == 0, run.output
    said = " ".join(run.output.split())
    assert "new red since" not in said
    assert said.count("Nothing is compared with the 2018/19 autumn scoring") == 1  # once, among the notes
    assert "2 schools (104001, 104002; 40 pupils) scored only in the earlier scoring" in said
    assert not (out.parent / "changes.csv").exists()
    page = out.with_suffix(".html").read_text()
    assert "What changed since" not in page and "Nothing is compared with" in page
