"""The page's headline after a scoring counts every warning it shows, the drift banner's beside the
cohort's (it read "1 warning" beside three drift warnings; then "4 warnings" where the warnings box
listed one: now "1 warning and 3 drift notes"), and writes the pupils with thousands
separators as the page's other counts do ("Scored 62509 pupils"). common.js on a blank page, as
test_web_error_detail does: the headline is text made from the answer's counts."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

COMMON_JS = Path(__file__).resolve().parents[2] / "serving" / "static" / "common.js"
APP_JS = COMMON_JS.with_name("app.js")


@pytest.mark.parametrize(
    ("pupils", "warnings", "drift", "fairness", "shown"),
    [
        (62509, 1, 3, "", "Scored 62,509 pupils. 1 warning and 3 drift notes, listed with the results."),
        (20, 1, 0, "", "Scored 20 pupils. 1 warning, listed with the results."),
        (20, 0, 1, "", "Scored 20 pupils. 1 drift note, listed with the results."),
        (20, 2, 1, "", "Scored 20 pupils. 2 warnings and 1 drift note, listed with the results."),
        # the review's lines name some findings and count the rest: said without a count of its lines
        (20, 0, 0, "findings", "Scored 20 pupils. The fairness review's findings, listed with the results."),
        (20, 2, 3, "findings", "Scored 20 pupils. 2 warnings, 3 drift notes and the fairness review's "
                               "findings, listed with the results."),
        (20, 0, 0, "note", "Scored 20 pupils. A note on the fairness review, listed with the results."),
        (1200, 0, 0, "", "Scored 1,200 pupils."),
    ],
)
def test_the_headline_counts_every_warning_and_separates_thousands(chromium, pupils, warnings, drift,
                                                                   fairness, shown):
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.set_content("<!doctype html><html><body><p id='status'></p></body></html>")
        page.add_script_tag(content=COMMON_JS.read_text(encoding="utf-8"))
        line = page.evaluate("([p, w, d, f]) => window.ER.scoredLine(p, w, '', d, f)",
                             [pupils, warnings, drift, fairness])
        assert line == shown
    finally:
        context.close()
    # the page's headline is this line: the warnings box's count, and the drift and fairness banners' apart
    shown_by = "ER.scoredLine(body.pupils, said.length, changed, shown.drift, shown.fairness)"
    assert shown_by in APP_JS.read_text(encoding="utf-8")


def test_the_banners_report_what_they_show_to_the_status_line(chromium):
    """The review's lines are an introduction, the year's finding, up to four named groups and one line
    counting the rest ("6 more calibration findings"): counting lines miscounted them (a reviewer's
    finding), and a review that could not be read is no finding."""
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.set_content("<!doctype html><html><body><p id='notice'>Notice.</p>"
                         "<div id='drift-warnings'></div><div id='fairness-findings'></div></body></html>")
        page.add_script_tag(content=COMMON_JS.read_text(encoding="utf-8"))
        page.add_script_tag(content=COMMON_JS.with_name("notes.js").read_text(encoding="utf-8"))
        lines = ["the fairness review of version 3 found ...:", "year", "girls", "Asian", "boys", "FSM",
                 "6 more calibration findings (intersections ...)"]
        shown = page.evaluate("(l) => window.ER.showModelNotes({fairness_findings: l, "
                              "drift_warnings: ['a']})", lines)
        assert shown == {"fairness": "findings", "drift": 1}
        unread = page.evaluate("() => window.ER.showModelNotes({fairness_findings: ['could not be read']})")
        assert unread == {"fairness": "note", "drift": 0}
        assert page.evaluate("() => window.ER.showModelNotes({})") == {"fairness": "", "drift": 0}
    finally:
        context.close()


def test_the_banners_are_no_live_regions_beside_the_status_line():
    """Four live regions filled at once as results arrived (the status line, the table's count, and the
    drift and fairness banners, 1,516 characters of drift text on a tester's authority), read out over
    each other; the status line counts the banners instead."""
    import re

    page = (COMMON_JS.parents[1] / "index.html").read_text(encoding="utf-8")
    for banner in ("drift-warnings", "fairness-findings"):
        tag = re.search(rf'<div id="{banner}"[^>]*>', page).group(0)
        assert "role=" not in tag and "aria-live" not in tag, tag


@pytest.mark.slow
def test_the_pages_counts_have_thousands_separators(chromium, live_service, sign_in, tmp_path):
    # the results summary read "62509 pupils scored with model version 2" beside the status line's
    # "62,509", and the history line "84332 pupils"
    import json

    from playwright.sync_api import expect

    from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

    def model(route):
        body = route.fetch().json()
        body["history"] = {"state": "ready", "extracts": "/data/extracts", "pupils": 84332,
                           "census_years": "2015/16-2018/19", "link_rates": {"exclusions": 0.98}}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    rows = [{"upn": "A801200110000", "probability": 0.4, "likelihood_band": "very high", "need_level": 1,
             "rag": "red", "matrix_cell": "L4-N1", "reasons": "absence", "model_version": "2",
             "school_urn": "104321", "nc_year": 8}]  # fmt: skip
    answer = {"notice": DECISION_SUPPORT_NOTICE, "model_version": "2", "pupils": 62509, "history": "linked",
              "missing_features": [], "rejected": [], "scores": rows}  # fmt: skip
    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.route("**/model", model)
        sign_in(page, live_service)
        expect(page.locator("#history-status")).to_contain_text("(84,332 pupils, census 2015/16-2018/19")
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(answer)))  # fmt: skip
        page.set_input_files("#cohort-file", str(upload))
        page.click("#score-button")
        expect(page.locator("#status")).to_contain_text("Scored 62,509 pupils", timeout=60_000)
        expect(page.locator("#results-summary")).to_contain_text("62,509 pupils scored with model version 2")
    finally:
        context.close()
