"""The page's workbook download: the uploaded census is sent again to POST /score/file?format=xlsx and
the service's workbook arrives as a file openpyxl opens, the notice sheet first, every pupil listed."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _scored_page(context, live_service, sign_in, upload):
    """A new page of `context`, signed in, with `upload` sent for scoring."""
    page = context.new_page()
    sign_in(page, live_service)
    page.set_input_files("#cohort-file", str(upload))
    page.click("#score-button")
    return page


def _downloaded_workbook(page, folder):
    """The page's workbook download, saved in `folder` under the name it suggests; its path."""
    with page.expect_download(timeout=120_000) as download_info:
        page.click("#workbook-button")
    saved = folder / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    return saved


def test_the_workbook_download_is_a_valid_xlsx(chromium, live_service, champion, sign_in, tmp_path):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(400)
    upload = tmp_path / "census.csv"
    cohort.to_csv(upload, index=False)
    context = chromium.new_context(accept_downloads=True)
    try:
        page = _scored_page(context, live_service, sign_in, upload)
        expect(page.locator("#scores-table tbody tr").first).to_be_visible(timeout=120_000)
        pupils = len(page.evaluate("() => window.ER.state.result.scores"))
        runs_before = _runs(live_service)
        saved = _downloaded_workbook(page, tmp_path)
        expect(page.locator("#status")).to_contain_text("Workbook downloaded")
    finally:
        context.close()
    assert _runs(live_service) == runs_before  # the file scored a moment ago is not recorded twice

    assert saved.suffix == ".xlsx"
    assert re.fullmatch(r"scores_\d{4}-\d{2}_(autumn|spring|summer)_model_\d+_run_[0-9a-f]{8}\.xlsx",
                        saved.name), saved.name  # fmt: skip
    assert saved.read_bytes()[:2] == b"PK"  # a zip, as every xlsx is
    book = load_workbook(saved, read_only=True)
    first = book.worksheets[0]
    assert "notice" in first.title.lower()
    cells = [str(c) for row in first.iter_rows(values_only=True) for c in row if c]
    assert DECISION_SUPPORT_NOTICE in " ".join(cells)
    upns = set(cohort["UPN"].str.strip().str.upper())
    ranked = book.worksheets[1]  # the ranked list follows the notice
    listed = {str(c).lstrip("'") for row in ranked.iter_rows(values_only=True) for c in row
              if isinstance(c, str) and c.lstrip("'") in upns}
    assert len(listed) == pupils


def _runs(service) -> list[str]:
    with service.client() as client:
        return [run["id"] for run in client.get("/runs").json()["runs"]]


def test_the_workbook_of_a_first_scoring_says_no_change(chromium, live_service, champion, sign_in, tmp_path):
    """A school never scored before: the page shows no changes, and its workbook must not either. It said
    "0 new red since the 2018/19 autumn scoring of <today> (run 0ed37f24)": the run the page had just
    recorded for that very file (the download sent no `since`, and the service took the latest run)."""
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(60)
    upload = tmp_path / "census_new_school.csv"
    cohort.assign(SchoolURN="999201").to_csv(upload, index=False)  # no test scores this school elsewhere
    context = chromium.new_context(accept_downloads=True)
    try:
        page = _scored_page(context, live_service, sign_in, upload)
        expect(page.locator("#run-summary")).to_contain_text("Recorded as scoring run", timeout=120_000)
        expect(page.locator("#changes-section")).to_be_hidden()
        saved = _downloaded_workbook(page, tmp_path)
    finally:
        context.close()
    book = load_workbook(saved, read_only=True)
    notice = [str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert not any("since" in line for line in notice), notice
    assert not any("change" in name.lower() for name in book.sheetnames), book.sheetnames


def test_focus_returns_to_the_workbook_button_after_the_download(chromium, live_service, sign_in, tmp_path):
    # the button is disabled while the workbook is made, and focus fell to <body>; a keyboard user is put
    # back where they were, as after the CSV download, print and Next buttons
    import json

    from playwright.sync_api import expect

    rows = [{"upn": "A801200110000", "probability": 0.4, "likelihood_band": "very high", "need_level": 1,
             "rag": "red", "matrix_cell": "L4-N1", "reasons": "absence", "model_version": "7",
             "school_urn": "104321", "nc_year": 8}]  # fmt: skip
    answer = {"notice": DECISION_SUPPORT_NOTICE, "model_version": "7", "pupils": 1, "history": "linked",
              "missing_features": [], "rejected": [], "scores": rows}  # fmt: skip

    def fulfil(route):
        if "format=xlsx" in route.request.url:
            route.fulfill(status=200, body=b"PK\x03\x04 not a real workbook", headers={
                "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "Content-Disposition": 'attachment; filename="scores_model_7.xlsx"'})  # fmt: skip
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    context = chromium.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        sign_in(page, live_service)
        page.route("**/score/file**", fulfil)
        page.set_input_files("#cohort-file", str(upload))
        page.click("#score-button")
        expect(page.locator("#status")).to_contain_text("Scored", timeout=60_000)
        page.focus("#workbook-button")
        with page.expect_download(timeout=60_000):
            page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("Workbook downloaded")
        assert page.evaluate("() => document.activeElement.id") == "workbook-button"
    finally:
        context.close()
