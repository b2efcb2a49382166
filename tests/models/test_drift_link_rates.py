"""Drift's link rates, like for like: a record counts as linked where its pupil was on a census by the
record's year, and the year checked needs enough records for its rate to be stated.

A tester's spring scoring warned "Fewer social-care records of 2019/20 are linked to a census pupil: 60.0%
against 89.2% ... features from that source will understate those children's risk", where every record
of a census pupil was linked: the reference years counted as linked the records of children first on a
census years later (social care before school age), and the year checked rested on 30 records."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk.models.drift_data import LINK_RATE_MIN_RECORDS, current_link_rates, link_counts


def _extracts(records: list[tuple[str, str]]) -> SimpleNamespace:
    social = pd.DataFrame(records, columns=["LAchildID", "StartDate"])
    return SimpleNamespace(exclusions=None, social_care=social)


def test_a_record_counts_as_linked_only_once_its_pupil_is_on_a_census():
    extracts = _extracts([("C1", "2015-06-01"), ("C2", "2017-11-01"), ("C3", "2015-07-01")])
    links = pd.DataFrame({"source": "social_care", "record_id": ["C1", "C2", "C3"], "upn": ["P", "P", "Q"]})
    census = pd.DataFrame({"UPN": ["P", "P", "Q"], "AcademicYear": ["2017/18", "2018/19", "2014/15"]})
    counts = link_counts(extracts, links, census).set_index("year")
    # 2014/15: C1 (P first on a census in 2017/18: not yet linkable) and C3 (Q on the 2014/15 census)
    assert counts.loc["2014/15", ["records", "linked"]].tolist() == [2, 1]
    assert counts.loc["2017/18", ["records", "linked"]].tolist() == [1, 1]
    as_before = link_counts(extracts, links).set_index("year")  # without the census: every link counts
    assert as_before.loc["2014/15", "linked"] == 2


def test_the_year_checked_needs_enough_records_for_its_rate():
    counts = pd.DataFrame({"source": ["social_care", "exclusions"], "year": ["2019/20", "2019/20"],
                           "records": [LINK_RATE_MIN_RECORDS - 20, LINK_RATE_MIN_RECORDS],
                           "linked": [18, 40]})  # fmt: skip
    rates = current_link_rates(counts, "2019/20")
    assert rates["social_care"] is None and rates["exclusions"] == 40 / LINK_RATE_MIN_RECORDS
