"""The school's name travels with the feature table beside SchoolURN, for the officer's lists, and never
into a model: one name per school, the one most of that census's rows give it, blank where none does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.contract import SCHOOL_NAME
from exclusion_risk.features import registry
from exclusion_risk.features.build import KEY_COLUMNS, build_feature_table
from exclusion_risk.features.census_upload import build_features_for_census
from exclusion_risk.features.preprocess import make_preprocessor

P = [f"A10000000000{n}" for n in range(1, 8)]
ASH, ASH_LONG, OAK = "Ashfield Primary", "Ashfield Primary School", "Oakwood Academy"


def row(upn, year, term, school, name=None):
    return {"UPN": upn, "AcademicYear": year, "CensusTerm": term, "SchoolURN": school, "NCyearActual": "5",
            "Sex": "F", "Ethnicity": "WBRI", "FSMeligible": False, "SENprovision": "N", SCHOOL_NAME: name}


CENSUS = [
    row(P[0], "2015/16", "AUT", "S1", "Ashfield Infants"),  # an earlier census's name: not this year's
    row(P[0], "2016/17", "AUT", "S1", ASH),
    row(P[1], "2016/17", "AUT", "S1", f"  {ASH} "),
    row(P[2], "2016/17", "AUT", "S1", ASH_LONG),
    row(P[3], "2016/17", "AUT", "S1", None),  # blank on this pupil's row: the school's name still shows
    row(P[4], "2016/17", "AUT", "S2", OAK),
    row(P[5], "2016/17", "AUT", "S3", None),  # no row names S3
    row(P[5], "2016/17", "SPR", "S3", "Later Name School"),  # after census day: not read
    row(P[6], "2016/17", "AUT", "S4", "Beech Academy"),
    row(P[6], "2016/17", "AUT", "S4", "Birch Academy"),  # a dual row (first stands) still names S4: a tie
]


@pytest.fixture(scope="module")
def table(make_history) -> pd.DataFrame:
    return build_feature_table(make_history(CENSUS), ["2016/17"]).set_index("upn")


def test_the_name_sits_beside_the_urn_one_per_school(table):
    assert KEY_COLUMNS == ["upn", "pupil_upn", "AcademicYear", "SchoolURN", SCHOOL_NAME]
    assert list(table.reset_index().columns[:5]) == KEY_COLUMNS
    names = table[SCHOOL_NAME]
    # S1: two rows say "Ashfield Primary" (one padded), one the longer name: the most frequent wins
    assert names.loc[P[:4]].tolist() == [ASH] * 4
    assert names.loc[P[4]] == OAK
    assert pd.isna(names.loc[P[5]])  # unknown: blank, never another census's name
    assert names.loc[P[6]] == "Beech Academy"  # a tie: the first alphabetically


def test_the_name_is_never_a_model_input(table):
    assert SCHOOL_NAME not in {f.name for f in registry.FEATURES}
    with pytest.raises(ValueError, match="not registry features"):
        make_preprocessor([*registry.feature_names(), SCHOOL_NAME])
    names = registry.feature_names()
    fitted = make_preprocessor(names).fit(table)
    renamed = table.assign(**{SCHOOL_NAME: "Another Name"})
    np.testing.assert_array_equal(fitted.transform(table), fitted.transform(renamed))
    assert not any(SCHOOL_NAME in out for out in fitted.get_feature_names_out())


def test_a_history_without_names_gives_a_blank_column(make_history):
    unnamed = [{**r, SCHOOL_NAME: None} for r in CENSUS]
    built = build_feature_table(make_history(unnamed), ["2016/17"])
    assert SCHOOL_NAME in built.columns and built[SCHOOL_NAME].isna().all()


def test_an_uploaded_census_carries_its_names(census_frame, make_history):
    upload = census_frame([r for r in CENSUS if r["AcademicYear"] == "2016/17" and r["CensusTerm"] == "AUT"])
    scored = build_features_for_census(upload).set_index("upn")
    assert scored.loc[P[3], SCHOOL_NAME] == ASH and scored.loc[P[4], SCHOOL_NAME] == OAK
    # with the linked history: the upload's rows stand for their collection, the names included
    history = make_history([{**r, SCHOOL_NAME: "Old Name"} for r in CENSUS])
    scored = build_features_for_census(upload, history=history).set_index("upn")
    assert scored.loc[P[4], SCHOOL_NAME] == OAK
    assert scored.loc[P[0], SCHOOL_NAME] == ASH
