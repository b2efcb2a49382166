"""A pupil whose UPN was corrected between two scorings (a temporary or mistyped UPN replaced by the valid
one) is one pupil in "what changed": compared under the current UPN where the linked history knows both
UPNs as one pupil (`models.earlier_scorings.upn_changes`), in `compare` (the rule both
`score --compare-with` and the service apply; tests/serving/test_changes_upn_corrected.py for the service).
"""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models.earlier_scorings import upn_changes
from exclusion_risk.models.score_runs import RUN_PUPILS_FILE, RunFolder, compare
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.upn import make_temporary_upn
from tests.models.test_score_runs import _census

BANDS = ["very high", "high", "medium", "low"]
# Pupils of school 100 scored the same in both runs: with them it has a census (10+ pupils), so its pupils
# missing from a run are listed as no longer on roll (models.earlier_scorings.roll_kind).
SAME = [(f"S{i}", "100", "low", "green") for i in range(10)]


def _pupils(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame([
        {"upn": u, "school_urn": s, "probability": 0.5, "likelihood_band": b, "rag": r} for u, s, b, r in rows
    ])  # fmt: skip


def test_a_pupil_whose_upn_changed_is_compared_under_the_new_upn():
    before = _pupils([*SAME, ("T1", "100", "very high", "red"), ("T2", "100", "low", "green")])
    after = _pupils([*SAME, ("P1", "100", "very high", "red"), ("P2", "100", "high", "amber")])
    # by UPN alone: the same child gone under one UPN and new (and red) under the other
    by_upn = compare(before, after, BANDS)
    assert dict(zip(by_upn["upn"], by_upn["change"], strict=True)) == {
        "P1": "new_red", "P2": "new_on_roll", "T1": "no_longer_on_roll", "T2": "no_longer_on_roll"}
    # T1 and T2 are P1 and P2 in the linked history: P1 unchanged, P2 moved up, under the new UPN
    changes = compare(before, after, BANDS, pupil_of=pd.Series({"T1": "P1", "T2": "P2"}))
    assert changes[["upn", "change", "before_band", "after_band"]].values.tolist() == [
        ["P2", "moved_up", "low", "high"]]


def test_a_upn_of_another_pupil_is_not_merged():
    before = _pupils([*SAME, ("T1", "100", "very high", "red"), ("T3", "100", "low", "green")])
    # T1 was pupil P1's, but the row now is P9 (another pupil); T3 is P3's, now under P3 and P4 alike
    after = _pupils([*SAME, ("P9", "100", "very high", "red"), ("P3", "100", "low", "green"),
                     ("X4", "100", "low", "green")])  # fmt: skip
    pupil_of = pd.Series({"T1": "P1", "T3": "P3", "X4": "P3"})
    assert upn_changes(after["upn"], pupil_of) == {}  # T1: no pupil of this scoring; T3: two UPNs now
    changes = compare(before, after, BANDS, pupil_of=pupil_of)
    assert dict(zip(changes["upn"], changes["change"], strict=True)) == {
        "P9": "new_red", "P3": "new_on_roll", "X4": "new_on_roll", "T1": "no_longer_on_roll",
        "T3": "no_longer_on_roll"}  # fmt: skip


def test_upn_changes_follow_the_pupil_key_either_way():
    # the earlier UPN is the pupil's key (a FormerUPN the upload gives), or both map to one key
    pupil_of = pd.Series({"V1": "T1", "M2": "V2"})
    assert upn_changes(pd.Series(["V1", "V2", "S0"]), pupil_of) == {"T1": "V1", "M2": "V2"}
    # a UPN of this scoring is compared by itself, even where it is another's earlier UPN
    assert upn_changes(pd.Series(["V1", "T1"]), pupil_of) == {}
    assert upn_changes(pd.Series(["V1"]), pd.Series(dtype="string")) == {}


@pytest.mark.usefixtures("umask_022")
def test_score_compare_with_matches_a_pupil_by_the_temporary_upn_the_history_knows(
    training, write_small_extracts, tmp_path, monkeypatch
):
    """`score --compare-with last` where the earlier run scored a pupil under the temporary UPN that the
    census now gives as their FormerUPN: nothing changed, and the console says one pupil's UPN did."""
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: scorer))
    temporary = make_temporary_upn(330, 4001, 2010, 5, "A")
    census = _census().assign(FormerUPN="")
    census.loc[4, "FormerUPN"] = temporary
    data, links = write_small_extracts(tmp_path / "extracts", census, "104002")
    out = tmp_path / "scores" / "scores.csv"
    args = ["score", "--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out),
            "--no-reasons"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    runs = RunFolder(out.parent / "score_runs")
    (run,) = runs.runs()
    # the earlier scoring named the pupil by the temporary UPN (before the permanent one was given)
    pupils = runs.pupils(run)
    pupils.loc[pupils["upn"] == census.loc[4, "UPN"], "upn"] = temporary
    pupils.to_csv(out.parent / "score_runs" / run.run_id / RUN_PUPILS_FILE, index=False)

    second = CliRunner().invoke(app, [*args, "--compare-with", "last"])
    assert second.exit_code == 0, second.output
    changes = pd.read_csv(out.parent / "changes.csv", dtype=str, keep_default_na=False)
    assert changes.empty, changes[["change"]].to_dict("records")
    said = "1 pupil whose UPN changed since the earlier scoring is compared under its new UPN"
    assert said in second.output
    assert temporary not in second.output
