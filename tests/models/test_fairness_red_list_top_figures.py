"""The red list's figures must not give back a top k% figure the review's groups table withholds.

The top k% is inside the red list (README), so a group whose red count equals its top k% count is rated
red for the same pupils, and its precision among red is its top k% precision. On the demo the groups
table withheld White and Asian (MWAS) pupils' top 5% precision ("-") to protect White and Black African
(MWBA)'s true positives, under 10; the red list showed MWAS red 42 against 42 in the top 5% at 0.262, so
11 true positives, and MWBA's were Mixed's 112 less MWBC's 84, MOTH's 11 and MWAS's 11: 6. The cohort
here is made to the same pattern (`_cohort`): MWAS 30 red against 30 in the top 5%, 11 of them excluded;
MWBA 16 in the top 5%, 6 excluded; the other Mixed codes each a few red outside the top 5%, so their red
figures are withheld for that, leaving MWAS's as the only Mixed code's red precision shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.fairness import DETAILED_ETHNICITY
from exclusion_risk.models.fairness_red_slices import top_given_back
from exclusion_risk.models.group_counts import ERROR_CELLS
from exclusion_risk.privacy import SECONDARY, SUPPRESSED, is_withheld

from .disclosure_audit import Equations, bounded_small_counts, fairness_equations, red_list_equations
from .test_fairness_red_list import random_cohort, review_with_red_list

CAPACITY = 0.05
MODEL = {"model_type": "lightgbm", "version": "3", "year": "2018/19", "include_protected": False}
PUPIL = {"sen_provision": "N", "fsm": 0.0, "cin_open": 0.0, "cpp_open": 0.0, "cla_open": 0.0}
CODES = {"White British": ["WBRI"], "Asian": ["AIND", "APKN", "ABAN"], "Black": ["BCRB", "BAFR"],
         "Mixed": ["MWBC", "MWAS", "MOTH", "MWBA"], "Chinese": ["CHNE"]}  # fmt: skip
PARENT = {code: broad for broad, codes in CODES.items() for code in codes}
MWAS, MWBA = "White and Asian (MWAS)", "White and Black African (MWBA)"
# pupils in the top 5% (all red) and of them excluded; pupils red outside it (none excluded)
TOP = {"WBRI": 100, "AIND": 20, "APKN": 20, "ABAN": 20, "BCRB": 20, "BAFR": 20, "MWBC": 40, "MWAS": 30,
       "MOTH": 30, "MWBA": 16, "CHNE": 20}  # fmt: skip
EXCLUDED = {"MWAS": 11, "MWBA": 6}  # the rest: half
OUTSIDE = {"WBRI": 30, "AIND": 12, "APKN": 15, "ABAN": 11, "BCRB": 10, "BAFR": 13, "CHNE": 14, "MWBC": 4,
           "MOTH": 3, "MWBA": 5}  # fmt: skip


def _cohort(top: dict, excluded: dict, outside: dict):
    """(y, probabilities, frame, red): each code's pupils in the top 5% (all red; `excluded` of them
    excluded, else half), those red outside it (boys, none excluded), 200 more of each code neither
    (40 excluded, needs of every kind), and White British pupils to make the cohort 20 times the top 5%."""
    rows = []

    def add(count, code, in_top, red, is_excluded, **columns):
        for i in range(count):
            rows.append({**PUPIL, "sex": "M" if i % 2 == 0 else "F", "ethnicity_group": PARENT[code],
                         "ethnicity_code": code, **columns, "top": in_top, "red": red,
                         "y": float(is_excluded(i))})  # fmt: skip

    for code, count in top.items():
        add(count, code, True, True, lambda i, k=excluded.get(code, count // 2): i < k)
    for code, count in outside.items():
        add(count, code, False, True, lambda i: False, sex="M")
    needs = [PUPIL, {"sen_provision": "K"}, {"sen_provision": "E", "fsm": 1.0}, {"fsm": 1.0},
             {"cin_open": 1.0}, {"cpp_open": 1.0}, {"cla_open": 1.0},
             {"fsm": 1.0, "sen_provision": "K"}]  # fmt: skip
    for code in PARENT:
        for need in needs:
            add(25, code, False, False, lambda i: i < 5, **need)
    add(20 * sum(r["top"] for r in rows) - len(rows), "WBRI", False, False, lambda i: i % 10 == 0)
    frame = pd.DataFrame(rows)
    order = np.cumsum(frame["top"].to_numpy())
    p = np.where(frame["top"], 0.9 - 1e-5 * order, 0.01)
    return frame["y"].to_numpy(), p, frame.drop(columns=["top", "red", "y"]), frame["red"].to_numpy(bool)


def _review(y, p, frame, red):
    assert not (fairness.select_top(p, CAPACITY) & ~red).any()  # the top 5% is inside the red list
    return review_with_red_list(y, p, frame, red, CAPACITY)


def _rows(document: dict, section: str, name: str) -> dict:
    tables = document["red_list"]["attributes"] if section == "red" else document["groups"]
    return {r["group"]: r for r in next(t for t in tables if t["name"] == name)["rows"]}


def _given_back(document: dict, nesting: dict) -> list[tuple]:
    """Every count of 1-9 the groups tables and the red list, read together, pin (`disclosure_audit`)."""
    equations = Equations()
    fairness_equations(equations, document)
    red_list_equations(equations, document, nesting)
    return bounded_small_counts(equations, {t["name"] for t in document["groups"]})


@pytest.fixture(scope="module")
def reviewed():
    result = _review(*_cohort(TOP, EXCLUDED, OUTSIDE))
    return result, fairness_report.summary_json(result)


def test_a_red_count_equal_to_the_top_k_count_keeps_no_red_precision_the_groups_table_withholds(reviewed):
    result, document = reviewed
    groups, red = _rows(document, "groups", DETAILED_ETHNICITY), _rows(document, "red", DETAILED_ETHNICITY)
    precision = document["metrics"].index("precision")
    # the groups table withholds MWAS's top 5% precision to protect MWBA's true positives, 6
    assert groups[MWAS]["selected"] == 30 and groups[MWAS]["metrics"][precision]["value"] is None
    assert groups[MWBA]["metrics"][precision]["value"] is None
    # MWAS is red for the same 30 pupils: its precision among red would be the withheld 11 / 30
    assert red[MWAS]["red"] == 30 and red[MWAS]["top"] == 30
    assert red[MWAS]["red_precision"]["value"] is None
    assert _given_back(document, result.nesting) == []


def test_the_section_shows_no_rate_whose_counts_it_withholds(reviewed):
    # a rate beside the count it rests on gives the other count back (0.367 x 30 = 11): every rate shown
    # in the red list rests on counts it shows
    _, document = reviewed
    for section in document["red_list"]["attributes"]:
        for r in section["rows"]:
            if r["red_precision"]["value"] is not None or r["red_share"]["value"] is not None:
                assert not is_withheld(r["red"]), (section["name"], r["group"])
            if r["red_over_top"] is not None:
                assert not is_withheld(r["red"]) and not is_withheld(r["top"])
            if r["top_precision"]["value"] is not None:
                assert not is_withheld(r["top"])


def _counts(selected: int, tp: int) -> pd.Series:
    return pd.Series({"selected": selected, "tp": tp, "fp": selected - tp})


def _shown(selected, errors) -> dict:
    return {"selected": selected, **dict.fromkeys(ERROR_CELLS, errors)}


@pytest.mark.parametrize(
    ("red", "top", "red_shown", "top_shown", "withheld"),
    [
        # red = top: the red precision is the top k%'s
        ((42, 11), (42, 11), _shown(42, 11), _shown(42, SECONDARY), set(ERROR_CELLS)),
        # no red true positives: the top k% has none either
        ((50, 0), (30, 0), _shown(50, 0), _shown(30, SECONDARY), set(ERROR_CELLS)),
        # no red false positives: the top k% pupils all have the outcome
        ((50, 50), (30, 30), _shown(50, 50), _shown(30, SECONDARY), set(ERROR_CELLS)),
        # no red pupils: the top k%'s withheld size is 0
        ((0, 0), (0, 0), _shown(0, 0), _shown(SECONDARY, SECONDARY), {"selected", *ERROR_CELLS}),
        # 12 red outside the top 5%: its 11 true positives could be 11 to 23 less those outside
        ((54, 23), (42, 11), _shown(54, 23), _shown(42, SECONDARY), set()),
        # the top k%'s precision shown: nothing of it to give back
        ((42, 11), (42, 11), _shown(42, 11), _shown(42, 11), set()),
        # the red precision already withheld: its count alone gives nothing back
        ((42, 11), (42, 11), _shown(42, SECONDARY), _shown(42, SUPPRESSED), set()),
    ],
)
def test_top_given_back_withholds_what_pins_a_withheld_top_k_figure(red, top, red_shown, top_shown, withheld):
    assert top_given_back(_counts(*red), _counts(*top), red_shown, top_shown) == withheld


@pytest.mark.parametrize(("seed", "share"), [(1, 0.1), (2, 0.2)])
def test_no_count_of_a_random_cohort_is_given_back_by_the_red_list_beside_the_groups_tables(seed, share):
    # the whole top 5% red, and pupils with a protection plan or looked after in the top 10% (20%) too
    frame, p, y = random_cohort(seed, 6000)
    need = (frame["cla_open"] + frame["cpp_open"]).to_numpy() > 0
    order = np.argsort(-p)
    red = np.zeros(len(frame), bool)
    red[order[: int(np.ceil(CAPACITY * len(frame)))]] = True
    red[order[: int(share * len(frame))]] |= need[order[: int(share * len(frame))]]
    result = _review(y, p, frame, red)
    assert _given_back(fairness_report.summary_json(result), result.nesting) == []
