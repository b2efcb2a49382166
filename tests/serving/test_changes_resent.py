"""What a census upload's `changes` says when the file is sent again or when the comparison leaves
something out (in process, `record_census_scoring` with a stand-in scorer).

A reviewer, on the demo: the page's workbook download after a school's first scoring said "0 new red
since the 2018/19 autumn scoring of 2026-12-06 (run 0ed37f24)": the run just recorded for that very
file (the page had said there was nothing to compare with).
"""

# ruff: noqa: F811  (the fixtures `store` and `scorer` are imported from test_changes_partial)
from __future__ import annotations

from types import SimpleNamespace

import pytest

from exclusion_risk.serving.run_history import record_census_scoring
from tests.serving.test_changes_partial import YEAR, _scores, scorer, store  # noqa: F401  (fixtures)
from tests.serving.test_changes_partial import _school as school_pupils


def _school(urn: str, n: int) -> list[tuple[str, str]]:
    return school_pupils(urn, 0, n)


def test_a_first_scoring_sent_again_is_compared_with_nothing(store, scorer):
    """The page's workbook download re-sends a school's first scoring with the run it was recorded as:
    nothing to compare with, as the page said (it was compared with itself: "0 new red since" its run)."""
    school = _scores(scorer, _school("104001", 30))
    first = record_census_scoring(store, school, scorer, YEAR, "key1")
    assert first.changes is None
    resent = record_census_scoring(store, school, scorer, YEAR, "key1", record=False,
                                   recorded_as=first.run["id"])  # fmt: skip
    assert resent.changes is None and resent.summary is None and resent.rows is None


def test_a_later_scoring_sent_again_is_compared_as_it_was(store, scorer):
    """Sent again with the run it was recorded as, a second scoring is compared with the run before it
    (the one its changes named), not with itself; an unknown run is refused, naming the parameter."""
    pupils = _school("104001", 30)
    earlier = record_census_scoring(store, _scores(scorer, pupils), scorer, YEAR, "key1")
    second = record_census_scoring(store, _scores(scorer, pupils[:27]), scorer, YEAR, "key1")
    assert second.changes["since"]["id"] == earlier.run["id"]
    resent = record_census_scoring(store, _scores(scorer, pupils[:27]), scorer, YEAR, "key1", record=False,
                                   recorded_as=second.run["id"])  # fmt: skip
    assert resent.changes == second.changes and resent.summary == second.summary
    assert resent.changes["counts"]["no_longer_on_roll"] == 3
    with pytest.raises(LookupError, match="^recorded_as: "):
        record_census_scoring(store, _scores(scorer, pupils), scorer, YEAR, "key1", record=False,
                              recorded_as="0" * 32)  # fmt: skip
    # only for a file sent again unrecorded: recorded with it, a new run was compared past the runs
    # between (the diff reviewer's find); beside `since` it was ignored
    for misuse in ({"record": True}, {"record": False, "since": earlier.run["id"]}):
        with pytest.raises(LookupError, match="^recorded_as: only with record=false"):
            record_census_scoring(store, _scores(scorer, pupils), scorer, YEAR, "key1",
                                  recorded_as=second.run["id"], **misuse)  # fmt: skip


def test_changes_name_the_schools_not_compared(store, scorer):
    """School A scored once, then A with B and C, never scored: 0 new red, though B's and C's red pupils
    are new red by the API's own definition; the changes say B and C were not compared, as the CLI does
    (it said nothing)."""
    a, b, c = _school("104001", 30), _school("104002", 12), _school("104003", 9)
    record_census_scoring(store, _scores(scorer, a), scorer, YEAR, "key1")
    recorded = record_census_scoring(store, _scores(scorer, a + b + c), scorer, YEAR, "key1", record=False)
    assert recorded.changes["counts"]["new_red"] == 0
    note = ("Not compared: 2 schools (104002, 104003; 21 pupils) scored only in this one. A school one "
            "scoring did not cover would show all its pupils as new or gone, so its pupils are not in the "
            "changes.")
    assert recorded.changes["notes"] == [note]
    assert recorded.summary.startswith("0 new red since") and note in recorded.summary  # the workbook's


def test_changes_say_the_model_changed(store, scorer):
    """Scored by version 7, then by version 8 (the champion alias moved and the service reloaded): a pupil
    may have moved band because the model changed; the changes say so, as the CLI does."""
    a = _school("104001", 30)
    record_census_scoring(store, _scores(scorer, a), scorer, YEAR, "key1")
    newer = SimpleNamespace(name="exclusion-risk", model_version="8", matrix=scorer.matrix)
    recorded = record_census_scoring(store, _scores(newer, a), newer, YEAR, "key1")
    (note,) = recorded.changes["notes"]
    assert note.startswith("The earlier scoring used model exclusion-risk version 7, this one "
                           "exclusion-risk version 8: a pupil may have moved because the model changed")
    assert note in recorded.summary
    same = record_census_scoring(store, _scores(newer, a), newer, YEAR, "key1")
    assert same.changes["notes"] == []  # the same model, the same schools: nothing to add


def test_changes_say_the_earlier_run_was_of_another_census_or_year(store, scorer):
    """A run of another census or year is compared only when named (`since`; the latest is always of
    the same year and census, test_changes_same_year): every change between the two censuses shows as a
    change, so the changes say which censuses they are (they said nothing)."""
    a = _school("104001", 30)
    last_year = record_census_scoring(store, _scores(scorer, a), scorer, "2017/18", "key1")
    recorded = record_census_scoring(store, _scores(scorer, a), scorer, YEAR, "key1",
                                     since=last_year.run["id"])  # fmt: skip
    (note,) = recorded.changes["notes"]
    assert note.startswith(f"The earlier list is of the 2017/18 autumn census, this one of the {YEAR} "
                           "autumn census: ")  # fmt: skip
    assert note in recorded.summary
    spring = SimpleNamespace(**vars(scorer), census="spring")
    recorded = record_census_scoring(store, _scores(spring, a), spring, YEAR, "key1",
                                     since=recorded.run["id"])  # fmt: skip
    (note,) = recorded.changes["notes"]
    assert note.startswith(f"The earlier list is of the {YEAR} autumn census, this one of the {YEAR} "
                           "spring census: ")  # fmt: skip
