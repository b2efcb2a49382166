"""What changed since the last scoring, on the page: "12 new red since the spring scoring of <date>",
the counts, the schools whose leavers are not listed, and the changed pupils filterable by change.

The first test routes in an answer with known changes, so the words and the filter are checked exactly;
the second uploads the cohort, then the cohort less a few pupils of one school, to the real service:
those pupils must be listed as no longer on roll.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "web"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COUNTS = {"new_red": 12, "rating_up": 1, "rating_down": 0, "need_up": 1, "need_down": 0, "moved_up": 3,
          "moved_down": 2, "no_longer_on_roll": 1, "new_on_roll": 0}
RATING_UP = "rating up: green to amber (same likelihood band: need level or risk matrix changed)"
NEED_UP = "need level up: 1 to 2 (still amber, same likelihood band)"


def _answer(changes) -> dict:
    rows = [{"upn": f"A80120011{i:04d}", "probability": 0.5 - i / 100, "likelihood_band": "very high",
             "need_level": 1, "rag": "red", "matrix_cell": "L4-N1", "reasons": "absence",
             "model_version": "7", "school_urn": "104321", "nc_year": 8} for i in range(20)]  # fmt: skip
    run = {"id": "3f2a9c1e0b7d4e6f", "recorded_at": "2026-12-02T10:00:00Z", "pupils": 20, "schools": 1,
           "model_version": "7", "risk_matrix_version": "1.0.0", "year": "2026/27", "census": "autumn"}
    return {"notice": DECISION_SUPPORT_NOTICE, "model_version": "7", "pupils": len(rows), "history": "linked",
            "missing_features": [], "rejected": [], "run": run, "changes": changes, "scores": rows}


def _changes() -> dict:
    def changed(upn, change, before_band, after_band, before_rag, after_rag):
        return {"upn": upn, "school_urn": "104321", "change": change, "before_band": before_band,
                "after_band": after_band, "before_rag": before_rag, "after_rag": after_rag}

    pupils = [changed(f"A80120011{i:04d}", "new_red", "high", "very high", "amber", "red") for i in range(12)]
    # a rating that changed within its band (the need level rose): listed, in the answer's words
    rated = changed("E801200110000", "rating_up", "medium", "medium", "green", "amber")
    pupils += [{**rated, "label": RATING_UP}]
    # the same band and rating, a higher need level (L3-N1 -> L3-N2: the suggested response may change)
    need = changed("F801200110000", "need_up", "high", "high", "amber", "amber")
    pupils += [{**need, "before_need": 1, "after_need": 2, "label": NEED_UP}]
    pupils += [changed(f"B80120011{i:04d}", "moved_up", "low", "medium", "green", "green") for i in range(3)]
    pupils += [changed(f"C80120011{i:04d}", "moved_down", "high", "medium", "amber", "green")
               for i in range(2)]
    pupils += [{"upn": "D801200110000", "school_urn": "104321", "change": "no_longer_on_roll",
                "before_band": "high", "after_band": None, "before_rag": "amber", "after_rag": None}]
    since = {"id": "9e8d7c6b5a4f3e2d", "recorded_at": "2026-04-04T09:30:00Z", "year": "2025/26",
             "census": "spring", "model_version": "6"}
    not_listed = [{"school_urn": "104999", "reason": NOT_LISTED}]
    return {"since": since, "counts": COUNTS, "pupils": pupils, "leavers_not_listed": not_listed,
            "leavers_not_listed_notes": [NOT_LISTED], "notes": NOTES}


# What the counts do not say (models.comparison_notes, the CLI's words): shown above them.
NOTES = ["The earlier scoring used model exclusion-risk version 6, this one exclusion-risk version 7: a "
         "pupil may have moved because the model changed, not because anything about the pupil did.",
         "Not compared: 1 school (104777; 25 pupils) scored only in this one. A school one scoring did not "
         "cover would show all its pupils as new or gone, so its pupils are not in the changes."]
NOT_LISTED = ("This upload has fewer than half of the pupils the earlier scoring had at school 104999, so it "
              "is not read as that school's census.")


def _signed_in(chromium, service, sign_in):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sign_in(page, service)
    return context, page


def _upload(page, path: Path) -> None:
    from playwright.sync_api import expect

    page.set_input_files("#cohort-file", str(path))
    page.click("#score-button")
    expect(page.locator("#status")).to_contain_text("Scored", timeout=120_000)


def test_the_changes_view_says_what_changed_and_filters_by_change(chromium, live_service, sign_in, tmp_path):
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    answers = iter([_answer(None), _answer(_changes())])
    context, page = _signed_in(chromium, live_service, sign_in)
    try:
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(next(answers))))
        _upload(page, upload)  # the first scoring: nothing to compare with
        expect(page.locator("#changes-section")).to_be_hidden()
        expect(page.locator("#run-summary")).to_contain_text("2 December 2026")
        # said, not left to the missing section: an officer would otherwise look for "What changed"
        nothing = ("No earlier scoring of the 2026/27 autumn census that this key may compare with was "
                   "recorded for these schools (a school's key compares only with scorings of its own "
                   "schools' pupils")
        expect(page.locator("#run-summary")).to_contain_text(nothing)
        _upload(page, upload)
        expect(page.locator("#run-summary")).not_to_contain_text(nothing)
        section = page.locator("#changes-section")
        expect(section).to_be_visible()
        # The census and date of the scoring compared with, as the answer gives them (a spring one here),
        # and which run, as the workbook names it: several scorings of one day are told apart.
        expect(page.locator("#changes-summary")).to_have_text(
            "12 new red since the spring scoring of 4 April 2026 "
            "(run 9e8d7c6b; census 2025/26, model version 6).")
        expect(page.locator("#changes-not-listed")).to_have_text(NOT_LISTED)
        expect(page.locator("#changes-notes li")).to_have_text(NOTES)  # the model changed; not compared
        assert page.locator("#changes-counts li").all_inner_texts() == [
            "12 new red", "1 rating up within a band", "0 rating down within a band",
            "1 need level up within a rating", "0 need level down within a rating",
            "3 moved up a band or more", "2 moved down a band or more", "1 no longer on roll",
            "0 new on roll"]
        rows = page.locator("#changes-table tbody tr")
        assert rows.count() == 20
        expect(page.locator("#changes-pager")).to_be_hidden()  # one page: no page controls
        section.screenshot(path=ARTIFACTS / "10-changes.png")
        expect(page.locator("#status")).to_contain_text("12 new red since")  # announced (aria-live)
        page.select_option("#changes-filter", "rating_up")
        assert rows.count() == 1
        assert rows.first.locator("td").all_inner_texts()[2:] == [RATING_UP, "medium", "medium", "GREEN",
                                                                   "AMBER", "", ""]  # no need levels kept
        page.select_option("#changes-filter", "need_up")
        assert rows.count() == 1
        cells = rows.first.locator("td").all_inner_texts()
        assert cells[2:] == [NEED_UP, "high", "high", "AMBER", "AMBER", "1", "2"]  # need levels: then, now
        page.select_option("#changes-filter", "moved_down")
        assert rows.count() == 2
        assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {"moved down a band or more"}
        assert rows.first.locator("td").all_inner_texts()[3:] == ["high", "medium", "AMBER", "GREEN", "", ""]
        page.select_option("#changes-filter", "no_longer_on_roll")
        assert rows.locator("td:nth-child(1)").all_inner_texts() == ["D801200110000"]
        assert rows.first.locator("td").all_inner_texts()[4] == ""  # missing: blank, never "null"
        page.select_option("#changes-filter", "new_on_roll")
        expect(page.locator("#changes-count")).to_have_text("No pupil has this change.")
    finally:
        context.close()


def test_a_second_upload_of_a_changed_census_shows_what_changed(chromium, live_service, champion, sign_in,
                                                                tmp_path):
    from playwright.sync_api import expect

    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)
    school = cohort["SchoolURN"].value_counts().index[0]
    gone = cohort[cohort["SchoolURN"] == school]["UPN"].head(4).tolist()
    first, second = tmp_path / "census_autumn.csv", tmp_path / "census_autumn_again.csv"
    cohort.to_csv(first, index=False)
    cohort[~cohort["UPN"].isin(gone)].to_csv(second, index=False)
    context, page = _signed_in(chromium, live_service, sign_in)
    try:
        _upload(page, first)
        _upload(page, second)
        expect(page.locator("#changes-section")).to_be_visible()
        expect(page.locator("#changes-summary")).to_contain_text("new red since the autumn scoring of")
        expect(page.locator("#changes-counts")).to_contain_text("4 no longer on roll")
        page.select_option("#changes-filter", "no_longer_on_roll")
        listed = page.locator("#changes-table tbody tr td:nth-child(1)").all_inner_texts()
        assert sorted(listed) == sorted(gone)
        page.locator("#changes-section").screenshot(path=ARTIFACTS / "11-changes-live.png")
    finally:
        context.close()


def test_schools_whose_leavers_are_not_listed_are_one_line_per_reason(
    chromium, live_service, champion, sign_in, tmp_path
):
    """A 43-row sample after the whole census: its schools' leavers are not listed, and the page said so
    in one line per school (28 alike on the demo); one line now names them, as the workbook does."""
    from playwright.sync_api import expect

    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)
    schools = sorted(set(cohort["SchoolURN"]))
    fours = 43 - 3 * len(schools)  # 3 or 4 pupils at each school: 43 rows
    sample = pd.concat([cohort[cohort["SchoolURN"] == school].head(3 + (i < fours))
                        for i, school in enumerate(schools)])
    assert len(sample) == 43 and len(schools) > 10
    whole, part = tmp_path / "census_autumn.csv", tmp_path / "census_sample.csv"
    cohort.to_csv(whole, index=False)
    sample.to_csv(part, index=False)
    context, page = _signed_in(chromium, live_service, sign_in)
    try:
        _upload(page, whole)
        _upload(page, part)
        lines = page.locator("#changes-not-listed li")
        expect(lines).to_have_count(1)
        named = f"{', '.join(schools[:10])} and {len(schools) - 10} more"
        expect(lines.first).to_contain_text(
            f"Pupils who are not in this upload are not listed as no longer on roll at {len(schools)} "
            f"schools ({named}): this upload has fewer than two thirds of the pupils each school's latest")
        page.locator("#changes-section").screenshot(path=ARTIFACTS / "12-changes-not-listed.png")
    finally:
        context.close()


def test_the_panel_says_when_no_factor_of_the_childs_own_raises_the_score(chromium, live_service, sign_in,
                                                                          tmp_path):
    """Three amber pupils of a tester's 8,017 had no reasons (rated on their school's and year's context):
    the list said so, the pupil panel's "Reasons" row was blank."""
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    answer = _answer(None)
    answer["scores"][0].update(reasons="", context="in Year 8 (raises risk)")
    context, page = _signed_in(chromium, live_service, sign_in)
    try:
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(answer)))
        _upload(page, upload)
        page.get_by_role("button", name="Open details for pupil A801200110000").click()
        summary = page.locator("#panel-summary")
        said = "No factor of the child's own raises the score; see the context below."
        expect(summary).to_contain_text(said)
        expect(summary).to_contain_text("in Year 8 (raises risk)")
    finally:
        context.close()


