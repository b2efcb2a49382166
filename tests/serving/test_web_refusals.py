"""A refused census, as the officer reads it on the page: the error names the file it is about, with
the data row and column, never repeats the pupil's value, and says what to do on the page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BAD_DOB = "1999-13-45"


@pytest.fixture(scope="module")
def refused_file(champion, tmp_path_factory) -> Path:
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(200)
    cohort.loc[cohort.index[5], "DOB"] = BAD_DOB
    path = tmp_path_factory.mktemp("refusals") / "autumn_census_school_a.csv"
    cohort.to_csv(path, index=False)
    return path


def test_a_refusal_names_file_row_and_column_and_what_to_do(chromium, live_service, sign_in, refused_file):
    from playwright.sync_api import expect

    context = chromium.new_context()
    page = context.new_page()
    try:
        sign_in(page, live_service)
        page.set_input_files("#cohort-file", str(refused_file))
        page.click("#score-button")
        errors = page.locator("#errors")
        expect(errors).to_contain_text("nothing was scored", timeout=120_000)
        # before: "1 row problem(s) found; nothing was scored. ..." with no word of which file
        expect(errors).to_contain_text(refused_file.name)
        expect(errors).to_contain_text("data row 6")
        expect(errors).to_contain_text("column DOB")
        expect(errors).not_to_contain_text(BAD_DOB)
        # before: "Correct the rows, or send skip_invalid=true to score the valid rows": the API's
        # parameter, which the officer has no way to send; the page's own choice is the tick box
        expect(errors).not_to_contain_text("skip_invalid")
        expect(errors).to_contain_text("Score the valid rows and list any rejected rows")

        page.check("#skip-invalid")
        page.click("#score-button")
        expect(page.locator("#scores-table tbody tr").first).to_be_visible(timeout=120_000)
        expect(errors).to_contain_text("1 row was not scored")
        expect(errors).to_contain_text(refused_file.name)
        expect(errors).not_to_contain_text(BAD_DOB)
        # focus on the rows not scored, above the results (it went to the results' heading below them,
        # so a screen-reader user read on past the rows left out)
        expect(errors).to_be_focused()
    finally:
        context.close()

