"""What the page tells the officer, in real headless Chromium against a real server (an inclusion
officer's test of a `make demo` copy): a sign-in problem is seen and announced in the sign-in section,
every warning of a scoring is shown beside its results, a failed upload leaves no earlier file's list
on screen, an error's row is a data row counted after the header, and a pupil's earlier scores leave
out the scoring just made and can be told apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "web"  # git-ignored, linked from serving/README.md

pytestmark = [pytest.mark.browser, pytest.mark.slow]

YEAR = "2018/19"


def _context(chromium):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return chromium.new_context(viewport={"width": 1400, "height": 1000})


def _upload(page, path: Path) -> None:
    from playwright.sync_api import expect

    page.set_input_files("#cohort-file", str(path))
    page.click("#score-button")
    expect(page.locator("#status")).to_contain_text("Scored", timeout=120_000)


@pytest.fixture(scope="module")
def small_file(champion, tmp_path_factory) -> Path:
    """20 pupils of the scored year's autumn census."""
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(20)
    path = tmp_path_factory.mktemp("feedback") / "census_small.csv"
    cohort.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def mixed_file(champion, tmp_path_factory) -> Path:
    """The tester's file: 20 autumn rows and 8 spring rows of the scored year, one UPN not valid."""
    census = pd.read_csv(champion.extracts / "census.csv", dtype=str, keep_default_na=False)
    year = census[census["AcademicYear"] == YEAR]
    autumn = year[year["CensusTerm"] == "AUT"].head(20).copy()
    spring = year[year["CensusTerm"] == "SPR"]
    spring = pd.concat([spring[spring["UPN"].isin(autumn["UPN"])].head(5),
                        spring[~spring["UPN"].isin(autumn["UPN"])].head(3)])
    upn = autumn["UPN"].iloc[1]
    autumn.loc[autumn.index[1], "UPN"] = ("Z" if upn[0] != "Z" else "Y") + upn[1:]  # a wrong check letter
    path = tmp_path_factory.mktemp("feedback") / "census_mixed.csv"
    pd.concat([autumn, spring]).to_csv(path, index=False)
    return path


def _bad_file(small_file: Path, tmp_path: Path) -> Path:
    """The small file with a date of birth that is no date in its third data row (line 4 of the file)."""
    bad = pd.read_csv(small_file, dtype=str, keep_default_na=False)
    bad.loc[bad.index[2], "DOB"] = "31/02/2010"
    path = tmp_path / "census_bad.csv"
    bad.to_csv(path, index=False)
    return path


def test_sign_in_problems_are_seen_and_announced_in_the_sign_in_section(chromium, live_service):
    from playwright.sync_api import expect

    context = _context(chromium)
    page = context.new_page()
    try:
        page.goto(live_service.base_url + "/")
        section = page.locator("#signin-section")
        alert = section.locator("[role=alert]")
        status = section.locator("[role=status][aria-live=polite]")
        page.focus("#api-key")
        page.keyboard.press("Enter")  # no key
        expect(page.get_by_text("Enter your API key")).to_be_visible()
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("Enter your API key")

        held = []
        page.route("**/model", lambda route: held.append(route))  # the answer waits
        page.fill("#api-key", "erk.wrong.key")
        page.keyboard.press("Enter")
        expect(status).to_be_visible()
        expect(status).to_have_text("Checking the key…")
        expect(alert).to_be_hidden()  # the earlier problem is cleared
        assert held, "the key was sent"
        held[0].continue_()
        expect(page.get_by_text("The API key was not accepted")).to_be_visible()
        expect(alert).to_contain_text("The API key was not accepted")
        expect(status).to_have_text("")
        assert page.evaluate("() => document.activeElement.id") == "api-key"  # ready to type it again
        assert "signin-errors" in page.get_attribute("#api-key", "aria-describedby")
        section.screenshot(path=ARTIFACTS / "sign-in-problem.png")
        page.unroute("**/model")

        page.route("**/model", lambda route: route.abort())  # the service cannot be reached
        page.fill("#api-key", "erk.another.key")
        page.keyboard.press("Enter")
        expect(alert).to_contain_text("The service could not be reached")
        expect(alert).to_be_visible()
        page.unroute("**/model")

        page.fill("#api-key", live_service.keys["scorer"])
        page.keyboard.press("Enter")
        expect(page.locator("#upload-section")).to_be_visible()
        page.click("#signout-button")
        expect(section).to_be_visible()
        expect(status).to_have_text("Signed out.")  # seen where the officer is, not in a hidden section
        expect(status).to_be_visible()
        expect(alert).to_be_hidden()
        assert page.evaluate("() => document.activeElement.id") == "api-key"
    finally:
        context.close()


def test_every_warning_of_a_scoring_is_shown_with_its_results(chromium, live_service, sign_in, mixed_file):
    from playwright.sync_api import expect

    with live_service.client() as client:
        api = client.post("/score/file", params={"format": "json", "record": "false"},
                          files={"file": (mixed_file.name, mixed_file.read_bytes(), "text/csv")})
    assert api.status_code == 200, api.text
    warnings = api.json()["warnings"]
    assert len(warnings) >= 2 and any("not valid" in w for w in warnings), warnings
    assert not api.json()["missing_features"]  # the page said nothing of them before
    context = _context(chromium)
    page = context.new_page()
    try:
        sign_in(page, live_service)
        _upload(page, mixed_file)
        for warning in warnings:  # seen on the page, with the results
            expect(page.locator("#results-section")).to_contain_text(
                re.compile(re.escape(warning), re.IGNORECASE), use_inner_text=True)
        shown = page.locator("#results-section #score-warnings")
        expect(shown).to_be_visible()
        expect(shown.locator("li")).to_have_count(len(warnings))
        for warning in warnings:
            expect(shown).to_contain_text(re.compile(re.escape(warning), re.IGNORECASE))
        expect(page.locator("#status")).to_contain_text(f"{len(warnings)} warnings")  # announced
        page.screenshot(path=ARTIFACTS / "score-warnings.png")
    finally:
        context.close()


