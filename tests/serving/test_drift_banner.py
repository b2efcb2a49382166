"""Drift in the service: a census upload is checked against the champion's stored profile, the score
response carries the warnings (`drift_warnings`), and the page shows them in a banner.

The shifted upload is the scored year's cohort with attendance halved at the school nearest 5% of its
pupils (not the largest: the change `tests/models/test_drift_authority.py` makes, which only the
school-by-school check sees); an upload of one school's rows is part of a cohort, not checked.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

pytestmark = pytest.mark.slow

ABSENCE_WARNING = "Absence last year (absence_rate_last_year) has shifted in 2018/19"
SCHOOL_ABSENCE = "the mean absence last year (absence_rate_last_year) is"


def _nearest_five_percent(cohort: pd.DataFrame) -> str:
    shares = cohort["SchoolURN"].value_counts(normalize=True)
    return (shares - 0.05).abs().idxmin()


def _halved_attendance(cohort: pd.DataFrame) -> pd.DataFrame:
    """The cohort with one school's pupils (`_nearest_five_percent`) attending half the sessions they
    attended."""
    shifted = cohort.copy()
    rows = shifted["SchoolURN"].eq(_nearest_five_percent(cohort))
    rows &= shifted["SessionsPossible"].ne("")
    possible, authorised, unauthorised = (shifted.loc[rows, c].astype(int) for c in (
        "SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"))  # fmt: skip
    missed = (possible - authorised - unauthorised) // 2
    shifted.loc[rows, "SessionsAuthorisedAbsence"] = (authorised + missed // 2).astype(str)
    shifted.loc[rows, "SessionsUnauthorisedAbsence"] = (unauthorised + missed - missed // 2).astype(str)
    return shifted


def test_a_shifted_upload_gets_drift_warnings_and_an_unchanged_one_none(live_service, champion):
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False)
    school = _nearest_five_percent(cohort)
    one_school = cohort[cohort["SchoolURN"].eq(school)]
    answers = {}
    with live_service.client() as client:
        uploads = (("unchanged", cohort), ("shifted", _halved_attendance(cohort)), ("one school", one_school))
        for name, frame in uploads:
            response = client.post(
                "/score/file",
                params={"skip_invalid": "true", "reasons": "false", "record": "false"},
                files={"file": ("census.csv", frame.to_csv(index=False), "text/csv")},
            )
            assert response.status_code == 200, response.text
            answers[name] = response.json()["drift_warnings"]  # fmt: skip
    # Unchanged: only features counted over earlier years that rose as the history lengthened (the
    # extracts start in 2015/16, shortly before the reference years), each saying so.
    assert all("the history lengthening, not the cohort changing" in line for line in answers["unchanged"])
    assert any(line.startswith(f"At school {school}: {SCHOOL_ABSENCE} ") for line in answers["shifted"])
    assert len(answers["one school"]) == 1  # not a warning per feature for a part of the cohort
    partial = "drift not checked: the upload is part of a cohort (1 school of "
    assert answers["one school"][0].startswith(partial)


# One ranked pupil, as the service answers a census scoring: the page tests below route it in, with
# the drift and fairness lines each needs.
ROWS = [{"upn": "A801200110000", "probability": 0.4, "likelihood_band": "very high", "need_level": 1,
         "rag": "red", "matrix_cell": "L4-N1", "reasons": "absence", "model_version": "7",
         "school_urn": "104321", "nc_year": 8}]  # fmt: skip
WARNING = f"{ABSENCE_WARNING} against 2016/17, 2017/18: population stability index 0.32."


def _answer(**lines) -> dict:
    return {"notice": DECISION_SUPPORT_NOTICE, "model_version": "7", "pupils": 1, "history": "linked",
            "missing_features": [], "rejected": [], "scores": ROWS, "drift_warnings": [], **lines}


@contextmanager
def _scoring_page(chromium, live_service, sign_in, tmp_path, answers):
    """A signed-in page whose uploads are answered with `answers` in turn, and a function that uploads
    one and waits for the page to say it is scored."""
    from playwright.sync_api import expect

    upload = tmp_path / "census.csv"
    upload.write_text("UPN\nA801200110000\n")
    answers = iter(answers)
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()

    def score() -> None:
        page.set_input_files("#cohort-file", str(upload))
        page.click("#score-button")
        expect(page.locator("#status")).to_contain_text("Scored", timeout=60_000)

    try:
        sign_in(page, live_service)
        page.route("**/score/file**", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(next(answers))))  # fmt: skip
        yield page, score
    finally:
        context.close()


@pytest.mark.browser
def test_the_page_shows_drift_warnings_in_a_banner(chromium, live_service, sign_in, tmp_path):
    from playwright.sync_api import expect

    partial = "drift not checked: the upload is part of a cohort (1 school of 12; 300 pupils, under 1,000)"
    answers = [_answer(drift_warnings=[WARNING]), _answer(drift_warnings=[partial]), _answer()]
    with _scoring_page(chromium, live_service, sign_in, tmp_path, answers) as (page, score):
        for expected in (True, "not checked", False):
            score()
            banner = page.locator("#drift-warnings")
            if expected == "not checked":  # why no check ran: said, but not as a drift warning
                expect(banner).to_be_visible()
                expect(banner).to_contain_text("Drift not checked: the upload is part of a cohort")
                expect(banner).not_to_contain_text("differs from the years the model learned from")
            elif expected:
                expect(banner).to_be_visible()
                expect(banner).to_contain_text("differs from the years the model learned from")
                expect(banner.locator("li")).to_have_text([WARNING])
                banner.screenshot(path=Path(__file__).parents[1] / "artifacts" / "web" / "drift-banner.png")
            else:
                expect(banner).to_be_hidden()


@pytest.mark.browser
def test_the_page_shows_the_fairness_reviews_findings_in_a_banner(chromium, live_service, sign_in, tmp_path):
    # the service's JSON carries them (`fairness_findings`); before, only its workbook's notice did
    from playwright.sync_api import expect

    intro = ("the fairness review of version 7 found its probabilities miscalibrated for some groups; read "
             "these as it advises, beside a professional's knowledge of the child:")
    finding = ("For Asian pupils the model over-predicts: observed / predicted 0.53. Read their "
               "probabilities as lower than stated.")
    answers = [_answer(fairness_findings=[intro, finding]), _answer(fairness_findings=[])]
    with _scoring_page(chromium, live_service, sign_in, tmp_path, answers) as (page, score):
        for shown in (True, False):
            score()
            banner = page.locator("#fairness-findings")
            if shown:
                expect(banner).to_be_visible()
                expect(banner.locator("strong")).to_have_text(intro[0].upper() + intro[1:])
                expect(banner.locator("li")).to_have_text([finding])
                expect(page.locator("#drift-warnings")).to_be_hidden()
            else:
                expect(banner).to_be_hidden()


@pytest.mark.browser
def test_the_printed_list_carries_the_fairness_findings_and_drift_warnings(chromium, live_service, sign_in,
                                                                          tmp_path):
    # the paper an officer takes to a meeting says how to read the probabilities: before, the printed
    # list had the notice and the rows but neither banner
    from playwright.sync_api import expect

    intro = "the fairness review of version 7 found its probabilities miscalibrated for some groups:"
    finding = "For Asian pupils the model over-predicts. Read their probabilities as lower than stated."
    answers = [_answer(drift_warnings=[WARNING], fairness_findings=[intro, finding])]
    with _scoring_page(chromium, live_service, sign_in, tmp_path, answers) as (page, score):
        score()
        page.evaluate("() => { window.print = () => { window.printed = true; }; }")
        page.click("#print-button")
        assert page.evaluate("() => window.printed") is True
        page.emulate_media(media="print")
        try:
            area = page.locator("#print-area")
            expect(area).to_contain_text(intro[0].upper() + intro[1:])
            expect(area).to_contain_text(finding)
            expect(area).to_contain_text("differs from the years the model learned from")
            expect(area).to_contain_text(WARNING)
            expect(area.get_by_text(finding)).to_be_visible()
            expect(area.get_by_text(WARNING)).to_be_visible()
        finally:
            page.emulate_media(media="screen")


def _pdf_pages_text(data: bytes) -> list[str]:
    """Each page's text in a PDF Chromium (Skia) prints: its pages' content streams read through their
    fonts' ToUnicode maps, squeezed (no spaces or line breaks; NFKC, so a ligature reads as its
    letters). Enough for "is this line on every page", without a PDF library in the environment."""
    objs = {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj\s*(.*?)endobj", data, re.S)}

    def stream(num):
        body = objs[num].split(b"stream", 1)[1].lstrip(b"\r\n")
        return zlib.decompress(body[: body.rfind(b"endstream")])

    def cmap(num):
        text, glyphs = stream(num).decode("latin-1"), {}
        for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
            for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                glyphs[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
        for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
            for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                for k in range(int(lo, 16), int(hi, 16) + 1):
                    glyphs[k] = chr(int(dst, 16) + k - int(lo, 16))
        return glyphs

    pages = []
    for head in (v.split(b"stream")[0] for v in objs.values()):
        if not re.search(rb"/Type /Page\b", head):
            continue
        fonts = {name.decode(): cmap(int(re.search(rb"/ToUnicode (\d+) 0 R", objs[int(ref)]).group(1)))
                 for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", head)}
        content = stream(int(re.search(rb"/Contents (\d+) 0 R", head).group(1))).decode("latin-1")
        font, out = {}, []
        for name, hexed in re.findall(r"/(F\d+) [\d.]+ Tf|<([0-9A-Fa-f]+)> Tj", content):
            if name:
                font = fonts[name]
            else:
                out += [font.get(int(hexed[i:i + 4], 16), "") for i in range(0, len(hexed), 4)]
        pages.append(re.sub(r"\s+", "", unicodedata.normalize("NFKC", "".join(out))))
    return pages


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.browser
def test_a_pupil_rated_on_context_alone_is_said_so_in_the_table_and_the_print(chromium, live_service, sign_in,
                                                                              tmp_path):
    # an inclusion-officer tester read 231 AMBER pupils with a blank Reasons cell: their rating rests on
    # context (year group, the school's record, home area), which never fills `reasons` by design, and
    # neither the table nor the print had the context beside them
    from playwright.sync_api import expect

    context = "the school's earlier suspension rate (raises risk); Year 9 (raises risk)"
    rows = [dict(ROWS[0], context="Year 8 (raises risk)"),
            dict(ROWS[0], upn="A801200110001", rag="amber", matrix_cell="L3-N0", reasons="", context=context),
            dict(ROWS[0], upn="A801200110002", rag="green", matrix_cell="L1-N0", reasons=None, context="")]
    said = ("No factor of the child's own raises the score; its context — " + context,
            "No factor of the child's own raises the score.")
    answers = [_answer(scores=rows, pupils=3)]
    with _scoring_page(chromium, live_service, sign_in, tmp_path, answers) as (page, score):
        score()
        cells = page.locator("#scores-table tbody tr td:nth-child(10)")
        expect(cells).to_have_text(["absence", *said])
        page.evaluate("() => { window.print = () => { window.printed = true; }; }")
        page.click("#print-button")
        expect(page.locator("#print-table tbody tr td:nth-child(9)")).to_have_text(["absence", *said])


@pytest.mark.browser
def test_every_printed_page_carries_the_notice_and_title_and_the_print_the_warnings(chromium, live_service,
                                                                                    sign_in, tmp_path):
    # a 516-row school's print ran 48 pages with the decision-support notice and the school's name on
    # page 1 only, and the scoring's warnings (an invalid-UPN one) were not on the paper at all
    from playwright.sync_api import expect

    warning = "2 UPNs are not valid (their check letter does not match); they are scored as given"
    rows = [dict(ROWS[0], upn=f"A8012001{n:05d}", reasons="absence; exclusions last year; SEN support")
            for n in range(300)]
    answers = [_answer(scores=rows, pupils=300, warnings=[warning], drift_warnings=[WARNING])]
    with _scoring_page(chromium, live_service, sign_in, tmp_path, answers) as (page, score):
        score()
        page.evaluate("() => { window.print = () => { window.printed = true; }; }")
        page.click("#print-button")
        title = page.locator("#print-title").inner_text()
        pages = _pdf_pages_text(page.pdf(format="A4"))
        assert len(pages) > 3
        for needle in ("Decision support only", DECISION_SUPPORT_NOTICE, title):
            missing = [n + 1 for n, text in enumerate(pages) if _squeezed(needle) not in text]
            assert not missing, f"{needle!r} is not on printed pages {missing} of {len(pages)}"
        expect(page.locator("#print-area")).to_contain_text(warning)
        expect(page.locator("#print-area")).to_contain_text(WARNING)
