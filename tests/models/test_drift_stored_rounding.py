"""A scoring's prevalence check against the profile `train` stored, whose shares are published rounded.

On a 3,000-pupil synthetic authority (seed 3) the stored profile held "mental health (social-care
assessment)" at 0.01 for 136 of 9,112 reference pupils (1.49%, rounded to the whole percent that 9,112
pupils allow); the scored year's 73 of 3,049 (2.39%, 1.6 times the reference) was warned as "2.0 times:
doubled or more". The check now takes the rounded reference as the interval it stands for.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from exclusion_risk.models import drift_data
from exclusion_risk.models.drift import Thresholds, compare, reference_profile
from exclusion_risk.models.drift_published import published_profile


def _year(year: str, flagged: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({"AcademicYear": year, "sc_mental_health": (np.arange(n) < flagged).astype(float)})


def _stored(monkeypatch, table: pd.DataFrame, years: list[str]) -> dict:
    """The profile as `score` reads it back from the train run (published, through JSON)."""
    text = json.dumps(published_profile(reference_profile(table, years)))
    monkeypatch.setattr(drift_data, "_profile_text", lambda _run: text)
    return drift_data.stored_profile("run")


def test_a_rise_under_double_is_not_warned_against_a_rounded_reference(monkeypatch):
    years = ["2015/16", "2016/17", "2017/18"]
    table = pd.concat([_year(y, flagged, 3_037) for y, flagged in zip(years, (45, 45, 46), strict=True)]
                      + [_year("2017/18", 0, 1)])  # 136 of 9,112  # fmt: skip
    profile = _stored(monkeypatch, table, years)
    assert profile["features"]["sc_mental_health"]["prevalence"] == 0.01  # 1.49% as published
    checked = compare(profile, _year("2018/19", 73, 3_049), "2018/19", Thresholds())
    assert checked.warnings == []  # 1.6 times: under the prevalence ratio of 2
    doubled = compare(profile, _year("2018/19", 100, 3_049), "2018/19", Thresholds())  # 3.3%: 2.2 times
    assert len(doubled.warnings) == 1 and "sc_mental_health" in doubled.warnings[0]
    # a fall must halve the least that 0.01 stands for (0.5%): 0.69% need not be half of the reference
    assert compare(profile, _year("2018/19", 21, 3_049), "2018/19", Thresholds()).warnings == []
    gone = compare(profile, _year("2018/19", 0, 3_049), "2018/19", Thresholds())  # a lost extract
    assert len(gone.warnings) == 1 and "none at all" in gone.warnings[0]
