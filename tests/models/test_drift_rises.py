"""Drift warns on a flag or count that rises as on one that falls; says when a history feature's reference
years look back over fewer earlier years than the checked year (the extracts' first year, read from the
data); names what crossed the PSI warning level without being warned, and why; and drift.json carries the
decision-support notice.

Measured on the demo authority (2018/19 against 2016/17 + 2017/18, extracts from 2015/16): before, `no
drift warnings` although school moves before last year went from 0.6% to 2.4% of pupils and suspensions
before last year from 1.1% to 3.3%, and the school permanent-exclusion rate's PSI of 2.15 sat under the
same headline unexplained.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models.drift import Thresholds, compare, reference_profile
from exclusion_risk.models.drift_cli import write_report
from exclusion_risk.models.drift_lookback import CURRENT, WINDOWS, first_years, lengthened
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

FIRST = {"census": "2015/16", "exclusions": "2015/16", "social_care": "2015/16"}


def _cohort(year: str, share: float, n: int = 2000) -> pd.DataFrame:
    """`n` pupils, `share` of them with a suspension before last year and 10% with an open CIN episode."""
    return pd.DataFrame({
        "AcademicYear": year,
        "suspensions_earlier": (np.arange(n) < share * n).astype(float),
        "cin_open": (np.arange(n) % 10 == 0).astype(float),
    })  # fmt: skip


def test_a_flag_or_count_that_doubles_warns_as_one_that_halves_does():
    profile = reference_profile(_cohort("2016/17", 0.02), ["2016/17"])
    risen = compare(profile, _cohort("2018/19", 0.06), "2018/19", Thresholds())
    assert risen.warnings == [
        "Suspensions before last year (suspensions_earlier) is above zero for 6% in 2018/19 against 2% "
        "of pupils in 2016/17 (3.0 times: doubled or more): check the extract or its linking (records "
        "counted twice, wrong links)."
    ]
    assert next(r for r in risen.features if r["feature"] == "suspensions_earlier")["warning"]
    fallen = compare(profile, _cohort("2018/19", 0.009), "2018/19", Thresholds())
    assert len(fallen.warnings) == 1 and "halved or worse" in fallen.warnings[0]
    # Under the ratio either way: quiet; a thresholds file's prevalence_ratio moves both lines.
    assert compare(profile, _cohort("2018/19", 0.035), "2018/19", Thresholds()).warnings == []
    lenient = Thresholds(prevalence_ratio=4)
    assert compare(profile, _cohort("2018/19", 0.06), "2018/19", lenient).warnings == []


def test_a_rise_of_a_history_feature_whose_reference_years_look_back_less_far_says_so():
    profile = reference_profile(pd.concat([_cohort("2016/17", 0.01), _cohort("2017/18", 0.02)]),
                                ["2016/17", "2017/18"])  # fmt: skip
    report = compare(profile, _cohort("2018/19", 0.045), "2018/19", Thresholds(), first_years=FIRST)
    # 4.5% of 2,000 and 1.5% of 4,000 (3.0 times) as published: to 0.01, a place worth 10 pupils or more
    assert report.warnings == [
        "Suspensions before last year (suspensions_earlier) is above zero for 4% in 2018/19 against 2% "
        "of pupils in 2016/17, 2017/18 (2.0 times: doubled or more). The exclusion extracts start in "
        "2015/16, so the reference years look back over fewer years (2016/17 0 earlier years, 2017/18 1 "
        "earlier year) than 2018/19 (2 earlier years): the rise is at least in part the history "
        "lengthening, not the cohort changing, and the model learned from the shorter histories."
    ]
    assert report.lookback == [{"feature": "suspensions_earlier", "sources": ["exclusions"],
                                "first_year": "2015/16", "window_years": 17,
                                "reference_years_back": {"2016/17": 0, "2017/18": 1},
                                "current_years_back": 2}]  # fmt: skip  (cin_open: an episode open now)
    start = "Shorter look-back in the reference years: the exclusion extracts start in 2015/16"
    assert any(n.startswith(start) and n.endswith(": suspensions_earlier.") for n in report.notes)
    # Extracts that start long before the reference years: every year looks back as far; nothing said.
    early = {source: "1995/96" for source in FIRST}  # 21 years before 2016/17
    report = compare(profile, _cohort("2018/19", 0.045), "2018/19", Thresholds(), first_years=early)
    assert report.lookback == [] and report.notes == [] and "check the extract" in report.warnings[0]


def test_a_window_is_shortened_only_while_the_extracts_hold_fewer_years_than_it_spans():
    names = ["fsm_ever6", "school_moves_last_year", "suspensions_this_year", "cla_ever"]
    rows = {r["feature"]: r for r in lengthened(["2016/17", "2017/18"], "2018/19", FIRST, names)}
    assert set(rows) == {"fsm_ever6", "cla_ever"}  # last year's moves: one earlier year in each year
    assert rows["fsm_ever6"]["window_years"] == 5 and rows["fsm_ever6"]["current_years_back"] == 3
    later = lengthened(["2021/22", "2022/23"], "2023/24", FIRST, names)
    assert [r["feature"] for r in later] == ["cla_ever"]  # six years of FSM held in every year by then


def test_a_count_of_years_before_last_year_looks_back_one_year_less():
    """suspensions_earlier counts years before last year: with extracts from 2015/16 it holds nothing at
    2016/17, one year at 2017/18 and two at 2018/19 (the warning had said 1, 2 and 3)."""
    rows = {r["feature"]: r for r in lengthened(["2016/17", "2017/18"], "2018/19", FIRST,
                                                ["suspensions_earlier", "permanent_exclusions_prior"])}
    assert rows["suspensions_earlier"]["reference_years_back"] == {"2016/17": 0, "2017/18": 1}
    assert rows["suspensions_earlier"]["current_years_back"] == 2
    assert rows["permanent_exclusions_prior"]["reference_years_back"] == {"2016/17": 1, "2017/18": 2}


def test_every_history_feature_has_a_look_back_window_or_is_of_the_reference_year_only():
    assert set(WINDOWS) | CURRENT == set(registry.history_feature_names())
    assert not set(WINDOWS) & CURRENT


def test_the_extracts_first_years_are_read_from_the_data():
    extracts = SimpleNamespace(
        census=pd.DataFrame({"AcademicYear": ["2016/17", "2015/16", "2017/18"]}),
        exclusions=pd.DataFrame({"StartDate": pd.to_datetime(["2016-03-01", "2015-06-30"])}),
        # a window extract: an episode open at its start began in 2007, none closed before the window
        social_care=pd.DataFrame({"StartDate": pd.to_datetime(["2007-09-05", "2016-01-01"]),
                                  "EndDate": pd.to_datetime(["2017-02-01", "2015-10-01"])}),  # fmt: skip
    )
    assert first_years(extracts) == {"census": "2015/16", "exclusions": "2014/15", "social_care": "2015/16"}
    open_only = SimpleNamespace(census=None, exclusions=None,
                                social_care=pd.DataFrame({"StartDate": pd.to_datetime(["2012-10-01"]),
                                                          "EndDate": [pd.NaT]}))  # fmt: skip
    assert first_years(open_only) == {"social_care": "2012/13"}


def test_a_school_context_psi_over_the_warning_level_is_named_as_not_warned_with_why(tmp_path):
    reference = pd.DataFrame({"AcademicYear": "2016/17", "school_permanent_rate": np.repeat(
        np.linspace(0.0, 0.01, 10), 100)})  # fmt: skip
    cohort = pd.DataFrame({"school_permanent_rate": np.repeat(np.linspace(0.02, 0.03, 10), 100)})
    report = compare(reference_profile(reference, ["2016/17"]), cohort, "2018/19", Thresholds())
    assert report.warnings == []
    assert report.notes[0].startswith("Not warned: School's permanent exclusion rate (school_permanent_rate, "
                                      "population stability index ")  # fmt: skip
    assert "is at or above the warning level 0.25" in report.notes[0]
    assert "school_context_warns: false in models/drift.yaml" in report.notes[0]
    json_path, html_path = write_report(report, tmp_path)
    document = json.loads(json_path.read_text())
    assert document["notice"] == DECISION_SUPPORT_NOTICE and document["notes"] == report.notes
    html = html_path.read_text()
    assert "No drift warnings." in html and "Not warned: School&#39;s permanent exclusion rate" in html
    # Warned when the setting says so: then nothing is said to be not warned.
    loud = compare(reference_profile(reference, ["2016/17"]), cohort, "2018/19",
                   Thresholds(school_context_warns=True))  # fmt: skip
    assert loud.warnings and loud.notes == []
