"""A pupil's "Earlier scores" on the page are the runs recorded before the list shown, however many runs
came after it (in real headless Chromium against a server of its own).

The page took the newest 50 runs of the pupil and dropped those up to its own: once more than 50 runs
of the pupil had been recorded after the list's, its own was not among them, and the later runs were
listed as earlier scores. It now asks the service for the runs before its own (`before`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from exclusion_risk.models.score_runs import new_run
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.run_history import RunStore

ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "web"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LATER_RUNS = 55  # more than the 50 newest the service returns


@pytest.fixture(scope="module")
def own_service(champion_env, start_service, tmp_path_factory):
    """A server of its own: the runs this test records after the page's would be every other test's
    earlier runs on the shared one."""
    service = start_service(tmp_path_factory.mktemp("earlier_before_service"), champion_env())
    yield service
    service.stop()


def _upload(page, path: Path) -> None:
    from playwright.sync_api import expect

    page.set_input_files("#cohort-file", str(path))
    page.click("#score-button")
    expect(page.locator("#status")).to_contain_text("Scored", timeout=120_000)


def _record_later_runs(database: Path, upn: str, school: str, n: int) -> None:
    """`n` runs of the pupil recorded in the server's database after the page's (as other officers'
    uploads would be)."""
    store = RunStore(Database(database))
    for i in range(n):
        scores = pd.DataFrame([{"upn": upn, "school_urn": school, "probability": 0.9 - i / 100,
                                "likelihood_band": "very high", "rag": "red"}])
        run, pupils = new_run(scores, model_version="9", model_name="exclusion-risk", risk_matrix_version="1",
                              year="2019/20")  # fmt: skip
        store.record(run, pupils, None)


def test_earlier_scores_are_the_runs_before_this_list_past_50_later_ones(
        chromium, own_service, sign_in, champion, tmp_path):
    from playwright.sync_api import expect

    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(20)
    path = tmp_path / "census_small.csv"
    cohort.to_csv(path, index=False)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/runs/earlier" in request.url else None)
    try:
        sign_in(page, own_service)
        _upload(page, path)
        first, year, census = page.evaluate(
            "() => ['id', 'year', 'census'].map((k) => window.ER.state.result.run[k])")
        _upload(page, path)  # the list shown: one run before it
        current = page.evaluate("() => window.ER.state.result.run.id")
        row = page.locator("#scores-table tbody tr").first
        upn = row.locator("td").nth(1).inner_text()
        school = page.evaluate("(u) => window.ER.state.result.scores.find((s) => s.upn === u).school_urn",
                               upn)
        _record_later_runs(own_service.database, upn, school or "", LATER_RUNS)
        row.click()
        expect(page.locator("#panel-earlier")).not_to_contain_text("Loading", timeout=30_000)
        rows = page.locator("#earlier-table tbody tr")
        expect(rows).to_have_count(1)
        (text,) = rows.all_inner_texts()
        assert first[:8] in text and "2019/20" not in text, text
        # the term beside the year: a year's autumn and spring scorings were told apart by date alone
        assert f"{year} {census}" in text and census, text
        assert any(f"before={current}" in url for url in asked), asked
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#panel-earlier").screenshot(path=ARTIFACTS / "earlier-scores-before.png")
    finally:
        context.close()
