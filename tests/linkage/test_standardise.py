"""Standardisation, deterministic stages and the one-to-one assignment on small hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from exclusion_risk.linkage.assign import assign
from exclusion_risk.linkage.names import forename_group
from exclusion_risk.linkage.pipeline import census_variants
from exclusion_risk.linkage.settings import LinkageSettings, Thresholds
from exclusion_risk.linkage.stages import name_dob_stage, upn_stage
from exclusion_risk.linkage.standardise import (
    census_pupil_ids,
    clean_name,
    dob_fields,
    standardise,
    surname_variants,
    unify_sex,
)
from exclusion_risk.upn import check_letter, make_upn


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


def test_upns_naming_each_other_as_former_upn_are_one_pupil():
    # A row "A, FormerUPN B" and a row "B, FormerUPN A" (a correction keyed the wrong way round) each
    # say the two UPNs are one pupil. Following the links from each end gave A's rows the id B and B's
    # rows the id A: one pupil split in two, the ids swapped.
    a, b = make_upn(335, 1, 12, 1), make_upn(335, 1, 12, 2)
    census = pd.DataFrame({"UPN": [a, b, a], "FormerUPN": [b, a, None]})
    ids = census_pupil_ids(census).tolist()
    assert len(set(ids)) == 1 and ids[0] in (a, b)
    # three UPNs in a ring, and a fourth whose newer UPN is on the ring: all one pupil
    c, d = make_upn(335, 1, 12, 3), make_upn(335, 1, 12, 4)
    ring = pd.DataFrame({"UPN": [a, b, c, d], "FormerUPN": [c, a, b, None]})
    ring.loc[len(ring)] = {"UPN": a, "FormerUPN": d}
    assert census_pupil_ids(ring).nunique() == 1
    # and the same pupil's id whatever the rows' order
    assert census_pupil_ids(census.iloc[::-1]).iloc[0] == ids[0]


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


def test_upn_stage_vetoes_a_co_twin_upn_but_not_a_namesake_key():
    twin_a, twin_b = make_upn(335, 7, 12, 4), make_upn(335, 7, 12, 5)
    olivia_a, olivia_b = make_upn(335, 7, 12, 6), make_upn(335, 7, 12, 7)
    census = _variants(
        [
            {"UPN": twin_a, "Forename": "Grace", "Surname": "Okonjo", "DOB": "2006-05-14"},
            {"UPN": twin_b, "Forename": "Gracie", "Surname": "Okonjo", "DOB": "2006-05-14"},
            {"UPN": olivia_a, "Forename": "Olivia", "Surname": "Hill", "DOB": "2012-11-30"},
            {"UPN": olivia_b, "Forename": "Olivia", "Surname": "Hill", "DOB": "2012-10-30"},
        ],
        "UPN",
    )
    source = _variants(
        [
            # Gracie's record under her co-twin Grace's UPN: her own key says Gracie, a twin.
            {"id": "co_twin", "UPN": twin_a, "Forename": "Gracie", "Surname": "Okonjo", "DOB": "2006-05-14"},
            # Olivia A's UPN with a one-digit DOB slip that happens to be Olivia B's exact key:
            # the two are not twins (different DOB), so the UPN stands.
            {"id": "namesake", "UPN": olivia_a, "Forename": "Olivia", "Surname": "Hill", "DOB": "2012-10-30"},
        ],
        "id",
    )
    linked = upn_stage(source, census, LinkageSettings()).set_index("eid_l")["eid_r"].to_dict()
    assert linked == {"namesake": olivia_a}


def test_spelling_variants_and_swaps_through_forename_groups():
    import numpy as np

    from exclusion_risk.linkage.engines.recordlinkage_engine import RecordLinkageEngine

    def frame(rows):
        return _variants(
            [{"id": f"r{i}", "DOB": "2009-07-25", **r} for i, r in enumerate(rows)], "id"
        ).reset_index(drop=True)

    source = frame(
        [
            {"Forename": "Tasneem", "Surname": "Uddin"},  # transliteration: JW 0.91, same Soundex
            {"Forename": "Udin", "Surname": "Tasneem"},  # swapped, both transliterated
            {"Forename": "Smith", "Surname": "Billy"},  # swapped, one side a nickname
            {"Forename": "Kayley", "Surname": "Uddin"},  # JW 0.89 but another Soundex code: low only
        ]
    )
    census = frame(
        [
            {"Forename": "Tasnim", "Surname": "Uddin"},
            {"Forename": "Tasnim", "Surname": "Uddin"},
            {"Forename": "William", "Surname": "Smith"},
            {"Forename": "Kayleigh", "Surname": "Uddin"},
        ]
    )
    pairs = pd.MultiIndex.from_arrays([np.arange(4), np.arange(4)])
    g = RecordLinkageEngine(LinkageSettings(comparisons={"extra": []})).compare(pairs, source, census)
    assert g["gamma_forename"].tolist() == [2, 2, 3, 1]
    assert g["gamma_surname"].tolist() == [3, 2, 3, 3]


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
            ("c1", "p1", 0.999, 12.0, 3, 3, 4),
            ("c2", "p1", 0.99, 9.0, 3, 3, 2),
            ("c2", "p2", 0.2, -2.0, 1, 0, 4),
        ]
    )
    out = assign(cands, Thresholds(), one_to_one=True).set_index("eid_l")
    assert out.loc["c1", "band"] == "accept" and out.loc["c1", "eid_r"] == "p1"
    # c2's pupil is c1's: never linked, but offered for review with that pupil (two records of one child,
    # or another child), where it was rejected at 0.99 without a word of why
    assert (out.loc["c2", "band"], out.loc["c2", "eid_r"]) == ("review", "p1")
    many = assign(cands, Thresholds(), one_to_one=False).set_index("eid_l")
    assert many.loc["c2", "eid_r"] == "p1" and many.loc["c2", "band"] == "accept"
    # a pupil an earlier stage linked to another child record (a duplicate record of one child linked by
    # UPN): each record whose best pupil that is goes to review, never accepted; a weak one is rejected
    taken = assign(cands, Thresholds(), one_to_one=True, unavailable={"p1"}).set_index("eid_l")
    assert taken["band"].to_dict() == {"c1": "review", "c2": "review"} and set(taken["eid_r"]) == {"p1"}
    weak = _cands([("c3", "p1", 0.3, -1.0, 1, 3, 4)])
    assert assign(weak, Thresholds(), one_to_one=True, unavailable={"p1"})["band"].tolist() == ["reject"]


def test_two_equal_candidates_are_not_accepted():
    cands = _cands([("c1", "p1", 0.999, 12.0, 3, 3, 4), ("c1", "p2", 0.999, 12.0, 3, 3, 4)])
    out = assign(cands, Thresholds(), one_to_one=True)
    assert out["band"].tolist() == ["review"]


def test_twin_pattern_goes_to_review_when_the_census_has_a_twin():
    cands = _cands([("c1", "p1", 0.9999, 14.0, 0, 3, 4)])
    assert assign(cands, Thresholds(), one_to_one=True, twins={"p1", "p2"})["band"].tolist() == ["review"]
    assert assign(cands, Thresholds(), one_to_one=True)["band"].tolist() == ["accept"]


def test_extra_comparisons_are_carried_and_validated():
    import pytest
    from pydantic import ValidationError

    from exclusion_risk.linkage.settings import (
        BlockingRule,
        ExtraComparison,
        active_comparisons,
        comparison_levels,
    )

    extra = [ExtraComparison(name="street", column="Street", kind="jaro_winkler")]
    settings = LinkageSettings(
        comparisons={"extra": extra}, blocking=[BlockingRule(columns=["x_street", "birth_year"])]
    )
    assert active_comparisons(settings)[-1] == "street" and comparison_levels(settings)["street"] == 4
    # The default compares the recording school (exact), which social care lacks.
    assert comparison_levels(LinkageSettings())["school"] == 2
    with pytest.raises(ValidationError):
        LinkageSettings(blocking=[BlockingRule(columns=["x_street"])])  # no such extra comparison
    with pytest.raises(ValidationError):
        ExtraComparison(name="surname", column="Surname")  # clashes with a standard comparison
    frame = pd.DataFrame(
        {"id": ["a", "b"], "Forename": ["Ann", "Bo"], "Surname": ["Lee", "Lee"], "Street": [" High  ST", ""]}
    )
    v = standardise(frame, "id", extra_columns={"x_street": "Street"}).set_index("eid")
    assert v.loc["a", "x_street"] == "high st" and pd.isna(v.loc["b", "x_street"])
    # A column the frame lacks compares as missing.
    assert standardise(frame, "id", extra_columns={"x_school": "SchoolURN"})["x_school"].isna().all()


def test_extra_levels_and_swap_with_slips():
    import numpy as np

    from exclusion_risk.linkage.engines.levels import (
        extra_levels,
        forename_levels,
        jaro_winkler_distinct,
    )

    a = np.array(["high street", "high street", "high st", None], dtype=object)
    b = np.array(["high street", "high streeet", "low road", "x"], dtype=object)
    assert extra_levels(a, b, "jaro_winkler", 0.92, 0.8).tolist() == [3, 2, 0, -1]
    assert extra_levels(a, b, "exact", 0.92, 0.8).tolist() == [1, 0, 0, -1]
    # Forename and surname swapped, with a slip in one of them: the near level, not disagreement.
    f_l, s_l = np.array(["wiechec"], dtype=object), np.array(["joshzua"], dtype=object)
    f_r, s_r = np.array(["joshua"], dtype=object), np.array(["wiechec"], dtype=object)
    jw = jaro_winkler_distinct(pd.Series(f_l), pd.Series(f_r))
    plain = forename_levels(f_l, f_r, f_l, f_r, s_l, s_r, jw, 0.92, 0.8)
    near = (jaro_winkler_distinct(pd.Series(f_l), pd.Series(s_r)) >= 0.92) & (
        jaro_winkler_distinct(pd.Series(s_l), pd.Series(f_r)) >= 0.92
    )
    assert plain.tolist() == [0]
    assert forename_levels(f_l, f_r, f_l, f_r, s_l, s_r, jw, 0.92, 0.8, near).tolist() == [2]


def test_twin_guard_lifted_only_when_the_twin_was_scored_and_is_no_better():
    # c1 carries p1's UPN but a forename matching neither twin: the twin p2 was scored, no better.
    cands = _cands([("c1", "p1", 0.9999, 14.0, 0, 3, 4), ("c1", "p2", 0.01, -6.0, 0, 3, 4)])
    out = assign(cands, Thresholds(), one_to_one=True, twins={"p1", "p2"})
    assert out["band"].tolist() == ["accept"] and out["eid_r"].tolist() == ["p1"]
    # The twin agrees better on forename: the link stays for review.
    better = _cands([("c1", "p1", 0.9999, 14.0, 0, 3, 4), ("c1", "p2", 0.01, -6.0, 1, 3, 4)])
    assert assign(better, Thresholds(), one_to_one=True, twins={"p1", "p2"})["band"].tolist() == ["review"]


def test_census_row_with_a_mistyped_upn_is_the_pupil_one_slip_away():
    from exclusion_risk.upn import valid_upn_mask

    def invalid(u: str) -> bool:
        return not valid_upn_mask(pd.Series([u], dtype="string"))[0]

    perm = make_upn(335, 2, 12, 7)
    # One digit mistyped, so the check letter fails; and a UPN two mistyped digits away.
    typo = next(t for d in "0123456789" if invalid(t := perm[:-1] + d))
    far = next(
        t for d in "0123456789" if invalid(t := perm[:-3] + d + perm[-2] + typo[-1]) and t[-3] != perm[-3]
    )
    other = make_upn(335, 3, 12, 8)
    census = pd.DataFrame(
        {
            "UPN": [perm, typo, far, other],
            "Surname": ["Hill", "Hill", "Hill", "Hill"],
            "Forename": ["Olivia", "Olivia", "Olivia", "Grace"],
            "DOB": pd.to_datetime(["2012-10-30"] * 4),
        }
    )
    ids = census_pupil_ids(census).tolist()
    assert ids[0] == perm and ids[1] == perm
    # Two slips away stays its own pupil; a valid UPN is never merged.
    assert ids[2] == far and ids[3] == other


def test_census_row_with_two_swapped_upn_characters_is_the_pupil():
    # Two adjacent digits swapped (a keying slip) fail the check letter; the pupil with the same
    # names and DOB under the right UPN takes the row. The pupil is found among all the census's
    # UPNs only through the spellings one slip from the mistyped one (standardise._one_slip_away).
    from exclusion_risk.upn import valid_upn_mask

    perm = make_upn(335, 2, 12, 7)
    swapped = next(
        t
        for i in range(1, 11)
        if perm[i] != perm[i + 1]
        and not valid_upn_mask(pd.Series([t := perm[:i] + perm[i + 1] + perm[i] + perm[i + 2 :]]))[0]
    )
    others = [make_upn(335, 2, 12, n) for n in range(8, 40)]
    census = pd.DataFrame(
        {
            "UPN": [perm, f" {swapped.lower()} ", *others],
            "Surname": ["Hill"] * (2 + len(others)),
            "Forename": ["Olivia", "Olivia", *["Grace"] * len(others)],
            "DOB": pd.to_datetime(["2012-10-30"] * (2 + len(others))),
        }
    )
    assert census_pupil_ids(census).tolist()[:2] == [perm, perm]


@given(
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUVWXYZ", min_size=13, max_size=13),
    st.integers(0, 12),
    st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUVWXYZ"),
    st.booleans(),
)
def test_spellings_one_slip_away_hold_every_valid_upn_one_slip_away(valid, at, char, swap):
    from exclusion_risk.linkage.standardise import _one_keying_slip, _one_slip_away

    if swap:
        at = min(at, 11)
        mistyped = valid[:at] + valid[at + 1] + valid[at] + valid[at + 2 :]
    else:
        mistyped = valid[:at] + char + valid[at + 1 :]
    spellings = _one_slip_away(np.array([mistyped]), np.array([valid, "A" * 13]))
    assert not _one_keying_slip(mistyped, valid) or valid in spellings


def _mistyped(upn: str, at: int, digit: str) -> str:
    from exclusion_risk.upn import valid_upn_mask

    typo = upn[:at] + digit + upn[at + 1 :]
    assert typo != upn and not valid_upn_mask(pd.Series([typo]))[0]
    return typo


def test_a_mistyped_upn_is_compared_with_every_valid_upn_of_a_pupil():
    from exclusion_risk.upn import make_temporary_upn

    # The pupil was first recorded under a temporary UPN, then the permanent one (FormerUPN the
    # temporary); the row mistyping the permanent UPN is that pupil, whichever row came first.
    perm, temp = make_upn(335, 2, 12, 7), make_temporary_upn(335, 2, 12, 5, "A")
    typo = next(_mistyped(perm, 5, d) for d in "0123456789" if d != perm[5])
    same = {"Surname": ["Hill"] * 3, "Forename": ["Olivia"] * 3, "DOB": ["2012-10-30"] * 3}
    census = pd.DataFrame({"UPN": [temp, perm, typo], "FormerUPN": [None, temp, None], **same})
    assert census_pupil_ids(census).tolist() == [perm, perm, perm]
    # One slip from two pupils of the same names and DOB (the permanent UPN, and another pupil's UPN
    # that differs from the mistyped one in its check letter): which one is unknown, so neither.
    other = check_letter(typo[1:]) + typo[1:]
    twice = pd.concat([census, census.iloc[[1]].assign(UPN=other, FormerUPN=None)], ignore_index=True)
    assert census_pupil_ids(twice).tolist() == [perm, perm, typo, other]


def test_a_former_upn_given_under_a_mistyped_upn_too_is_one_pupils_claim():
    from exclusion_risk.upn import make_temporary_upn

    # The pupil's temporary UPN is given as FormerUPN under the permanent UPN and under a mistyped
    # spelling of it: one pupil's claim, not two (the mistyped UPN is merged into the permanent one),
    # so the rows under the temporary UPN, and a record given it, are that pupil.
    perm, temp = make_upn(335, 2, 12, 7), make_temporary_upn(335, 2, 12, 5, "V")
    typo = next(_mistyped(perm, 2, d) for d in "0123456789" if d != perm[2])
    same = {"Surname": ["Hill"] * 3, "Forename": ["Olivia"] * 3, "DOB": ["2012-10-30"] * 3}
    census = pd.DataFrame({"UPN": [temp, perm, typo], "FormerUPN": [None, temp, temp], **same})
    assert census_pupil_ids(census).tolist() == [perm, perm, perm]
    source = _variants([{"id": "EX1", "UPN": temp, "Forename": "Olivia", "Surname": "Hill"}], "id")
    linked = upn_stage(source, census_variants(census), LinkageSettings())
    assert linked.set_index("eid_l")["eid_r"].to_dict() == {"EX1": perm}
    # Another pupil (other names) giving the same FormerUPN: two pupils claim it, so it is not followed.
    grace = make_upn(335, 2, 12, 9)
    grace_row = {"UPN": grace, "FormerUPN": temp, "Surname": "Hill", "Forename": "Grace", "DOB": "2012-10-30"}
    both = pd.concat([census, pd.DataFrame([grace_row])], ignore_index=True)
    assert census_pupil_ids(both).tolist() == [temp, perm, perm, grace]
    linked = upn_stage(source, census_variants(both), LinkageSettings())
    assert linked.set_index("eid_l")["eid_r"].to_dict() == {"EX1": temp}


def test_a_former_upn_given_only_under_a_mistyped_upn_is_the_pupil_it_is_merged_into():
    from exclusion_risk.upn import make_temporary_upn

    # The temporary UPN is given as FormerUPN only under the mistyped spelling, which is merged into the
    # permanent UPN: the temporary UPN's rows were left under the mistyped spelling, a second pupil.
    perm, temp = make_upn(335, 2, 12, 7), make_temporary_upn(335, 2, 12, 5, "V")
    typo = next(_mistyped(perm, 2, d) for d in "0123456789" if d != perm[2])
    same = {"Surname": ["Hill"] * 3, "Forename": ["Olivia"] * 3, "DOB": ["2012-10-30"] * 3}
    census = pd.DataFrame({"UPN": [temp, typo, perm], "FormerUPN": [None, temp, None], **same})
    assert census_pupil_ids(census).tolist() == [perm, perm, perm]


def test_census_pupil_ids_name_the_column_and_read_each_value_as_text():
    perm = make_upn(335, 2, 12, 7)
    # a repeated index label, and UPNs that are numbers (1 and 1.0 are different text)
    census = pd.DataFrame(
        {"UPN": [perm, 1, 1.0], "Surname": ["Hill"] * 3, "Forename": ["Ann"] * 3, "DOB": ["2012-10-30"] * 3},
        index=[0, 0, 1],
    )
    ids = census_pupil_ids(census)
    assert ids.tolist() == [perm, "1", "1.0"] and ids.name == "UPN"


def test_census_rows_without_a_upn_are_no_pupil_and_redirect_none():
    # A row whose UPN is blank once stripped makes no variant rows; its FormerUPN is no link from
    # that pupil to a blank one (the UPNs are tidied once and the blank rows left out before the
    # pupils are resolved: resolving them first sent pupil `perm` to "").
    perm = make_upn(335, 1, 12, 2)
    census = pd.DataFrame(
        {
            "UPN": [perm, "   ", None],
            "FormerUPN": [None, perm, None],
            "Surname": ["Lee", "Lee", "Lee"],
            "Forename": ["Ann", "Ann", "Ann"],
            "DOB": pd.to_datetime(["2010-01-01"] * 3),
            "Sex": ["F"] * 3,
            "Postcode": [None] * 3,
        }
    )
    assert set(census_variants(census)["eid"]) == {perm}


def test_review_csv_names_the_records_already_linked_to_the_pairs_pupil():
    """A duplicate record of a child linked by UPN is offered for review with that child's pupil: the pair at
    0.99 read as a fault where review.csv did not say the pupil already has another record."""
    from types import SimpleNamespace

    from exclusion_risk.linkage.outputs import LINKED_ALREADY, review_table

    def decided(*rows):
        return pd.DataFrame(rows, columns=["eid_l", "eid_r", "score", "match_weight", "band"])

    decisions = {
        "exclusions": decided(("E1", "P1", 0.7, 1.0, "review"), ("E2", "P1", 1.0, float("inf"), "accept")),
        "social_care": decided(("C1", "P1", 1.0, float("inf"), "accept"), ("C2", "P1", 0.99, 9.0, "review"),
                               ("C3", "P2", 0.8, 2.0, "review")),
    }  # fmt: skip
    source = pd.DataFrame({"LAchildID": ["C1", "C2", "C3"], "Surname": "Okafor"})
    extracts = SimpleNamespace(exclusions=pd.DataFrame({"RecordID": ["E1", "E2"]}), social_care=source)
    pupils = pd.DataFrame({"Surname": ["Okafor", "Okafor"]}, index=pd.Index(["P1", "P2"], dtype="string"))
    table = review_table(decisions, extracts, pupils).set_index("record_id")
    assert table.loc["C2", LINKED_ALREADY] == "C1" and table.loc["C3", LINKED_ALREADY] == ""
    assert table.loc["E1", LINKED_ALREADY] == ""  # a pupil's other exclusions are no duplicates: not listed
    assert list(table.columns)[-1] == LINKED_ALREADY
