"""The fairness report in headless Chromium (Debian's, driven by Playwright): the summary of findings
comes first and every table renders; a screenshot is saved for a person to look at (issue #13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exclusion_risk.models import fairness, fairness_report

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "reports"  # tests/artifacts/ is git-ignored


@pytest.mark.browser
def test_the_fairness_report_renders_with_its_summary_first(training, test_year, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (make browser)")
    from playwright.sync_api import sync_playwright

    result, _ = training
    p = result.models["lightgbm"].pipeline.predict_proba(test_year[result.feature_cols])[:, 1]
    review = fairness.review(
        test_year["label"], p, test_year, 0.05, {"model_type": "lightgbm", "year": "2018/19"}, n_boot=100
    )
    page_file = tmp_path / "fairness.html"
    page_file.write_text(fairness_report.render_report(review), encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(page_file.as_uri())
        headings = page.locator("h2").all_inner_texts()
        assert headings and headings[0].startswith("Summary: what matters")
        assert page.locator("table").count() >= 5  # findings, groups, intersections, SHAP, options
        page.screenshot(path=ARTIFACTS / "fairness.png", full_page=False)
        browser.close()
    assert (ARTIFACTS / "fairness.png").stat().st_size > 10_000
