"""The page's download neutralises formula-leading cells as the API's CSV does (issue #11, finding 3).

The upload's answer is replaced (Playwright's routing) by scores whose UPNs and reasons start with the
characters a spreadsheet would run: the page must write each with a leading apostrophe, exactly as
`exclusion_risk.files.csv_text` writes the API's CSV.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from exclusion_risk.files import neutralise
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

pytestmark = [
    pytest.mark.browser,  # skipped without Debian's chromium (tests/serving/conftest.py)
    pytest.mark.slow,  # a real server with the live champion, driven through Chromium
]

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "@SUM(1+1)*cmd|' /C calc'!A0", "+44 1234", "-1", "\tTAB",
           "\rCR", "A801200111001"]  # fmt: skip


def _scores() -> dict:
    rows = [
        {"upn": upn, "probability": 0.9 - i / 100, "likelihood_band": "high", "need_level": 1, "rag": "red",
         "matrix_cell": "H-N1", "reasons": "=2+2" if i == 0 else "absence", "model_version": "7",
         "school_urn": "104321", "nc_year": 8.0}
        for i, upn in enumerate(HOSTILE)
    ]  # fmt: skip
    run = {"id": "0" * 32, "recorded_at": "2026-11-02T09:00:00Z", "pupils": len(rows), "schools": 1,
           "model_version": "7", "risk_matrix_version": "1", "year": "2018/19", "census": "autumn"}
    return {"notice": DECISION_SUPPORT_NOTICE, "model_version": "7", "pupils": len(rows), "history": "none",
            "missing_features": [], "rejected": [], "run": run, "scores": rows}  # fmt: skip


def test_download_neutralises_formula_leading_cells(chromium, live_service, sign_in, tmp_path):
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200111001\n")
    context = chromium.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        sign_in(page, live_service)
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(_scores())))
        page.set_input_files("#cohort-file", str(upload))
        page.click("#score-button")
        expect(page.locator("#scores-table tbody tr").first).to_be_visible()
        with page.expect_download() as download_info:
            page.click("#download-button")
        downloaded = tmp_path / "download.csv"
        download_info.value.save_as(downloaded)
        named = download_info.value.suggested_filename
    finally:
        context.close()

    # the census scored, the model and the run (before: "scores_model_7.csv", every term's list one name;
    # then two scorings of one census one name)
    assert named == "scores_2018-19_autumn_model_7_run_00000000.csv"

    text = downloaded.read_text(encoding="utf-8")  # a plain CSV: the header on row 1
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    by_probability = sorted(_scores()["scores"], key=lambda r: -r["probability"])
    assert [r["upn"] for r in table] == [neutralise(r["upn"]) for r in by_probability]
    assert [r["upn"][0] for r in table[:-1]] == ["'"] * (len(HOSTILE) - 1)
    assert table[-1]["upn"] == "A801200111001"  # ordinary text is left as it is
    assert table[0]["reasons"] == "'=2+2" and table[0]["probability"] == "0.9"  # numbers untouched
