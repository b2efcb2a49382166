"""Scoring runs and what changed since the last one (issue #12): the comparison's rules, the CLI's runs
folder (private, no identifiers in run.json), `score --compare-with` end to end and its refusals."""

from __future__ import annotations

import json
import os
import stat

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models.comparison_notes import comparison_notes
from exclusion_risk.models.score_runs import (
    CHANGE_COLUMNS,
    RUN_FILE,
    RUN_PUPILS_FILE,
    RunFolder,
    RunNotFound,
    ScoringRun,
    change_counts,
    changes_sentence,
    compare,
    new_run,
    resolve_previous,
)
from exclusion_risk.models.score_workbook import CHANGES_SHEET, NOTICE_SHEET
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.upn import make_upn

BANDS = ["very high", "high", "medium", "low"]


def _pupils(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """(upn, school, band, rag) rows as a run's pupils."""
    return pd.DataFrame(
        [
            {"upn": u, "school_urn": s, "probability": 0.5, "likelihood_band": b, "rag": r}
            for u, s, b, r in rows
        ]
    )


# Pupils of school 100 scored the same in both runs: with them it has the 10+ pupils a school's census
# needs before its pupils missing from a run are listed as no longer on roll (models.earlier_scorings).
SAME = [(f"S{i}", "100", "low", "green") for i in range(6)]


def test_compare_names_each_kind_of_change_within_the_schools_both_runs_scored():
    before = _pupils([
        ("P1", "100", "low", "green"),  # -> red: new red (also a band up, but new red comes first)
        ("P2", "100", "high", "amber"),  # -> very high, still amber: moved up
        ("P3", "100", "high", "amber"),  # -> medium: moved down
        ("P4", "100", "very high", "red"),  # gone: no longer on roll
        ("P5", "200", "low", "green"),  # the same: not listed
        ("P6", "900", "low", "green"),  # a school the current run did not score: not compared
        ("P7", "900", "low", "green"),  # moved from school 900 to 100, up to high: moved up
        ("P8", "100", "very high", "red"),  # still red, same band: not listed
        *SAME,
    ])  # fmt: skip
    after = _pupils([
        ("P1", "100", "very high", "red"),
        ("P2", "100", "very high", "amber"),
        ("P3", "100", "medium", "amber"),
        ("P5", "200", "low", "green"),
        ("P7", "100", "high", "amber"),
        ("P8", "100", "very high", "red"),
        *SAME,
        ("N1", "100", "low", "green"),  # new on roll
        ("N2", "200", "very high", "red"),  # not scored before, red now: new red
        ("N3", "300", "very high", "red"),  # a school the earlier run did not score: not compared
    ])  # fmt: skip
    changes = compare(before, after, BANDS)
    assert list(changes.columns) == CHANGE_COLUMNS
    got = dict(zip(changes["upn"], changes["change"], strict=True))
    assert got == {"P1": "new_red", "N2": "new_red", "P2": "moved_up", "P7": "moved_up", "P3": "moved_down",
                   "P4": "no_longer_on_roll", "N1": "new_on_roll"}  # fmt: skip
    p4 = changes.set_index("upn").loc["P4"]
    assert (p4["school_urn"], p4["before_band"], p4["before_rag"]) == ("100", "very high", "red")
    assert pd.isna(p4["after_band"]) and pd.isna(p4["after_rag"])
    counts = change_counts(changes)
    assert counts == {"new_red": 2, "rating_up": 0, "rating_down": 0, "need_up": 0, "need_down": 0,
                      "moved_up": 2, "moved_down": 1,
                      "no_longer_on_roll": 1, "new_on_roll": 1}  # fmt: skip
    assert changes_sentence(counts, "then").startswith(
        "2 new red since then; 0 rating up and 0 rating down within a band; 0 need level up and 0 down "
        "within a rating; 2 moved up a band or more, 1 down, 1 no"
    )
    assert changes["change"].tolist()[:2] == ["new_red", "new_red"]  # ordered by change


def test_compare_with_nothing_in_common_lists_nothing():
    before = _pupils([("P1", "100", "low", "green")])
    after = _pupils([("P1", "200", "very high", "red")])
    assert compare(before, after, BANDS).empty  # no school in both runs


@pytest.mark.usefixtures("umask_022")
def test_runs_folder_is_private_has_no_identifiers_in_run_json_and_finds_runs(tmp_path):
    folder = RunFolder(tmp_path / "runs")
    scores = _pupils([("A123456789012", "100", "low", "green"), ("B123456789012", "200", "high", "red")])
    first, pupils = new_run(scores, model_name="exclusion-risk", model_version="3", risk_matrix_version="1",
                            year="2018/19", recorded_at="2026-11-02T09:00:00+00:00")  # fmt: skip
    path = folder.record(first, pupils)
    assert stat.S_IMODE(os.stat(tmp_path / "runs").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    for name in (RUN_FILE, RUN_PUPILS_FILE):
        assert stat.S_IMODE(os.stat(path / name).st_mode) == 0o600
    text = (path / RUN_FILE).read_text()
    assert "A123456789012" not in text and "B123456789012" not in text
    assert json.loads(text)["rag"] == {"red": 1, "amber": 0, "green": 1}
    assert (first.pupils, first.schools) == (2, 2)

    second, _ = new_run(scores, model_name="exclusion-risk", model_version="3", risk_matrix_version="1",
                        year="2019/20", recorded_at="2026-11-03T09:00:00+00:00")  # fmt: skip
    folder.record(second, pupils)
    spring, _ = new_run(scores, model_name="exclusion-risk", model_version="4", risk_matrix_version="1",
                        year="2018/19", census="spring", recorded_at="2026-11-04T09:00:00+00:00")  # fmt: skip
    folder.record(spring, pupils)
    # the latest of that year and census, not the latest of all (nor the later spring scoring)
    assert folder.find("last", "2018/19") == first
    assert folder.find("last", "2018/19", "spring") == spring
    assert folder.find(first.run_id[:6].upper(), "2019/20") == first
    assert folder.pupils(first)["upn"].tolist() == ["A123456789012", "B123456789012"]
    with pytest.raises(RunNotFound, match="no earlier scoring of the 2020/21 autumn census"):
        folder.find("last", "2020/21")
    with pytest.raises(RunNotFound, match="no earlier scoring of the 2019/20 summer census"):
        folder.find("last", "2019/20", "summer")
    with pytest.raises(RunNotFound, match="no run"):
        folder.find("abc", "2018/19")  # too short to be a prefix
    earlier = resolve_previous(str(path), RunFolder(tmp_path / "elsewhere"), "2018/19")
    assert earlier.run == first and "the 2018/19 autumn scoring of 2026-11-02" in earlier.name


def test_a_run_records_the_model_that_scored_and_old_run_files_still_load(tmp_path):
    """run.json keeps the model's MLflow run id, label, census and test year, so `evaluate` can tell it is
    checking that model; a run.json written before these were kept still loads (as "")."""
    folder = RunFolder(tmp_path / "runs")
    scores = _pupils([("A123456789012", "100", "low", "green")])
    info = {"run_id": "f" * 32, "label": "permanent", "census": "spring", "test_year": "2017/18", "x": 1}
    run, pupils = new_run(scores, model_name="exclusion-risk", model_version="3", risk_matrix_version="1",
                          year="2018/19", model_info=info)  # fmt: skip
    path = folder.record(run, pupils)
    saved = json.loads((path / RUN_FILE).read_text())
    assert (saved["model_run_id"], saved["model_label"], saved["model_census"], saved["model_test_year"]) == (
        "f" * 32, "permanent", "spring", "2017/18",
    )  # fmt: skip
    assert folder.runs() == [run]
    assert folder.pupils(run)["rank"].tolist() == [1]  # the place on the list as scored
    old = {
        k: v for k, v in saved.items() if not k.startswith("model_") or k in ("model_name", "model_version")
    }
    (path / RUN_FILE).write_text(json.dumps(old))
    (loaded,) = folder.runs()
    assert (loaded.model_run_id, loaded.model_label, loaded.model_test_year, loaded.model_version) == (
        "", "", "", "3",
    )  # fmt: skip


# --- `exclusion-risk score` end to end ------------------------------------------------------------


def _census():
    upns = [make_upn(330, 4001, 2010, i) for i in range(1, 41)]
    census = pd.DataFrame(
        {
            "UPN": upns, "Surname": "Okafor", "Forename": [f"Chidi{chr(97 + i % 26)}" for i in range(40)],
            "DOB": "2008-03-01", "Sex": "M", "Ethnicity": "BAFR", "SENprovision": ["N", "K"] * 20,
            "SENtype": "", "FSMeligible": ["0", "1", "0", "0"] * 10, "Postcode": "WS1 1AA",
            "SchoolURN": ["104001", "104002"] * 20, "NCyearActual": "5", "AcademicYear": "2018/19",
            "CensusTerm": "AUT",
        }
    )  # fmt: skip
    return census


@pytest.mark.usefixtures("umask_022")
def test_score_records_each_run_and_compares_with_the_last(
    training, write_small_extracts, tmp_path, monkeypatch
):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: scorer))
    data, links = write_small_extracts(tmp_path / "extracts", _census(), "104002")
    out = tmp_path / "scores" / "scores.csv"
    args = ["score", "--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out),
            "--no-reasons"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "scores.xlsx" in first.output and "recorded as run" in first.output
    assert stat.S_IMODE(os.stat(out.with_suffix(".xlsx")).st_mode) == 0o600
    runs = RunFolder(out.parent / "score_runs")
    (run,) = runs.runs()
    assert (run.year, run.census, run.pupils, run.schools) == ("2018/19", "autumn", 40, 2)
    assert run.short_id in first.output
    assert "What changed since" not in out.with_suffix(".html").read_text()  # nothing compared

    # What the earlier run is made to have said: one pupil then lowest and green, one not yet on roll,
    # one since gone (a made-up UPN at one of the schools).
    scores = pd.read_csv(out, dtype=str, keep_default_na=False)
    top = scores.iloc[0]  # the highest risk now
    pupils = runs.pupils(run)
    lowest, highest = scorer.matrix.bands[-1].label, scorer.matrix.bands[0].label
    if top["likelihood_band"] == lowest:  # then it was highest and red: down a band, not red now
        pupils.loc[pupils["upn"] == top["upn"], ["likelihood_band", "rag"]] = [highest, "red"]
        expected_top = "moved_down"
    else:  # then it was lowest and green
        pupils.loc[pupils["upn"] == top["upn"], ["likelihood_band", "rag"]] = [lowest, "green"]
        expected_top = "new_red" if top["rag"] == "red" else "moved_up"
    absent = scores.iloc[-1]["upn"]
    gone = {"upn": "Z999999999999", "school_urn": "104001", "probability": 0.5, "likelihood_band": "low",
            "rag": "green"}  # fmt: skip
    pupils = pd.concat([pupils[pupils["upn"] != absent], pd.DataFrame([gone])], ignore_index=True)
    pupils.to_csv(out.parent / "score_runs" / run.run_id / RUN_PUPILS_FILE, index=False)

    second = CliRunner().invoke(app, [*args, "--compare-with", "last"])
    assert second.exit_code == 0, second.output
    changes = pd.read_csv(out.parent / "changes.csv", dtype=str, keep_default_na=False)
    assert stat.S_IMODE(os.stat(out.parent / "changes.csv").st_mode) == 0o600
    got = dict(zip(changes["upn"], changes["change"], strict=True))
    assert got[top["upn"]] == expected_top and got["Z999999999999"] == "no_longer_on_roll"
    assert got[absent] == ("new_red" if scores.iloc[-1]["rag"] == "red" else "new_on_roll")
    assert len(got) == 3  # nothing else changed
    counts = change_counts(changes)
    assert changes_sentence(counts, run.describe()) in second.output
    assert f"since the 2018/19 autumn scoring of {run.scored_on} (run {run.short_id})" in second.output
    assert len(runs.runs()) == 2
    book = openpyxl.load_workbook(out.with_suffix(".xlsx"), read_only=True)
    assert book.sheetnames[0] == NOTICE_SHEET and CHANGES_SHEET in book.sheetnames
    # the summary page counts them too, each under 10 as "<10" (it was silent on changes)
    page = out.with_suffix(".html").read_text()
    assert f"<h2>What changed since {run.describe()}</h2>" in page
    assert "<tr><td>no longer on roll</td><td>&lt;10</td></tr>" in page  # 1 pupil: never said exactly
    assert "<tr><td>need level up within a rating</td><td>0</td></tr>" in page

    # a previous scores.csv, given as a file, compares too (nothing changed since the second run), as the
    # run recorded beside it that wrote it: its census, year and model are known (and the same)
    latest = runs.runs()[-1]
    third = CliRunner().invoke(app, [*args, "--compare-with", str(out)])
    assert third.exit_code == 0, third.output
    assert f"0 new red since {out}, {latest.describe()}; " in third.output
    assert "does not record" not in third.output and "The earlier list" not in third.output

    # scored again without a comparison: the earlier comparison's changes.csv is not left beside scores it
    # did not compare (an automation engineer's find: 177 new red beside a scoring at another capacity)
    fourth = CliRunner().invoke(app, args)
    assert fourth.exit_code == 0, fourth.output
    assert not (out.parent / "changes.csv").exists()
    assert f"note: removed {out.parent / 'changes.csv'}, which an earlier scoring wrote" in fourth.output


def test_score_refuses_an_unknown_earlier_run_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    base = ["score", "--data", str(tmp_path), "--year", "2018/19", "--out", str(tmp_path / "scores.csv")]
    for wanted, message in [
        ("deadbeef", "no run 'deadbeef'"),
        ("last", "no earlier scoring of the 2018/19 autumn census"),
        (str(tmp_path / "old.csv"), "does not exist"),
        (str(tmp_path), "is not a scoring run's folder"),
    ]:
        result = CliRunner().invoke(app, [*base, "--compare-with", wanted])
        assert result.exit_code == 2, result.output
        assert "error: --compare-with:" in result.output and message in result.output
        assert (
            "Traceback" not in result.output and "exclusion-risk train" not in result.output
        )  # checked first


def test_comparison_notes_say_what_the_counts_do_not():
    """A rescoring at another capacity, or by another model, moved thousands of pupils 'up a band' with no
    word of why; a school only one scoring covered was left out unsaid (a closed school's 484 pupils)."""
    before = _pupils(
        [("P1", "100", "low", "green"), ("P2", "900", "low", "green"), ("P3", "900", "high", "amber")]
    )
    after = _pupils([("P1", "100", "high", "amber"), ("P4", "300", "low", "green")])
    base = {"model_name": "m", "model_version": "2", "risk_matrix_version": "1", "year": "2018/19"}
    then, _ = new_run(before, **base, capacity=0.05)
    now, _ = new_run(after, **base, capacity=0.10)
    notes = comparison_notes(then, now, before, after)
    assert notes == [
        "The likelihood bands were cut for a capacity of 5% then and 10% now: moves between bands and new "
        "red follow the new cut as much as the pupils.",
        "Not compared: 1 school (900; 2 pupils) scored only in the earlier scoring and 1 school (300; 1 "
        "pupil) scored only in this one. A school one scoring did not cover would show all its pupils as "
        "new or gone, so its pupils are not in the changes.",
    ]
    other, _ = new_run(before, **(base | {"model_version": "1"}), capacity=0.05)
    assert comparison_notes(other, then, before, before)[0].startswith(
        "The earlier scoring used model m version 1, this one m version 2"
    )
    assert comparison_notes(then, then, before, before) == []
    # a run kept before the model's MLflow run id was recorded is not "another model"
    recorded = ScoringRun.from_dict(then.to_dict() | {"model_run_id": "abc123"})
    assert comparison_notes(then, recorded, before, before) == []
    # a scores.csv with no run known to have written it records no year or census, nor (this one) a
    # model version: the notes say they cannot tell (they said nothing; test_score_runs_terms.py)
    old = ScoringRun.from_dict({"run_id": "scores.csv", "recorded_at": "2026-01-01T00:00:00"})
    notes = comparison_notes(old, now, after, after)
    assert [note[:60] for note in notes] == [
        "The earlier list does not record which year and census it sc",
        "The earlier list does not record the model that scored it: i",
    ]


def test_two_scorings_within_one_second_are_ordered_as_they_were_written(tmp_path):
    # recorded_at is to the second, and ties fell to the random run id: `--compare-with last` could name
    # the earlier of two scorings made within one second (CI's run of test_score_runs_partial did)
    import dataclasses

    folder = RunFolder(tmp_path / "runs")
    scores = _pupils([("A123456789012", "100", "low", "green")])
    made = {}
    for name, run_id in (("earlier", "f" * 32), ("later", "0" * 32)):  # the later one's id sorts first
        run, pupils = new_run(scores, model_name="exclusion-risk", model_version="3", risk_matrix_version="1",
                              year="2018/19", recorded_at="2026-11-02T09:00:00+00:00")  # fmt: skip
        made[name] = dataclasses.replace(run, run_id=run_id)
        folder.record(made[name], pupils)
        os.utime(folder.root / run_id / RUN_FILE, ns=(10**18, 10**18 + (name == "later")))
    assert folder.find("last", "2018/19") == made["later"]
    assert folder.before(made["later"]) == [made["earlier"]]
    assert folder.before(made["earlier"]) == []
