"""What evaluation.html shows: shares with their intervals by the project's one rule, and by school (or
group) a rate exactly where the counts it rests on are shown."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk.models.band_precision import wilson
from exclusion_risk.models.evaluate import (
    GROUP_ATTRIBUTES,
    evaluate_scores,
    headline,
    match,
)
from exclusion_risk.models.evaluate_compare import compare_with_stated
from exclusion_risk.models.evaluate_report import evaluation_html
from exclusion_risk.privacy import is_withheld

README = Path(__file__).resolve().parents[2] / "README.md"


def _matched(n: int, positives: set[int], band, schools):
    """n pupils U0000.. ranked in that order (pupil i has probability 1 - i/n), with the outcome where
    i is in `positives`, `band[i]` their likelihood band (RAG alike) and `schools[i]` their school."""
    upns = [f"U{i:04d}" for i in range(n)]
    rag = pd.Series(band).map({"high": "red", "low": "green"})
    pupils = pd.DataFrame({"upn": upns, "probability": [1 - i / n for i in range(n)], "school_urn": schools,
                           "likelihood_band": band, "rag": rag})  # fmt: skip
    outcomes = pd.DataFrame({"upn": upns, "outcome": [float(i in positives) for i in range(n)],
                             "outcome_school": schools})  # fmt: skip
    for attribute in GROUP_ATTRIBUTES:
        outcomes[attribute] = "all"
    return match(pupils, outcomes)


def _document(matched, bands) -> dict:
    """evaluation.json's document as `evaluate` builds it; stated precision 32.4% [30.7%–34.1%]."""
    document = evaluate_scores(matched, bands)
    row = next(r for r in document["by_capacity"] if r["capacity"] == 0.05)
    stated = {"estimate": 0.324, "interval": "0.307-0.341"}
    info = {"test_year": "2017/18", "metrics": {"precision_at_5pct": stated}}
    run = {"run_id": "0f125ab9aaaa", "year": "2018/19", "census": "autumn", "model_name": "m",
           "model_version": "2", "scored_on": "2026-12-05"}  # fmt: skip
    document = {"notice": "not decisions", "label": "any", "run": run, "warnings": [], **document,
                "comparison": compare_with_stated(row, info)}  # fmt: skip
    document["headline"] = headline(document)
    return document


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", html)]


def test_an_interval_is_rounded_as_its_share_is_so_it_holds_it():
    """A low band with 0.8% excluded read "0.8%" beside the interval "1%–1%" (whole percents), which
    does not hold it; scores.html reads 0.8% [0.7%–0.8%]. The share and interval now take one rule."""
    n = 5000
    positives = set(range(0, 500, 3)) | set(range(500, n, 125))  # 167 of the 500 high, 36 of the 4,500 low
    band = ["high"] * 500 + ["low"] * (n - 500)
    document = _document(_matched(n, positives, band, ["100001"] * n), ["high", "low"])
    low = next(r for r in document["by_band"] if r["band"] == "low")
    assert low["true_positives"] == 36
    a, b = wilson(36, 4500)
    expected = f"0.8% [{100 * a:.1f}%–{100 * b:.1f}%]"  # 0.8% [0.6%–1.1%]
    cells = _cells(evaluation_html(document))
    assert expected in cells, [c for c in cells if c.startswith("0.8%")]
    assert not any(re.fullmatch(r"(\d+)%–\1%", c) for c in cells), "an interval rounded to one point"
    # every share with an interval: low <= share <= high as read
    for cell in cells:
        shown = re.fullmatch(r"([\d.]+)% \[([\d.]+)%–([\d.]+)%\]", cell)
        if shown:
            share, lower, upper = map(float, shown.groups())
            assert lower <= share <= upper, cell


def test_the_stated_figure_is_written_one_way():
    """The headline said the model's stated precision "32% [31%–34%]" and the paragraph below it
    "32.4% [30.7%–34.1%]": the same figure in two formats."""
    n = 5000
    positives = set(range(0, 500, 3)) | set(range(500, n, 125))
    band = ["high"] * 500 + ["low"] * (n - 500)
    document = _document(_matched(n, positives, band, ["100001"] * n), ["high", "low"])
    html = evaluation_html(document)
    assert "said 32% [31%–34%]" in document["headline"]
    assert html.count("32% [31%–34%]") == 2, re.findall(r"3\d[.\d]*% \[[^\]]*\]", html)
    assert "32.4%" not in html and "30.7%" not in html


