"""Standardisation, deterministic stages and the one-to-one assignment on small hand-made frames."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.upn import make_upn
from linkage.assign import assign
from linkage.names import forename_group
from linkage.settings import LinkageSettings, Thresholds
from linkage.stages import name_dob_stage, upn_stage
from linkage.standardise import (
    census_pupil_ids,
    clean_name,
    dob_fields,
    standardise,
    surname_variants,
    unify_sex,
)


def test_names_casefolded_accents_and_punctuation_stripped():
    out = clean_name(pd.Series(["  José ", "O'Brien", "ZOË", "Łukasz", None, "--"], dtype="string"))
    assert out.tolist()[:4] == ["jose", "obrien", "zoe", "lukasz"]
    assert out.isna().tolist()[4:] == [True, True]


def test_multi_part_and_hyphenated_surnames_split():
    assert surname_variants("Smith-Jones") == ["smithjones", "smith", "jones"]
    assert surname_variants("van der Berg") == ["vanderberg", "van", "der", "berg"]
    assert surname_variants("Khan") == ["khan"]


def test_forename_variants_and_nicknames_grouped():
    assert {forename_group(n) for n in ("mohammed", "muhammad", "mohamed", "mohammad", "muhammed")} == {
        "muhammad"
    }
    assert forename_group("bill") == forename_group("william")
    assert forename_group("grace") == "grace"
    assert forename_group("amelia") != forename_group("emily")


def test_sex_codes_unified():
    assert unify_sex(pd.Series(["M", "f", "1", "2", "0", "9", None])).tolist()[:4] == ["M", "F", "M", "F"]
    assert unify_sex(pd.Series(["0", "9"])).isna().all()


def test_dob_parsed_and_transposition_only_when_valid():
    out = dob_fields(pd.Series(["2010-03-07", "07/03/2010", "2010-03-25", "2010-05-05", "not a date"]))
    assert out["dob"].tolist()[:2] == ["2010-03-07", "2010-03-07"]
    assert out["dob_swap"].tolist()[0] == "2010-07-03"
    assert out["dob_swap"].isna().tolist()[2:] == [True, True, True]


def test_invalid_upn_not_trusted_in_variants():
    good = make_upn(335, 1234, 12, 5)
    bad = ("A" if good[0] != "A" else "B") + good[1:]
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "UPN": [good, bad],
            "Forename": ["Ann", "Bob"],
            "Surname": ["Lee", "Lee"],
            "DOB": pd.to_datetime(["2010-01-01", "2010-01-02"]),
        }
    )
    v = standardise(frame, "id")
    assert v.set_index("eid")["upn"].to_dict()["a"] == good
    assert pd.isna(v.set_index("eid")["upn"].to_dict()["b"])


def test_temporary_upn_resolves_to_the_permanent_one():
    temp, perm = make_upn(335, 1, 12, 1)[:-1] + "A", make_upn(335, 1, 12, 2)
    census = pd.DataFrame({"UPN": [temp, perm, perm], "FormerUPN": [None, temp, temp]})
    assert census_pupil_ids(census).tolist() == [perm, perm, perm]


def _variants(rows, id_col):
    return standardise(pd.DataFrame(rows), id_col, upn_columns=("UPN",))


def test_name_dob_stage_requires_a_unique_key_on_both_sides():
    census = _variants(
        [
            {"UPN": "P1", "Forename": "Ann", "Surname": "Lee", "DOB": "2010-01-01"},
            {"UPN": "P2", "Forename": "Ann", "Surname": "Lee", "DOB": "2010-01-01"},  # same key: not unique
            {"UPN": "P3", "Forename": "Bill", "Surname": "Ray", "DOB": "2011-02-02"},
        ],
        "UPN",
    )
    source = _variants(
        [
            {"id": "S1", "Forename": "Ann", "Surname": "Lee", "DOB": "2010-01-01"},
            {"id": "S2", "Forename": "William", "Surname": "Ray", "DOB": "2011-02-02"},
            {"id": "S3", "Forename": "William", "Surname": "Ray", "DOB": "2011-02-02"},
        ],
        "id",
    )
    assert name_dob_stage(source, census, unique_source=False).set_index("eid_l")["eid_r"].to_dict() == {
        "S2": "P3",
        "S3": "P3",
    }
    assert name_dob_stage(source, census, unique_source=True).empty


def test_upn_stage_vetoes_a_sibling_upn_but_keeps_a_slip():
    upn = make_upn(335, 7, 12, 3)
    census = _variants([{"UPN": upn, "Forename": "Daniel", "Surname": "Ray", "DOB": "2010-06-01"}], "UPN")
    source = _variants(
        [
            {"id": "slip", "UPN": upn, "Forename": "Danial", "Surname": "Ray", "DOB": "2010-06-07"},
            {"id": "sibling", "UPN": upn, "Forename": "Chloe", "Surname": "Ray", "DOB": "2013-09-30"},
            {"id": "blank", "UPN": upn},
        ],
        "id",
    )
    linked = set(upn_stage(source, census, LinkageSettings())["eid_l"])
    assert linked == {"slip", "blank"}


def _cands(rows):
    cols = [
        "eid_l",
        "eid_r",
        "match_probability",
        "match_weight",
        "gamma_forename",
        "gamma_surname",
        "gamma_dob",
    ]
    return pd.DataFrame(rows, columns=cols)


def test_one_to_one_gives_a_pupil_to_one_child_only():
    cands = _cands(
        [
            ("c1", "p1", 0.999, 12.0, 3, 3, 3),
            ("c2", "p1", 0.99, 9.0, 3, 3, 2),
            ("c2", "p2", 0.2, -2.0, 1, 0, 3),
        ]
    )
    out = assign(cands, Thresholds(), one_to_one=True).set_index("eid_l")
    assert out.loc["c1", "band"] == "accept" and out.loc["c1", "eid_r"] == "p1"
    assert out.loc["c2", "band"] == "reject"
    many = assign(cands, Thresholds(), one_to_one=False).set_index("eid_l")
    assert many.loc["c2", "eid_r"] == "p1" and many.loc["c2", "band"] == "accept"


def test_two_equal_candidates_are_not_accepted():
    cands = _cands([("c1", "p1", 0.999, 12.0, 3, 3, 3), ("c1", "p2", 0.999, 12.0, 3, 3, 3)])
    out = assign(cands, Thresholds(), one_to_one=True)
    assert out["band"].tolist() == ["review"]


def test_twin_pattern_goes_to_review_when_the_census_has_a_twin():
    cands = _cands([("c1", "p1", 0.9999, 14.0, 0, 3, 3)])
    assert assign(cands, Thresholds(), one_to_one=True, twins={"p1", "p2"})["band"].tolist() == ["review"]
    assert assign(cands, Thresholds(), one_to_one=True)["band"].tolist() == ["accept"]
