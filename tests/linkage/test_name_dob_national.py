"""The name-DOB stage under the national preset: a unique exact key links only where the postcode
districts and schools do not contradict (issue #15: among 2,000,000 pupils a unique key is often a
namesake's at another address or school); the default settings, and settings files written before the
check, link as before."""

from __future__ import annotations

import json

import pandas as pd

from exclusion_risk.linkage.pipeline import link_extracts
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.stages import census_keys, name_dob_stage
from exclusion_risk.linkage.standardise import standardise

NATIONAL = LinkageSettings.model_validate({"blocking": "national"})


def _variants(rows: list[tuple], id_col: str) -> pd.DataFrame:
    columns = [id_col, "Forename", "Surname", "DOB", "Postcode"]
    return standardise(pd.DataFrame(rows, columns=columns), id_col, upn_columns=("UPN",))


CENSUS = _variants(
    [
        # P1 was at WS1 and moved to WS2: a record at either district agrees.
        ("P1", "Ann", "Lee", "2010-01-01", "WS1 1AA"),
        ("P1", "Ann", "Lee", "2010-01-01", "WS2 8QQ"),
        ("P2", "Bill", "Ray", "2011-02-02", "B11 4RT"),
        ("P3", "Cara", "Moss", "2012-03-03", "M1 1AE"),
        ("P4", "Dev", "Shah", "2013-04-04", None),
    ],
    "UPN",
)
SOURCE = _variants(
    [
        ("agrees", "Ann", "Lee", "2010-01-01", "WS2 1XY"),
        # A namesake's key: the record lives in Leeds, the census's only Bill Ray in Birmingham.
        ("contradicts", "Bill", "Ray", "2011-02-02", "LS6 2AB"),
        ("no_postcode", "Cara", "Moss", "2012-03-03", None),
        ("pupil_without", "Dev", "Shah", "2013-04-04", "E1 6AN"),
    ],
    "id",
)


def _linked(settings: LinkageSettings | None) -> dict[str, str]:
    links = name_dob_stage(SOURCE, CENSUS, unique_source=True, settings=settings)
    return links.set_index("eid_l")["eid_r"].to_dict()


def test_national_preset_links_a_name_dob_match_whose_districts_agree_or_are_missing():
    assert NATIONAL.name_dob_place_check
    linked = _linked(NATIONAL)
    assert linked == {"agrees": "P1", "no_postcode": "P3", "pupil_without": "P4"}


def test_national_preset_leaves_a_contradicting_district_to_the_probabilistic_stage():
    # Not linked here, so the pipeline scores the record (its name, DOB, sex and postcode weighed).
    assert "contradicts" not in _linked(NATIONAL)


def test_default_settings_link_every_unique_key_as_before():
    assert not LinkageSettings().name_dob_place_check
    expected = {"agrees": "P1", "contradicts": "P2", "no_postcode": "P3", "pupil_without": "P4"}
    assert _linked(LinkageSettings()) == expected
    assert _linked(None) == expected
    assert _linked(LinkageSettings.model_validate({"blocking": "authority"})) == expected


def test_national_preset_leaves_an_exclusion_at_another_school_to_the_probabilistic_stage():
    def frame(rows, id_col):
        columns = [id_col, "Forename", "Surname", "DOB", "SchoolURN"]
        extra = {"x_school": "SchoolURN"}
        rows = pd.DataFrame(rows, columns=columns)
        return standardise(rows, id_col, upn_columns=("UPN",), extra_columns=extra)

    ann, bill = ("Ann", "Lee", "2010-01-01"), ("Bill", "Ray", "2011-02-02")
    census = frame([("P1", *ann, "100001"), ("P2", *bill, "100002")], "UPN")
    # Exclusion records carry a school, not a postcode: X2's Bill Ray was excluded from another school.
    records = frame([("X1", *ann, "100001"), ("X2", *bill, "100009")], "id")
    national = name_dob_stage(records, census, unique_source=False, settings=NATIONAL)
    assert national.set_index("eid_l")["eid_r"].to_dict() == {"X1": "P1"}
    default = name_dob_stage(records, census, unique_source=False, settings=LinkageSettings())
    assert default.set_index("eid_l")["eid_r"].to_dict() == {"X1": "P1", "X2": "P2"}


def test_census_keys_built_once_give_the_same_links():
    # A second Ann Lee born the same day: the key names two pupils, so it links nobody.
    twin = _variants([("P9", "Ann", "Lee", "2010-01-01", "WS2 8QQ")], "UPN")
    census = pd.concat([CENSUS, twin], ignore_index=True)
    keys = census_keys(census)
    named_once = keys.keys.loc[keys.keys["unique"], "eid"]
    assert not named_once.isin(["P1", "P9"]).any() and {"P3", "P4"} <= set(named_once)
    once = name_dob_stage(SOURCE, census, unique_source=True, settings=NATIONAL, keys=keys)
    assert once.set_index("eid_l")["eid_r"].to_dict() == {"no_postcode": "P3", "pupil_without": "P4"}
    pd.testing.assert_frame_equal(once, name_dob_stage(SOURCE, census, unique_source=True, settings=NATIONAL))


