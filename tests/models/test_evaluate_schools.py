"""evaluate's by-school top 5% beside scores.html's red counts by school (`models.evaluate_schools`), on
small made-up cohorts: a school's own difference, schools withheld together, the stored thresholds' page.

Four schools hold the top 5% (140 of 2,800 pupils: A 20, B 30, C 40, D 50); A has 2 more pupils rated
red (high likelihood, on a protection plan), B 3, C 20, D none. scores.html shows A 22 red and B 33: beside
evaluate's 20 and 30 in the top 5% they gave 2 and 3 back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models.evaluate import GROUP_ATTRIBUTES, evaluate_scores, match
from exclusion_risk.models.evaluate_schools import red_page
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.privacy import SECONDARY, SUPPRESSION_THRESHOLD, is_withheld

N, TOP = {"A": 20, "B": 30, "C": 40, "D": 50}, 140
RAISED = {"A": 2, "B": 3, "C": 20, "D": 0}  # red outside the top 5%: high likelihood, need level 3


def _value(cell) -> int | None:
    return None if is_withheld(cell) else int(cell)


def slices_given_back(reds: dict, red_total, document: dict) -> list[tuple[list[str], int]]:
    """(schools, red less top 5%) of each slice of 1-9 a reader solves for from scores.html's red counts
    by school (`reds`, `red_total` as printed) and evaluation.json (`document`): each school alone, and
    the schools with a figure withheld on either page together (a union is determined when its
    difference lies in the span of what is printed)."""
    tops = {r["group"]: r["selected"] for r in document["by_school"]}
    top_total = next(r["selected"] for r in document["by_capacity"] if r["capacity"] == 0.05)
    schools = sorted(set(reds) | set(tops))
    index = {s: i for i, s in enumerate(schools)}
    n = len(schools)
    rows, values = [], []  # unknowns: the red count of each school, then its top 5%
    for side, shown in ((0, reds), (n, tops)):
        for school, cell in shown.items():
            if _value(cell) is not None:
                row = np.zeros(2 * n)
                row[side + index[school]] = 1
                rows.append(row)
                values.append(_value(cell))
    for side, total in ((0, red_total), (n, top_total)):
        if _value(total) is not None:
            row = np.zeros(2 * n)
            row[side:side + n] = 1
            rows.append(row)
            values.append(_value(total))
    known = np.array(rows)
    rank = np.linalg.matrix_rank(known)
    solution = np.linalg.lstsq(known, np.array(values, dtype=float), rcond=None)[0]
    hidden = [s for s in schools if None in (_value(reds.get(s, SECONDARY)), _value(tops.get(s, SECONDARY)))]
    found = []
    for group in [[s] for s in schools] + [hidden]:
        vector = np.zeros(2 * n)
        for school in group:
            vector[index[school]], vector[n + index[school]] = 1, -1
        if group and np.linalg.matrix_rank(np.vstack([known, vector])) == rank:
            difference = int(round(float(vector @ solution)))
            if 0 < abs(difference) < SUPPRESSION_THRESHOLD:
                found.append((group, difference))
    return found


def _cohort(n: int = 2800, recut: dict[str, int] | None = None, raised: dict[str, int] | None = None):
    """(run pupils, outcomes with need levels): the top 5% at probability 0.9-0.5, the raised pupils at
    0.3 with need level 3 (red at the file's thresholds: high likelihood, need 3), everyone else at 0.05
    in schools E and F. `recut`: pupils per school rated red by the run beyond those (as bands re-cut for
    a larger capacity would), taken from its low-likelihood pupils moved to that school. `raised`: the
    raised pupils per school (default RAISED)."""
    schools, probability, need = [], [], []
    for school, count in N.items():
        schools += [school] * count
    probability += list(np.linspace(0.9, 0.5, TOP))
    need += [0] * TOP
    for school, count in (RAISED if raised is None else raised).items():
        schools += [school] * count
        probability += [0.3] * count
        need += [3] * count
    rest = n - len(schools)
    schools += ["E" if i % 2 else "F" for i in range(rest)]
    probability += [0.05] * rest
    need += [0] * rest
    matrix = load_risk_matrix()
    placed = matrix.place(np.array(probability), np.array(need))
    rag = placed["rag"].astype(object)
    for school, count in (recut or {}).items():  # low pupils the run rated red, moved to `school`
        moved = [i for i in range(len(schools)) if schools[i] in ("E", "F") and rag[i] == "green"][:count]
        for i in moved:
            schools[i], rag[i] = school, "red"
    upns = [f"U{i:04d}" for i in range(n)]
    pupils = pd.DataFrame({"upn": upns, "school_urn": schools, "probability": probability,
                           "likelihood_band": placed["likelihood_band"], "rag": rag})  # fmt: skip
    outcomes = pd.DataFrame({"upn": upns, "outcome": [float(i % 4 == 0) for i in range(n)],
                             "outcome_school": schools, "need_level": need})  # fmt: skip
    for attribute in GROUP_ATTRIBUTES:
        outcomes[attribute] = "all"
    return pupils, outcomes


def _tops(document: dict) -> dict:
    return {r["group"]: r for r in document["by_school"]}


def test_a_schools_top_5pct_that_gives_its_red_outside_it_back_is_withheld():
    pupils, outcomes = _cohort()
    document = evaluate_scores(match(pupils, outcomes), ["very high", "high", "medium", "low"])
    page = red_page(pupils["school_urn"], pupils["rag"])
    assert {s: page.shown[s] for s in N} == {"A": 22, "B": 33, "C": 60, "D": 50}  # as scores.html shows them
    tops = _tops(document)
    assert tops["A"]["selected"] == SECONDARY and tops["B"]["selected"] == SECONDARY
    assert tops["A"]["precision"] is None and tops["A"]["ci_low"] is None  # tp / selected gave it back
    # A and B withheld together gave 22 + 33 - (140 - 40 - 50) = 5: a partner (C: 20 apart) goes too
    assert tops["C"]["selected"] == SECONDARY and tops["D"]["selected"] == 50
    assert slices_given_back(page.shown, sum(page.counts), document) == []


def test_the_stored_thresholds_page_is_checked_for_a_recut_scoring():
    """A scoring at a re-cut capacity rated 15 more pupils red at each of A-D: beside its own page nothing
    is 1-9 apart, but the page `score` writes at the model's own thresholds shows A 22 and B 33."""
    pupils, outcomes = _cohort(recut=dict.fromkeys(N, 15))
    own = red_page(pupils["school_urn"], pupils["rag"])
    assert {s: own.shown[s] for s in N} == {"A": 37, "B": 48, "C": 75, "D": 65}
    bands = ["very high", "high", "medium", "low"]
    alone = _tops(evaluate_scores(match(pupils, outcomes), bands))
    assert all(alone[s]["selected"] == N[s] for s in N)  # beside its own page: nothing to withhold
    matrix = load_risk_matrix()  # the model's stored thresholds
    document = evaluate_scores(match(pupils, outcomes), bands, matrix=matrix)
    rags = matrix.place(pupils["probability"].to_numpy(), outcomes["need_level"].to_numpy())["rag"]
    stored = red_page(pupils["school_urn"], rags)
    assert {s: stored.shown[s] for s in ("A", "B")} == {"A": 22, "B": 33}
    assert _tops(document)["A"]["selected"] == SECONDARY and _tops(document)["B"]["selected"] == SECONDARY
    for page in (own, stored):
        assert slices_given_back(page.shown, sum(page.counts), document) == []


def test_a_school_with_none_of_its_pupils_on_the_census_is_named_with_its_count_as_scores_html_prints_it():
    from exclusion_risk.models.evaluate_schools import missing_schools

    schools = ["A"] * 25 + ["B"] * 5 + ["C"] * 30 + [""] * 3
    pupils = pd.DataFrame({"upn": [f"U{i:03d}" for i in range(len(schools))], "school_urn": schools,
                           "rag": ["red", "green", "amber"] * 21})  # fmt: skip
    matched = pupils[pupils["school_urn"] == "C"]
    said = missing_schools(pupils, matched, "the 2018/19 autumn census")
    assert [s.split(":")[0] for s in said] == ["school A", "school B"]  # no school: not a school's
    assert said[0].startswith("school A: none of its 25 scored pupils is on the 2018/19 autumn census")
    assert said[1].startswith("school B: none of its fewer than 10 scored pupils")
    assert all("wrong ones or incomplete" in s and "does not cover that school" in s for s in said)
    assert missing_schools(pupils, pupils, "the 2018/19 autumn census") == []
