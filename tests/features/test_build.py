"""Point-in-time feature values on a hand-built history whose right answers are worked out by hand:
the training table (`build_feature_table`) and a scored census upload (`build_features_for_census`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.features import registry
from exclusion_risk.features.build import SCHOOL_PRIOR_PUPILS, build_feature_table
from exclusion_risk.features.census_upload import build_features_for_census
from exclusion_risk.features.need import need_level

P1, P2, P3, P4, P5 = "A100000000001", "A100000000002", "A100000000003", "A100000000004", "A100000000005"


def census_row(upn, year, term, school, nc, **extra):
    return {"UPN": upn, "AcademicYear": year, "CensusTerm": term, "SchoolURN": school, "NCyearActual": nc,
            "Sex": "F", "Ethnicity": "WBRI", "FSMeligible": False, "SENprovision": "N", **extra}


CENSUS = [
    census_row(P1, "2015/16", "AUT", "S1", "5", SessionsPossible=300, SessionsAuthorisedAbsence=10,
               SessionsUnauthorisedAbsence=5),
    census_row(P1, "2015/16", "SPR", "S1", "5", FSMeligible=True),
    census_row(P1, "2015/16", "SUM", "S2", "5"),
    census_row(P1, "2016/17", "AUT", "S2", "6", Sex="M", SENprovision="K", SENtype="SEMH", Postcode="ws1 1aa",
               SessionsPossible=300, SessionsAuthorisedAbsence=20, SessionsUnauthorisedAbsence=10),
    # Later rows of the reference year: they must not reach 2016/17's features.
    census_row(P1, "2016/17", "SPR", "S3", "6", FSMeligible=True, SENprovision="E", SENtype="ASD"),
    census_row(P1, "2017/18", "AUT", "S3", "7", Sex="M", SENprovision="E", SENtype="ASD"),
    census_row(P2, "2015/16", "SUM", "S1", "6"),
    census_row(P2, "2016/17", "AUT", "S4", "7", Sex=None, Ethnicity="XXXX", LSOA="E01010365"),
    census_row(P3, "2016/17", "AUT", "S1", "R", SENprovision="E", SENtype="BESD"),
    census_row(P3, "2016/17", "AUT", "S5", "R"),  # dual registration: the first row stands
    census_row(P4, "2016/17", "AUT", "S1", "3", FSMeligible=True),
    census_row(P5, "2016/17", "AUT", "S1", "N2"),
]
EXCLUSIONS = [
    {"upn": P1, "Category": "SUSP", "StartDate": "2015-03-01", "Sessions": 4, "SchoolURN": "S1",
     "ReasonGroups": "physical_assault"},
    {"upn": P1, "Category": "SUSP", "StartDate": "2015-11-10", "Sessions": 2, "SchoolURN": "S1",
     "ReasonGroups": "verbal_abuse;damage"},
    {"upn": P1, "Category": "SUSP", "StartDate": "2016-09-20", "Sessions": 1, "SchoolURN": "S2",
     "ReasonGroups": "persistent_disruption"},
    {"upn": P1, "Category": "SUSP", "StartDate": "2016-10-06", "Sessions": 1, "SchoolURN": "S2",
     "ReasonGroups": "persistent_disruption"},  # on census day: known, so a feature, not an outcome
    {"upn": P1, "Category": "SUSP", "StartDate": "2016-10-07", "Sessions": 1, "SchoolURN": "S2",
     "ReasonGroups": "physical_assault"},
    {"upn": P1, "Category": "PERM", "StartDate": "2017-03-01", "SchoolURN": "S3", "ReasonGroups": "other"},
    {"upn": P1, "Category": "SUSP", "StartDate": "2017-06-01", "Sessions": 3, "SchoolURN": "S3",
     "ReasonGroups": "offensive_weapon"},
    # The extract's last record: it reaches July 2017, so 2016/17's outcomes are complete.
    {"upn": P1, "Category": "SUSP", "StartDate": "2017-07-03", "Sessions": 1, "SchoolURN": "S3",
     "ReasonGroups": "persistent_disruption"},
    {"upn": P3, "Category": "SUSP", "StartDate": "2016-10-03", "Sessions": 2, "SchoolURN": "S1",
     "ReasonGroups": "bullying"},
    # unlinked: no upn, so no pupil's feature or label
    {"upn": None, "Category": "SUSP", "StartDate": "2016-11-03", "Sessions": 2, "SchoolURN": "S1"},
]
SOCIAL_CARE = [
    {"upn": P1, "Status": "CIN", "StartDate": "2015-01-01", "EndDate": "2016-05-01", "Factors": "3A"},
    {"upn": P1, "Status": "CPP", "StartDate": "2016-06-01", "EndDate": "2016-12-01", "Factors": "4B;21"},
    {"upn": P1, "Status": "CLA", "StartDate": "2016-11-01", "EndDate": None, "Factors": "1A"},
    {"upn": P5, "Status": "CIN", "StartDate": "2016-10-06", "EndDate": None, "Factors": None},
]


@pytest.fixture(scope="module")
def table(make_history) -> pd.DataFrame:
    built = build_feature_table(make_history(CENSUS, EXCLUSIONS, SOCIAL_CARE), ["2016/17", "2017/18"])
    return built.set_index(["upn", "AcademicYear"])


def test_shape_columns_and_types(table):
    # keys first (the UPN on the census row, the pupil across years): the school's name (blank here, no
    # row gives one) is a label beside its URN
    keys = ["upn", "AcademicYear", "pupil_upn", "SchoolURN", "SchoolName"]  # upn and year: the index
    assert list(table.reset_index().columns[:5]) == keys
    assert table["SchoolName"].isna().all()
    for f in registry.FEATURES:
        assert f.name in table.columns
        if f.kind == "categorical":
            assert table[f.name].map(type).eq(str).all(), f.name
        else:
            assert table[f.name].dtype == "float64", f.name
    assert {"need_level", "label", "label_any", "label_permanent", "label_repeat"} <= set(table.columns)
    # one row per pupil on each autumn census; the dual registration counts once
    assert sorted(table.index) == sorted(
        [(P1, "2016/17"), (P2, "2016/17"), (P3, "2016/17"), (P4, "2016/17"), (P5, "2016/17"), (P1, "2017/18")]
    )
    assert table.loc[(P3, "2016/17"), "SchoolURN"] == "S1"
    assert not {"Surname", "Forename", "DOB"} & set(table.columns)


def test_census_attributes_come_from_the_autumn_row_only(table):
    p1 = table.loc[(P1, "2016/17")]
    assert p1["sex"] == "M" and p1["ethnicity_group"] == "White British" and p1["ethnicity_code"] == "WBRI"
    assert p1["nc_year"] == 6
    assert p1["fsm"] == 0.0  # the spring row of 2016/17 says FSM, but it is not known in October
    assert p1["fsm_ever6"] == 1.0  # spring 2015/16
    assert p1["sen_provision"] == "K" and p1["sen_type"] == "SEMH"
    assert p1["idaci_decile"] == 1.0  # WS1 1AA -> E01010368 -> IDACI decile 1
    assert p1["absence_rate_last_year"] == pytest.approx(0.10)
    assert p1["unauthorised_absence_rate_last_year"] == pytest.approx(10 / 300)
    assert p1["persistent_absence_last_year"] == 1.0
    later = table.loc[(P1, "2017/18")]
    assert later["sen_provision"] == "E" and later["sen_type"] == "ASD" and later["fsm_ever6"] == 1.0


def test_missing_values_stay_missing(table):
    p2 = table.loc[(P2, "2016/17")]
    assert np.isnan(p2["absence_rate_last_year"]) and np.isnan(p2["persistent_absence_last_year"])
    assert p2["sex"] == "unknown" and p2["ethnicity_group"] == "unknown" and p2["ethnicity_code"] == "unknown"
    assert p2["sen_type"] == "none"
    assert p2["idaci_decile"] == 2.0  # no postcode: the LSOA column E01010365 -> IDACI decile 2
    p3 = table.loc[(P3, "2016/17")]
    assert p3["sen_type"] == "SEMH" and p3["nc_year"] == 0  # BESD read as SEMH; Reception is 0
    assert table.loc[(P5, "2016/17"), "nc_year"] == -1


def test_school_moves_skip_phase_transfers(table):
    p1 = table.loc[(P1, "2016/17")]
    assert (p1["school_moves_last_year"], p1["school_moves_earlier"]) == (1.0, 0.0)  # S1 -> S2 in summer
    p1_later = table.loc[(P1, "2017/18")]  # S2 -> S3 in spring 2016/17; S1 -> S2 the year before
    assert (p1_later["school_moves_last_year"], p1_later["school_moves_earlier"]) == (1.0, 1.0)
    assert table.loc[(P2, "2016/17"), "school_moves_last_year"] == 0.0  # S1 -> S4 into Year 7


def test_exclusions_before_census_day_split_by_period(table):
    p1 = table.loc[(P1, "2016/17")]
    assert p1["suspensions_this_year"] == 2  # 20 Sep and census day itself
    assert p1["suspensions_last_year"] == 1 and p1["suspension_sessions_last_year"] == 2
    assert p1["suspensions_earlier"] == 1 and p1["suspension_sessions_earlier"] == 4
    assert p1["permanent_exclusions_prior"] == 0
    assert [p1[n] for n in registry.REASON_FEATURES] == [1.0, 1.0, 1.0, 1.0]
    p1_later = table.loc[(P1, "2017/18")]
    assert p1_later["suspensions_this_year"] == 0
    # 20 Sep, census day, 7 Oct, 1 Jun and 3 Jul: 1 + 1 + 1 + 3 + 1 sessions
    assert p1_later["suspensions_last_year"] == 5 and p1_later["suspension_sessions_last_year"] == 7
    assert p1_later["suspensions_earlier"] == 2 and p1_later["permanent_exclusions_prior"] == 1
    p3 = table.loc[(P3, "2016/17")]
    assert p3["suspensions_this_year"] == 1 and p3["reason_other"] == 1 and p3["reason_disruption"] == 0


def test_social_care_ever_and_open_at_census_day(table):
    p1 = table.loc[(P1, "2016/17")]
    assert (p1["cin_ever"], p1["cin_open"]) == (1.0, 0.0)
    assert (p1["cpp_ever"], p1["cpp_open"]) == (1.0, 1.0)
    assert (p1["cla_ever"], p1["cla_open"]) == (0.0, 0.0)  # starts after census day
    assert (p1["sc_domestic_abuse"], p1["sc_mental_health"], p1["sc_substance_misuse"]) == (1.0, 1.0, 0.0)
    p1_later = table.loc[(P1, "2017/18")]
    assert (p1_later["cpp_open"], p1_later["cla_open"], p1_later["sc_substance_misuse"]) == (0.0, 1.0, 1.0)
    assert table.loc[(P5, "2016/17"), "cin_open"] == 1.0  # starts on census day


def test_need_levels(table):
    assert table.loc[(P1, "2016/17"), "need_level"] == 3  # child protection plan open
    assert table.loc[(P1, "2017/18"), "need_level"] == 3  # looked after
    assert table.loc[(P2, "2016/17"), "need_level"] == 0
    assert table.loc[(P3, "2016/17"), "need_level"] == 2  # EHC plan
    assert table.loc[(P4, "2016/17"), "need_level"] == 1  # free school meals
    assert table.loc[(P5, "2016/17"), "need_level"] == 2  # child in need
    frame = pd.DataFrame({"sen_provision": ["K", "N", "E"], "fsm": [0.0, np.nan, 0.0]})
    assert need_level(frame).tolist() == [1, 0, 2]
    # a scoring record: strings, None, columns absent
    record = pd.DataFrame([{"fsm": "0", "cla_open": "1"}, {"fsm": "1", "sen_provision": None}])
    assert need_level(record).tolist() == [3, 1]


def test_labels_after_census_day_and_incomplete_years(table):
    p1 = table.loc[(P1, "2016/17")]
    assert (p1["label_any"], p1["label_permanent"], p1["label_repeat"]) == (1.0, 1.0, 1.0)
    assert p1["label"] == p1["label_any"]
    # P3's only suspension is before census day: a feature, not an outcome
    assert table.loc[(P3, "2016/17"), "label_any"] == 0.0
    # the data end at the 2017/18 autumn census, so 2017/18 outcomes are unknown, not "no exclusion"
    assert table.loc[(P1, "2017/18"), ["label", "label_any", "label_permanent", "label_repeat"]].isna().all()


def test_label_options_and_explicit_outcome_year(make_history):
    h = make_history(CENSUS, EXCLUSIONS, SOCIAL_CARE)
    repeat = build_feature_table(h, ["2016/17"], label="repeat").set_index("upn")
    assert repeat.loc[P1, "label"] == 1.0 and repeat.loc[P3, "label"] == 0.0
    none_complete = build_feature_table(h, ["2016/17"], outcomes_through="2015/16")
    assert none_complete["label"].isna().all()
    with pytest.raises(ValueError, match="label must be one of"):
        build_feature_table(h, ["2016/17"], label="suspended")


def _school_history(make_history, extra_events_in_2016=0):
    census = []
    for year in ("2015/16", "2016/17", "2017/18"):
        census += [census_row(f"A20000000{n:04d}", year, "AUT", "BIG", "8") for n in range(400)]
        census += [census_row(f"A30000000{n:04d}", year, "AUT", "SMALL", "3") for n in range(20)]
    census.append(census_row("A400000000001", "2016/17", "AUT", "NEW", "4"))
    def event(upn, school, day, category="SUSP"):
        return {"upn": upn, "Category": category, "StartDate": day, "SchoolURN": school}

    events = [event(f"A20000000{n:04d}", "BIG", "2015-12-01") for n in range(40)]
    events += [event(f"A30000000{n:04d}", "SMALL", "2016-01-11") for n in range(10)]
    events += [event("A300000000000", "SMALL", "2016-02-01", "PERM")]
    events += [event(f"A20000000{n:04d}", "BIG", "2017-01-10") for n in range(extra_events_in_2016)]
    return make_history(census, events)


def test_school_rates_use_earlier_years_shrunk_to_the_authority(make_history):
    history = _school_history(make_history)
    table = build_feature_table(history, ["2015/16", "2016/17"]).set_index(["upn", "AcademicYear"])
    first_year = table.xs("2015/16", level="AcademicYear")
    assert first_year["school_suspension_rate"].isna().all()  # nothing known before the first year
    authority = 50 / 420
    k = SCHOOL_PRIOR_PUPILS
    big = table.loc[("A200000000001", "2016/17"), "school_suspension_rate"]
    small = table.loc[("A300000000001", "2016/17"), "school_suspension_rate"]
    assert big == pytest.approx((40 + k * authority) / (400 + k))
    assert small == pytest.approx((10 + k * authority) / (20 + k))
    assert 10 / 20 > small > authority  # a small school's raw rate is pulled toward the authority
    assert table.loc[("A400000000001", "2016/17"), "school_suspension_rate"] == pytest.approx(authority)
    assert table.loc[("A300000000001", "2016/17"), "school_permanent_rate"] == pytest.approx(
        (1 + k * 1 / 420) / (20 + k)
    )


def test_school_rate_ignores_the_reference_years_events(make_history):
    years = ["2016/17", "2017/18"]
    quiet = build_feature_table(_school_history(make_history, 0), years).set_index(["upn", "AcademicYear"])
    busy = build_feature_table(_school_history(make_history, 200), years).set_index(["upn", "AcademicYear"])
    pupil = "A200000000001"
    assert quiet.loc[(pupil, "2016/17"), "school_suspension_rate"] == busy.loc[
        (pupil, "2016/17"), "school_suspension_rate"
    ]
    assert busy.loc[(pupil, "2017/18"), "school_suspension_rate"] > quiet.loc[
        (pupil, "2017/18"), "school_suspension_rate"
    ]


def test_empty_years_give_an_empty_table_with_all_columns(make_history):
    built = build_feature_table(make_history(CENSUS, EXCLUSIONS, SOCIAL_CARE), ["2019/20"])
    assert built.empty
    assert {f.name for f in registry.FEATURES} | {"upn", "need_level", "label"} <= set(built.columns)


# --- a census upload: census features from its rows, history features from a PupilHistory ---

FEATURES = [f.name for f in registry.FEATURES] + ["need_level"]


@pytest.fixture(scope="module")
def past(make_history):
    return make_history(CENSUS, EXCLUSIONS, SOCIAL_CARE)


def test_upload_with_history_matches_the_training_table(past, upload):
    reference = [r for r in CENSUS if r["AcademicYear"] == "2016/17" and r["CensusTerm"] == "AUT"]
    scored = build_features_for_census(upload(reference), history=past).set_index("upn")
    trained = build_feature_table(past, ["2016/17"]).set_index("upn")
    assert not {"label", "Surname", "Forename", "DOB"} & set(scored.columns)
    pd.testing.assert_frame_equal(scored.loc[trained.index, FEATURES], trained[FEATURES])


def test_upload_without_history_leaves_history_features_missing(past, upload):
    rows = [r for r in CENSUS if r["UPN"] == P1 and r["AcademicYear"] == "2016/17"]
    scored = build_features_for_census(upload(rows))
    assert len(scored) == 1 and scored.loc[0, "upn"] == P1
    assert scored.loc[0, "AcademicYear"] == "2016/17"  # the upload's latest year
    assert scored[registry.history_feature_names()].isna().all(axis=None)
    from_row = [f.name for f in registry.FEATURES if not f.needs_history]
    trained = build_feature_table(past, ["2016/17"]).set_index("upn").loc[[P1], from_row]
    pd.testing.assert_frame_equal(scored.set_index("upn")[from_row], trained)
    assert scored.loc[0, "need_level"] == 1  # SEN support; social care unknown without history


def test_new_pupil_and_changed_row_with_history(past, upload):
    rows = [
        census_row(P2, "2016/17", "AUT", "S4", "7", FSMeligible=True),  # FSM now, unlike history's row
        census_row("B100000000009", "2016/17", "AUT", "S1", "9"),  # not in history
    ]
    scored = build_features_for_census(upload(rows), history=past, reference_year="2016/17").set_index("upn")
    assert scored.loc[P2, "fsm"] == 1.0 and scored.loc[P2, "fsm_ever6"] == 1.0  # the upload's row stands
    new = scored.loc["B100000000009"]
    assert new["suspensions_last_year"] == 0 and new["cin_ever"] == 0 and new["school_moves_last_year"] == 0
    assert not np.isnan(new["school_suspension_rate"])


def test_reference_year_is_needed_when_rows_have_none(upload):
    frame = upload([census_row(P1, "2016/17", "AUT", "S2", "6")]).drop(columns=["AcademicYear"])
    with pytest.raises(ValueError, match="reference_year"):
        build_features_for_census(frame)
    scored = build_features_for_census(frame, reference_year="2016-17")
    assert scored["AcademicYear"].tolist() == ["2016/17"]


def test_upload_without_autumn_rows_of_the_year_is_refused(upload):
    frame = upload([census_row(P1, "2016/17", "SPR", "S2", "6")])
    with pytest.raises(ValueError, match="no autumn census rows"):
        build_features_for_census(frame)
    with pytest.raises(ValueError, match="no UPN column"):
        build_features_for_census(frame.drop(columns=["UPN"]))


def test_a_spring_upload_takes_attendance_so_far_from_the_history(make_history, upload):
    """A school's census export has no termly attendance: the history's row of the same collection
    gives this year's attendance so far, as the training table has it; without history it is missing."""
    so_far = {"SessionsPossibleToDate": 140, "SessionsAuthorisedToDate": 7, "SessionsUnauthorisedToDate": 7}
    past = make_history([census_row(P1, "2016/17", "AUT", "S2", "6"),
                         census_row(P1, "2016/17", "SPR", "S2", "6", **so_far)])  # fmt: skip
    uploaded = upload([census_row(P1, "2016/17", "SPR", "S2", "6")])
    scored = build_features_for_census(uploaded, history=past, census="SPR").iloc[0]
    trained = build_feature_table(past, ["2016/17"], census="SPR").iloc[0]
    assert scored["absence_rate_this_year"] == pytest.approx(0.1) == trained["absence_rate_this_year"]
    assert scored["unauthorised_absence_rate_this_year"] == pytest.approx(0.05)
    assert scored["persistent_absence_this_year"] == 1.0
    alone = build_features_for_census(uploaded, census="SPR").iloc[0]
    assert np.isnan(alone["absence_rate_this_year"]) and np.isnan(alone["persistent_absence_this_year"])


