"""The red list beside the top k%, on small cohorts made to the counts: the top k% pupils, those red
outside it and those in it but not red, group by group (`_cohort`), the red list given as it is (`_review`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.fairness import group_metrics, review_groups
from exclusion_risk.models.fairness_red_list import RedList

CAPACITY = 0.05
MODEL = {"model_type": "lightgbm", "version": "3", "year": "2018/19", "include_protected": False}
PUPIL = {"sen_provision": "N", "fsm": 0.0, "cin_open": 0.0, "cpp_open": 0.0, "cla_open": 0.0}
CODES = {"White British": ["WBRI"], "Asian": ["AIND", "APKN", "ABAN"], "Black": ["BCRB", "BAFR"],
         "Mixed": ["MWBC", "MWBA"], "Chinese": ["CHNE"]}  # fmt: skip
PARENT = {code: broad for broad, codes in CODES.items() for code in codes}


def _group(group: str, codes: bool) -> dict:
    """A pupil's ethnicity columns: a broad group, or a detailed code with its broad group."""
    if codes:
        return {"ethnicity_group": PARENT[group], "ethnicity_code": group}
    return {"ethnicity_group": group}


def _cohort(top: dict, extra: dict, codes: bool = False, missed: tuple = ()):
    """(y, probabilities, frame, red): `top`: group -> pupils in the top 5% (half excluded), all of them red;
    `extra`: group -> pupils red outside the top 5% (none excluded; boys, no SEN, no FSM, no social care);
    `missed`: (group, pupils, columns) in the top 5% but not red (not excluded). Every group has 200 more
    pupils neither red nor in the top 5% (40 excluded, needs of every kind), and White British pupils
    make the cohort 20 times the top 5%."""
    rows = []

    def add(count, group, in_top, red, excluded, **columns):
        for i in range(count):
            sex = "M" if i % 2 == 0 else "F"
            rows.append({**PUPIL, "sex": sex, **_group(group, codes), **columns,
                         "top": in_top, "red": red, "y": float(excluded(i))})  # fmt: skip

    for group, count in top.items():
        add(count, group, True, True, lambda i, count=count: i < count // 2)
    for group, count in extra.items():
        add(count, group, False, True, lambda i: False, sex="M")
    for group, count, columns in missed:
        add(count, group, True, False, lambda i: False, **columns)
    needs = [PUPIL, {"sen_provision": "K"}, {"sen_provision": "E", "fsm": 1.0}, {"fsm": 1.0},
             {"cin_open": 1.0}, {"cpp_open": 1.0}, {"cla_open": 1.0},
             {"fsm": 1.0, "sen_provision": "K"}]  # fmt: skip
    for group in PARENT if codes else CODES:
        for need in needs:
            add(25, group, False, False, lambda i: i < 5, **need)
    in_top = sum(r["top"] for r in rows)
    add(20 * in_top - len(rows), "WBRI" if codes else "White British", False, False, lambda i: i % 10 == 0)
    frame = pd.DataFrame(rows)
    order = np.cumsum(frame["top"].to_numpy())
    p = np.where(frame["top"], 0.9 - 1e-5 * order, 0.01)
    return frame["y"].to_numpy(), p, frame.drop(columns=["top", "red", "y"]), frame["red"].to_numpy(bool)


def _review(y, p, frame, red):
    result = fairness.review(y, p, frame, CAPACITY, MODEL, n_boot=10)
    references = {a.attribute: a.reference for a in result.attributes}
    top = fairness.select_top(p, CAPACITY)
    attributes = group_metrics(y, p, review_groups(frame), CAPACITY, n_boot=10, selected=red,
                               references=references)  # fmt: skip
    result.red_list = RedList(attributes=attributes, red=int(red.sum()), top=int(top.sum()),
                              rule=["very high likelihood at every need level"], raised=["looked after"],
                              matrix_version="test")  # fmt: skip
    return result


def _rows(context, attribute):
    return {r["group"]: r for r in next(a for a in context["attributes"] if a["name"] == attribute)["rows"]}


def test_a_group_with_none_of_its_top_k_pupils_red_is_named_as_rated_red_less_often():
    # 10 girls in need in the top 5%, none of them red: red over top is 0 for children in need, whose
    # logarithm (the order the conclusion names groups in) stopped the review with a math domain error
    missed = (("Asian", 10, {"sex": "F", "sen_provision": "K", "cin_open": 1.0}),)
    top = {"White British": 100, "Asian": 40, "Black": 20, "Mixed": 20, "Chinese": 10}
    result = _review(*_cohort(top, {}, missed=missed))
    context = fairness_report.report_context(result, figures=False)["red_list"]
    in_need = _rows(context, "social care")["child in need"]
    assert in_need["red"] == 0 and in_need["top"] == 10 and in_need["direction"] == "fewer"
    less = context["conclusion"].split("It rates these red less often: ")[1]
    assert "pupils who are children in need (0.0% red against 7.4% in the top 5%" in less
    assert "The red list: whom the risk matrix rates red" in fairness_report.render_report(result)
