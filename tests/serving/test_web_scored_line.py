"""The page's headline after a scoring counts every warning it shows, the drift banner's with the
cohort's (it read "1 warning" beside three drift warnings), and writes the pupils with thousands
separators as the page's other counts do ("Scored 62509 pupils"). common.js on a blank page, as
test_web_error_detail does: the headline is text made from the answer's counts."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

COMMON_JS = Path(__file__).resolve().parents[2] / "serving" / "static" / "common.js"
APP_JS = COMMON_JS.with_name("app.js")


@pytest.mark.parametrize(
    ("pupils", "warnings", "drift", "shown"),
    [
        (62509, 1, 3, "Scored 62,509 pupils. 4 warnings, listed with the results."),
        (20, 1, 0, "Scored 20 pupils. 1 warning, listed with the results."),
        (20, 0, 1, "Scored 20 pupils. 1 warning, listed with the results."),
        (1200, 0, 0, "Scored 1,200 pupils."),
    ],
)
def test_the_headline_counts_every_warning_and_separates_thousands(chromium, pupils, warnings, drift, shown):
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.set_content("<!doctype html><html><body><p id='status'></p></body></html>")
        page.add_script_tag(content=COMMON_JS.read_text(encoding="utf-8"))
        line = page.evaluate("([p, w, d]) => window.ER.scoredLine(p, w + d, '')", [pupils, warnings, drift])
        assert line == shown
    finally:
        context.close()
    # the page's headline is this line, counting the drift banner's warnings with the cohort's
    assert "ER.scoredLine(body.pupils, said.length + driftShown" in APP_JS.read_text(encoding="utf-8")
