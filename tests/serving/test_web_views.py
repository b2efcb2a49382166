"""The page's views an officer acts from, in real headless Chromium against a real server: the legend
of the risk matrix, pages of the ranked list (filters first, then pages, to the last pupil), the pupil
panel (factors raising and lowering the risk, from POST /explain/file), and the printed list.

One signed-in page with the small authority's cohort uploaded is shared by the module's tests; each
test sets the filters it needs. Screenshots go to tests/artifacts/web/ (linked from serving/README.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

ARTIFACTS = Path(__file__).parents[1] / "artifacts" / "web"
AUTHORITY_PUPILS = 62_536  # the Walsall-sized authority the page must stay usable with

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def scored(live_service, champion):
    """What the API says for the cohort the page uploads: the ranked rows and the risk matrix."""
    with live_service.client() as client:
        upload = {"file": (champion.cohort_csv.name, champion.cohort_csv.read_bytes(), "text/csv")}
        answer = client.post("/score/file", params={"format": "json"}, files=upload)
        matrix = client.get("/risk-matrix").json()
    assert answer.status_code == 200
    return answer.json(), matrix


@pytest.fixture(scope="module")
def page(chromium, live_service, champion, sign_in):
    """Signed in, the cohort uploaded and its first page drawn; every request URL the page makes is kept
    (a UPN must never be in one) and so are its script errors."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.requested = []
    page.script_errors = []
    page.on("request", lambda r: page.requested.append(r.url))
    page.on("pageerror", lambda e: page.script_errors.append(str(e)))
    sign_in(page, live_service)
    page.set_input_files("#cohort-file", str(champion.cohort_csv))
    page.click("#score-button")
    expect(page.locator("#scores-table tbody tr").first).to_be_visible(timeout=120_000)
    yield page
    context.close()


def _reset(page) -> None:
    page.fill("#filter-upn", "")
    for select in ("#filter-school", "#filter-year", "#filter-rag", "#filter-cell"):
        page.select_option(select, "")


def _ranks(page) -> list[int]:
    cells = page.locator("#scores-table tbody tr td:nth-child(1)").all_inner_texts()
    return [int(t.replace(",", "")) for t in cells]


def test_the_legend_shows_the_matrix_with_its_responses(page, scored, live_service):
    from playwright.sync_api import expect

    _, matrix = scored
    kept = page.evaluate("() => JSON.stringify(window.ER.state) + JSON.stringify(localStorage) + "
                         "JSON.stringify(sessionStorage) + document.cookie + location.href")
    assert live_service.keys["scorer"] not in kept  # the key stays in the script's closure
    page.locator("#legend summary").click()
    legend = page.locator("#legend-table")
    expect(legend).to_be_visible()
    bands, needs = matrix["likelihood_bands"], matrix["need_levels"]
    assert legend.locator("tbody tr").count() == len(bands)
    assert legend.locator("thead th").count() == len(needs) + 1
    by_place = {(c["likelihood_band"], c["need_level"]): c for c in matrix["cells"]}
    for r, band in enumerate(bands):
        row = legend.locator("tbody tr").nth(r)
        assert band["label"] in row.locator("th").inner_text()
        precision = band.get("precision")
        if isinstance(precision, dict) and precision.get("text"):  # how sure, where the model carries it
            assert precision["text"] in row.locator("th").inner_text()
        for n, need in enumerate(needs):
            cell = by_place[(band["label"], need["level"])]
            text = row.locator("td").nth(n).inner_text()
            assert cell["rag"].upper() in text and cell["response"] in text and cell["matrix_cell"] in text
            assert f"rag-{cell['rag']}" in row.locator("td").nth(n).get_attribute("class")
    body = page.locator("#legend-body").inner_text()
    for text in matrix["responses"].values():
        assert text in body
    page.locator("#legend").screenshot(path=ARTIFACTS / "06-legend.png")
    page.locator("#legend summary").click()  # closed again for the other tests


