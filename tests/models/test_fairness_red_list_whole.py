"""The red list section judges each group's red ÷ top k% against the red list's as a whole, not against 1.

An auditor's 6,000-pupil authority: 554 pupils red against a top 5% of 301 (1.84 times). The section named
pupils on SEN support (1.47 times) and pupils previously known to social care (1.41) as rated red "more
often", though the red list rates them red less often than it rates pupils overall: every group has more
pupils red than in the top 5% when the list is 1.84 times its size.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from exclusion_risk.models.fairness_red_bounds import compared, not_stated, overall_bounds, overall_words
from exclusion_risk.models.fairness_red_list import RedList, red_list_conclusion, red_list_summary
from exclusion_risk.privacy import SECONDARY, SUPPRESSED
from tests.models.test_fairness_red_list_not_shown import _row

TOTALS = {"red": 554, "top": 301, "precision": {"red": None, "top": None}, "withheld_beside_top": []}


def _table() -> list[dict]:
    return [
        {"name": "SEN provision", "rows": [
            _row("no SEN", 4800, 300, 170),  # 1.76: 0.96 times the list's
            _row("SEN support", 900, 147, 100),  # 1.47: 0.80 (0.7987) times the list's
            _row("EHC plan", 300, 107, 31),  # 3.45: 1.88 times the list's
        ]},
        {"name": "social care", "rows": [
            _row("none", 5600, 480, 277),  # 1.73
            _row("previously involved", 400, 74, 24),  # 3.08: 1.68 times the list's
        ]},
    ]  # fmt: skip


def _red_list(band_over_top: str = "") -> RedList:
    return RedList(attributes=[], red=554, top=301, rule=["very high likelihood at every need level"],
                   raised=["EHC plan"], matrix_version="test", band_over_top=band_over_top)  # fmt: skip


def test_a_group_red_less_often_than_the_list_as_a_whole_is_not_named_as_more():
    overall = overall_bounds(TOTALS)
    assert overall_words(overall) == "1.84"
    rows = {r["group"]: r for a in _table() for r in a["rows"]}
    # against 1 (the code before) SEN support's 1.47 was "more"
    assert compared(rows["SEN support"], overall)[0] == "fewer"
    assert compared(rows["no SEN"], overall)[0] == ""
    assert compared(rows["EHC plan"], overall)[:1] == ("more",)
    summary = red_list_summary(_table(), TOTALS, "5")
    assert ("for their share of the top 5%, it rates pupils with an EHC plan and pupils previously known to "
            "social care red more often and pupils with SEN support red less often than it rates pupils "
            "overall (red ÷ top 5% over all pupils: 1.84; a group's outside 0.8-1.25 times that)") in summary
    conclusion = red_list_conclusion(_red_list(), _table(), TOTALS, "5")
    assert "554 pupils against 301 (1.84 times as many)" in conclusion
    less = conclusion.split("It rates these red less often: ")[1]
    # 0.7987: printed with the digit that puts it outside 0.8-1.25, as it is flagged
    assert less.startswith("pupils with SEN support (16.3% red against 11.1% in the top 5%: 1.47 times as "
                           "often, 0.799 times the whole list's 1.84")  # fmt: skip


def test_a_band_wider_than_the_top_k_is_said_to_take_no_group_below_it():
    # it said "every group has more pupils red on that account", untrue of a group with none near the cut
    conclusion = red_list_conclusion(_red_list("more"), _table(), TOTALS, "5")
    assert "every group has more pupils red" not in conclusion
    assert "no group has fewer pupils in that band than in the top 5%" in conclusion


def test_a_withheld_list_size_is_judged_within_what_the_page_says_of_it():
    """The list's size withheld beside a top 5% of 300 is 1-9 pupils from it (the page says so): a group
    at 1.30 is judged against 291/300 to 309/300, so at least 1.26 times it, never the exact figure."""
    totals = {**TOTALS, "red": "x", "top": 300, "withheld_beside_top": ["size", "precision"]}
    overall = overall_bounds(totals)
    assert overall_words(overall) == "between 0.97 and 1.03"
    group = _row("looked after", 200, 130, 100)
    assert compared(group, overall)[0] == "more" and compared(group, overall)[2] == "at least 1.26"
    near = _row("child in need", 200, 120, 100)  # 1.20: 1.17 to 1.24, inside the range whatever the size
    assert compared(near, overall)[0] == ""
    table = [{"name": "social care", "rows": [group, near]}]
    summary = red_list_summary(table, totals, "5")
    assert "red ÷ top 5% over all pupils: between 0.97 and 1.03" in summary
    assert "rates looked-after pupils red more often" in summary


def test_a_group_with_none_in_the_top_k_is_said_in_words_not_as_a_ratio():
    table = [{"name": "social care", "rows": [_row("none", 5600, 540, 301), _row("looked after", 60, 14, 0)]}]
    conclusion = red_list_conclusion(_red_list(), table, TOTALS, "5")
    more = conclusion.split("than it rates pupils overall: ")[1]
    assert more.startswith("looked-after pupils (23.3% red against 0.0% in the top 5%; precision")
    assert "none in top times" not in conclusion


# --- a fairness reviewer's findings on the reworked section ----------------------------------------


def test_a_group_the_shown_figures_put_inside_the_range_is_cleared_not_called_not_shown():
    """A 3,000-pupil authority: the list's size withheld beside a top 5% of 151 (so 142-160 over 151),
    Asian pupils red 23 against 23 in the top 5%: 0.94 to 1.07 times the whole list's, inside 0.8-1.25
    whatever the size, and their counts printed; they had been listed as not shown, and counted so."""
    totals = {**TOTALS, "red": "x", "top": 151, "withheld_beside_top": ["size", "precision"]}
    asian = _row("Asian", 598, 23, 23)
    table = [{"name": "ethnic group", "rows": [asian, _row("Black", 200, SECONDARY, 12)]}]
    overall = overall_bounds(totals)
    assert compared(asian, overall) == ("", None, "between 0.94 and 1.07")  # 151/160 and 151/142, outwards
    assert not_stated(asian, overall) is False
    conclusion = red_list_conclusion(_red_list(), table, totals, "5")
    hidden = conclusion.split("Not shown, so neither named nor cleared here: ")[1].split(" red against")[0]
    assert hidden == "how often the red list rates Black pupils"
    assert "one group cannot be judged from the figures shown" in red_list_summary(table, totals, "5")


def test_a_flagged_ratio_prints_enough_digits_to_be_outside_the_range():
    # 386 red against 307 (1.26); White other 10 against 10: 0.795, printed "0.80" beside the flag
    totals = {**TOTALS, "red": 386, "top": 307}
    row = _row("White other", 120, 10, 10)
    assert compared(row, overall_bounds(totals))[::2] == ("fewer", "0.795")
    # a bound, too: 13 against "<10" beside a list of 1.0 is at least 13/9 = 1.44 (no more digits needed),
    # beside one of 1.155 at least 1.2506..., printed "1.2506" rather than "1.25"
    bound = compared(_row("Mixed", 90, 13, SUPPRESSED), (Fraction(1155, 1000), Fraction(1155, 1000)))
    assert bound[::2] == ("more", "at least 1.2506")


def test_flags_the_band_made_are_not_put_down_to_need_alone():
    """At 3% of a 15,000-pupil authority the band red at every need level held more pupils than the top
    3%; girls and Asian pupils were flagged, far beyond what need could add, and the words said it was
    'the matrix's design (it adds need), not the model's' and 'not the model's ranking'."""
    summary = red_list_summary(_table(), TOTALS, "5", band_over_top="more")
    assert "not the model's ranking" not in summary and "it adds need, and its likelihood band" in summary
    assert "adds the pupils the model ranks just below the top 5%" in summary
    conclusion = red_list_conclusion(_red_list("more"), _table(), TOTALS, "5")
    assert "the matrix makes it in two ways, and this section does not split them" in conclusion
    assert "it is the matrix's design, not the model" not in conclusion
    # where the band is the top 5%, the differences are need's alone, and the words say so
    alone = red_list_conclusion(_red_list(), _table(), TOTALS, "5")
    assert "it is the matrix's design, not the model" in alone


