"""A census upload's `changes` compare it with the latest recorded scoring of the same year and census
term, as `exclusion-risk score --compare-with last` does; never with a scoring of another year or term.

A reviewer, on the demo: after 2018/19 uploads, 200 rows of the 2015/16 autumn census (recorded) were
reported as "2 new red, 49 moved down, 65 new on roll" since a 2018/19 run (backwards in time), and a
later 2018/19 upload (record=false) was compared with that 2015/16 run; no note said the years differ.
"""

# ruff: noqa: F811  (the fixtures `store` and `scorer` are imported from test_changes_partial)
from __future__ import annotations

from types import SimpleNamespace

from exclusion_risk.serving.run_history import record_census_scoring
from tests.serving.test_changes_partial import YEAR, _scores, scorer, store  # noqa: F401  (fixtures)
from tests.serving.test_changes_partial import _school as school_pupils

EARLIER_YEAR = "2015/16"


def test_a_scoring_is_compared_with_the_latest_of_its_own_year_and_census(store, scorer):
    now = school_pupils("104001", 0, 30)
    then = school_pupils("104001", 20, 30)  # the school three years before: 10 of these pupils still there
    first = record_census_scoring(store, _scores(scorer, now), scorer, YEAR, "key1")
    older = record_census_scoring(store, _scores(scorer, then), scorer, EARLIER_YEAR, "key1")
    assert older.changes is None  # no earlier 2015/16 scoring: nothing to compare, not a 2018/19 run
    again = record_census_scoring(store, _scores(scorer, now), scorer, YEAR, "key1", record=False)
    assert again.changes["since"]["id"] == first.run["id"]
    assert (again.changes["since"]["year"], again.changes["since"]["census"]) == (YEAR, "autumn")
    assert sum(again.changes["counts"].values()) == 0  # the same pupils, scored the same: nothing changed
    # the spring census of the same year is not compared with the autumn one either
    spring = SimpleNamespace(**vars(scorer), census="SPR")
    assert record_census_scoring(store, _scores(spring, now), spring, YEAR, "key1").changes is None


def test_a_scoring_of_another_year_named_by_since_is_said_to_be_one(store, scorer):
    now = school_pupils("104001", 0, 30)
    older = record_census_scoring(store, _scores(scorer, now), scorer, EARLIER_YEAR, "key1")
    compared = record_census_scoring(store, _scores(scorer, now), scorer, YEAR, "key1",
                                     since=older.run["id"])  # fmt: skip
    assert compared.changes["since"]["year"] == EARLIER_YEAR
    assert any("2015/16 autumn census" in note and "2018/19 autumn census" in note
               for note in compared.changes["notes"])  # fmt: skip


def test_a_scoring_named_by_since_that_held_none_of_the_schools_compares_nothing_and_says_so(store, scorer):
    """`since` naming another authority's (or other schools') run: no pupil can be compared, and the
    answer said '0 new red since ...' (news of nobody) with every count 0 for that reason alone."""
    elsewhere = _scores(scorer, school_pupils("204001", 0, 30))
    other = record_census_scoring(store, elsewhere, scorer, YEAR, "key1")
    compared = record_census_scoring(store, _scores(scorer, school_pupils("104001", 0, 30)), scorer, YEAR,
                                     "key1", since=other.run["id"])  # fmt: skip
    assert compared.changes["schools_compared"] == 0
    assert compared.summary.startswith("Nothing is compared with the ")
    assert "new red" not in compared.summary
    assert compared.changes["pupils"] == []
    assert any("scored only in the earlier scoring" in note for note in compared.changes["notes"])
    same = record_census_scoring(store, elsewhere, scorer, YEAR, "key1", since=other.run["id"])
    assert same.changes["schools_compared"] == 1 and same.summary.startswith("0 new red since ")
