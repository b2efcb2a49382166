"""What a comparison says when the two scorings are not of the same census, year or model, whether the
earlier one is named by its run or by its scores.csv (`score --compare-with sc0/scores.csv`).

A reviewer scored an autumn list with model version 3, then the spring census with version 6, compared
with the autumn scores.csv: "34 new red since sc0/scores.csv ...; 135 moved up a band, 342 down" and
nothing of the other model or the other term; given the run's folder instead it named the model, and
neither said the lists were of different censuses."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.models.score_runs import (
    comparison_notes,
    new_run,
)

FACTS = {"model_name": "exclusion-risk", "risk_matrix_version": "1"}


def _pupils(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame({
        "upn": [f"A{100000000000 + i}" for i in range(n)], "school_urn": "104001",
        "probability": [round(0.9 - i / 100, 6) for i in range(n)], "likelihood_band": "low", "rag": "green",
    })  # fmt: skip


def _autumn_v3(pupils: pd.DataFrame):
    return new_run(pupils, **FACTS, model_version="3", year="2018/19", census="autumn")


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

