"""Looked-after children and children on a protection plan whom the linkage attached to no pupil: a
Virtual School Head read scores.html, the workbook and `score`'s console and nothing said that any such
child on roll is scored without that status (only the link report did). `score` now says how many."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk.models.score_notes import unlinked_status_episodes, unlinked_status_lines

CENSUS_DAY = "2018-10-04"  # the 2018/19 autumn census


def _episode(child: str, status: str = "CLA", start: str = "2018-01-01", end: str | None = None,
             dob: str | None = "2010-05-01") -> dict:
    return {"LAchildID": child, "Status": status, "StartDate": pd.Timestamp(start),
            "EndDate": pd.NaT if end is None else pd.Timestamp(end),
            "DOB": pd.NaT if dob is None else pd.Timestamp(dob)}


def _lines(episodes: list[dict], linked: list[str], exact: bool = True) -> list[str]:
    extracts = SimpleNamespace(social_care=pd.DataFrame(episodes))
    links = pd.DataFrame({"source": "social_care", "record_id": linked, "upn": "A1", "method": "upn"})
    return unlinked_status_lines(unlinked_status_episodes(extracts, links), "2018/19", "AUT", exact)


def test_unlinked_children_looked_after_or_on_a_plan_on_census_day_are_counted():
    episodes = [
        _episode("C1"),  # looked after, unlinked: counted
        _episode("C2", "CPP"),  # on a plan, unlinked: counted
        _episode("C2", "CPP", start="2017-01-01", end="2017-06-01"),  # the same child once: one child
        _episode("C3"),  # looked after, linked: not counted
        _episode("C4", end="2018-10-01"),  # left care before the census
        _episode("C5", "CIN"),  # a child in need: need level 2, not this note's
        _episode("C6", start="2018-11-01"),  # came into care after the census
        _episode("C7", dob="1995-01-01"),  # an adult care leaver
        _episode("C8", end=CENSUS_DAY, dob="2013-09-01"),  # the episode ends on the day: not open
    ]
    (line,) = _lines(episodes, ["C3"])
    assert line.startswith("2 children of school age (or with no date of birth) with an open looked-after "
                           f"episode or child protection plan on census day ({CENSUS_DAY}) are linked to "
                           "no pupil")
    assert "scored without that status, below need level 3" in line
    assert "looked after by another authority" in line
    assert _lines(episodes, ["C1", "C2", "C3"]) == []
    (one,) = _lines([_episode("C1")], [])
    assert one.startswith("1 child of school age") and " is linked to no pupil" in one
    # no date of birth (allowed by the contract, and likeliest not to link): perhaps of school age, counted
    (blank,) = _lines([_episode("C1", dob=None), _episode("C2", dob=None)], [])
    assert blank.startswith("2 children of school age (or with no date of birth)")
    # the page passed on: a count of 1-9 is not given
    (page,) = _lines(episodes, ["C3"], exact=False)
    assert page.startswith("Fewer than 10 children of school age") and "2 children" not in page
    many = [_episode(f"C{i}") for i in range(12)]
    assert _lines(many, [], exact=False)[0].startswith("12 children")

