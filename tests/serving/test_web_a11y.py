"""Keyboard and screen-reader use of the page, in headless Chromium (WCAG 2.2 AA): the focus indicator
has a dark edge that stands out from every background it is drawn on (1.4.11), each ranked-list row
opens the pupil panel through a named button rather than being a nameless tab stop (4.1.2), and focus
stays somewhere sensible while a cohort uploads (2.4.3)."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _scored(chromium, live_service, champion, sign_in, tmp_path, pupils: int = 20):
    """A page signed in with a small cohort scored; returns (context, page)."""
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)
    cohort.head(pupils).to_csv(upload, index=False)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, live_service)
    page.set_input_files("#cohort-file", str(upload))
    page.click("#score-button")
    expect(page.locator("#scores-table tbody tr").first).to_be_visible(timeout=120_000)
    return context, page


# The backgrounds a focused control sits on: the page, the grey of th and secondary buttons, the RAG
# cells' pale red, amber and green.
BACKGROUNDS = ["#ffffff", "#f3f2f1", "#fbe3e5", "#fff0c7", "#dff3e3"]

# The darkest colour of the focused element's indicator (outline and box-shadow), from computed styles.
DARKEST_EDGE = """() => {
  const s = getComputedStyle(document.activeElement);
  const colours = (s.boxShadow.match(/rgba?\\([^)]*\\)/g) || []);
  if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) colours.push(s.outlineColor);
  const lum = (c) => {
    const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map((v) => {
      v = Number(v) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = colours.filter((c) => !/rgba\\([^)]*,\\s*0\\)/.test(c));
  return opaque.length ? Math.min(...opaque.map(lum)) : null;
}"""


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_focus_indicator_has_a_3_to_1_edge_on_every_background(chromium, live_service, champion, sign_in,
                                                                   tmp_path):
    context, page = _scored(chromium, live_service, champion, sign_in, tmp_path)
    try:
        for target in ["#download-button", "#print-button", "#filter-rag",
                       "#scores-table tbody button, #scores-table tbody tr[tabindex]"]:
            page.locator(target).first.focus()
            page.keyboard.press("Shift")  # a key press: focus shown as for the keyboard (:focus-visible)
            page.locator(target).first.focus()
            edge = page.evaluate(DARKEST_EDGE)
            assert edge is not None, f"{target} shows no focus indicator"
            for background in BACKGROUNDS:
                ratio = (_luminance(background) + 0.05) / (edge + 0.05)
                # before: #ffbf47 alone, 1.64:1 on white and 1.35-1.45:1 on the RAG cells
                assert ratio >= 3, f"{target}'s focus indicator is {ratio:.2f}:1 on {background}"
    finally:
        context.close()


def test_each_row_opens_its_pupil_through_a_named_button(chromium, live_service, champion, sign_in, tmp_path):
    from playwright.sync_api import expect

    context, page = _scored(chromium, live_service, champion, sign_in, tmp_path)
    try:
        rows = page.locator("#scores-table tbody tr")
        upns = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(2)]
        tree = page.locator("#scores-table").aria_snapshot()
        # before: the rows were nameless tab stops (role row, no name) and there was no button
        assert f'button "Open details for pupil {upns[0]}"' in tree, tree[:600]
        assert page.locator("#scores-table tbody tr[tabindex]").count() == 0  # rows are no tab stops
        first = rows.first.get_by_role("button")
        first.focus()
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == \
            f"Open details for pupil {upns[1]}"
        page.keyboard.press("Enter")
        expect(page.locator("#panel-heading")).to_have_text(f"Pupil {upns[1]}")
        page.keyboard.press("Escape")
        expect(page.locator("#pupil-panel")).to_be_hidden()
        expect(rows.nth(1).get_by_role("button")).to_be_focused()  # focus back on the button that opened it
        # one button per row: up to 1,000 tab stops before the page links unless skipped
        skip = page.get_by_role("link", name="Skip past the table")
        skip.focus()
        box = skip.bounding_box()
        assert box is not None and box["x"] >= 0 and box["width"] > 0  # shown where focused, not off-screen
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "after-table"  # the page links are in it
    finally:
        context.close()


def test_focus_stays_in_the_page_while_a_cohort_uploads(chromium, live_service, champion, sign_in, tmp_path):
    import time

    from playwright.sync_api import expect

    context, page = _scored(chromium, live_service, champion, sign_in, tmp_path)
    try:
        page.route("**/score/file**", lambda route: (time.sleep(1.5), route.continue_()))
        page.focus("#score-button")
        page.keyboard.press("Enter")
        expect(page.locator("#progress-area")).to_be_visible()
        active = page.evaluate("() => document.activeElement.tagName + '#' + document.activeElement.id")
        assert not active.startswith("BODY"), active  # before: BODY# while the button was disabled
        # the progress bar, which says what is happening
        inside = "() => document.querySelector('#progress-area').contains(document.activeElement)"
        assert page.evaluate(inside)
        expect(page.locator("#progress-area")).to_be_hidden(timeout=120_000)
        expect(page.locator("#results-heading")).to_be_focused()
    finally:
        context.close()


def test_a_refused_upload_marks_the_file_field_invalid(chromium, live_service, sign_in):
    from playwright.sync_api import expect

    context = chromium.new_context()
    page = context.new_page()
    try:
        sign_in(page, live_service)
        field = page.locator("#cohort-file")
        page.click("#score-button")  # no file chosen
        expect(page.locator("#errors")).to_contain_text("Choose a cohort CSV file first")
        expect(field).to_have_attribute("aria-invalid", "true")  # before: no aria-invalid, nothing described
        expect(field).to_have_attribute("aria-describedby", "errors")
        page.route("**/score/file**", lambda route: route.fulfill(
            status=400, content_type="application/json", body='{"detail": "Not a census file."}'))
        page.set_input_files("#cohort-file", {"name": "x.csv", "mimeType": "text/csv", "buffer": b"a\n1\n"})
        page.click("#score-button")
        expect(page.locator("#errors")).to_contain_text("Not a census file")
        expect(field).to_have_attribute("aria-invalid", "true")
    finally:
        context.close()


def test_the_csv_download_is_announced(chromium, live_service, champion, sign_in, tmp_path):
    from playwright.sync_api import expect

    context, page = _scored(chromium, live_service, champion, sign_in, tmp_path)
    try:
        with page.expect_download():
            page.click("#download-button")
        expect(page.locator("#status")).to_have_text("CSV downloaded.")  # before: the scoring's line stayed
    finally:
        context.close()


def test_focus_stays_on_the_workbook_button_while_the_workbook_is_made(chromium, live_service, champion,
                                                                       sign_in, tmp_path):
    from playwright.sync_api import expect

    context, page = _scored(chromium, live_service, champion, sign_in, tmp_path)
    held: list = []  # the workbook's request, held until the checks are made
    try:
        page.route("**/score/file?format=xlsx**", lambda route: held.append(route))
        page.focus("#workbook-button")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_have_text("Preparing the workbook…")
        page.keyboard.press("Enter")  # a second press while it is made asks for nothing more
        page.wait_for_timeout(500)
        focused = page.evaluate("() => document.activeElement.tagName + '#' + document.activeElement.id")
        assert focused == "BUTTON#workbook-button", focused  # before: BODY# until the workbook came
        expect(page.locator("#workbook-button")).to_have_attribute("aria-disabled", "true")
        assert len(held) == 1, held
        with page.expect_download(timeout=60_000):
            held[0].continue_()
        expect(page.locator("#status")).to_have_text("Workbook downloaded.")
        expect(page.locator("#workbook-button")).not_to_have_attribute("aria-disabled", "true")
    finally:
        context.close()
