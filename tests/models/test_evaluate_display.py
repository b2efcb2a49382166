"""What evaluation.html shows: shares with their intervals by the project's one rule."""

from __future__ import annotations

import re

import pandas as pd

from exclusion_risk.models.band_precision import wilson
from exclusion_risk.models.evaluate import (
    GROUP_ATTRIBUTES,
    compare_with_stated,
    evaluate_scores,
    headline,
    match,
)
from exclusion_risk.models.evaluate_report import evaluation_html


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
