"""evaluate's bands' sizes beside scores.html's: a size evaluate withholds ("x") that the page prints keeps
evaluation.html safe on its own, not beside that page, and evaluate says so: on the demo it withheld the
high and low bands' sizes, 6,467 and 43,752, which scores.html printed, and tenths 4-10 less the low band
gave the 4 pupils of tenth 4 in the medium band, without a word (`selection_overlaps.BESIDE_SCORES_PAGE`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models.evaluate import GROUP_ATTRIBUTES, evaluate_scores, match
from exclusion_risk.models.selection_overlaps import BESIDE_SCORES_PAGE
from exclusion_risk.privacy import is_withheld

BANDS = ["very high", "high", "medium", "low"]
# ranks 0-49, 50-194, 195-394, the rest: tenth 2 (ranks 100-199) holds 5 pupils of the medium band
CUTS = {"very high": 50, "high": 145, "medium": 200}


def _cohort(n: int = 1000, unscored: int = 0):
    bands = []
    for band, size in CUTS.items():
        bands += [band] * size
    bands += ["low"] * (n - len(bands))
    rag = {"very high": "red", "high": "amber", "medium": "green", "low": "green"}
    upns = [f"U{i:04d}" for i in range(n)]
    pupils = pd.DataFrame({"upn": upns, "school_urn": ["A", "B"] * (n // 2),
                           "probability": np.linspace(0.9, 0.01, n), "likelihood_band": bands,
                           "rag": [rag[b] for b in bands]})  # fmt: skip
    outcomes = pd.DataFrame({"upn": upns, "outcome": [float(i % 4 == 0) for i in range(n)],
                             "outcome_school": pupils["school_urn"], "need_level": 0})  # fmt: skip
    for attribute in GROUP_ATTRIBUTES:
        outcomes[attribute] = "all"
    return pupils, outcomes.iloc[: n - unscored]


def test_a_band_size_withheld_here_that_scores_html_prints_is_said():
    pupils, outcomes = _cohort()
    document = evaluate_scores(match(pupils, outcomes), BANDS)
    sizes = {r["band"]: r["selected"] for r in document["by_band"]}
    assert any(is_withheld(size) for size in sizes.values())  # alone, this page gives nothing back
    assert any(s.startswith(BESIDE_SCORES_PAGE) for s in document["withheld"])


def test_where_the_page_counts_other_pupils_nothing_is_said_of_it():
    # 3 scored pupils are not on the census: scores.html's band sizes are not these pupils'
    pupils, outcomes = _cohort(unscored=3)
    document = evaluate_scores(match(pupils, outcomes), BANDS)
    assert any(is_withheld(r["selected"]) for r in document["by_band"])
    assert not any(s.startswith(BESIDE_SCORES_PAGE) for s in document["withheld"])
