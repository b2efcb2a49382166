"""The fairness review's linkage section: each group's link rate as the `link` report published it, the
groups five or more points below their source's overall rate named, and a conclusion either way. The
review had said nothing of linkage, though DESIGN asks it to know when a group's history is under-linked."""

from __future__ import annotations

from exclusion_risk.models.fairness_linkage import link_rates_by_group


def _report(indian_rate):
    groups = {"sex": [{"group": "F", "records": 3432, "linked": 2996, "link_rate": 0.873}],
              "ethnicity": [{"group": "AIND", "records": 408, "linked": 330, "link_rate": indian_rate},
                            {"group": "CHNE", "records": 14, "linked": "x", "link_rate": None}]}  # fmt: skip
    return {"sources": {"social_care": {"link_rate": 0.878, "by_group": groups},
                        "exclusions": {"link_rate": 0.99, "by_group": {}}}}  # fmt: skip


def test_a_group_linking_well_below_its_source_is_named():
    section = link_rates_by_group(_report(0.8088))
    (finding,) = section["findings"]
    assert finding.startswith("Indian (AIND): social-care records linked at 80.9% against 87.8%")
    assert section["conclusion"].startswith("1 group(s) link 5 or more points below")
    rows = {r["group"]: r for r in section["rows"]}
    assert rows["Indian (AIND)"]["below"] and not rows["girls"]["below"]
    # withheld as published: shown as the report has it, never marked
    assert rows["Chinese (CHNE)"]["linked"] == "x" and not rows["Chinese (CHNE)"]["below"]


def test_no_gap_is_said_and_no_report_is_none():
    section = link_rates_by_group(_report(0.86))
    assert section["findings"] == [] and section["conclusion"].startswith("No group shown links 5 or more")
    assert link_rates_by_group(None) is None and link_rates_by_group({"sources": {}}) is None


def test_a_group_whose_rate_is_withheld_is_not_reviewed_rather_than_cleared():
    """The demo's review said "the linkage gives no group markedly less of its history" with nine ethnic
    groups' social-care rates withheld, two of which were 7-8 points below the overall rate."""
    conclusion = link_rates_by_group(_report(0.86))["conclusion"]
    assert "gives no group markedly less" not in conclusion
    assert "(of the groups whose rate is shown)" in conclusion
    assert "Not reviewed: 1 group(s) whose link rate is withheld" in conclusion
    assert "Chinese (CHNE) (social-care)" in conclusion
    no_withheld = _report(0.86)
    no_withheld["sources"]["social_care"]["by_group"]["ethnicity"].pop()
    assert link_rates_by_group(no_withheld)["conclusion"].endswith("markedly less of its history.")


def test_the_page_and_json_carry_the_section_or_say_it_was_not_reviewed():
    from html import unescape

    from exclusion_risk.models import fairness_report
    from tests.models.test_fairness_review_headline import _mixed_review

    review = _mixed_review()
    page = " ".join(unescape(fairness_report.render_report(review)).split())
    assert "Linkage: how much of each group's history reached the features" in page
    assert "Not reviewed: this review was not given the <code>link</code> run's report" in page
    review.linkage = link_rates_by_group(_report(0.8088))
    page = " ".join(unescape(fairness_report.render_report(review)).split())
    assert "Indian (AIND): social-care records linked at 80.9% against 87.8%" in page
    assert '<td class="gap">80.9%</td>' in page
    assert fairness_report.summary_json(review)["linkage"]["findings"] == review.linkage["findings"]
