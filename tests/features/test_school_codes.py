"""A school that carries on under a new code (an academy conversion's URN, a new MIS writing the URN for
the LAEstab) is one school to the features: under two codes, a data officer's school had its spring and
summer suspensions divided by an autumn roll of none (0.387 suspensions a pupil, against 0.068), and 417
pupils who never moved read as having moved school (features.school_codes)."""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.features.build import SCHOOL_PRIOR_PUPILS, TRANSFER_YEARS, build_feature_table
from exclusion_risk.features.school_codes import successor_codes
from tests.features.test_build import census_row


def _pupil(n: int) -> str:
    return f"A5{n:011d}"


def _recoded_history(make_history, new_code_from=("2017/18", "SPR"), scatter: bool = False):
    """100 pupils at OLD each collection of 2016/17 and the autumn of 2017/18, at NEW from `new_code_from`
    of 2017/18 (`scatter`: spread over four existing schools instead); 50 pupils at OTHER throughout;
    5 suspensions at OLD in the autumn of 2017/18 and 5 at NEW (or where they went) in the summer."""
    census, terms = [], [("2016/17", t) for t in ("AUT", "SPR", "SUM")] + [
        ("2017/18", t) for t in ("AUT", "SPR", "SUM")] + [("2018/19", "AUT")]  # fmt: skip
    changed = False
    for year, term in terms:
        changed = changed or (year, term) == new_code_from
        for n in range(100):
            school = (f"OTHER{n % 4}" if scatter else "NEW") if changed else "OLD"
            census.append(census_row(_pupil(n), year, term, school, "8"))
        for n in range(100, 150):
            census.append(census_row(_pupil(n), year, term, "OTHER0", "8"))
    events = [{"upn": _pupil(n), "Category": "SUSP", "StartDate": "2017-10-10", "SchoolURN": "OLD"}
              for n in range(5)]  # fmt: skip
    events += [{"upn": _pupil(n), "Category": "SUSP", "StartDate": "2018-06-10",
                "SchoolURN": f"OTHER{n % 4}" if scatter else "NEW"} for n in range(5, 10)]  # fmt: skip
    return make_history(census, events)


def test_a_school_recoded_mid_year_is_one_school(make_history):
    table = build_feature_table(_recoded_history(make_history), ["2017/18", "2018/19"])
    table = table.set_index(["upn", "AcademicYear"])
    pupil = table.loc[(_pupil(20), "2018/19")]
    assert pupil["school_moves_last_year"] == 0  # OLD -> NEW is no move
    authority = 10 / 300  # the 10 suspensions over two autumn rolls of 150
    assert pupil["school_suspension_rate"] == pytest.approx((10 + SCHOOL_PRIOR_PUPILS * authority)
                                                            / (200 + SCHOOL_PRIOR_PUPILS))  # fmt: skip
    assert pupil["school_suspension_rate"] < 0.1  # under two codes: NEW's 5 over a roll of none
    assert pupil["SchoolURN"] == "NEW"  # the code the census gives is what the lists show
    earlier = table.loc[(_pupil(20), "2017/18")]
    assert earlier["SchoolURN"] == "OLD"  # and an earlier year's rows keep the code of their day


def test_a_school_recoded_over_the_summer_is_not_new_to_the_scoring_notes(make_history):
    """Recoded at the scored year's start: the pupils get the old code's rates, so the scoring's note on
    schools new to the history (scored with the authority's rates) does not count them."""
    from exclusion_risk.models.score_notes import new_school_lines

    history = _recoded_history(make_history, new_code_from=("2018/19", "AUT"))
    table = build_feature_table(history, ["2018/19"])
    assert (table["SchoolURN"] == "NEW").sum() == 100 and table["school_moves_last_year"].eq(0).all()
    assert new_school_lines(table, [history.census], "2018/19") == []
    scattered = _recoded_history(make_history, new_code_from=("2018/19", "AUT"))
    scattered.census.loc[scattered.census["SchoolURN"] == "NEW", "SchoolURN"] = "ELSEWHERE"
    census = scattered.census
    moved = census["UPN"].isin([_pupil(n) for n in range(30)]) & (census["SchoolURN"] == "ELSEWHERE")
    census.loc[moved, "SchoolURN"] = "OTHER0"  # 70 of 100 follow the new code: under 80%
    (said,) = new_school_lines(build_feature_table(scattered, ["2018/19"]), [scattered.census], "2018/19")
    assert said.startswith("70 pupil(s) at 1 school(s) that the linked history holds no earlier year of")