def test_a_refusal_listing_the_first_1000_of_more_problems_adds_up(chromium, live_service, sign_in, tmp_path):
    """A SENCO's upload with 1,276 row problems was refused with the first 1,000 listed: the page showed 50
    and "…and 950 more", which did not add up to the 1,276 its heading gave."""
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    problems = [{"row": i + 1, "field": "SchoolURN", "reason": "not a school URN"} for i in range(1000)]
    body = {"detail": "1,276 row problem(s) found; nothing was scored.", "errors": problems}
    context, page = _signed_in(chromium, live_service, sign_in)
    try:
        page.route("**/score/file**", lambda route: route.fulfill(
            status=422, content_type="application/json", body=json.dumps(body)))
        page.set_input_files("#cohort-file", str(upload))
        page.click("#score-button")
        errors = page.locator("#errors")
        expect(errors).to_contain_text("1,276 row problem(s)", timeout=60_000)
        said = "…and 950 more listed, then the rest: the service lists the first 1,000 only."
        expect(errors).to_contain_text(said)
        assert errors.locator("li").count() == 50
    finally:
        context.close()


def test_a_scoring_that_lists_the_first_1000_rejected_rows_says_at_least(chromium, live_service, sign_in,
                                                                         tmp_path):
    """A skip_invalid answer lists the first 1,000 rows rejected: the page said "1,000 rows were
    rejected"; then, mended, "at least 1,000 rows were (the warnings below say how many) rejected"."""
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    answer = _answer(None)
    problem = {"field": "SchoolURN", "reason": "not a school URN"}
    answer["rejected"] = [{"row": i + 1, **problem} for i in range(1000)]
    answer["warnings"] = ["1,276 census rows could not be scored and were left out (skip_invalid)."]
    context, page = _signed_in(chromium, live_service, sign_in)
    try:
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(answer)))
        _upload(page, upload)
        expect(page.locator("#results-summary")).to_contain_text(
            "; at least 1,000 rows were rejected (the first 1,000 listed above; the warnings below say how "
            "many).")
        expect(page.locator("#errors")).to_contain_text("at least 1,000 rows were not scored (census.csv):")
    finally:
        context.close()
