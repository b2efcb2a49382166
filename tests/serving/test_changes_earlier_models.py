"""Each pupil is compared with their latest earlier scoring, which may be older than the run compared with
(`since`): after a new champion, one school's early upload, then the whole census, most pupils were
compared with the old model's scoring, and the answer's notes named the model of the run compared with
alone (a team running the service through a year: "3 new red, 111 moved down", none of it the pupils')."""

# ruff: noqa: F811  (the fixtures `store` and `scorer` are imported from test_changes_partial)
from __future__ import annotations

from types import SimpleNamespace

from exclusion_risk.serving.run_history import record_census_scoring
from tests.serving.test_changes_partial import YEAR, _scores, scorer, store  # noqa: F401  (fixtures)
from tests.serving.test_changes_partial import _school as school_pupils


def test_pupils_compared_with_an_older_models_scoring_are_said_to_be(store, scorer):
    census = school_pupils("104001", 0, 30) + school_pupils("104002", 0, 20)
    record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1")  # model version 7
    new = SimpleNamespace(**{**vars(scorer), "model_version": "8"})
    early = record_census_scoring(store, _scores(new, census[:12]), new, YEAR, "key1")  # one school's part
    assert any("used model exclusion-risk version 7, this one exclusion-risk version 8" in note
               for note in early.changes["notes"])  # fmt: skip
    whole = record_census_scoring(store, _scores(new, census), new, YEAR, "key1")
    since = whole.changes["since"]
    assert since["id"] == early.run["id"] and since["model_version"] == "8"
    said = [note for note in whole.changes["notes"] if "were scored then with model" in note]
    named = store.run(early.run["id"]).describe()
    assert said == [f"38 pupils compared with a scoring before {named} were scored then with model "
                    "exclusion-risk version 7, this one with exclusion-risk version 8: they may have moved "
                    "because the model changed, not because anything about them did."]
    assert said[0] in whole.summary
    again = record_census_scoring(store, _scores(new, census), new, YEAR, "key1")  # the whole, one model
    assert not any("scored then with" in note for note in again.changes["notes"])