def test_a_pupil_is_found_by_their_upn_or_its_start(page, scored):
    """An officer asked about one child had to page through the list (or filter by school and read it)."""
    from playwright.sync_api import expect

    body, _ = scored
    _reset(page)
    upns = [s["upn"] for s in body["scores"]]
    wanted = upns[len(upns) // 2]
    # as pasted: any case, spaces around and within (a maxlength of 13 cut it to a 12-character prefix)
    page.fill("#filter-upn", f"  {wanted[:4].lower()} {wanted[4:]}  ")
    expect(page.locator("#table-count")).to_contain_text("of 1 matching pupil (")  # once typing pauses
    assert _ranks(page) == [upns.index(wanted) + 1]
    start = wanted[:9]
    page.fill("#filter-upn", start)
    expect(page.locator("#table-count")).not_to_contain_text("of 1 matching pupil (")
    assert _ranks(page) == [i + 1 for i, u in enumerate(upns) if u.startswith(start)]
    page.fill("#filter-upn", "Z99")
    expect(page.locator("#table-count")).to_contain_text("No pupil matches these filters")
    _reset(page)
    expect(page.locator("#table-count")).to_contain_text(f"of {len(upns):,} matching pupils")
    assert len(_ranks(page)) == min(len(upns), int(page.locator("#page-size").input_value()))


def test_pages_reach_the_last_pupil_and_filters_apply_before_paging(page, scored):
    from playwright.sync_api import expect

    body, _ = scored
    total = len(body["scores"])
    _reset(page)
    page.select_option("#page-size", "100")
    assert total > 100 and _ranks(page) == list(range(1, 101))
    expect(page.locator("#table-count")).to_contain_text(f"of {total:,} matching pupils")
    page.locator("#pager button", has_text="Next").click()
    assert _ranks(page) == list(range(101, 201))
    page.locator("#pager button", has_text="Last").click()
    last = (total - 1) // 100 * 100
    assert _ranks(page) == list(range(last + 1, total + 1))  # every pupil is reachable
    # ranks as the page writes every count, with thousands separators (they read "6212")
    assert total >= 1000 and page.locator("#scores-table tbody tr td:nth-child(1)").last.inner_text() == \
        f"{total:,}"
    pages = (total + 99) // 100
    expect(page.locator("#pager .pager-where")).to_have_text(f"Page {last // 100 + 1} of {pages}")
    assert page.locator("#pager button", has_text="Next").is_disabled()
    assert page.evaluate("() => document.activeElement.textContent") == "Previous"  # focus kept in the pager
    page.screenshot(path=ARTIFACTS / "07-last-page.png")

    # A filter applies to the whole cohort, then pages: the red pupils, all of them, in rank order.
    reds = [i + 1 for i, s in enumerate(body["scores"]) if s["rag"] == "red"]
    assert reds, "the small authority's cohort has red pupils"
    page.select_option("#filter-rag", "red")
    shown: list[int] = []
    while True:
        shown += _ranks(page)
        assert set(page.locator("#scores-table tbody td:nth-child(8)").all_inner_texts()) == {"RED"}
        following = page.locator("#pager button", has_text="Next")
        if not following.is_visible() or following.is_disabled():
            break
        following.click()
    assert shown == reds
    page.select_option("#page-size", "1000")
    assert _ranks(page) == reds[:1000]
    _reset(page)


def test_a_62536_pupil_authority_is_usable_a_page_at_a_time(chromium, live_service, sign_in, tmp_path):
    """The Walsall-sized authority's answer (routed in: the live model's cohort is small): the page
    draws one page, not 62,536 rows, and the last page holds the last pupil."""
    from playwright.sync_api import expect

    rows = [{"upn": f"A{i:012d}", "probability": 0.9 * (1 - i / AUTHORITY_PUPILS), "likelihood_band": "low",
             "need_level": i % 4, "rag": ("red", "amber", "green")[i % 3], "matrix_cell": "L1-N0",
             "reasons": "absence", "model_version": "7", "school_urn": str(100000 + i % 120),
             "nc_year": i % 12} for i in range(AUTHORITY_PUPILS)]  # fmt: skip
    answer = {"notice": DECISION_SUPPORT_NOTICE, "model_version": "7", "pupils": len(rows),
              "history": "linked", "missing_features": [], "rejected": [], "scores": rows}  # fmt: skip
    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA000000000000\n")
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        sign_in(page, live_service)
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(answer)))
        page.set_input_files("#cohort-file", str(upload))
        started = time.monotonic()
        page.click("#score-button")
        # the 30 s below bounds the whole; the first draw's own 5 s default failed once under .ci/run's
        # load (the same test passes alone in 40 s with the service's start)
        expect(page.locator("#table-count")).to_contain_text(f"of {AUTHORITY_PUPILS:,} matching pupils",
                                                             timeout=25_000)  # fmt: skip
        assert page.locator("#scores-table tbody tr").count() == 250  # one page, the default size
        page.locator("#pager-top button", has_text="Last").click()
        last_rank = page.locator("#scores-table tbody tr").last.locator("td").first
        expect(last_rank).to_have_text(f"{AUTHORITY_PUPILS:,}")  # as every count on the page (was "62536")
        page.select_option("#filter-school", "100007")
        expect(page.locator("#table-count")).to_contain_text(f"of {len(rows[7::120]):,} matching pupils")
        assert time.monotonic() - started < 30  # generous for a shared CI machine; a page is milliseconds
    finally:
        context.close()


