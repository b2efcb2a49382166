"""The page in a narrow window (320 CSS pixels, WCAG 1.4.10 reflow: a phone, or a desktop zoomed to
400%): nothing makes the whole page scroll sideways; a wide table scrolls inside its own box."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _page_width(page) -> tuple[int, int]:
    root = "document.documentElement"
    return tuple(page.evaluate(f"[{root}.scrollWidth, {root}.clientWidth]"))


def test_a_320_pixel_window_does_not_scroll_sideways(chromium, live_service, champion, sign_in, tmp_path):
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(200).to_csv(upload, index=False)
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        sign_in(page, live_service)
        page.set_input_files("#cohort-file", str(upload))
        scrolled, width = _page_width(page)
        assert scrolled <= width, f"the upload form is {scrolled}px wide in a {width}px window"  # before: 371
        page.click("#score-button")
        expect(page.locator("#scores-table tbody tr").first).to_be_visible(timeout=120_000)
        page.click("#legend summary")
        expect(page.locator("#legend-table")).to_be_visible()
        scrolled, width = _page_width(page)
        # before: 665px; the matrix's responses were cut off at the window's edge
        assert scrolled <= width, f"the page is {scrolled}px wide in a {width}px window"
    finally:
        context.close()


def test_the_pupil_panel_reflows_in_a_320_pixel_window(chromium, live_service, champion, sign_in, tmp_path):
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(20).to_csv(upload, index=False)
    context = chromium.new_context(viewport={"width": 320, "height": 256})  # 1280x1024 at 400%
    page = context.new_page()
    try:
        sign_in(page, live_service)
        page.set_input_files("#cohort-file", str(upload))
        page.click("#score-button")
        row = page.locator("#scores-table tbody tr").first
        expect(row).to_be_visible(timeout=120_000)
        row.locator("td").first.click()
        expect(page.locator("#pupil-panel")).to_be_visible()
        box = page.evaluate("""() => {
          const right = (e) => e.getBoundingClientRect().right;
          const panel = document.getElementById("pupil-panel");
          return {panel: right(panel), close: right(document.getElementById("panel-close")),
                  values: [...panel.querySelectorAll("#panel-summary dd")].map(right),
                  scroll: [panel.scrollWidth, panel.clientWidth]};
        }""")
        # before: every value began right of the panel's edge (322 vs 303) and Close was cut off
        assert box["values"] and max(box["values"]) <= box["panel"], box
        assert box["close"] <= box["panel"], box
        assert box["scroll"][0] <= box["scroll"][1], box  # before: 649 wide in 282
    finally:
        context.close()
