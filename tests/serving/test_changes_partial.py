"""A partial census upload between whole ones: what a census upload's `changes` says (in process,
`record_census_scoring` with a stand-in scorer).

A tester, on the demo through the service, uploaded 43 census rows (28 schools, 1 to 4 pupils each),
then 5 of them, then the 43 again. The 5-row upload listed 2 pupils as no longer on roll though they
were on the census (one of a school's 2 earlier pupils passed "at least half of them"); the next 43-row
upload was compared with the 5-row run alone and called pupils red a minute before "new red" and pupils
on roll "new on roll". Here the same counts, then a school large enough to have a census.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.run_history import RunStore, record_census_scoring

YEAR = "2018/19"
# The demo upload's pupils per school: 43 pupils at 28 schools.
DEMO_COUNTS = [4, 3, 3] + [2] * 8 + [1] * 17
LEAVER, JOINER, NEW_RED = "no_longer_on_roll", "new_on_roll", "new_red"


@pytest.fixture
def scorer():
    return SimpleNamespace(name="exclusion-risk", model_version="7", matrix=load_risk_matrix())


@pytest.fixture
def store(tmp_path):
    return RunStore(Database(tmp_path / "service.db"))


def _scores(scorer, pupils: list[tuple[str, str]]) -> pd.DataFrame:
    """(UPN, school) pairs as scored rows; each pupil's rating is its own (every third red, the next
    amber, the rest green), so an unchanged pupil is scored the same in every upload."""
    bands = scorer.matrix.bands
    place = [int(upn[-3:]) % 3 for upn, _ in pupils]
    return pd.DataFrame({
        "upn": [u for u, _ in pupils], "school_urn": [s for _, s in pupils],
        "probability": [0.9 - 0.3 * p for p in place],
        "likelihood_band": [(bands[0], bands[1], bands[-1])[p].label for p in place],
        "rag": [("red", "amber", "green")[p] for p in place],
    })  # fmt: skip


def _demo_upload() -> list[tuple[str, str]]:
    pupils, n = [], 0
    for i, count in enumerate(DEMO_COUNTS):
        for _ in range(count):
            pupils.append((f"P{n:03d}", f"3354{i:03d}"))
            n += 1
    return pupils


def _five(pupils: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One pupil at each of 5 schools, as the tester's file: two schools of 2, those of 4 and 3, one of 1."""
    first = {}
    for upn, school in pupils:
        first.setdefault(school, (upn, school))
    return [first[s] for s in ("3354003", "3354000", "3354004", "3354001", "3354011")]


def _by_change(recorded) -> dict[str, set[str]]:
    listed = recorded.changes["pupils"]
    return {c: {p["upn"] for p in listed if p["change"] == c} for c in {p["change"] for p in listed}}


def test_a_partial_upload_lists_no_pupil_of_the_census_as_no_longer_on_roll(store, scorer):
    census = _demo_upload()
    record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1")
    five = _five(census)
    recorded = record_census_scoring(store, _scores(scorer, five), scorer, YEAR, "key1")
    changes = recorded.changes
    assert LEAVER not in _by_change(recorded)
    assert changes["counts"][LEAVER] == 0 and recorded.listed_leavers == 0
    assert recorded.rows["change"].ne(LEAVER).all()  # nor in the workbook
    # each school of the upload that had pupils missing from it says why none is listed, naming no pupil
    missing = {s for u, s in census if s in {s for _, s in five} and (u, s) not in five}
    not_listed = {n["school_urn"]: n["reason"] for n in changes["leavers_not_listed"]}
    assert missing <= set(not_listed)
    assert all("not listed as no longer on roll" in reason for reason in not_listed.values())
    said = json.dumps(changes["leavers_not_listed"]) + recorded.summary
    assert not any(upn in said for upn, _ in census)
    assert "not listed" in recorded.summary