def test_a_census_newer_than_the_exclusions_extract_leaves_the_year_unknown(make_history):
    """An authority adds its 2018/19 census but keeps an exclusions extract that ends in July 2017:
    2017/18's outcomes are not in the data, so its labels are unknown, never every pupil a "no" (the
    census's reach alone made 2017/18 complete, and `evaluate` read its top 5% as 0% excluded)."""
    census = [census_row(f"A20000000{n:04d}", year, "AUT", "S1", "8")
              for year in ("2016/17", "2017/18", "2018/19") for n in range(30)]  # fmt: skip
    events = [{"upn": f"A20000000{n:04d}", "Category": "SUSP", "StartDate": day, "SchoolURN": "S1"}
              for n, day in ((1, "2016-11-10"), (2, "2017-03-01"), (3, "2017-07-05"))]  # fmt: skip
    table = build_feature_table(make_history(census, events), ["2016/17", "2017/18"])
    by_year = table.groupby("AcademicYear")["label"]
    assert by_year.count().to_dict() == {"2016/17": 30, "2017/18": 0}
    assert by_year.sum()["2016/17"] == 3


def test_a_history_with_no_exclusion_linked_has_no_complete_year(make_history):
    """Links that attach social care but no exclusion: the census's reach had made every year up to the
    newest census complete, with every pupil a "no". Without an exclusion, no year's outcomes are known."""
    census = [census_row(f"A20000000{n:04d}", year, "AUT", "S1", "8")
              for year in ("2016/17", "2017/18") for n in range(30)]  # fmt: skip
    table = build_feature_table(make_history(census, []), ["2016/17"])
    assert len(table) == 30 and table["label"].isna().all()
