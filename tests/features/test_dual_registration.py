"""A dual-registered pupil is on both schools' rows of one collection: the features read the main
registration's row wherever it is in the file, and the rows set aside are counted, not dropped silently."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.features.build import build_feature_table
from exclusion_risk.features.census_upload import build_features_for_census
from exclusion_risk.linkage.registrations import collection_repeats

P1, P2, P3 = "A100000000001", "A100000000002", "A100000000003"


def row(upn, school, status, year="2016/17", term="AUT", **extra):
    return {"UPN": upn, "AcademicYear": year, "CensusTerm": term, "SchoolURN": school, "NCyearActual": "9",
            "Sex": "M", "Ethnicity": "WBRI", "FSMeligible": False, "SENprovision": "N", "EnrolStatus": status,
            **extra}


CENSUS = [
    # the subsidiary school's (an alternative provision's) row comes first in the file
    row(P1, "AP1", "S", FSMeligible=True),
    row(P1, "MAIN1", "M"),
    row(P2, "S2", "C"),
    # no status recorded: the first row in file order stands
    row(P3, "S3", None),
    row(P3, "S4", None),
]


@pytest.mark.parametrize("shuffle", [False, True])
def test_the_main_registration_stands_wherever_it_is_in_the_file(make_history, shuffle):
    rows = list(reversed(CENSUS[:2])) + CENSUS[2:] if shuffle else CENSUS
    table = build_feature_table(make_history(rows, [], []), ["2016/17"]).set_index("upn")
    assert len(table) == 3  # one row per pupil
    assert table.loc[P1, "SchoolURN"] == "MAIN1"
    assert table.loc[P1, "fsm"] == 0.0  # the main school's row, not the subsidiary's
    assert table.loc[P3, "SchoolURN"] == "S3"


def test_an_upload_scores_the_main_registration():
    upload = pd.DataFrame(CENSUS)
    features = build_features_for_census(upload).set_index("upn")
    assert features.loc[P1, "SchoolURN"] == "MAIN1"


def test_rows_set_aside_are_counted():
    three = [row(P2, "S5", "C"), row(P2, "S6", "C"), row("A100000000009", "AP1", "S")]  # P2 on three rows
    repeats = collection_repeats(pd.DataFrame(CENSUS + three))
    assert (repeats.pupils, repeats.rows_set_aside, repeats.subsidiary_only) == (3, 4, 1)
    said = repeats.sentences()
    assert said[0].startswith("4 census rows of 3 pupils on two or more rows of one collection were set")
    assert said[1].startswith("1 pupil is described from a subsidiary registration's row (EnrolStatus S)")
    assert "linkage" not in " ".join(said)  # an upload is not linked
    # published in the linkage report: pupils only, under 10 withheld
    assert repeats.report()["pupils"] == "<10" and "rows_set_aside" not in repeats.report()
    # of one collection only, with UPNs compared as the features compare them (" a1" is "A1")
    other_year = [row(P2.lower() + " ", "S9", "C", year="2015/16"), row(P2, "S2", "C", year="2015/16")]
    frame = pd.DataFrame(CENSUS + other_year)
    assert collection_repeats(frame, "2015/16", "AUT").rows_set_aside == 1
    assert collection_repeats(frame, "2016/17", "SPR").rows_set_aside == 0
    assert collection_repeats(pd.DataFrame(CENSUS[2:3])).sentences() == []
