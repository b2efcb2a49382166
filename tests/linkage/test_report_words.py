"""The linkage report says what it counts and concludes in words.

Measured on the demo (`link --data data/demo/extracts`): before, "Census pupils: 86448" (distinct UPNs:
the generator made 84,332 pupils, some under two UPNs), social care's "model precision (probabilistic)"
100.0% for 0.9995, "Largest gap between ethnic groups: 5.5%" for a difference of 5.5 percentage points,
year groups "13" (129 social-care records, none linked) and "post-16" side by side, sorted as text
(1, 10, 11, 12, 13, 2...), and no sentence on which groups link below their source's rate.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk.linkage.report import build_report, render_html, year_group
from exclusion_risk.linkage.report_words import POST_16, PRE_SCHOOL, conclusion, percent, points
from exclusion_risk.linkage.settings import LinkageSettings


def test_a_share_is_never_rounded_to_100_or_0_percent_when_it_is_neither():
    assert percent(0.9995) == "99.95%" and percent(0.99999) == "99.999%" and percent(0.8782) == "87.8%"
    assert percent(1.0) == "100.0%" and percent(0.0) == "0.0%" and percent(0.0004) == "0.04%"
    assert percent(None) == "–" and percent(float("nan")) == "–"
    assert points(0.0551) == "5.5 percentage points"


def test_year_12_and_above_are_one_post_16_group_and_below_reception_is_named():
    dob = pd.Series(["2001-05-01", "2000-05-01", "1998-05-01", "2010-05-01", "2015-05-01", "2013-10-01"])
    on = pd.Series(["2018-10-01"] * 6)
    assert list(year_group(dob, on)) == [POST_16, POST_16, POST_16, "4", PRE_SCHOOL, "R"]


def _report():
    """Social care: 60 records of Year 6 (all linked), 40 of Year 13 and 20 pre-school (none linked),
    by the same ethnicity; exclusions: 50 records all linked."""
    def source(id_column, ids, dobs, starts, linked):
        frame = pd.DataFrame({id_column: ids, "Sex": "F", "Ethnicity": "WBRI", "DOB": dobs,
                              "StartDate": starts})  # fmt: skip
        decisions = pd.DataFrame({"eid_l": ids, "band": ["accept" if x else "reject" for x in linked],
                                  "method": ["upn" if x else "" for x in linked], "score": 1.0})  # fmt: skip
        return frame, decisions

    n = [60, 40, 20]
    care, care_d = source("LAchildID", [f"C{i}" for i in range(sum(n))],
                          ["2008-05-01"] * 60 + ["2000-05-01"] * 40 + ["2016-05-01"] * 20,
                          ["2018-10-01"] * sum(n), [True] * 60 + [False] * 60)  # fmt: skip
    excl, excl_d = source("RecordID", [f"E{i}" for i in range(50)], ["2008-05-01"] * 50, ["2018-10-01"] * 50,
                          [True] * 50)  # fmt: skip
    extracts = SimpleNamespace(census=pd.DataFrame({"UPN": ["A", "B", "B"]}), exclusions=excl,
                               social_care=care, rejects=None)  # fmt: skip
    return build_report(extracts, {"exclusions": excl_d, "social_care": care_d}, LinkageSettings(), {})


def test_the_report_concludes_in_words_naming_the_groups_linking_markedly_below_their_source():
    report = _report()
    assert report["census_upns"] == 2 and "census_pupils" not in report
    groups = [r["group"] for r in report["sources"]["social_care"]["by_group"]["year_group"]]
    assert groups == [PRE_SCHOOL, "6", POST_16]
    said = " ".join(report["conclusion"])
    assert "Overall, 100.0% of exclusion records and 50.0% of social-care records are linked" in said
    assert (f"below the social-care rate (50.0%; 5 or more points lower): year group {PRE_SCHOOL} 0.0%; "
            f"year group {POST_16} 0.0%.") in said  # fmt: skip
    assert "may be under-counted" in said and "synthetic truth" in said
    html = render_html(report)
    assert "Distinct UPNs on the census: 2" in html and "Census pupils" not in html
    assert "<h2>Conclusion</h2>" in html and "may understate their risk" in html


def test_a_precision_and_a_gap_are_printed_as_what_they_are():
    report = _report()
    report["sources"]["social_care"]["probabilistic_estimated_precision"] = 0.9995
    report["sources"]["social_care"]["largest_gap_by_ethnicity"] = 0.0551
    html = render_html(report)
    assert "<td>99.95%</td></tr>" in html  # the precision column, last in the source's row
    assert "Largest gap between ethnic groups' link rates: 5.5 percentage points." in html


def test_a_group_whose_rate_is_withheld_is_named_only_as_the_table_shows_it():
    """Demo: social care's 12 and above, 256 records, '<10' linked: its rate is withheld, but even 9 of
    256 is far below 87.8%, so it is named with the figures the table shows, no more."""
    rows = [{"group": POST_16, "records": 256, "linked": "<10", "link_rate": None},
            {"group": "3", "records": 516, "linked": 498, "link_rate": 0.9651},
            {"group": PRE_SCHOOL, "records": "x", "linked": "<10", "link_rate": None}]  # fmt: skip
    said = conclusion({"social_care": {"link_rate": 0.8782, "by_group": {"year_group": rows}}})
    assert said[1] == ("Linking markedly below the social-care rate (87.8%; 5 or more points lower): year "
                       f"group {POST_16} (fewer than 10 of its 256 records).")  # fmt: skip


def test_a_withheld_overall_rate_is_said_in_words_not_as_a_dash():
    """A 3,000-pupil authority (synth --pupils 3000 --seed 3): 1,044 of 1,046 exclusion records linked,
    so its rate (99.8%) is withheld with the 2 unlinked, and the conclusion read "Overall, – of exclusion
    records and 87.8% of social-care records are linked". It says what the table shows: all but fewer
    than 10 of the 1,046 (and fewer than 10 of them where the linked are '<10')."""
    sources = {
        "exclusions": {"records": 1046, "linked_total": "x", "unlinked": "<10", "link_rate": None},
        "social_care": {"records": 369, "linked_total": 324, "unlinked": 45, "link_rate": 0.8782},
    }
    said = conclusion(sources)[0]
    assert "–" not in said
    assert said == ("Overall, all but fewer than 10 of the 1,046 exclusion records and 87.8% of social-care "
                    "records are linked to a census pupil.")  # fmt: skip
    few = {"social_care": {"records": 40, "linked_total": "<10", "unlinked": "x", "link_rate": None}}
    assert conclusion(few)[0] == ("Overall, fewer than 10 of the 40 social-care records are linked to a "
                                  "census pupil.")  # fmt: skip
    # a rate withheld for another reason, or records themselves withheld, stays unsaid
    withheld = {"exclusions": {"records": "x", "linked_total": "x", "unlinked": "x", "link_rate": None}}
    assert conclusion(withheld)[0] == "Overall, – of exclusion records are linked to a census pupil."


def test_an_overall_rate_withheld_behind_an_x_is_bounded_from_the_counts_shown():
    """A tester's authority: 2,513 of 2,524 exclusion records linked, 1-9 of them probabilistic and 1-9
    left for review, so unlinked and linked are 'x'; the conclusion read "Overall, – of exclusion
    records" and the console "exclusions: x of 2524 linked". The figures shown prove 2,389 + 115 + at
    least 1 linked: it says that bound, and nothing the table does not show (not the 2,513)."""
    from exclusion_risk.linkage.report_words import source_line

    exclusions = {"records": 2524, "linked": {"upn": 2389, "name_dob": 115, "probabilistic": "<10"},
                  "linked_total": "x", "clerical_review": "<10", "unlinked": "x",
                  "link_rate": None}  # fmt: skip
    care = {"records": 952, "linked_total": 838, "unlinked": 114, "link_rate": 0.8803}
    said = conclusion({"exclusions": exclusions, "social_care": care})[0]
    assert said == ("Overall, at least 99.2% of exclusion records (2,505 or more of the 2,524) and 88.0% "
                    "of social-care records are linked to a census pupil.")  # fmt: skip
    assert source_line("exclusions", exclusions) == (
        "exclusions: at least 2505 of 2524 linked (upn 2389, name_dob 115, probabilistic <10); review <10")
    # an 'x' among the methods may hide a zero: it adds nothing to the bound
    hidden = {**exclusions, "linked": {"upn": 2389, "name_dob": "x", "probabilistic": "<10"}}
    said = conclusion({"exclusions": hidden})[0]
    assert "at least 94.6% of exclusion records (2,390 or more of the 2,524)" in said
    # no bound from the figures shown: still a dash, never a guess
    bare = {**exclusions, "linked": {"upn": "x", "name_dob": "x", "probabilistic": "x"}}
    said = conclusion({"exclusions": bare})[0]
    assert said == "Overall, – of exclusion records are linked to a census pupil."
    assert source_line("exclusions", bare).startswith("exclusions: x of 2524 linked")


# A tester's social care by ethnicity as report.json published it (WBRI 502 of 568 shown, MOTH 11 of 11;
# the rest withheld). The truth behind it: MWBA 6 of 10, OOTH 8 of 11, ABAN 28 of 35, MWAS 12 of 15,
# BCRB 18 of 22: each 5 or more points below 88.0%, none of them said.
_ETHNICITY = [
    ("ABAN", 35, "x"), ("AIND", 55, "x"), ("AOTH", "<10", "<10"), ("APKN", 74, "x"), ("BAFR", 23, "x"),
    ("BCRB", 22, "x"), ("MOTH", 11, 11), ("MWAS", 15, "x"), ("MWBA", 10, "<10"), ("OOTH", 11, "<10"),
    ("WBRI", 568, 502), ("unknown", 45, "x"),
]


def _care_by_ethnicity() -> dict:
    rows = [{"group": g, "records": n, "linked": k,
             "link_rate": round(k / n, 4) if isinstance(n, int) and isinstance(k, int) else None}
            for g, n, k in _ETHNICITY]  # fmt: skip
    return {"records": 952, "linked_total": 838, "unlinked": 114, "link_rate": 0.8803,
            "by_group": {"ethnicity": rows}}  # fmt: skip


def test_the_largest_gap_is_what_the_figures_shown_prove_and_withheld_groups_are_named():
    """It read "Largest gap between ethnic groups' link rates: 11.6 percentage points" (MOTH 100.0% less
    WBRI 88.4%, the two rates shown), and the conclusion named OOTH alone, the groups whose rates are
    withheld skipped unsaid. OOTH's "<10" of 11 is at most 9 of 11, 81.9% rounded up, beside MOTH's 100%:
    at least 18.1 points, rounded down; each group withheld is named as not assessed, and no withheld
    rate (60.0%, 72.7%, 80.0%) or count under 10 is printed."""
    care = _care_by_ethnicity()
    said = " ".join(conclusion({"social_care": care}))
    assert "at least 18.1 percentage points (MOTH 100.0% against OOTH at most 81.9%" in said
    assert "ethnicity OOTH (fewer than 10 of its 11 records)" in said
    assessed = next(s for s in conclusion({"social_care": care}) if s.startswith("Not assessed"))
    for group in ("ABAN", "AIND", "AOTH", "APKN", "BAFR", "BCRB", "MWAS", "MWBA"):
        assert group in assessed, group
    assert "OOTH" not in assessed and "WBRI" not in assessed and "MOTH" not in assessed
    assert "unknown" not in assessed

    from exclusion_risk.linkage.report_words import ethnicity_gap

    care.update(ethnicity_gap(care["by_group"]["ethnicity"]))
    assert care["largest_gap_by_ethnicity"] == 0.181 and care["largest_gap_by_ethnicity_at_least"]
    report = _report()
    report["sources"]["social_care"] = {**report["sources"]["social_care"], **care}
    html = render_html(report)
    assert ("Largest gap between ethnic groups' link rates: at least 18.1 percentage points (MOTH 100.0% "
            "against OOTH at most 81.9%") in html  # fmt: skip
    assert "11.6" not in html + said
    gap_line = next(line for line in html.splitlines() if "Largest gap" in line)
    for group in ("ABAN", "AIND", "AOTH", "APKN", "BAFR", "BCRB", "MWAS", "MWBA", "OOTH"):
        assert group in gap_line, group
    assert "unknown" not in gap_line and "WBRI" not in gap_line.split("against", 1)[1]
    for withheld in ("60.0%", "72.7%", "80.0%", "6 of", "8 of", "28 of", "12 of", "18 of"):
        assert withheld not in html + said, withheld


def test_a_gap_said_as_at_least_is_rounded_down_even_between_two_shown_rates():
    """100.0% against 530 of 600 (88.3%) is 11.67 points: with a group withheld beside them the gap is
    "at least" that, so 11.6, not 11.7 (rounded outwards, as every bound)."""
    from exclusion_risk.linkage.report_words import ethnicity_gap, gap_words

    rows = [{"group": "A", "records": 600, "linked": 600, "link_rate": 1.0},
            {"group": "B", "records": 600, "linked": 530, "link_rate": 0.8833},
            {"group": "C", "records": "<10", "linked": "<10", "link_rate": None}]  # fmt: skip
    assert gap_words(ethnicity_gap(rows)).startswith("at least 11.6 percentage points (A 100.0% against B")
    assert gap_words(ethnicity_gap(rows[:2])) == "11.7 percentage points."


def test_a_shown_group_beside_a_withheld_overall_rate_is_not_passed_over():
    """A reviewer's case: the source's rate known only as 80.1%-100% (its unlinked 'x'), and an ethnic
    group shown at 88%: possibly 12 points below the source, yet neither named low nor listed as not
    assessed. It is listed (its own rate is shown, so nothing more is withheld)."""
    rows = [{"group": "WBRI", "records": 500, "linked": 440, "link_rate": 0.88},
            {"group": "AIND", "records": 500, "linked": 500, "link_rate": 1.0}]  # fmt: skip
    source = {"records": 1000, "linked": {"upn": 800, "name_dob": "<10", "probabilistic": "x"},
              "linked_total": "x", "clerical_review": "<10", "unlinked": "x", "link_rate": None,
              "by_group": {"ethnicity": rows}}  # fmt: skip
    assessed = [s for s in conclusion({"exclusions": source}) if s.startswith("Not assessed")]
    assert assessed and "ethnicity WBRI" in assessed[0] and "AIND" not in assessed[0]