def test_a_flagged_detailed_code_whose_broad_group_is_not_shown_is_named():
    """White Irish (WIRI) red "<10" against none in the top 5%, flagged in the table, under a broad White
    other not shown: it was named nowhere, neither flagged nor not shown."""
    table = [
        {"name": "ethnic group", "rows": [_row("White other", 300, 12, SUPPRESSED)]},
        {"name": "ethnicity (detailed)", "rows": [
            {**_row("White Irish (WIRI)", 40, SUPPRESSED, 0), "within": ["ethnic group", "White other"]},
            {**_row("any other White background (WOTH)", 260, 11, SUPPRESSED),
             "within": ["ethnic group", "White other"]}]},
    ]  # fmt: skip
    from exclusion_risk.models.fairness_red_list import flagged_rows

    overall = overall_bounds(TOTALS)
    assert [r["group"] for r in flagged_rows(table, overall)] == ["White Irish (WIRI)"]
    assert "White Irish (WIRI) pupils red more often" in red_list_summary(table, TOTALS, "5")


def test_fairness_json_gives_the_judgement_as_numbers_and_the_precision_words_read_right():
    from exclusion_risk.models.fairness_red_bounds import json_bounds, relative_bounds

    overall = overall_bounds(TOTALS)
    assert json_bounds(overall) == {"low": pytest.approx(554 / 301), "high": pytest.approx(554 / 301),
                                    "infinite": False}
    looked_after = _row("looked after", 60, 16, SUPPRESSED)  # 16 red against 1-9 in the top 5%
    assert json_bounds(relative_bounds(looked_after, overall)) == {
        "low": pytest.approx(16 / 9 / (554 / 301)), "high": pytest.approx(16 / (554 / 301)),
        "infinite": False}
    # red pupils and none in the top 5%: a finding (infinite), not an unknown (a reviewer's finding)
    assert json_bounds(relative_bounds(_row("child in need", 60, 16, 0), overall)) == {
        "low": None, "high": None, "infinite": True}
    conclusion = red_list_conclusion(_red_list(), [{"name": "SEN provision", "rows": [
        {**_row("EHC plan", 300, 107, 31), "red_precision": {"value": 0.101}}]}], TOTALS, "5")  # fmt: skip
    # it read "precision among red 0.101 against not shown in the top 5%"
    assert "precision among red 0.101 (not shown in the top 5%)" in conclusion