def _schools():
    """2,000 ranked pupils, the top 5% the first 100, in five schools:
    A: 90 of the top 5% and 810 more, 155 excluded;
    B: 5 of the top 5% (none excluded) and 395 more, 30 excluded: its excluded shown, its selected not;
    C: 5 of the top 5% and 295 more, none excluded;
    D: none of the top 5%, 200 pupils, 4 excluded; E: none of the top 5%, 200 pupils, 11 excluded."""
    n = 2000
    schools = np.empty(n, dtype=object)
    schools[:90], schools[90:95], schools[95:100] = "A", "B", "C"
    schools[100:910], schools[910:1305], schools[1305:1600] = "A", "B", "C"
    schools[1600:1800], schools[1800:] = "E", "D"
    positives = (set(range(0, 90, 2)) | set(range(100, 210)) | set(range(920, 950)) | set(range(1600, 1611))
                 | {1900, 1910, 1920, 1930})  # fmt: skip
    return _matched(n, positives, ["low"] * n, list(schools))


def test_a_schools_rate_is_shown_exactly_where_the_counts_it_rests_on_are():
    """Schools with 10-12 excluded (B here) read the rate "-" because their count in the top 5% was under 10,
    and one with 0 excluded read "-" where another read 0.0%: observed rests on pupils and excluded
    alone. Precision rests on the true positives and the selected, recall on the true positives and the
    excluded."""
    document = evaluate_scores(_schools(), ["low"])
    rows = {r["group"]: r for r in document["by_school"]}
    assert rows["B"]["excluded"] == 30 and is_withheld(rows["B"]["selected"])
    assert rows["B"]["observed"] == 30 / 400
    assert rows["C"]["excluded"] == 0 and rows["C"]["observed"] == 0.0
    for r in document["by_school"]:
        counts = (r["pupils"], r["excluded"])
        assert (r["observed"] is not None) == (not any(map(is_withheld, counts)) and r["pupils"] > 0), r
        shown = not is_withheld(r["true_positives"]) and not is_withheld(r["selected"])
        assert (r["precision"] is not None) == (shown and r["selected"] > 0), r
        assert (r["ci_low"] is not None) == (r["precision"] is not None), r
        shown = not is_withheld(r["true_positives"]) and not is_withheld(r["excluded"])
        assert (r["recall"] is not None) == (shown and r["excluded"] > 0), r


def test_true_positives_a_shown_zero_implies_are_shown_as_zero():
    """A school with none in the top 5% (or none excluded) read "x" for "of them who did", which can
    only be 0; a withheld count under 10 stays withheld, and none is pinned by the shown ones."""
    document = evaluate_scores(_schools(), ["low"])
    rows = {r["group"]: r for r in document["by_school"]}
    assert rows["C"]["true_positives"] == 0  # none excluded
    assert rows["D"]["selected"] == 0 and rows["D"]["true_positives"] == 0  # none in the top 5%
    assert is_withheld(rows["D"]["excluded"])  # 4: still "<10"
    assert is_withheld(rows["B"]["true_positives"])  # 0 in fact, but not implied: the rule withholds it
    for r in document["by_school"]:
        if any(not is_withheld(r[c]) and r[c] == 0 for c in ("selected", "excluded")):
            assert r["true_positives"] == 0, r
        for c in ("pupils", "excluded", "selected", "true_positives"):
            assert is_withheld(r[c]) or r[c] == 0 or r[c] >= 10, (c, r)


def test_the_readme_publishes_no_count_under_10_that_evaluate_withholds():
    """The README's evaluate section gave the very high band's count with the outcome (1,014, which
    `evaluate` withholds) and the small counts it would give back ("1 of the 11 between", "9 of 109"),
    and the Chinese/other true positives once given back (= 9): a README teaches the habit."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### How the scores turned out"):text.index("### Drift")]
    assert "1,014" not in section
    small = re.findall(r"\b[1-9] of (?:the )?[\d,]+|= [1-9]\b|\bso [1-9] [a-z]", section)
    assert small == []
