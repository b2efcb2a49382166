"""An upload names a pupil by the UPN on its census; the history may know that pupil by another id
(a permanent UPN that replaced a temporary one, or the valid UPN a mistyped one was matched to). The
upload's row must get that pupil's own history, and the scores must keep the uploaded UPN: as
`exclusion-risk score` reads the same census (issue #12: the page and the command line agree)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from exclusion_risk.features.build import build_feature_table
from exclusion_risk.features.census_upload import build_features_for_census
from exclusion_risk.linkage.history import RECORDED_UPN
from tests.features.test_build import CENSUS, EXCLUSIONS, FEATURES, P1, P2, P4, SOCIAL_CARE

TEMPORARY = "A10000000001T"  # how P1 was recorded on the 2016/17 autumn census
FORMER = "A10000000002T"  # P2's earlier UPN, given as FormerUPN on P2's history rows


def _reference_row(upn: str) -> dict:
    (row,) = [r for r in CENSUS if (r["UPN"], r["AcademicYear"], r["CensusTerm"]) == (upn, "2016/17", "AUT")]
    return row


@pytest.fixture(scope="module")
def known_by_another_upn(make_history):
    past = make_history(CENSUS, EXCLUSIONS, SOCIAL_CARE)
    census = past.census.assign(**{RECORDED_UPN: past.census["UPN"]})
    at_census = census["UPN"].eq(P1) & census["AcademicYear"].eq("2016/17") & census["CensusTerm"].eq("AUT")
    census.loc[at_census, RECORDED_UPN] = TEMPORARY
    census["FormerUPN"] = pd.Series(pd.NA, index=census.index, dtype="string")
    census.loc[census["UPN"] == P2, "FormerUPN"] = FORMER
    return past, replace(past, census=census)


def test_the_uploaded_upn_gets_the_pupils_own_history(known_by_another_upn, upload):
    plain, history = known_by_another_upn
    rows = [
        {**_reference_row(P1), "UPN": TEMPORARY}, {**_reference_row(P2), "UPN": FORMER}, _reference_row(P4),
    ]
    scored = build_features_for_census(upload(rows), history=history).set_index("upn")
    assert list(scored.index) == [TEMPORARY, FORMER, P4]  # the scores name the UPNs uploaded
    expected = build_features_for_census(
        upload([_reference_row(P1), _reference_row(P2), _reference_row(P4)]), history=plain
    ).set_index("upn")
    assert expected.loc[P1, "suspensions_last_year"] > 0  # the history the temporary UPN must reach
    pd.testing.assert_frame_equal(
        scored[FEATURES].reset_index(drop=True), expected[FEATURES].reset_index(drop=True)
    )


def test_two_uploaded_upns_of_one_pupil_stay_apart(known_by_another_upn, upload):
    """The upload lists them as it has them: not merged into one pupil without saying so."""
    _, history = known_by_another_upn
    rows = [{**_reference_row(P1), "UPN": TEMPORARY}, _reference_row(P1)]
    scored = build_features_for_census(upload(rows), history=history)
    assert sorted(scored["upn"]) == sorted([TEMPORARY, P1])


def _row_of(upn: str, year: str, term: str) -> dict:
    (row,) = [r for r in CENSUS if (r["UPN"], r["AcademicYear"], r["CensusTerm"]) == (upn, year, term)]
    return row


def test_an_earlier_collections_row_under_the_pupils_upn_keeps_the_history(known_by_another_upn, upload):
    """The census scored names P1 by its temporary UPN; an earlier collection's row in the same upload
    names P1 by the UPN the history knows. One pupil across collections, as the history links them and
    `exclusion-risk score` reads them: the pupil keeps their history, scored under the UPN uploaded on
    the census scored. (Two UPNs were left apart wherever in the upload they were: the temporary UPN was
    scored with no history at all.)"""
    _, history = known_by_another_upn
    alone = build_features_for_census(upload([{**_reference_row(P1), "UPN": TEMPORARY}]), history=history)
    rows = [_row_of(P1, "2015/16", "SUM"), {**_reference_row(P1), "UPN": TEMPORARY}]
    scored = build_features_for_census(upload(rows), history=history)
    assert list(scored["upn"]) == [TEMPORARY]
    assert alone.loc[0, "suspensions_last_year"] > 0
    pd.testing.assert_frame_equal(scored[FEATURES], alone[FEATURES])


def _keys(history, year: str) -> pd.DataFrame:
    """The feature table's two keys of `year`'s autumn census, by pupil: `upn`, `pupil_upn`."""
    return build_feature_table(history, [year]).set_index("pupil_upn")


def test_the_feature_table_names_the_census_row_and_the_pupil(known_by_another_upn):
    """`upn`: the UPN on the census row, as scores.csv names the pupil; `pupil_upn`: the pupil across years,
    as links.csv does. A join of the two files on either loses nobody."""
    _, history = known_by_another_upn
    autumn = _keys(history, "2016/17")
    assert autumn.loc[P1, "upn"] == TEMPORARY and autumn.loc[P2, "upn"] == P2
    assert _keys(history, "2017/18").loc[P1, "upn"] == P1


def test_the_upn_is_the_row_a_dual_registration_is_scored_from(known_by_another_upn):
    """The subsidiary school's row comes first but is set aside (registrations.standing_order): the UPN
    the scores name is the one on the main school's row, from which the pupil is described."""
    _, history = known_by_another_upn
    census = history.census.assign(EnrolStatus=pd.Series(pd.NA, index=history.census.index, dtype="string"))
    at_census = census["UPN"].eq(P1) & census["AcademicYear"].eq("2016/17") & census["CensusTerm"].eq("AUT")
    census.loc[at_census, "EnrolStatus"] = "M"
    subsidiary = census[at_census].assign(EnrolStatus="S", **{RECORDED_UPN: P1})
    census = pd.concat([subsidiary, census], ignore_index=True)
    if "_row" in census.columns:
        census["_row"] = range(len(census))
    assert _keys(replace(history, census=census), "2016/17").loc[P1, "upn"] == TEMPORARY


def test_a_upn_written_with_spaces_or_hyphens_gets_the_pupils_history(known_by_another_upn, upload):
    """`E330 205709725` is the pupil E330205709725: their history, and the scores name the UPN itself."""
    plain, _ = known_by_another_upn
    written = [P1[:4] + " " + P1[4:], P2[:4] + "-" + P2[4:].lower(), P4[:4] + "\u00a0" + P4[4:]]
    rows = [{**_reference_row(p), "UPN": w} for p, w in zip([P1, P2, P4], written, strict=True)]
    scored = build_features_for_census(upload(rows), history=plain).set_index("upn")
    assert list(scored.index) == [P1, P2, P4]
    expected = build_features_for_census(
        upload([_reference_row(P1), _reference_row(P2), _reference_row(P4)]), history=plain
    ).set_index("upn")
    assert expected.loc[P1, "suspensions_last_year"] > 0
    pd.testing.assert_frame_equal(scored[FEATURES], expected[FEATURES])
