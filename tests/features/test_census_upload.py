"""Scoring a census-shaped upload: census features from the rows, history features from a PupilHistory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from exclusion_risk.features import registry
from exclusion_risk.features.build import build_feature_table, build_features_for_census
from features_support import census_frame, history
from test_features_build import CENSUS, EXCLUSIONS, P1, P2, SOCIAL_CARE, census_row

FEATURES = [f.name for f in registry.FEATURES] + ["need_level"]


@pytest.fixture(scope="module")
def past():
    return history(CENSUS, EXCLUSIONS, SOCIAL_CARE)


def _upload(rows):
    frame = census_frame(rows)
    frame["Surname"], frame["Forename"], frame["DOB"] = "Smith", "Sam", pd.Timestamp("2006-01-01")
    return frame


def test_upload_with_history_matches_the_training_table(past):
    reference = [r for r in CENSUS if r["AcademicYear"] == "2016/17" and r["CensusTerm"] == "AUT"]
    scored = build_features_for_census(_upload(reference), history=past).set_index("upn")
    trained = build_feature_table(past, ["2016/17"]).set_index("upn")
    assert not {"label", "Surname", "Forename", "DOB"} & set(scored.columns)
    pd.testing.assert_frame_equal(scored.loc[trained.index, FEATURES], trained[FEATURES])


def test_upload_without_history_leaves_history_features_missing(past):
    rows = [r for r in CENSUS if r["UPN"] == P1 and r["AcademicYear"] == "2016/17"]
    scored = build_features_for_census(_upload(rows))
    assert len(scored) == 1 and scored.loc[0, "upn"] == P1
    assert scored.loc[0, "AcademicYear"] == "2016/17"  # the upload's latest year
    assert scored[registry.history_feature_names()].isna().all(axis=None)
    from_row = [f.name for f in registry.FEATURES if not f.needs_history]
    trained = build_feature_table(past, ["2016/17"]).set_index("upn").loc[[P1], from_row]
    pd.testing.assert_frame_equal(scored.set_index("upn")[from_row], trained)
    assert scored.loc[0, "need_level"] == 1  # SEN support; social care unknown without history


def test_new_pupil_and_changed_row_with_history(past):
    rows = [
        census_row(P2, "2016/17", "AUT", "S4", "7", FSMeligible=True),  # FSM now, unlike history's row
        census_row("B100000000009", "2016/17", "AUT", "S1", "9"),  # not in history
    ]
    scored = build_features_for_census(_upload(rows), history=past, reference_year="2016/17").set_index("upn")
    assert scored.loc[P2, "fsm"] == 1.0 and scored.loc[P2, "fsm_ever6"] == 1.0  # the upload's row stands
    new = scored.loc["B100000000009"]
    assert new["suspensions_last_year"] == 0 and new["cin_ever"] == 0 and new["school_moves_last_year"] == 0
    assert not np.isnan(new["school_suspension_rate"])


def test_reference_year_is_needed_when_rows_have_none():
    frame = _upload([census_row(P1, "2016/17", "AUT", "S2", "6")]).drop(columns=["AcademicYear"])
    with pytest.raises(ValueError, match="reference_year"):
        build_features_for_census(frame)
    scored = build_features_for_census(frame, reference_year="2016-17")
    assert scored["AcademicYear"].tolist() == ["2016/17"]


def test_upload_without_autumn_rows_of_the_year_is_refused():
    frame = _upload([census_row(P1, "2016/17", "SPR", "S2", "6")])
    with pytest.raises(ValueError, match="no autumn census rows"):
        build_features_for_census(frame)
    with pytest.raises(ValueError, match="no UPN column"):
        build_features_for_census(frame.drop(columns=["UPN"]))