def test_the_pupil_panel_shows_factors_and_returns_focus(page, scored, live_service, champion):
    from playwright.sync_api import expect

    body, _ = scored
    _reset(page)
    page.select_option("#page-size", "100")
    first = page.locator("#scores-table tbody tr").nth(2)
    upn = first.locator("td").nth(1).inner_text()
    first.get_by_role("button").focus()  # the UPN's button, "Open details for pupil <UPN>"
    page.keyboard.press("Enter")  # the keyboard opens it
    panel = page.locator("#pupil-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#panel-heading")).to_have_text(f"Pupil {upn}")
    assert page.evaluate("() => document.activeElement.id") == "panel-heading"
    status = page.locator("#panel-factors-status")
    expect(status).to_contain_text("Factors loaded", timeout=60_000)
    expect(status).to_contain_text("not a percentage: the larger, the stronger")  # not "(log-odds)" alone
    with live_service.client() as client:
        explained = client.post("/explain/file", data={"upn": upn},
                                files={"file": ("census.csv", champion.cohort_csv.read_bytes(), "text/csv")})
    pupil = explained.json()["pupils"][0]
    row = next(s for s in body["scores"] if s["upn"] == upn)
    assert abs(pupil["probability"] - row["probability"]) < 1e-9  # the same features as the list
    raising = page.locator("#panel-raising li").all_inner_texts()
    lowering = page.locator("#panel-lowering li").all_inner_texts()
    assert len(raising) == len(pupil["raising"]) >= 1 and len(lowering) == len(pupil["lowering"]) >= 1
    for text, factor in zip(raising + lowering, pupil["raising"] + pupil["lowering"], strict=True):
        assert text.startswith(f"{factor['label']}: {factor['value']}")
    summary = page.locator("#panel-summary").inner_text()
    assert f"{100 * row['probability']:.1f}%" in summary and row["likelihood_band"] in summary
    if row.get("need_label"):
        assert row["need_label"] in summary
    assert DECISION_SUPPORT_NOTICE in panel.inner_text()
    # Earlier scores: a table, or a plain message when there are none or they cannot be loaded.
    expect(page.locator("#panel-earlier")).not_to_contain_text("Loading", timeout=30_000)
    page.screenshot(path=ARTIFACTS / "08-pupil-panel.png")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    row_of_focus = "() => document.activeElement.closest('tr').dataset.index"
    assert page.evaluate(row_of_focus) == "2"  # focus back on the row's button
    page.locator("#scores-table tbody tr").nth(5).locator("td").nth(4).click()  # a click opens it too
    expect(page.locator("#panel-heading")).to_have_text(
        f"Pupil {page.locator('#scores-table tbody tr').nth(5).locator('td').nth(1).inner_text()}")
    page.click("#panel-close")
    expect(panel).to_be_hidden()
    assert page.evaluate(row_of_focus) == "5"
    assert not [url for url in page.requested if upn in url], "a UPN went into a URL"
    assert not page.script_errors, page.script_errors