# --- a reviewer's findings on the diff ------------------------------------------------------------------


def test_a_group_exactly_on_the_range_is_not_flagged():
    # red 30 against 20 beside a list of 120 against 100: exactly 1.25, computed from the shares as
    # 1.2500000000000002, flagged "more" and printed "1.2500"
    totals = {**TOTALS, "red": 120, "top": 100}
    assert compared(_row("girls", 67, 30, 20), overall_bounds(totals)) == ("", 1.25, "1.25")


def test_a_detailed_code_flagged_the_other_way_to_its_broad_group_is_named():
    from exclusion_risk.models.fairness_red_list import flagged_rows

    table = [
        {"name": "ethnic group", "rows": [_row("Asian", 400, 60, 20)]},
        {"name": "ethnicity (detailed)", "rows": [
            {**_row("Pakistani (APKN)", 100, 10, 10), "within": ["ethnic group", "Asian"]},
            {**_row("Indian (AIND)", 300, 50, 10), "within": ["ethnic group", "Asian"]}]},
    ]  # fmt: skip
    totals = {**TOTALS, "red": 200, "top": 100}
    flagged = {r["group"]: r["direction"] for r in flagged_rows(table, overall_bounds(totals))}
    # Asian more (3.0 of 2.0), Pakistani fewer (0.5): named; Indian more, as Asian is: said by Asian
    assert flagged == {"Asian": "more", "Pakistani (APKN)": "fewer"}