def test_pupils_who_scatter_when_a_school_closes_have_moved(make_history):
    table = build_feature_table(_recoded_history(make_history, scatter=True), ["2018/19"])
    assert table.loc[table["upn"] == _pupil(20), "school_moves_last_year"].item() == 1


def _census(rows: list[tuple[int, int, int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["pid", "year", "term", "school", "nc_year"])


def _at(term: int, school: str, pupils: range) -> list[tuple[int, int, int, str, float]]:
    return [(p, 2017, term, school, 8.0) for p in pupils]


def test_successors_need_a_new_code_most_pupils_follow_and_ten_pupils():
    before = _at(0, "OLD", range(20)) + _at(0, "KEPT", range(20, 40))
    to_new = _at(1, "NEW", range(17)) + _at(1, "KEPT", range(17, 40))
    assert successor_codes(_census(before + to_new), TRANSFER_YEARS) == {"OLD": "NEW"}
    few = _at(1, "NEW", range(15)) + _at(1, "KEPT", range(15, 40))
    assert successor_codes(_census(before + few), TRANSFER_YEARS) == {}  # 15 of 20 follow: under 80%
    tiny = [(p, 2017, 0, "OLD", 8.0) for p in range(9)] + [(p, 2017, 1, "NEW", 8.0) for p in range(9)]
    assert successor_codes(_census(tiny + [(99, 2017, 1, "KEPT", 8.0)] + [(99, 2017, 0, "KEPT", 8.0)]),
                           TRANSFER_YEARS) == {}  # fmt: skip
    merged = to_new + [(99, 2017, 0, "NEW", 8.0)]  # NEW existed before: a merger, not a new code
    assert successor_codes(_census(before + merged), TRANSFER_YEARS) == {}


def test_year_six_leavers_do_not_count_against_a_summer_to_autumn_change():
    """A primary converting over the summer: its Year 6 leave for secondary schools (Year 7 in autumn)."""
    summer = [(p, 2017, 2, "OLD", 6.0 if p < 10 else 4.0) for p in range(40)]
    autumn = [(p, 2018, 0, "SEC", 7.0) for p in range(10)] + [(p, 2018, 0, "NEW", 5.0) for p in range(10, 40)]
    keep = [(99, 2017, 2, "SEC", 9.0), (99, 2018, 0, "SEC", 10.0)]
    assert successor_codes(_census(summer + autumn + keep), TRANSFER_YEARS) == {"OLD": "NEW"}


def test_a_closed_school_one_of_whose_pupils_is_found_at_a_new_school_is_no_recoding():
    """A reviewer's find: one of a closed school's 40 pupils, at a school opening the same autumn with 60
    pupils from elsewhere, made the new school the closed one's successor (100% of those still on the
    census); its pupils were read with the closed school's suspensions."""
    closed = [(p, 2016, 2, "CLOSED", 4.0) for p in range(40)]
    opened = [(0, 2017, 0, "NEWFREE", 5.0)] + [(p, 2017, 0, "NEWFREE", 5.0) for p in range(100, 160)]
    kept = [(p, 2016, 2, "OTHER", 4.0) for p in range(100, 220)]  # 60 leave OTHER for NEWFREE
    kept += [(p, 2017, 0, "OTHER", 5.0) for p in range(160, 220)]
    assert successor_codes(_census(closed + opened + kept), TRANSFER_YEARS) == {}
    half = [(p, 2017, 0, "NEWFREE", 5.0) for p in range(15)]  # 15 of 40 follow: under half the roll
    assert successor_codes(_census(closed + half + kept), TRANSFER_YEARS) == {}


def test_stray_one_off_codes_leave_the_rule_as_it_was():
    """Mistyped codes on one row each (first and last seen in one collection) are not successors of
    anything, and do not stop a real recoding being found."""
    before = _at(0, "OLD", range(20)) + _at(0, "KEPT", range(20, 40))
    to_new = _at(1, "NEW", range(17)) + _at(1, "KEPT", range(17, 39)) + [(39, 2017, 1, "TYPO1", 8.0)]
    strays = [(200 + i, 2017, 0, f"ODD{i}", 8.0) for i in range(50)]
    strays += [(200 + i, 2017, 1, "KEPT", 8.0) for i in range(50)]
    assert successor_codes(_census(before + to_new + strays), TRANSFER_YEARS) == {"OLD": "NEW"}
