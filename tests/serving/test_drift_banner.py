"""Drift in the service: a census upload is checked against the champion's stored profile, the score
response carries the warnings (`drift_warnings`), and the page shows them in a banner.

The shifted upload is the scored year's cohort with attendance halved at its largest school (the change
`tests/models/test_drift_authority.py` measures: absence PSI 0.32 against the fitted years).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

pytestmark = pytest.mark.slow

ABSENCE_WARNING = "Absence last year (absence_rate_last_year) has shifted in 2018/19"


def _halved_attendance(cohort: pd.DataFrame) -> pd.DataFrame:
    """The cohort with the largest school's pupils attending half the sessions they attended."""
    shifted = cohort.copy()
    rows = shifted["SchoolURN"].eq(shifted["SchoolURN"].value_counts().index[0])
    rows &= shifted["SessionsPossible"].ne("")
    possible, authorised, unauthorised = (shifted.loc[rows, c].astype(int) for c in (
        "SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"))  # fmt: skip
    missed = (possible - authorised - unauthorised) // 2
    shifted.loc[rows, "SessionsAuthorisedAbsence"] = (authorised + missed // 2).astype(str)
    shifted.loc[rows, "SessionsUnauthorisedAbsence"] = (unauthorised + missed - missed // 2).astype(str)
    return shifted


def test_a_shifted_upload_gets_drift_warnings_and_an_unchanged_one_none(live_service, champion):
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)
    answers = {}
    with live_service.client() as client:
        for name, frame in (("unchanged", cohort), ("shifted", _halved_attendance(cohort))):
            response = client.post(
                "/score/file",
                params={"skip_invalid": "true", "reasons": "false", "record": "false"},
                files={"file": ("census.csv", frame.to_csv(index=False), "text/csv")},
            )
            assert response.status_code == 200, response.text
            answers[name] = response.json()["drift_warnings"]  # fmt: skip
    assert answers["unchanged"] == []
    assert any(ABSENCE_WARNING in line for line in answers["shifted"])


@pytest.mark.browser
def test_the_page_shows_drift_warnings_in_a_banner(chromium, live_service, sign_in, tmp_path):
    from playwright.sync_api import expect

    warning = f"{ABSENCE_WARNING} against 2016/17, 2017/18: population stability index 0.32."
    rows = [{"upn": "A801200110000", "probability": 0.4, "likelihood_band": "very high", "need_level": 1,
             "rag": "red", "matrix_cell": "L4-N1", "reasons": "absence", "model_version": "7",
             "school_urn": "104321", "nc_year": 8}]  # fmt: skip
    answer = {"notice": DECISION_SUPPORT_NOTICE, "model_version": "7", "pupils": 1, "history": "linked",
              "missing_features": [], "rejected": [], "scores": rows}  # fmt: skip
    answers = iter([{**answer, "drift_warnings": [warning]}, {**answer, "drift_warnings": []}])
    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        sign_in(page, live_service)
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(next(answers))))  # fmt: skip
        for expected in (True, False):
            page.set_input_files("#cohort-file", str(upload))
            page.click("#score-button")
            expect(page.locator("#status")).to_contain_text("Scored", timeout=60_000)
            banner = page.locator("#drift-warnings")
            if expected:
                expect(banner).to_be_visible()
                expect(banner).to_contain_text("differs from the years the model learned from")
                expect(banner.locator("li")).to_have_text([warning])
                banner.screenshot(path=Path(__file__).parents[1] / "artifacts" / "web" / "drift-banner.png")
            else:
                expect(banner).to_be_hidden()
    finally:
        context.close()
