"""The inclusion officer's page, end to end in real headless Chromium (Debian's, driven by Playwright).

Sign in, upload a cohort, watch the progress indicator, read the ranked RAG table, filter it, and
download the scores; the download must match what the API returns for the same file. Screenshots of
each step go to tests/artifacts/web/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "web"  # tests/artifacts/ is git-ignored

pytestmark = [
    pytest.mark.browser,  # skipped without Debian's chromium (tests/serving/conftest.py)
    pytest.mark.slow,  # a real server with the live champion, driven through Chromium
]


def _scores_frame(text: str) -> pd.DataFrame:
    """A plain CSV, header on row 1 (the notice is on the page and in a response header)."""
    return pd.read_csv(io.StringIO(text), dtype={"upn": str, "model_version": str, "school_urn": str},
                       keep_default_na=False)


@pytest.fixture(scope="module")
def upload_file(champion, tmp_path_factory) -> Path:
    """The cohort as the MIS exports it, with one row the reader must reject."""
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)
    cohort.loc[cohort.index[4], "SENprovision"] = "Z"
    path = tmp_path_factory.mktemp("upload") / "census_2018-10-04.csv"
    cohort.to_csv(path, index=False)
    return path


def test_upload_rank_filter_and_download(chromium, live_service, upload_file, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    external: list[str] = []
    script_errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_service.base_url) else external.append(r.url))
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    try:
        page.goto(live_service.base_url + "/")
        expect(page.locator("#notice")).to_contain_text(DECISION_SUPPORT_NOTICE)
        # Every form control has a label a screen reader can announce.
        for control in page.locator("input, select").all():
            assert control.evaluate("el => el.labels.length") >= 1, control.get_attribute("id")
        page.screenshot(path=ARTIFACTS / "01-sign-in.png", full_page=True)

        page.fill("#api-key", "erk.wrong.key")
        page.keyboard.press("Enter")  # the form submits from the keyboard
        expect(page.locator("#signin-errors")).to_contain_text("not accepted")  # in the sign-in section
        page.fill("#api-key", live_service.keys["scorer"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#upload-section")).to_be_visible()
        expect(page.locator("#model-summary")).to_contain_text("version")
        assert page.evaluate("() => document.activeElement.id") == "cohort-file"

        page.set_input_files("#cohort-file", str(upload_file))
        page.check("#skip-invalid")

        # Hold the upload's answer briefly so the progress indicator can be seen and photographed.
        def slow(route):
            time.sleep(1.0)
            route.continue_()

        page.route("**/score/file**", slow)
        page.click("#score-button")
        expect(page.locator("#progress-area")).to_be_visible()
        expect(page.locator("#score-button")).to_be_disabled()
        page.screenshot(path=ARTIFACTS / "02-progress.png", full_page=True)

        rows = page.locator("#scores-table tbody tr")
        expect(rows.first).to_be_visible(timeout=120_000)
        expect(page.locator("#progress-area")).to_be_hidden()
        expect(page.locator("#errors")).to_contain_text("row 5")  # the rejected row is listed
        expect(page.locator("#errors")).to_contain_text("SENprovision")
        # the left-out rows' warning in the page's words: it named the API's parameter and JSON field
        warnings = page.locator("#score-warnings")
        expect(warnings).to_contain_text("each is listed above by row, field and reason")
        expect(warnings).not_to_contain_text("skip_invalid")
        expect(page.locator("#results-summary")).to_contain_text(DECISION_SUPPORT_NOTICE)
        page.screenshot(path=ARTIFACTS / "03-ranked-table.png", full_page=False)

        first = rows.first.locator("td")
        assert first.nth(0).inner_text() == "1"
        assert first.nth(7).inner_text() in {"RED", "AMBER", "GREEN"}
        assert rows.first.get_attribute("class") == f"rag-{first.nth(7).inner_text().lower()}"
        assert first.nth(9).inner_text().strip()  # reasons in words
        shown = [float(t.rstrip("%")) for t in rows.locator("td:nth-child(5)").all_inner_texts()]
        assert shown == sorted(shown, reverse=True)

        # Filters: school, year group, matrix cell.
        school = page.locator("#filter-school option").nth(1)
        page.select_option("#filter-school", school.get_attribute("value"))
        schools = set(rows.locator("td:nth-child(3)").all_inner_texts())
        assert schools == {school.inner_text()}  # the school's name and URN where the census has a name
        assert school.get_attribute("value") in school.inner_text()
        page.select_option("#filter-school", "")
        year = page.locator("#filter-year option").nth(1)
        page.select_option("#filter-year", year.get_attribute("value"))
        assert set(rows.locator("td:nth-child(4)").all_inner_texts()) == {year.inner_text()}
        page.select_option("#filter-year", "")
        option = page.locator("#filter-cell option").nth(1)
        cell = option.get_attribute("value")
        page.select_option("#filter-cell", cell)
        assert set(rows.locator("td:nth-child(9)").all_inner_texts()) == {cell}
        # the cell in words beside its code ("L4-N3" alone): its rating, band and level of need
        band, rag = rows.first.locator("td").nth(5).inner_text(), rows.first.locator("td").nth(7).inner_text()
        assert option.inner_text().startswith(f"{cell}: {rag.upper()}, {band} likelihood, need ")
        expect(page.locator("#table-count")).to_contain_text("Showing")
        page.screenshot(path=ARTIFACTS / "04-filtered.png", full_page=False)

        with page.expect_download() as download_info:
            page.click("#download-button")
        downloaded = tmp_path / "download.csv"
        download_info.value.save_as(downloaded)
        shutil.copy(downloaded, ARTIFACTS / "05-download.csv")
    finally:
        context.close()
    assert not external, f"the page fetched from elsewhere: {external}"
    assert not script_errors, script_errors

    with live_service.client() as client:
        api = client.post("/score/file", params={"format": "csv", "skip_invalid": "true"},
                          files={"file": (upload_file.name, upload_file.read_bytes(), "text/csv")})
    assert api.status_code == 200
    from_page = _scores_frame(downloaded.read_text(encoding="utf-8"))
    from_api = _scores_frame(api.text)
    assert list(from_page.columns) == list(from_api.columns)
    assert len(from_page) == len(from_api) > 1000
    pd.testing.assert_frame_equal(from_page, from_api, check_exact=False, rtol=1e-12, atol=1e-15)