def test_the_place_check_round_trips_through_settings_json(tmp_path):
    path = tmp_path / "settings.json"
    NATIONAL.save(path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["name_dob_place_check"] is True and isinstance(saved["blocking"], list)
    assert LinkageSettings.load(path) == NATIONAL
    # The file sets it explicitly: the preset does not override a file's own choice.
    explicit = {"blocking": "national", "name_dob_place_check": False}
    assert not LinkageSettings.model_validate(explicit).name_dob_place_check
    # A settings.json written before the check (no field) loads with the earlier behaviour, rules and all.
    del saved["name_dob_place_check"]
    path.write_text(json.dumps(saved), encoding="utf-8")
    old = LinkageSettings.load(path)
    assert not old.name_dob_place_check and old.blocking == NATIONAL.blocking


def test_in_a_run_the_contradicting_record_is_scored_by_the_probabilistic_stage(
    population, exclusions_of, social_care_of, extracts_for
):
    pupils = population(400, seed=21)
    children = social_care_of(pupils.head(120), upn_share=0.0)
    # Child 0's name and DOB are one census pupil's (a unique key) but it lives in another district.
    children.loc[0, "Postcode"] = "LS6 2AB"
    extracts = extracts_for(pupils, exclusions_of(pupils.head(40)), children)
    methods = {}
    for name, settings in (("default", LinkageSettings()), ("national", NATIONAL)):
        decisions = link_extracts(extracts, settings, progress=False).decisions["social_care"]
        methods[name] = decisions.drop_duplicates("eid_l").set_index("eid_l")["method"]
    moved = children.loc[0, "LAchildID"]
    assert methods["default"][moved] == "name_dob"
    assert methods["national"][moved] == "probabilistic"
    # Every other child's district agrees: the name-DOB stage links it under either settings.
    others = methods["national"].drop(moved)
    assert (others == "name_dob").all() and (methods["default"].drop(moved) == "name_dob").all()


def test_national_blocking_finds_records_missing_dob_names_or_both_name_codes(
    population, exclusions_of, social_care_of, extracts_for
):
    # Issue #15: on a 250,000-pupil simulation the national rules found no candidate for 17 true
    # exclusion records that the authority rules linked (no DOB and no postcode, or no names) and for
    # 10 social-care children whose only common block was their postcode.
    pupils = population(400, seed=21)
    records = exclusions_of(pupils.head(40), upn_share=0.0).assign(SchoolURN="100001")
    records.loc[0, "DOB"] = pd.NaT  # names and school only (exclusion records carry no postcode)
    records.loc[1, ["Forename", "Surname"]] = pd.NA  # DOB and school only
    children = social_care_of(pupils.head(40), upn_share=0.0)
    # Known by other names (adopted, say) and the birth year mistyped: the address and the day of
    # birth are left, and no rule but the postcode's blocks on them.
    children.loc[0, ["Forename", "Surname"]] = ["Zebedee", "Quaintance"]
    children.loc[0, "DOB"] = children.loc[0, "DOB"] + pd.DateOffset(years=3)
    extracts = extracts_for(pupils, records, children)
    result = link_extracts(extracts, NATIONAL, progress=False)
    bands = result.decisions["exclusions"].drop_duplicates("eid_l").set_index("eid_l")["band"]
    for record in records.loc[[0, 1], "RecordID"]:
        assert bands[record] != "none", record  # "none": no candidate above the floor
    # The renamed child is the only one left to score; with so little in common its pair falls below
    # the candidate floor, so the count of pairs blocking made is what shows it was found.
    care = result.decisions["social_care"]
    assert set(care.loc[care["method"] == "probabilistic", "eid_l"]) == {children.loc[0, "LAchildID"]}
    assert result.report["sources"]["social_care"]["candidate_pairs"] >= 1


def test_the_national_preset_blocks_on_the_school_only_where_the_school_is_compared():
    with_school = [r.columns for r in NATIONAL.blocking if "x_school" in r.columns]
    assert with_school == [["forename_code", "surname_code", "x_school"], ["dob", "x_school"]]
    # No school comparison: no rule on it (a rule naming an undefined comparison fails validation).
    without = LinkageSettings.model_validate({"blocking": "national", "comparisons": {"extra": []}})
    assert not [r for r in without.blocking if "x_school" in r.columns]
    assert without.name_dob_place_check
