"""A change of need level within a rating is a change (an inclusion officer's finding): two pupils went
from L3-N1 (targeted early help) to L3-N2 (multi-agency), both amber, and were in no count and no row of
what changed, because the runs kept no need level. They keep it now; a run recorded before they did is
compared as before, and the notes say what it cannot show."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from exclusion_risk.models.change_kinds import change_label
from exclusion_risk.models.comparison_notes import comparison_notes, need_level_notes
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.models.score_runs import (
    NEED,
    RUN_PUPILS_FILE,
    RunFolder,
    change_counts,
    change_labels,
    changes_records,
    changes_sentence,
    compare,
    new_run,
    read_run_pupils,
    recorded_run,
    resolve_previous,
)
from exclusion_risk.models.score_workbook import CHANGES_SHEET, write_scores_workbook

BANDS = ["very high", "high", "medium", "low"]
SAME = [(f"S{i}", "100", "low", "green", 0) for i in range(6)]


def _pupils(rows) -> pd.DataFrame:
    return pd.DataFrame([{"upn": u, "school_urn": s, "probability": 0.5, "likelihood_band": b, "rag": r,
                          "need_level": n} for u, s, b, r, n in rows])  # fmt: skip


BEFORE = _pupils([
    ("N1", "100", "high", "amber", 1),  # -> high amber, need 2 (L3-N1 -> L3-N2): need level up
    ("N2", "100", "high", "amber", 2),  # -> need 1: need level down
    ("N3", "100", "medium", "green", 1),  # -> medium amber, need 2: rating up, the need level its cause
    ("N4", "100", "medium", "green", 1),  # -> medium amber, need 1: rating up, the matrix its only cause
    ("N5", "100", "low", "green", 0),  # -> medium green, need 1: moved up a band, need level said too
    ("N6", "100", "high", "amber", 2),  # the same: not listed
    *SAME,
])  # fmt: skip
AFTER = _pupils([
    ("N1", "100", "high", "amber", 2), ("N2", "100", "high", "amber", 1),
    ("N3", "100", "medium", "amber", 2), ("N4", "100", "medium", "amber", 1),
    ("N5", "100", "medium", "green", 1), ("N6", "100", "high", "amber", 2),
    *SAME,
])  # fmt: skip


def test_a_need_level_that_changed_within_a_rating_is_listed_counted_and_said():
    changes = compare(BEFORE, AFTER, BANDS)
    got = dict(zip(changes["upn"], changes["change"], strict=True))
    assert got == {"N1": "need_up", "N2": "need_down", "N3": "rating_up", "N4": "rating_up", "N5": "moved_up"}
    counts = change_counts(changes)
    assert (counts["need_up"], counts["need_down"], counts["rating_up"], counts["moved_up"]) == (1, 1, 2, 1)
    assert "; 1 need level up and 1 down within a rating; " in changes_sentence(counts, "then")
    labels = dict(zip(changes["upn"], change_labels(changes), strict=True))
    assert labels == {
        "N1": "need level up: 1 to 2 (still amber, same likelihood band)",
        "N2": "need level down: 2 to 1 (still amber, same likelihood band)",
        "N3": "rating up: green to amber (same likelihood band; need level 1 to 2)",
        "N4": "rating up: green to amber (same likelihood band and need level: the risk matrix changed)",
        "N5": "moved up: low to medium; need level 0 to 1",
    }
    n1 = next(row for row in changes_records(changes) if row["upn"] == "N1")
    assert (n1["before_need"], n1["after_need"]) == (1, 2) and type(n1["after_need"]) is int  # JSON-ready


def test_the_workbook_carries_both_need_levels_and_names_each_school(tmp_path):
    changes = compare(BEFORE, AFTER, BANDS)
    buffer = io.BytesIO()
    scores = AFTER.assign(school_name="Elmhurst High School")
    write_scores_workbook(scores, buffer, notice_lines=["Model: m version 1"], changes=changes,
                          changes_summary=changes_sentence(change_counts(changes), "then"))  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))[CHANGES_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    n1 = next(dict(zip(header, row, strict=True)) for row in rows[1:] if row[0] == "N1")
    assert (n1["before_need"], n1["after_need"]) == (1, 2)
    assert n1["change"] == "need level up: 1 to 2 (still amber, same likelihood band)"
    # the school by name beside its URN, as the ranked list gives it (the sheet had URNs only)
    assert header[:4] == ["upn", "school_urn", "school_name", "change"]
    assert n1["school_name"] == "Elmhurst High School"


def test_the_workbook_says_what_each_need_level_is_with_the_matrixs_labels():
    # an officer read "need level 1 to 2" and had to find the legend to learn what either was
    changes = compare(BEFORE, AFTER, BANDS)
    buffer = io.BytesIO()
    write_scores_workbook(AFTER.assign(school_name="Elmhurst High School"), buffer, notice_lines=["m"],
                          risk_matrix=load_risk_matrix().to_dict(), changes=changes,
                          changes_summary=changes_sentence(change_counts(changes), "then"))  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))[CHANGES_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    said = {row[0]: row[rows[0].index("change")] for row in rows[1:]}
    assert said["N1"] == ("need level up: 1 (SEN support or FSM) to 2 (EHC plan or child in need); still "
                          "amber, same likelihood band")  # fmt: skip
    assert said["N3"] == ("rating up: green to amber (same likelihood band; need level 1 (SEN support or "
                          "FSM) to 2 (EHC plan or child in need))")  # fmt: skip
    assert said["N5"] == ("moved up: low to medium; need level 0 (no statutory involvement) to 1 (SEN "
                          "support or FSM)")  # fmt: skip


def test_a_run_recorded_before_need_levels_were_kept_is_compared_as_before_and_the_notes_say_so(tmp_path):
    folder = RunFolder(tmp_path / "runs")
    facts = {"model_name": "m", "model_version": "1", "risk_matrix_version": "1", "year": "2018/19"}
    run, pupils = new_run(BEFORE, **facts)
    path = folder.record(run, pupils)
    # as a release before this one wrote it: no need_level column
    kept = pd.read_csv(path / RUN_PUPILS_FILE, dtype=str).drop(columns=[NEED])
    kept.to_csv(path / RUN_PUPILS_FILE, index=False)
    old = folder.pupils(run)
    assert old[NEED].isna().all()
    changes = compare(old, AFTER, BANDS)
    got = dict(zip(changes["upn"], changes["change"], strict=True))
    assert got == {"N3": "rating_up", "N4": "rating_up", "N5": "moved_up"}  # no need level to compare
    labels = dict(zip(changes["upn"], change_labels(changes), strict=True))
    assert labels["N3"] == labels["N4"] == (
        "rating up: green to amber (same likelihood band: need level or risk matrix changed)"
    )
    view = resolve_previous(str(path), folder, "2018/19").view(AFTER)
    assert need_level_notes(view, AFTER) == [
        "12 pupils were compared with an earlier scoring that kept no need level for them (recorded before "
        "need levels were kept, or given without them): a change of need level that left their "
        "likelihood band and rating as they were is not listed, and a rating that changed within a band may "
        "have changed with the need level or the risk matrix."
    ]
    now, _ = new_run(AFTER, **facts)
    assert comparison_notes(run, now, old, AFTER) == []  # the run's facts agree: nothing else to say


def test_pupils_compared_through_an_older_run_without_need_levels_are_counted(tmp_path):
    """The run named kept need levels, but a school last scored before they were kept is compared through
    that older run (each pupil's latest earlier scoring): its pupils' need changes cannot be seen, and the
    note, which looked at the named run only, said nothing (a reviewer's finding)."""
    folder = RunFolder(tmp_path / "runs")
    facts = {"model_name": "m", "model_version": "1", "risk_matrix_version": "1", "year": "2018/19"}
    others = [(f"T{i}", "200", "low", "green", 0) for i in range(9)]
    other = _pupils([("A1", "200", "high", "amber", 1), *others])
    old_run, old_pupils = new_run(other, **facts)
    path = folder.record(old_run, old_pupils)
    pd.read_csv(path / RUN_PUPILS_FILE, dtype=str).drop(columns=[NEED]).to_csv(path / RUN_PUPILS_FILE,
                                                                              index=False)  # fmt: skip
    new, new_pupils = new_run(BEFORE, **facts, recorded_at="2099-01-01T00:00:00+00:00")  # after the old one
    folder.record(new, new_pupils)
    current = pd.concat([AFTER, other.assign(need_level=[2] + [0] * 9)], ignore_index=True)
    previous = resolve_previous("last", folder, "2018/19")
    assert previous.run.run_id == new.run_id
    view = previous.view(current)
    changes = compare(view, current, BANDS)
    assert "A1" not in set(changes["upn"])  # its need level 1 -> 2 cannot be seen through the older run
    (note,) = need_level_notes(view, current)
    assert note.startswith("10 pupils were compared with an earlier scoring that kept no need level")


def test_a_need_level_that_is_not_one_of_the_matrixs_is_not_known_rather_than_an_error():
    odd = BEFORE.astype({"need_level": object})
    odd.loc[0, "need_level"], odd.loc[1, "need_level"], odd.loc[2, "need_level"] = "two", 1.5, 1e20
    odd.loc[3, "need_level"] = 99
    changes = compare(odd, AFTER, BANDS)
    assert not {"N1", "N2"} & set(changes["upn"])
    assert changes.set_index("upn").loc[["N3", "N4"], "before_need"].isna().all()


def test_the_words_never_claim_more_than_the_two_rows_show():
    # a higher need with a lower rating: the matrix's doing (changed, or an authority's own), said as such,
    # not as the need's (nor as a changed matrix: one that is not the shipped one may rate it so)
    assert change_label("rating_down", "high", "high", "red", "amber", 1, 3) == (
        "rating down: red to amber (same likelihood band; need level 1 to 3: a higher need with a lower "
        "rating, as the risk matrix has it)"
    )
    # a band the matrix no longer names is no move, but not "the same band"
    said = change_label("need_up", "old band", "high", "amber", "amber", 1, 2)
    assert said == "need level up: 1 to 2 (still amber)"


def test_a_scores_csv_is_still_known_as_the_run_that_wrote_it_when_that_run_kept_no_need_levels(tmp_path):
    folder = RunFolder(tmp_path / "score_runs")
    run, pupils = new_run(BEFORE, model_name="m", model_version="1", risk_matrix_version="1", year="2018/19")
    path = folder.record(run, pupils)
    scores = tmp_path / "scores.csv"
    BEFORE.to_csv(scores, index=False, float_format="%.6f")
    listed = read_run_pupils(scores)
    assert recorded_run(scores, listed)[0].run_id == run.run_id
    kept = pd.read_csv(path / RUN_PUPILS_FILE, dtype=str).drop(columns=[NEED])  # recorded by a release before
    kept.to_csv(path / RUN_PUPILS_FILE, index=False)
    assert recorded_run(scores, listed)[0].run_id == run.run_id
    # a run that kept other need levels did not write it
    kept.assign(need_level=[2, 2, 1, 1, 0, 2, 0, 0, 0, 0, 0, 0]).to_csv(path / RUN_PUPILS_FILE, index=False)
    assert recorded_run(scores, listed) is None


def test_the_changes_sheet_names_a_school_whatever_the_urns_type_or_a_blank_first_name():
    changes = compare(BEFORE, AFTER, BANDS).assign(school_urn=lambda f: " " + f["school_urn"] + " ")
    scores = AFTER.assign(school_urn=100, school_name=[""] + ["Elmhurst High School"] * (len(AFTER) - 1))
    buffer = io.BytesIO()
    write_scores_workbook(scores, buffer, notice_lines=["m"], changes=changes, changes_summary="then")
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))[CHANGES_SHEET]
    assert {row[2] for row in list(sheet.iter_rows(values_only=True))[1:]} == {"Elmhurst High School"}
