"""The one-page HTML summary of a scored cohort (`exclusion-risk score` writes it beside scores.csv).

Counts per risk-matrix cell, by school and by year group, rendered from
`templates/score_summary.html.j2`; every count under 10 is shown as "<10".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.models.rendering import render
from exclusion_risk.models.risk_matrix import NEED_LEVELS
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE, suppress_count


def _rag_counts(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    table = frame.groupby([key, "rag"]).size().unstack(fill_value=0)
    rows = []
    for value, counts in table.iterrows():
        rows.append({
            "key": value, "pupils": suppress_count(int(counts.sum())),
            **{rag: suppress_count(int(counts.get(rag, 0))) for rag in ("red", "amber", "green")},
        })  # fmt: skip
    return rows


def _year_group_order(key: str) -> int:
    """Reception first, then years 1-14, unknown last."""
    if key == "R":
        return 0
    if key == "unknown":
        return 99
    try:
        return int(key)
    except ValueError:
        return 50


def summary_html(scores: pd.DataFrame, features: pd.DataFrame, scorer: CohortScorer, year: str) -> str:
    """Counts per matrix cell, by school and by year group (every count under 10 shown as '<10')."""
    context_columns = [c for c in ("upn", "SchoolURN", "nc_year") if c in features.columns]
    frame = scores.merge(features[context_columns].astype({"upn": str}), on="upn", how="left")
    frame["SchoolURN"] = frame.get("SchoolURN", pd.Series("unknown", index=frame.index)).fillna("unknown")
    nc = pd.to_numeric(frame.get("nc_year", pd.Series(np.nan, index=frame.index)), errors="coerce")
    frame["year_group"] = nc.map(lambda v: "unknown" if pd.isna(v) else ("R" if v == 0 else f"{int(v)}"))
    counts = frame.groupby(["likelihood_band", "need_level"]).size()
    cell_rows = []
    for band in scorer.matrix.bands:
        cells = [
            {
                "count": suppress_count(int(counts.get((band.label, n), 0))),
                "rag": scorer.matrix.cells[(band.key, n)][0],
            }
            for n in NEED_LEVELS
        ]
        total = int(sum(counts.get((band.label, n), 0) for n in NEED_LEVELS))
        cell_rows.append({"band": band.label, "cells": cells, "total": suppress_count(total)})
    by_year = sorted(_rag_counts(frame, "year_group"), key=lambda r: _year_group_order(r["key"]))
    return render(
        "score_summary.html.j2",
        notice=DECISION_SUPPORT_NOTICE, year=year, pupils=suppress_count(len(scores)), model=scorer.info(),
        capacity_pct=f"{100 * scorer.matrix.capacity:g}",
        red=suppress_count(int((scores["rag"] == "red").sum())),
        levels=NEED_LEVELS, cell_rows=cell_rows, by_school=_rag_counts(frame, "SchoolURN"), by_year=by_year,
        risk_matrix=scorer.risk_matrix,
    )  # fmt: skip
