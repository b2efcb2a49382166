"""An uploaded census with a pupil on two schools' rows (a dual registration) scores the pupil once, at
the main school, and the response's warnings say how many rows were set aside and why (no pupil's
value)."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk import calendar
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.linkage.registrations import collection_repeats
from exclusion_risk.serving import scoring
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS
from exclusion_risk.upn import make_upn

YEAR = "2018/19"
UPNS = [make_upn(801, 2001, 2011, i) for i in range(1, 4)]
EMPTY = pd.DataFrame({"upn": pd.Series(dtype="string"), "StartDate": pd.Series(dtype="datetime64[ns]")})


def _read(rows):
    return scoring.read_census_bytes(pd.DataFrame(rows).to_csv(index=False).encode(), "census.csv")


def _cohort(rows):
    clean, rejects = _read(rows)
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(clean), EMPTY, EMPTY)
    state.state = "ready"
    return scoring.census_cohort(clean, rejects, state, [], YEAR, skip_invalid=False, census=calendar.AUTUMN)


def _row(upn, school, status):
    return {**EXAMPLE_CENSUS, "UPN": upn, "AcademicYear": YEAR, "CensusTerm": "AUT", "SchoolURN": school,
            "EnrolStatus": status}


def test_a_dual_registration_is_scored_once_at_the_main_school_and_said():
    rows = [_row(UPNS[0], "200001", "S"), _row(UPNS[0], "104321", "M"), _row(UPNS[1], "104321", "C"),
            _row(UPNS[2], "104322", "C")]  # fmt: skip
    cohort = _cohort(rows)
    features = cohort.features.set_index("upn")
    assert len(features) == 3 and features.loc[UPNS[0], "SchoolURN"] == "104321"
    said = [w for w in cohort.warnings if "set aside" in w]
    assert said and said[0].startswith("1 census row of 1 pupil on two or more rows of one collection was")
    assert not any(u in " ".join(cohort.warnings) for u in UPNS)


def test_nothing_is_said_without_a_repeat():
    cohort = _cohort([_row(u, "104321", "C") for u in UPNS])
    assert not any("set aside" in w for w in cohort.warnings)


@pytest.mark.parametrize("statuses", [("M", "M"), ("C", ""), ("S", "S")])
def test_repeats_that_no_status_settles_are_scored_from_the_first_row_as_score_does(statuses):
    """One rule for the service and `exclusion-risk score` (registrations.RULE): no row is a subsidiary
    registration's beside a main one, so the first in file order stands, and the warnings count the row
    set aside. Before, the service refused both rows (422) where `score` took the first."""
    rows = [{**_row(UPNS[0], f"10432{i}", s), "SENprovision": p, "SENtype": t}
            for i, (s, p, t) in enumerate(zip(statuses, ("E", "N"), ("SEMH", ""), strict=True))]
    rows.append(_row(UPNS[1], "104321", "C"))
    cohort = _cohort(rows)
    pupil = cohort.features.set_index("upn").loc[UPNS[0]]
    assert (pupil["SchoolURN"], pupil["sen_provision"]) == ("104320", "E")
    # the command line's features and notes for the same rows (its history's census)
    clean, _ = _read(rows)
    cli = build_feature_table(PupilHistory(drop_identifying(clean), EMPTY, EMPTY), [YEAR]).set_index("upn")
    assert pupil[["SchoolURN", "sen_provision", "sen_type"]].tolist() == (
        cli.loc[UPNS[0], ["SchoolURN", "sen_provision", "sen_type"]].tolist())
    cli_notes = collection_repeats(clean, YEAR, calendar.AUTUMN).sentences()
    said = [w for w in cohort.warnings if "set aside" in w or "subsidiary registration's row" in w]
    assert said == cli_notes and said[0].startswith("1 census row of 1 pupil on two or more rows")
    assert "else the first in file order" in said[0]
    assert not any(u in " ".join(cohort.warnings) for u in UPNS)


def test_a_subsidiary_row_left_alone_by_a_rejected_main_row_is_said():
    """skip_invalid: the main school's row is rejected by the reader (no sex), so only the subsidiary
    school's row is left; the pupil is scored from it, and the warnings say so."""
    rows = [_row(UPNS[0], "200001", "S"), {**_row(UPNS[0], "104321", "M"), "Sex": "Q"},
            _row(UPNS[1], "104321", "C"), _row(UPNS[2], "104322", "C")]  # fmt: skip
    clean, rejects = _read(rows)
    assert len(rejects) == 1
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(clean), EMPTY, EMPTY)
    state.state = "ready"
    cohort = scoring.census_cohort(clean, rejects, state, [], YEAR, skip_invalid=True, census=calendar.AUTUMN)
    assert cohort.features.set_index("upn").loc[UPNS[0], "SchoolURN"] == "200001"
    said = "1 pupil is described from a subsidiary registration's row"
    assert any(w.startswith(said) for w in cohort.warnings)


def test_a_subsidiary_schools_return_alone_does_not_replace_the_main_schools_row_in_the_history():
    """An alternative provision uploads its own return: the pupil's main school's row of that collection
    is in the history. The pupil is scored from it, as `score` does, and nothing says the main row is
    missing (before: the upload's row replaced the history's, so the subsidiary school and its FSM)."""
    main, subsidiary = _row(UPNS[0], "104321", "M"), _row(UPNS[0], "200001", "S")
    main["FSMeligible"], subsidiary["FSMeligible"] = "false", "true"
    others = [_row(UPNS[1], "104321", "C"), _row(UPNS[2], "104322", "C")]
    past, _ = _read([main, subsidiary, *others])
    clean, rejects = _read([subsidiary, *others])
    state = HistoryState(None, None)
    state.history = PupilHistory(drop_identifying(past), EMPTY, EMPTY)
    state.state = "ready"
    cohort = scoring.census_cohort(clean, rejects, state, [], YEAR, skip_invalid=False, census="AUT")
    pupil = cohort.features.set_index("upn").loc[UPNS[0]]
    assert (pupil["SchoolURN"], pupil["fsm"]) == ("104321", 0.0)
    assert not any("subsidiary registration's row" in w for w in cohort.warnings)
    assert any(w.startswith("1 census row of 1 pupil on two or more rows") for w in cohort.warnings)
