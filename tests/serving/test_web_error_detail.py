"""The page's words for a refused call, where the answer's `detail` is not a sentence: a 422 from a
gateway or from FastAPI's own validation carries a list of objects, and the page must not show it as
"[object Object]". common.js is loaded on a blank page (no server, no model), since the function only
turns a status and a body into text."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

COMMON_JS = Path(__file__).resolve().parents[2] / "serving" / "static" / "common.js"


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (422, {"detail": [{"loc": ["body", "file"], "msg": "Field required", "type": "missing"}]},
         "The service answered 422."),
        (422, {"detail": {"error": "bad gateway body"}}, "The service answered 422."),
        (413, {"detail": [{"msg": "too large"}]}, "The file is too large to score in one go."),
        # a school's key sending another school's pupils: the service's sentence, not a bare refusal
        (403, {"detail": "This API key is for school 104321 only; 3 pupils are not at it."},
         "This API key is for school 104321 only; 3 pupils are not at it."),
        (403, {"detail": [{"msg": "forbidden"}]}, "This key may not do that."),
        (400, {"detail": "Correct the rows, or send skip_invalid=true to score the valid rows."},
         "Correct the rows, or tick “Score the valid rows and list any rejected rows”"
         " to score the valid rows."),
    ],
)
def test_error_detail_that_is_not_a_sentence_falls_back_to_the_status(chromium, status, body, shown):
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.set_content("<!doctype html><html><body><p id='status'></p></body></html>")
        page.add_script_tag(content=COMMON_JS.read_text(encoding="utf-8"))
        # before: a list or object detail came back as itself, and the page showed "[object Object]"
        assert page.evaluate("([s, b]) => window.ER.errorMessage(s, b)", [status, body]) == shown
    finally:
        context.close()