def test_warnings_are_text_and_said_once_beside_the_missing_features(
        chromium, live_service, sign_in, tmp_path):
    from playwright.sync_api import expect

    rows = [{"upn": "A801200110000", "probability": 0.4, "likelihood_band": "high", "need_level": 1,
             "rag": "amber", "matrix_cell": "L3-N1", "reasons": "absence", "model_version": "7",
             "school_urn": "104321", "nc_year": 8}]  # fmt: skip
    warnings = ["no termly attendance yet for a <b>spring</b> census",
                "1 of 1 pupils has a UPN that is not valid"]
    answer = {"notice": DECISION_SUPPORT_NOTICE, "model_version": "7", "pupils": 1, "history": "linked",
              "missing_features": ["att_autumn_rate"], "warnings": warnings, "rejected": [], "scores": rows}
    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    context = _context(chromium)
    page = context.new_page()
    try:
        sign_in(page, live_service)
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(answer)))
        _upload(page, upload)
        shown = page.locator("#score-warnings")
        expect(shown.locator("li")).to_have_count(2)
        expect(shown).to_contain_text("a <b>spring</b> census")  # the service's words as text, never markup
        assert shown.locator("b").count() == 0
        missing = page.locator("#missing-features")
        expect(missing).to_contain_text("att_autumn_rate")
        expect(missing).not_to_contain_text("UPN that is not valid")  # each warning said once
        expect(page.locator("#status")).to_contain_text("2 warnings")
    finally:
        context.close()


def test_a_failed_upload_leaves_no_earlier_list_on_screen(
        chromium, live_service, sign_in, small_file, tmp_path):
    from playwright.sync_api import expect

    bad_file = _bad_file(small_file, tmp_path)
    context = _context(chromium)
    page = context.new_page()
    try:
        sign_in(page, live_service)
        _upload(page, small_file)
        expect(page.locator("#scores-table tbody tr")).to_have_count(20)

        held = []
        page.route("**/score/file**", lambda route: held.append(route))  # the answer waits
        page.set_input_files("#cohort-file", str(bad_file))
        page.click("#score-button")
        expect(page.locator("#results-section")).to_be_hidden()  # cleared as the new upload starts
        assert held, "the upload was sent"
        held[0].continue_()
        expect(page.locator("#errors")).to_be_visible(timeout=60_000)
        expect(page.locator("#errors")).to_contain_text("DOB")
        expect(page.locator("#results-section")).to_be_hidden()
        expect(page.locator("#scores-table tbody tr")).to_have_count(0)
        assert page.evaluate("() => window.ER.state.result") is None  # no download of the earlier file
    finally:
        context.close()


def test_an_error_names_a_data_row_counted_after_the_header(
        chromium, live_service, sign_in, small_file, tmp_path):
    from playwright.sync_api import expect

    bad_file = _bad_file(small_file, tmp_path)
    with live_service.client() as client:
        api = client.post("/score/file", params={"format": "json", "record": "false"},
                          files={"file": (bad_file.name, bad_file.read_bytes(), "text/csv")})
    assert api.status_code == 422 and api.json()["errors"][0]["row"] == 3  # the API's row: unchanged
    context = _context(chromium)
    page = context.new_page()
    try:
        sign_in(page, live_service)
        page.set_input_files("#cohort-file", str(bad_file))
        page.click("#score-button")
        errors = page.locator("#errors")
        expect(errors).to_be_visible(timeout=60_000)
        expect(errors.locator("li").first).to_contain_text(
            "data row 3 (counting from the first row after the header), column DOB")
    finally:
        context.close()


def test_earlier_scores_leave_out_this_scoring_and_can_be_told_apart(
        chromium, live_service, sign_in, small_file):
    from playwright.sync_api import expect

    context = _context(chromium)
    page = context.new_page()
    try:
        sign_in(page, live_service)
        _upload(page, small_file)
        _upload(page, small_file)  # the same file again: two runs with the same scores
        current = page.evaluate("() => window.ER.state.result.run.id")
        row = page.locator("#scores-table tbody tr").first
        upn = row.locator("td").nth(1).inner_text()
        row.click()
        expect(page.locator("#panel-earlier")).not_to_contain_text("Loading", timeout=30_000)
        with live_service.client() as client:
            recorded = client.post("/runs/earlier", json={"upn": upn}).json()["scores"]
        assert recorded[0]["run_id"] == current and len(recorded) >= 2
        table = page.locator("#earlier-table")
        expect(table.locator("tbody tr")).to_have_count(len(recorded) - 1)
        texts = table.locator("tbody tr").all_inner_texts()
        assert not [t for t in texts if current[:8] in t], "the scoring just made is not an earlier one"
        for text, score in zip(texts, recorded[1:], strict=True):
            assert score["run_id"][:8] in text
        assert len(set(texts)) == len(texts)  # no two rows alike
        headers = table.locator("thead th").all_inner_texts()
        assert "Run" in headers
        page.locator("#panel-earlier").screenshot(path=ARTIFACTS / "earlier-scores.png")
    finally:
        context.close()