def test_the_census_after_a_partial_upload_is_compared_with_each_pupils_latest_scoring(store, scorer):
    census = _demo_upload()
    record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1")
    partial = record_census_scoring(store, _scores(scorer, _five(census)), scorer, YEAR, "key1")
    again = record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1")
    assert again.changes["since"]["id"] == partial.run["id"]  # the latest run sharing a school
    assert again.changes["pupils"] == []  # no pupil changed: none new red, none new on roll
    assert set(again.changes["counts"].values()) == {0}
    assert again.summary.startswith("0 new red since")
    # the 38 pupils not in the partial upload were compared with the census before it: the page's notes
    # (the JSON's) say so, as the workbook's summary does; they said nothing of it
    taken = "38 pupils of this upload were not in"
    assert taken in again.summary and any(taken in note for note in again.changes["notes"])
    # the page's workbook download re-sends the file with `since`: the same changes
    resent = record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1", record=False,
                                   since=partial.run["id"])  # fmt: skip
    assert resent.changes == {**again.changes}
    assert resent.summary == again.summary


def _school(urn: str, first: int, n: int) -> list[tuple[str, str]]:
    return [(f"S{urn}{i:03d}", urn) for i in range(first, first + n)]


def test_a_partial_upload_between_two_censuses_hides_no_change_of_a_large_school(store, scorer):
    """A school's 30 pupils, then 5 of them, then its census with 3 gone and 2 joined: the 3 are no
    longer on roll (from the school's latest scoring that held its census), only the 2 are new."""
    school = _school("104001", 0, 30)
    record_census_scoring(store, _scores(scorer, school), scorer, YEAR, "key1")
    partial = record_census_scoring(store, _scores(scorer, school[:5]), scorer, YEAR, "key1")
    assert partial.changes["counts"][LEAVER] == 0
    assert [n["school_urn"] for n in partial.changes["leavers_not_listed"]] == ["104001"]
    joined = _school("104001", 30, 2)
    census = school[:10] + school[13:] + joined
    recorded = record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1")
    got = _by_change(recorded)
    assert got[LEAVER] == {upn for upn, _ in school[10:13]}
    assert got.get(JOINER, set()) | got.get(NEW_RED, set()) == {upn for upn, _ in joined}
    assert recorded.changes["leavers_not_listed"] == []
    assert recorded.listed_leavers == 3


def test_a_leaver_is_listed_once(store, scorer):
    """Three censuses of a school: the pupil gone at the second is not listed again at the third."""
    school = _school("104001", 0, 30)
    record_census_scoring(store, _scores(scorer, school), scorer, YEAR, "key1")
    second = record_census_scoring(store, _scores(scorer, school[1:]), scorer, YEAR, "key1")
    third = record_census_scoring(store, _scores(scorer, school[1:]), scorer, YEAR, "key1")
    assert _by_change(second) == {LEAVER: {school[0][0]}}
    assert third.changes["pupils"] == [] and third.changes["leavers_not_listed"] == []


@pytest.mark.parametrize(("earlier", "now"), [(2, 1), (3, 2), (9, 8)])
def test_too_few_pupils_at_a_school_to_tell_its_census_from_part_of_it(store, scorer, earlier, now):
    school = _school("104001", 0, earlier)
    record_census_scoring(store, _scores(scorer, school), scorer, YEAR, "key1")
    recorded = record_census_scoring(store, _scores(scorer, school[:now]), scorer, YEAR, "key1")
    assert recorded.changes["counts"][LEAVER] == 0
    (note,) = recorded.changes["leavers_not_listed"]
    assert note["school_urn"] == "104001" and "fewer than 10 pupils" in note["reason"]


def test_the_schools_whose_leavers_are_not_listed_are_said_once_per_reason(store, scorer):
    """The page listed `leavers_not_listed` one line per school: 28 alike for the tester's 43 rows. The
    response now also says them grouped by reason, as the workbook and the console do (leaver_notes)."""
    census = [(f"P{s:02d}{i:02d}", f"3354{s:03d}") for s in range(28) for i in range(12)]  # 12 at each
    record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1")
    sample = [census[12 * s + i] for s in range(28) for i in range(1 + (s < 15))]  # 43 rows, 28 schools
    assert len(sample) == 43
    recorded = record_census_scoring(store, _scores(scorer, sample), scorer, YEAR, "key1")
    changes = recorded.changes
    assert len(changes["leavers_not_listed"]) == 28  # each school still named, for an API client
    (said,) = changes["leavers_not_listed_notes"]
    assert said.startswith("Pupils who are not in this upload are not listed as no longer on roll at 28 "
                           "schools (3354000, 3354001,")
    assert "and 18 more): this upload has fewer than two thirds of the pupils each school's latest" in said
    assert said in recorded.summary  # the workbook's words
    assert not any(upn in said for upn, _ in census)
