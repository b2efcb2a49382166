"""evaluation.html's by-school table read beside scores.html's, end to end on the small synthetic authority.

scores.html publishes each school's pupils rated red; evaluation.html each school's pupils in the top 5%.
The top 5% sits (nearly) inside the red list, so red less top is the school's pupils red outside the top
5% (mostly on a protection plan or looked after): on the demo 3352166's 11 red less its 10 in the top 5%
gave 1 back, in 19 schools 1-9. A reader also subtracts withheld schools together, from the totals.
The audit (`test_evaluate_schools.slices_given_back`) solves every figure both pages print for each
school's difference and for the schools withheld together. All three tests fail on the code before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from exclusion_risk.privacy import is_withheld
from tests.models.test_evaluate import SCORED, _invoke
from tests.models.test_evaluate_schools import slices_given_back


def _school_reds(scores_html: Path) -> tuple[dict[str, str], str]:
    """scores.html's by-school red column (school -> cell as printed) and the red count at the top."""
    html = scores_html.read_text()
    section = html.split("<h2>By school</h2>", 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", section, re.S)]
    red = re.search(r"(\S+) pupils are rated red", " ".join(html.split())).group(1).replace(",", "")
    return {r[0]: r[2].replace("&lt;", "<").replace(",", "") for r in rows if r}, red  # 1,234 as 1234


def test_no_school_gives_its_red_outside_the_top_5pct_back(evaluated):
    reds, red_total = _school_reds(evaluated.scores.with_suffix(".html"))
    assert len(reds) > 5 and any(not is_withheld(v) and int(v) for v in reds.values())
    assert slices_given_back(reds, red_total, evaluated.document) == []
    tops = {r["group"]: r for r in evaluated.document["by_school"]}
    # a school's top 5% withheld hides its precision too (it would give the count back with its tp)
    for row in tops.values():
        if is_withheld(row["selected"]):
            assert row["precision"] is None and row["ci_low"] is None


@pytest.fixture(scope="module")
def recut(evaluated, tmp_path_factory):
    """The same year scored again with the bands re-cut for 10% (its own runs folder), and evaluated."""
    root = tmp_path_factory.mktemp("recut")
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    scores = root / "scores" / "scores.csv"
    result = _invoke(evaluated.uri, ["score", *data, "--year", SCORED, "--out", str(scores), "--no-reasons",
                                     "--capacity", "10%"])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = root / "evaluation"
    result = _invoke(evaluated.uri, ["evaluate", *data, "--scores", str(scores), "--out", str(out),
                                     "--no-log"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return scores, json.loads((out / "evaluation.json").read_text()), result.output


def test_an_evaluation_of_a_recut_scoring_gives_nothing_back_beside_either_page(evaluated, recut):
    """Evaluating the scoring at 10% withholds against its own page and against the red counts the model's
    own thresholds give (the page `score` writes for the year without --capacity)."""
    scores, document, _ = recut
    for page in (scores.with_suffix(".html"), evaluated.scores.with_suffix(".html")):
        reds, red_total = _school_reds(page)
        assert slices_given_back(reds, red_total, document) == [], page


def test_a_recut_page_says_which_evaluation_it_may_be_read_beside(evaluated, recut):
    scores, _, _ = recut
    page = " ".join(scores.with_suffix(".html").read_text().split())
    assert "re-cut for a capacity of 10%" in page and "exclusion-risk evaluate" in page
    default = " ".join(evaluated.scores.with_suffix(".html").read_text().split())
    assert "re-cut for a capacity" not in default


def test_no_band_or_rating_size_is_1_to_9_from_a_top_k_pct_and_the_page_that_is_is_named(evaluated):
    """On the small authority the very high band held 308 pupils and the top 5% 307: evaluation.json
    printed both, so the 1 between; and scores.html prints the band's 308 too, which evaluate cannot
    withhold, so it says so."""
    doc = evaluated.document
    tops = [r["selected"] for r in doc["by_capacity"] if not is_withheld(r["selected"])]
    sizes = [r["selected"] for r in [*doc["by_band"], *doc["by_rag"]] if not is_withheld(r["selected"])]
    assert [(a, b) for a in sizes for b in tops if 0 < abs(a - b) < 10] == []
    page = " ".join(evaluated.scores.with_suffix(".html").read_text().split())
    row = re.search(r"<tr><td>very high</td>(?:<td[^>]*>[^<]*</td>)*?<td>(\d+)</td></tr>", page)
    top = next(r["selected"] for r in doc["by_capacity"] if r["capacity"] == 0.05)
    if row and 0 < abs(int(row.group(1)) - top) < 10:
        assert any("very high band's pupils less the top 5%" in s for s in doc["withheld"])


def test_a_scores_file_is_not_taken_for_a_run_at_another_capacity(evaluated, recut, tmp_path):
    """The 10% scores.csv beside runs holding only the 5% scoring (a 10% run stopped before it was
    recorded): its probabilities are the 5% run's, and evaluate evaluated that run, 5% red for its own
    bands (an automation engineer's find). Bands and ratings are matched too: no run has its pupils."""
    from exclusion_risk.models.score_runs import RUNS_FOLDER

    scores, _, _ = recut
    data = ["--data", str(evaluated.extracts), "--links", str(evaluated.links)]
    result = _invoke(evaluated.uri, ["evaluate", *data, "--scores", str(scores), "--runs",
                                     str(evaluated.scores.parent / RUNS_FOLDER), "--out", str(tmp_path / "e"),
                                     "--no-log"])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "no recorded scoring in" in result.output and "has its pupils" in result.output
