"""The red list section judges each group's red ÷ top k% against the red list's as a whole, not against 1.

An auditor's 6,000-pupil authority: 554 pupils red against a top 5% of 301 (1.84 times). The section named
pupils on SEN support (1.47 times) and pupils previously known to social care (1.41) as rated red "more
often", though the red list rates them red less often than it rates pupils overall: every group has more
pupils red than in the top 5% when the list is 1.84 times its size.
"""

from __future__ import annotations

from exclusion_risk.models.fairness_red_bounds import compared, overall_bounds, overall_words
from exclusion_risk.models.fairness_red_list import RedList, red_list_conclusion, red_list_summary
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
    assert less.startswith("pupils with SEN support (16.3% red against 11.1% in the top 5%: 1.47 times as "
                           "often, 0.80 times the whole list's 1.84")  # fmt: skip


def test_a_band_wider_than_the_top_k_is_said_to_take_no_group_below_it():
    # it said "every group has more pupils red on that account", untrue of a group with none near the cut
    conclusion = red_list_conclusion(_red_list("more"), _table(), TOTALS, "5")
    assert "every group has more pupils red" not in conclusion
    assert "so no group has fewer pupils in it than in the top 5%, with existing need or not" in conclusion


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
