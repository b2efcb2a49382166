"""The one-page HTML summary of a scored cohort (`exclusion-risk score` writes it beside scores.csv).

Counts per risk-matrix cell, by school and by year group, and each likelihood band's precision on the
model's test year (`RiskMatrix.to_dict`, in the risk-matrix section), rendered from
`templates/score_summary.html.j2`; every count under 10 is shown as "<10", and each table goes through
`suppress_table` because its rows sum to a shown "pupils"/"all" column and its columns to the cohort's
pupils and red counts at the top (a lone "<10" in a row would be that total minus the rest); the
matrix's printed sums are also solved together (`_matrix_shown`: the red count less the very high row's
total is the other red cells'), with each need level's pupils, which other reports' groups give.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.contract import SCHOOL_NAME
from exclusion_risk.linkage.codes import NC_YEAR_NUMBERS, nc_year_code
from exclusion_risk.models.band_precision import percent
from exclusion_risk.models.change_kinds import CHANGE_LABELS
from exclusion_risk.models.metrics import top_share
from exclusion_risk.models.rendering import render
from exclusion_risk.models.risk_matrix import NEED_LEVELS, RiskMatrix, load_risk_matrix
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.privacy import (
    DECISION_SUPPORT_NOTICE,
    TOTAL,
    is_withheld,
    pinned_small,
    suppress_count,
    suppress_table,
)

RAGS = ("red", "amber", "green")


def rag_table(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Pupils per RAG rating by `key`, suppressed with its row totals (the pupils column) and column totals.

    Only the red and all-pupils column totals are printed (at the top of the page); treating amber and
    green as printed too withholds a little more, never less. `evaluate` reads the red column as printed
    from here (`evaluate_schools.red_page`).
    """
    table = frame.groupby([key, "rag"]).size().unstack(fill_value=0).reindex(columns=list(RAGS), fill_value=0)
    return suppress_table(table)


def _rag_rows(shown: pd.DataFrame, names: pd.Series | None = None) -> list[dict[str, Any]]:
    """Each row of a table of counts by rating; `names`: each school's name by URN, where known."""
    named = {} if names is None else {str(k): v for k, v in names.items()}
    return [
        {"key": value, "name": named.get(str(value)) or "", "pupils": row[TOTAL],
         **{rag: row[rag] for rag in RAGS}}
        for value, row in shown.drop(index=TOTAL).iterrows()
    ]


def _school_names(features: pd.DataFrame) -> pd.Series | None:
    """Each school's name by URN as the scored census gives it (its first where rows differ), so an
    officer reads the school table by name as the workbook's sheets are named; None without names."""
    if SCHOOL_NAME not in features.columns or "SchoolURN" not in features.columns:
        return None
    named = features[["SchoolURN", SCHOOL_NAME]].dropna()
    return named.astype("string").groupby("SchoolURN")[SCHOOL_NAME].first()


def _year_group_order(key: str) -> int:
    """Nursery and Reception first, then years 1-14, unknown last."""
    return NC_YEAR_NUMBERS.get(key, 99)


