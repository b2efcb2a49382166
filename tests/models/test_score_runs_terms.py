"""What a comparison says when the two scorings are not of the same census, year or model, whether the
earlier one is named by its run or by its scores.csv (`score --compare-with sc0/scores.csv`).

A reviewer scored an autumn list with model version 3, then the spring census with version 6, compared
with the autumn scores.csv: "34 new red since sc0/scores.csv ...; 135 moved up a band, 342 down" and
nothing of the other model or the other term; given the run's folder instead it named the model, and
neither said the lists were of different censuses."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.models.comparison_notes import comparison_notes
from exclusion_risk.models.score_runs import (
    RUNS_FOLDER,
    RunFolder,
    new_run,
    resolve_previous,
)

FACTS = {"model_name": "exclusion-risk", "risk_matrix_version": "1"}


def _pupils(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({
        "upn": [f"A{100000000000 + i}" for i in range(n)], "school_urn": "104001",
        "probability": [round(0.9 - i / 100, 6) for i in range(n)], "likelihood_band": "low", "rag": "green",
    })  # fmt: skip


def _autumn_v3(pupils: pd.DataFrame):
    return new_run(pupils, **FACTS, model_version="3", year="2018/19", census="autumn")


def _spring_v6(pupils: pd.DataFrame):
    return new_run(pupils, **FACTS, model_version="6", year="2018/19", census="spring")


def _scores_csv(path, pupils: pd.DataFrame, model_version: str | None = "3"):
    """A scores.csv as `score` writes it (the columns a run reads, and model_version where given)."""
    frame = pupils.assign(need_level=1, model_version=model_version)
    if model_version is None:
        frame = frame.drop(columns="model_version")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6f")
    return path


def test_comparison_notes_say_when_the_census_or_the_year_differs():
    pupils = _pupils()
    then, _ = _autumn_v3(pupils)
    now, _ = new_run(pupils, **FACTS, model_version="3", year="2018/19", census="spring")
    (note,) = comparison_notes(then, now, pupils, pupils)
    assert note.startswith("The earlier list is of the 2018/19 autumn census, this one of the 2018/19 "
                           "spring census: ")  # fmt: skip
    assert "shows as changes, not only changes in the pupils' risk" in note
    last_year, _ = new_run(pupils, **FACTS, model_version="3", year="2017/18", census="spring")
    (note,) = comparison_notes(last_year, now, pupils, pupils)
    assert note.startswith("The earlier list is of the 2017/18 spring census, this one of the 2018/19 ")
    assert comparison_notes(now, now, pupils, pupils) == []


def test_a_scores_csv_is_compared_as_the_run_that_wrote_it(tmp_path):
    """`score` records each scoring in the runs folder beside its scores.csv: the file compared with says
    what its run says (model, census, year), as the run's folder does; it said nothing of either."""
    pupils = _pupils()
    run, run_pupils = _autumn_v3(pupils)
    path = RunFolder(tmp_path / "sc0" / RUNS_FOLDER).record(run, run_pupils)
    scores = _scores_csv(tmp_path / "sc0" / "scores.csv", pupils)
    other, other_pupils = _autumn_v3(_pupils(11))  # another scoring beside it: not the file's
    RunFolder(tmp_path / "sc0" / RUNS_FOLDER).record(other, other_pupils)
    here = RunFolder(tmp_path / "sc_spr" / RUNS_FOLDER)
    earlier = resolve_previous(str(scores), here, "2018/19", "spring")
    assert earlier.run == run
    assert earlier.name == f"{scores}, {run.describe()}"
    now, _ = _spring_v6(pupils)
    notes = comparison_notes(earlier.run, now, earlier.pupils, pupils)
    assert len(notes) == 2, notes
    assert notes[0].startswith("The earlier list is of the 2018/19 autumn census, this one of the 2018/19 "
                               "spring census")  # fmt: skip
    assert notes[1].startswith("The earlier scoring used model exclusion-risk version 3, this one "
                               "exclusion-risk version 6")  # fmt: skip
    by_folder = resolve_previous(str(path), here, "2018/19", "spring")
    assert comparison_notes(by_folder.run, now, by_folder.pupils, pupils) == notes


def test_a_scores_csv_without_its_run_says_what_it_records_and_what_it_cannot_tell(tmp_path):
    """A scores.csv moved from its runs (or edited since) records only the model version: a change of it
    is said, and that the year and census cannot be told; without even that column, the model too."""
    pupils = _pupils()
    now, _ = _spring_v6(pupils)
    scores = _scores_csv(tmp_path / "moved" / "scores.csv", pupils)
    earlier = resolve_previous(str(scores), RunFolder(tmp_path / RUNS_FOLDER), "2018/19", "spring")
    assert earlier.run.model_version == "3" and earlier.run.year == ""
    assert earlier.name.startswith(f"{scores} (written ")
    notes = comparison_notes(earlier.run, now, earlier.pupils, pupils)
    assert len(notes) == 2, notes
    assert notes[0].startswith("The earlier list does not record which year and census it scored")
    assert "if it was not the 2018/19 spring census's" in notes[0]
    assert notes[1].startswith("The earlier scoring used model version 3, this one exclusion-risk "
                               "version 6")  # fmt: skip
    older = _scores_csv(tmp_path / "older" / "scores.csv", pupils, model_version=None)
    earlier = resolve_previous(str(older), RunFolder(tmp_path / RUNS_FOLDER), "2018/19", "spring")
    notes = comparison_notes(earlier.run, now, earlier.pupils, pupils)
    assert len(notes) == 2, notes
    assert notes[1].startswith("The earlier list does not record the model that scored it: if it was not "
                               "exclusion-risk version 6")  # fmt: skip