def test_the_pupil_panel_tries_again_while_the_service_is_busy(page, scored):
    """Every job slot busy (503 with Retry-After): the panel said the factors could not be loaded at once,
    where a moment later they could (a load tester's find). It now says it is trying again, and does."""
    from playwright.sync_api import expect

    _reset(page)
    busy = {"left": 2}

    def answer(route):
        if busy["left"]:
            busy["left"] -= 1
            route.fulfill(status=503, content_type="application/json", headers={"Retry-After": "1"},
                          body=json.dumps({"detail": "the service is already scoring 2 files: try again"}))
        else:
            route.continue_()

    page.route("**/explain/file**", answer)
    try:
        page.locator("#scores-table tbody tr").nth(3).get_by_role("button").click()
        status = page.locator("#panel-factors-status")
        expect(status).to_have_text("The service is busy; trying again in 1 s.")
        expect(status).to_contain_text("Factors loaded", timeout=60_000)
        assert busy["left"] == 0
    finally:
        page.unroute("**/explain/file**")
        page.keyboard.press("Escape")
    # closed during the wait, the panel asks no more (it went on retrying, and a reopening ran two loops)
    asked = []

    def always_busy(route):
        asked.append(1)
        route.fulfill(status=503, content_type="application/json", headers={"Retry-After": "1"},
                      body=json.dumps({"detail": "the service is already scoring 2 files: try again"}))

    page.route("**/explain/file**", always_busy)
    try:
        page.locator("#scores-table tbody tr").nth(3).get_by_role("button").click()
        waiting = "The service is busy; trying again in 1 s."
        expect(page.locator("#panel-factors-status")).to_have_text(waiting)
        page.keyboard.press("Escape")
        page.wait_for_timeout(2_500)
        assert len(asked) == 1
    finally:
        page.unroute("**/explain/file**")


def test_printing_shows_the_notice_and_the_schools_list_not_the_form(page, scored):
    from playwright.sync_api import expect

    body, _ = scored
    _reset(page)
    page.select_option("#page-size", "100")
    option = page.locator("#filter-school option").nth(1)
    school = option.get_attribute("value")
    page.select_option("#filter-school", school)
    at_school = [s for s in body["scores"] if s["school_urn"] == school]
    assert len(at_school) > 100  # more than one screen page: the print holds them all
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    page.click("#print-button")
    assert page.evaluate("() => window.printed") is True
    page.emulate_media(media="print")
    try:
        expect(page.locator("#notice")).to_be_visible()
        expect(page.locator("#notice")).to_contain_text(DECISION_SUPPORT_NOTICE)
        for hidden in ("#upload-form", "#signin-section", "#filters", "#print-button", "#download-button",
                       "#scores-table", "#pager"):
            expect(page.locator(hidden)).to_be_hidden()
        expect(page.locator("#print-title")).to_contain_text(option.inner_text())
        rows = page.locator("#print-table tbody tr")
        assert rows.count() == len(at_school)
        assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {option.inner_text()}
        first, expected = rows.first.locator("td").all_inner_texts(), at_school[0]
        assert first[1] == expected["upn"] and first[4] == expected["rag"].upper()
        assert first[5] == expected["likelihood_band"] and first[7] == (expected.get("response") or "")
        # reasons, or (none of the child's own: a rating on context alone) the context in words
        none_own = "No factor of the child's own raises the score"
        on_context = (f"{none_own}; its context — {expected['context']}" if expected.get("context")
                      else f"{none_own}.")  # fmt: skip
        assert first[8] == (expected["reasons"] or on_context)
        # the title and the notice head every printed page (the table's head repeats)
        expect(page.locator("#print-running")).to_contain_text(option.inner_text())
        expect(page.locator("#print-running")).to_contain_text(DECISION_SUPPORT_NOTICE)
        assert [h.strip() for h in page.locator("#print-table thead th").all_inner_texts()] == [
            "Rank", "UPN", "School", "Year", "RAG", "Likelihood", "Need", "Suggested response", "Reasons"]
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=ARTIFACTS / "09-print-view.png")  # its first screenful
    finally:
        page.emulate_media(media="screen")
    expect(page.locator("#upload-form")).to_be_visible()
    _reset(page)