def summary_html(
    scores: pd.DataFrame,
    features: pd.DataFrame,
    scorer: CohortScorer,
    year: str,
    census: str | None = None,
    notes: list[str] | None = None,
    changes: tuple[str, dict[str, int]] | None = None,
) -> str:
    """Counts per matrix cell, by school and by year group (every count under 10 shown as '<10').

    `census`: the census scored as people name it (`spring`); default the model's reference census.
    `notes`: what to read before the counts (models.score_notes: rows rejected, drift warnings).
    `changes`: (the earlier scoring as named, `change_counts`) of a comparison with it: each kind's count
    in words, under 10 as '<10' (no total is shown that one could be worked out from)."""
    # What the scores do not carry already: scores.csv's own nc_year (with_officer_columns) merged again
    # became nc_year_x and nc_year_y, and every pupil's year group "unknown".
    context_columns = ["upn"] + [
        c for c in ("SchoolURN", "nc_year") if c in features.columns and c not in scores.columns
    ]
    frame = scores.merge(features[context_columns].astype({"upn": str}), on="upn", how="left")
    frame["SchoolURN"] = frame.get("SchoolURN", pd.Series("unknown", index=frame.index)).fillna("unknown")
    nc = pd.to_numeric(frame.get("nc_year", pd.Series(np.nan, index=frame.index)), errors="coerce")
    frame["year_group"] = nc.map(lambda v: nc_year_code(v) or "unknown")
    by_school, by_year = rag_table(frame, "SchoolURN"), rag_table(frame, "year_group")
    red = _first_withheld(by_school.at[TOTAL, "red"], by_year.at[TOTAL, "red"])
    ratings = _ratings(scorer.matrix)
    shown_matrix = matrix_shown(frame["likelihood_band"], frame["need_level"], scorer.matrix)
    cell_rows = [
        {
            "band": band.label,
            "cells": [{"count": shown_matrix.at[band.label, n], "rag": scorer.matrix.cells[(band.key, n)][0]}
                      for n in NEED_LEVELS],
            "total": shown_matrix.at[band.label, TOTAL],
        }
        for band in scorer.matrix.bands
    ]  # fmt: skip
    # The cohort's pupils and red counts close the school and year tables' columns: one value for all three.
    pupils = _first_withheld(
        shown_matrix.at[TOTAL, TOTAL], by_school.at[TOTAL, TOTAL], by_year.at[TOTAL, TOTAL]
    )
    # the top band, cut on the validation year, against the capacity's share of this cohort: more or fewer
    # red than the capacity is then the band's width as well as need (a direction, never a count)
    in_band = int((frame["likelihood_band"] == scorer.matrix.bands[0].label).sum())
    capacity_top = top_share(len(frame), scorer.matrix.capacity) if len(frame) else 0
    band_vs_capacity = "" if scorer.risk_matrix.get("thresholds_source") == "default" or not len(frame) else (
        "more" if in_band > capacity_top else "fewer" if in_band < capacity_top else "")
    red_beyond = red_beyond_capacity(red, pupils, scorer.matrix.capacity, scorer.matrix.bands[0].label,
                                     cell_rows[0]["total"] if cell_rows else None, band_vs_capacity)
    return render(
        "score_summary.html.j2", band_vs_capacity=band_vs_capacity, red_beyond=red_beyond,
        notice=DECISION_SUPPORT_NOTICE, year=year, census=census or scorer.census, pupils=pupils,
        model=scorer.info(),
        capacity_pct=f"{100 * scorer.matrix.capacity:g}", red=red, top_band=scorer.matrix.bands[0].label,
        review_capacity_pct=f"{100 * load_risk_matrix().capacity:g}",
        red_cells=_cells_in_words(ratings[RAGS.index("red")]),
        levels=NEED_LEVELS, cell_rows=cell_rows, by_school=_rag_rows(by_school, _school_names(features)),
        by_year=sorted(_rag_rows(by_year), key=lambda r: _year_group_order(r["key"])),
        risk_matrix=scorer.risk_matrix, notes=notes or [],
        changes_since=changes[0] if changes else None,
        change_rows=[(CHANGE_LABELS[k], suppress_count(n)) for k, n in changes[1].items()] if changes else [],
    )  # fmt: skip


def red_beyond_capacity(red, pupils, capacity: float, top_band: str, in_band, band_vs_capacity: str) -> str:
    """Beside the matrix, where the red list is more than the capacity's share of the pupils scored: how
    many red, as a share of them and a multiple of the capacity, and what the top band alone holds; from
    the figures the page prints (none where the red count or the pupils' is withheld: no new figure)."""
    if is_withheld(red) or is_withheld(pupils) or not int(pupils):
        return ""
    red, pupils, cap = int(red), int(pupils), f"{100 * capacity:g}%"
    if red <= top_share(pupils, capacity):
        return ""
    if not is_withheld(in_band):
        band = f"the {top_band} band alone holds {int(in_band):,} ({percent(int(in_band) / pupils)})"
    else:
        band = f"the {top_band} band alone holds {band_vs_capacity} than {cap}" if band_vs_capacity else ""
    times = red / pupils / capacity  # "1.0 times" says nothing a reader can use
    said = (f"{red:,} pupils are rated red, {percent(red / pupils)} of those scored: more than the {cap} "
            "capacity" + (f" ({times:.1f} times it)" if times >= 1.05 else ""))
    return said + (f"; {band}, and the matrix's other red cells add pupils of lower likelihood and high need."
                   if band else ".")


def _ratings(risk: RiskMatrix) -> list[list[tuple[str, int]]]:
    """Each rating's cells (band label, need level), in RAGS order."""
    return [[(band.label, n) for band in risk.bands for n in NEED_LEVELS
             if risk.cells[(band.key, n)][0] == rag] for rag in RAGS]  # fmt: skip


