"""Features and labels at any reference census of the year (autumn, spring, summer): a hand-built
pupil whose right answers are worked out by hand, the people's names for the censuses, and the autumn
table held byte for byte to what it was before the reference census could be chosen."""

from __future__ import annotations

import hashlib

import pytest

from exclusion_risk import calendar
from exclusion_risk.features.build import build_feature_table

Q1, Q2 = "B100000000001", "B100000000002"
YEAR = "2016/17"  # census days: autumn 6 Oct 2016, spring 19 Jan 2017, summer 18 May 2017


def row(upn, year, term, school, **extra):
    return {"UPN": upn, "AcademicYear": year, "CensusTerm": term, "SchoolURN": school, "NCyearActual": "6",
            "Sex": "F", "Ethnicity": "WBRI", "FSMeligible": False, "SENprovision": "N", **extra}  # fmt: skip


CENSUS = [
    row(Q1, "2015/16", "AUT", "S0"),
    row(Q1, "2015/16", "SPR", "S1"),  # a move more than twelve months before the spring census
    row(Q1, "2015/16", "SUM", "S1"),
    row(Q1, YEAR, "AUT", "S1"),
    row(
        Q1,
        YEAR,
        "SPR",
        "S2",
        FSMeligible=True,
        SENprovision="E",
        SENtype="ASD",
        SessionsPossible=300,
        SessionsAuthorisedAbsence=20,
        SessionsUnauthorisedAbsence=10,
    ),  # fmt: skip
    row(Q1, YEAR, "SUM", "S3", SENprovision="K", SENtype="SEMH"),
    row(Q1, "2017/18", "AUT", "S3"),
    row(Q2, YEAR, "AUT", "S1"),  # left before the spring census
]
EXCLUSIONS = [
    {"upn": Q1, "Category": "SUSP", "StartDate": "2016-11-10", "Sessions": 1},  # autumn term
    {"upn": Q1, "Category": "SUSP", "StartDate": "2017-01-19", "Sessions": 1},  # on spring census day
    {"upn": Q1, "Category": "SUSP", "StartDate": "2017-03-01", "Sessions": 1},  # spring term, after it
    {"upn": Q1, "Category": "SUSP", "StartDate": "2017-06-01", "Sessions": 1},  # after the summer census
]
SOCIAL_CARE = [{"upn": Q1, "Status": "CIN", "StartDate": "2016-12-01", "EndDate": None, "Factors": None}]


@pytest.fixture(scope="module")
def history(make_history):
    return make_history(CENSUS, EXCLUSIONS, SOCIAL_CARE)


def _at(history, census):
    table = build_feature_table(history, [YEAR], label="repeat", outcomes_through=YEAR, census=census)
    return table.set_index("upn")


def test_autumn_reference_is_the_autumn_row_and_what_was_known_then(history):
    table = _at(history, calendar.AUTUMN)
    assert set(table.index) == {Q1, Q2}
    q1 = table.loc[Q1]
    assert (q1["SchoolURN"], q1["sen_provision"], q1["fsm"]) == ("S1", "N", 0.0)
    assert (q1["suspensions_this_year"], q1["cin_open"]) == (0.0, 0.0)
    assert (q1["school_moves_last_year"], q1["school_moves_earlier"]) == (1.0, 0.0)  # S0 -> S1 last spring
    assert (q1["label_any"], q1["label_repeat"]) == (1.0, 1.0)  # 19 Jan, 1 Mar, 1 Jun


def test_spring_reference_reads_the_spring_row_and_the_year_so_far(history):
    table = _at(history, calendar.SPRING)
    assert set(table.index) == {Q1}  # pupils on the spring census only
    q1 = table.loc[Q1]
    # the spring row itself, never the summer row (S3, SEN K)
    assert (q1["SchoolURN"], q1["sen_provision"], q1["sen_type"], q1["fsm"]) == ("S2", "E", "ASD", 1.0)
    assert q1["absence_rate_last_year"] == pytest.approx(0.1)  # the spring row's Sessions* columns
    assert q1["suspensions_this_year"] == 2.0  # 10 Nov and 19 Jan (census day counts as known)
    assert (q1["cin_open"], q1["cin_ever"]) == (1.0, 1.0)  # opened 1 Dec, before the spring census
    # the twelve months up to the spring census: S1 -> S2 this spring; S0 -> S1 last spring is earlier
    assert (q1["school_moves_last_year"], q1["school_moves_earlier"]) == (1.0, 1.0)
    # the label window runs from the day after the spring census to 31 August: 1 Mar and 1 Jun
    assert (q1["label_any"], q1["label_repeat"]) == (1.0, 1.0)


def test_summer_reference_reads_the_summer_row_and_later_outcomes_only(history):
    q1 = _at(history, calendar.SUMMER).loc[Q1]
    assert (q1["SchoolURN"], q1["sen_provision"]) == ("S3", "K")
    assert q1["suspensions_this_year"] == 3.0
    assert (q1["school_moves_last_year"], q1["school_moves_earlier"]) == (2.0, 1.0)  # S1->S2->S3 this year
    assert (q1["label_any"], q1["label_repeat"]) == (1.0, 0.0)  # 1 June only


def test_census_names_and_codes_are_read_and_anything_else_refused(history):
    assert calendar.CENSUS_NAMES == {"autumn": "AUT", "spring": "SPR", "summer": "SUM"}
    assert [calendar.parse_census(t) for t in ("autumn", " Spring ", "SUM", "aut")] == [
        "AUT",
        "SPR",
        "SUM",
        "AUT",
    ]
    assert calendar.census_name("SPR") == "spring"
    with pytest.raises(ValueError, match="autumn, spring, summer"):
        calendar.parse_census("winter")
    with pytest.raises(ValueError, match="autumn, spring, summer"):
        build_feature_table(history, [YEAR], census="WIN")
    spring = _at(history, "spring")  # the builder takes a name as well as a code
    assert spring.equals(_at(history, calendar.SPRING))


# sha256 of build_feature_table(random_history(800, YEARS, seed=5), YEARS).to_csv(index=False) as the
# builder wrote it before the reference census could be chosen (autumn only): the autumn table must not
# change by a byte, beside this year's attendance so far, added since and always missing at autumn.
AUTUMN_TABLE_SHA256 = "3cd02a799c43892d5fc842a9eb75b9b364570efbe05d36ee534fdf18e2bb47fe"


def test_the_autumn_table_is_byte_identical_to_the_autumn_only_builder(random_history):
    years = ["2014/15", "2015/16", "2016/17", "2017/18"]
    table = build_feature_table(random_history(800, years, seed=5), years)
    rates = ("absence_rate", "unauthorised_absence_rate", "persistent_absence")
    this_year = [f"{name}_this_year" for name in rates]
    assert table[this_year].isna().all().all()
    # pupil_upn, added since beside upn: the same here, where no pupil's census row has another UPN
    assert table["pupil_upn"].equals(table["upn"])
    table = table.drop(columns=[*this_year, "pupil_upn"])
    assert hashlib.sha256(table.to_csv(index=False).encode()).hexdigest() == AUTUMN_TABLE_SHA256
