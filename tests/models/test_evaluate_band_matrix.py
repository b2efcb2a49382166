"""evaluate's bands' sizes beside scores.html's risk matrix: a band whose total the matrix withholds is
withheld here too, or its size less the cells the page shows gives the withheld cell back.

On a 3,000-pupil synthetic authority scores.html printed the high row as `high 68 257 19 <10 x` and
evaluation.json and evaluation.html printed the high band's 350 pupils: 350 - 68 - 257 - 19 = 6, the
high-likelihood pupils on a child protection plan or looked after. The cohort here is that row's
(68, 257, 19, 6) with other bands around it; the reader's solve takes every figure both pages print
(the matrix's shown cells, band totals, need levels' and all pupils, its ratings' sums; evaluate's band
and rating sizes) and asks whether any withheld cell of 1-9 is pinned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models.evaluate import GROUP_ATTRIBUTES, match
from exclusion_risk.models.evaluate_report import evaluation_html
from exclusion_risk.models.risk_matrix import NEED_LEVELS, load_risk_matrix
from exclusion_risk.models.score_report import matrix_shown
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, TOTAL, is_withheld
from tests.models.test_evaluate_display import _cells, _document

ROWS = {"very high": [60, 80, 25, 15], "high": [68, 257, 19, 6], "medium": [300, 500, 60, 12],
        "low": [1000, 800, 90, 20]}  # fmt: skip
BANDS = list(ROWS)


def _cohort():
    """The pupils ranked by probability (bands in order), with need levels and outcomes."""
    risk = load_risk_matrix()
    keys = {band.label: band.key for band in risk.bands}
    bands, needs = [], []
    for band, cells in ROWS.items():
        for level, count in enumerate(cells):
            bands += [band] * count
            needs += [level] * count
    n = len(bands)
    upns = [f"U{i:05d}" for i in range(n)]
    rag = [risk.cells[(keys[b], level)][0] for b, level in zip(bands, needs, strict=True)]
    pupils = pd.DataFrame({"upn": upns, "school_urn": ["A", "B"] * (n // 2) + ["A"] * (n % 2),
                           "probability": np.linspace(0.9, 0.01, n), "likelihood_band": bands,
                           "rag": rag})  # fmt: skip
    outcomes = pd.DataFrame({"upn": upns, "outcome": [float(i % 4 == 0) for i in range(n)],
                             "outcome_school": pupils["school_urn"], "need_level": needs})  # fmt: skip
    for attribute in GROUP_ATTRIBUTES:
        outcomes[attribute] = "all"
    return pupils, outcomes, bands, needs, risk


def _cells_given_back(page: pd.DataFrame, document: dict, risk) -> list[tuple[str, int]]:
    """The withheld matrix cells of 1-9 a reader pins from scores.html's matrix (`page`, as printed)
    with evaluate's band and rating sizes (`document`)."""
    cells = [(b, n) for b in BANDS for n in NEED_LEVELS]
    index = {c: k for k, c in enumerate(cells)}
    keys = {band.label: band.key for band in risk.bands}
    lines = [[c] for c in cells if not is_withheld(page.at[c])]
    lines += [[(b, n) for n in NEED_LEVELS] for b in BANDS if not is_withheld(page.at[b, TOTAL])]
    lines += [[(b, n) for b in BANDS] for n in NEED_LEVELS] + [cells]  # need levels', all pupils
    ratings = {rag: [c for c in cells if risk.cells[(keys[c[0]], c[1])][0] == rag]
               for rag in ("red", "amber", "green")}  # fmt: skip
    lines += list(ratings.values())  # scores.html's red count, the school table's columns
    lines += [[(r["band"], n) for n in NEED_LEVELS] for r in document["by_band"]
              if not is_withheld(r["selected"])]  # fmt: skip
    lines += [ratings[r["rag"]] for r in document["by_rag"] if not is_withheld(r["selected"])]
    matrix = np.zeros((len(lines), len(cells)))
    for row, line in enumerate(lines):
        for cell in line:
            matrix[row, index[cell]] = 1
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for cell in cells:
        count = ROWS[cell[0]][cell[1]]
        if is_withheld(page.at[cell]) and 0 < count < SUPPRESSION_THRESHOLD:
            unit = np.zeros(len(cells))
            unit[index[cell]] = 1
            if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
                found.append((f"{cell[0]}, need {cell[1]}", count))
    return found


def test_a_band_whose_total_scores_html_withholds_is_withheld_here_too():
    pupils, outcomes, bands, needs, risk = _cohort()
    page = matrix_shown(bands, needs, risk)
    assert is_withheld(page.at["high", TOTAL]) and is_withheld(page.at["high", 3])  # as on the authority
    document = _document(match(pupils, outcomes), BANDS)
    sizes = {r["band"]: r["selected"] for r in document["by_band"]}
    assert is_withheld(sizes["high"])
    high = next(r for r in document["by_band"] if r["band"] == "high")
    assert high["precision"] is None and high["ci_low"] is None  # the rate would give the size back
    assert _cells_given_back(page, document, risk) == []
    # evaluation.html's band table prints no 350 (the band's size) either
    html = evaluation_html(document)
    table = html.split("<h2>By likelihood band and RAG rating</h2>", 1)[1].split("</table>", 1)[0]
    row = _cells(table.split("<td>high</td>", 1)[1].split("</tr>", 1)[0])
    assert row[0] in ("x", "&lt;10") and str(sum(ROWS["high"])) not in _cells(table)
    assert any("scores.html" in said and "risk matrix" in said for said in document["withheld"])