def matrix_shown(bands, needs, risk: RiskMatrix) -> pd.DataFrame:
    """The risk matrix as scores.html prints it for pupils placed in `bands` (labels) at `needs` (0-3):
    band label x need level with each band's total (TOTAL), suppressed by `_matrix_shown`. `evaluate`
    reads its cells as printed from here (`evaluate_need`)."""
    counts = pd.DataFrame({"band": list(bands), "need": list(needs)}).groupby(["band", "need"]).size()
    labels = [band.label for band in risk.bands]
    matrix = pd.DataFrame([[int(counts.get((label, n), 0)) for n in NEED_LEVELS] for label in labels],
                          index=labels, columns=NEED_LEVELS)  # fmt: skip
    # Column totals are not printed under the matrix, but their sum (all pupils) is, at the top; so is
    # the red count, the sum of the red cells (a very high row and one cell more: red less the row's
    # total gave that cell's 7 pupils back), and the school table's amber and green columns add up to
    # theirs: each rating's cells are a printed sum.
    return _matrix_shown(matrix, _ratings(risk))


def _cells_in_words(cells: list[tuple[str, int]]) -> str:
    """("very high", 0..3), ("high", 3) -> 'very high likelihood at every need level; high at need 3'."""
    by_band: dict[str, list[int]] = {}
    for band, level in cells:
        by_band.setdefault(band, []).append(level)
    said = [
        f"{band} at every need level" if len(levels) == len(NEED_LEVELS)
        else f"{band} at need {' or '.join(map(str, levels))}"
        for band, levels in by_band.items()
    ]  # fmt: skip
    return "; ".join(said) if said else "no cell"


def _matrix_shown(matrix: pd.DataFrame, ratings: list[list[tuple[str, str]]]) -> pd.DataFrame:
    """The matrix as published so that no count under 10 can be solved for from the printed sums taken
    together: each band's total, all pupils and each rating's count (its cells' sum, taken as printed:
    red less the very high row's total is the other red cells'). While one can, the shown cell whose
    withholding leaves fewest solvable (then fewest withheld, then the smallest) is withheld too ("x",
    the matrix suppressed again around it); a band's total is a candidate, as the one red less it pins
    is outside its row.

    Each need level's pupils (a column's total, not printed here) count as printed too: the social care
    and SEN provision groups that describe, the fairness review and evaluate publish make them up (need
    level 3 is the looked-after and child-protection-plan groups). A reviewer's authority: red 173 less
    the very high row's 153 put very high + high at need 3 at 20, medium need 3 was 0, and those groups
    put need 3 at 21: low need 3 was 1. Need levels 0-2 are made up less directly (an EHC plan, FSM and
    social care overlap); read as printed too, they withhold a little more, never less."""
    need_totals = [(TOTAL, n) for n in [*matrix.columns, TOTAL]]
    withhold: list[tuple[str, str]] = []
    shown = suppress_table(matrix, withhold=withhold, known=need_totals)
    totals = [(band, TOTAL) for band in matrix.index]
    while _solvable(matrix, shown, ratings):
        free = [cell for cell in _body(matrix) + totals if not is_withheld(shown.at[cell])]
        if not free:
            break
        trials = {cell: suppress_table(matrix, withhold=[*withhold, cell], known=need_totals)
                  for cell in free}  # fmt: skip
        costs = {
            cell: (len(_solvable(matrix, trial, ratings)),
                   sum(is_withheld(v) for v in trial.to_numpy().ravel()), shown.at[cell])
            for cell, trial in trials.items()
        }  # fmt: skip
        cell = min(free, key=costs.__getitem__)
        withhold.append(cell)
        shown = trials[cell]
    return shown


def _solvable(matrix: pd.DataFrame, shown: pd.DataFrame, ratings) -> list[tuple[str, str]]:
    """Withheld cells under 10 that the printed sums pin, solved together (`pinned_small`)."""
    hidden = [cell for cell in _body(matrix) if is_withheld(shown.at[cell])]
    bands = [band for band in matrix.index if not is_withheld(shown.at[band, TOTAL])]
    sums = [{(band, n) for n in matrix.columns} for band in bands]
    sums.append(set(hidden))  # all pupils: printed at the top from the school table if not from this one
    sums += [set(cells) for cells in ratings]
    sums += [{(band, n) for band in matrix.index} for n in matrix.columns]  # need levels' pupils, published
    positions = [[k for k, cell in enumerate(hidden) if cell in line] for line in sums]
    return [hidden[k] for k in pinned_small([int(matrix.at[cell]) for cell in hidden], positions)]


def _body(matrix: pd.DataFrame) -> list[tuple[str, str]]:
    return [(band, n) for band in matrix.index for n in matrix.columns]


def _first_withheld(*values: int | str) -> int | str:
    """The same total as shown by several tables: withheld if any of them withholds it."""
    return next((v for v in values if is_withheld(v)), values[0])
