"""The red list beside the top k%, on small cohorts made to the counts: the top k% pupils, those red
outside it and those in it but not red, group by group (`_cohort`), the red list given as it is (`_review`).

The top k% is (nearly) inside the red list, so red less top is the pupils red outside the top k% (with the
outcome: true positives; without: false positives). A group whose own red figures give such a slice of 1-9
back has them withheld ("x"), but more subtractions remain (`slices_given_back` reads them as a reader
would from the section as published), each checked here:

* groups withheld together: the overall red and top k% less the shown groups' (Mixed red 23 against 20
  in the top 5%, Chinese 24 against 20: each withheld, and together 7 pupils red outside the top 5%);
* detailed codes withheld together, from their broad group's figures less the shown codes' (Indian 3 and
  Pakistani 4: Asian 20 less Bangladeshi 13);
* the overall red against the overall top k% (5 apart), and then any table whose groups add up to it.
"""

from __future__ import annotations

from html import unescape

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness_report
from exclusion_risk.models.fairness import DETAILED_ETHNICITY
from exclusion_risk.models.fairness_words import group_phrase
from exclusion_risk.models.group_counts import shown_attribute_counts
from exclusion_risk.privacy import SECONDARY, SUPPRESSED, is_withheld
from tests.models.test_fairness_red_list import CODES, random_cohort, review_with_red_list

CAPACITY = 0.05
MODEL = {"model_type": "lightgbm", "version": "3", "year": "2018/19", "include_protected": False}
PUPIL = {"sen_provision": "N", "fsm": 0.0, "cin_open": 0.0, "cpp_open": 0.0, "cla_open": 0.0}
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
    return review_with_red_list(y, p, frame, red, CAPACITY)


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


def _figures(count, precision) -> list[int | None]:
    """(selected, tp, fp) as a count and its precision give them back; None where not."""
    if not isinstance(count, int) or isinstance(count, bool):
        return [None, None, None]
    tp = None if precision is None else round(precision * count)
    return [count, tp, None if tp is None else count - tp]


def _row(row) -> tuple[list, list]:
    return (_figures(row["red"], row["red_precision"]["value"]),
            _figures(row["top"], row["top_precision"]["value"]))  # fmt: skip


def _derived(parts: list[tuple[list, list]]) -> tuple[list, list]:
    """A total's figures as its parts add up to them, where every part's are shown."""
    return tuple([None if any(p[s][k] is None for p in parts) else sum(p[s][k] for p in parts)
                  for k in range(3)] for s in range(2))  # fmt: skip


def _either(shown: tuple[list, list], derived: tuple[list, list]) -> tuple[list, list]:
    return tuple([a if a is not None else b for a, b in zip(shown[s], derived[s], strict=True)]
                 for s in range(2))  # fmt: skip


def slices_given_back(context: dict, nesting: dict) -> list[tuple]:
    """The slices of 1-9 a reader works out from the red list section as published (`context`): each line
    (an attribute's groups and the overall figures, or a broad group's detailed codes and the broad
    group's figures) gives its groups with a withheld red or top figure together (the total less the
    shown groups), a total not shown is the sum of its groups where they are all shown, and the overall
    red less the overall top. (count index, line, the difference) of each: 0 selected, 1 tp, 2 fp."""
    sections = {a["name"]: {r["group"]: _row(r) for r in a["rows"]} for a in context["attributes"]}
    for name, (coarser, parents) in nesting.items():  # a broad group from its codes
        for broad in sections.get(coarser, {}):
            codes = [f for g, f in sections[name].items() if parents.get(g) == broad]
            if codes:
                sections[coarser][broad] = _either(sections[coarser][broad], _derived(codes))
    whole = (_figures(context["red"], context["precision"]["red"]),
             _figures(context["top"], context["precision"]["top"]))  # fmt: skip
    for name, rows in sections.items():
        if name not in nesting:
            whole = _either(whole, _derived(list(rows.values())))
    lines = [("all pupils", {"all pupils": whole}, whole)]
    lines += [(name, rows, whole) for name, rows in sections.items() if name not in nesting]
    for name, (coarser, parents) in nesting.items():
        for broad, figures in sections.get(coarser, {}).items():
            codes = {g: f for g, f in sections[name].items() if parents.get(g) == broad}
            lines.append((f"{coarser}: {broad}", codes, figures))
    found = []
    for line, rows, (red, top) in lines:
        for k in range(3):
            if red[k] is None or top[k] is None:
                continue
            known = [f for f in rows.values() if f[0][k] is not None and f[1][k] is not None]
            if len(known) == len(rows) and line != "all pupils":
                continue  # every group's own difference: the per-group guard's
            left = red[k] - top[k] - sum(f[0][k] - f[1][k] for f in known)
            if 0 < abs(left) < 10:
                found.append((k, line, left))
    return found


def _not_shown(conclusion: str) -> str:
    return conclusion.split("Not shown, so neither named nor cleared here")[1].split(".")[0]


def test_groups_withheld_together_do_not_give_their_combined_slice_back():
    # Mixed 23 red against 20 in the top 5%, Chinese 24 against 20: each withheld, together 7
    top = {"White British": 100, "Asian": 40, "Black": 20, "Mixed": 20, "Chinese": 20}
    result = _review(*_cohort(top, {"White British": 30, "Black": 20, "Mixed": 3, "Chinese": 4}))
    context = fairness_report.report_context(result, figures=False)["red_list"]
    ethnic = _rows(context, "ethnic group")
    assert ethnic["Mixed"]["red"] == SECONDARY and ethnic["Chinese"]["red"] == SECONDARY
    assert context["red"] == 257 and context["top"] == 200  # the totals are not at risk: 57 apart
    assert slices_given_back(context, result.nesting) == []
    # the least that closes it: Black (20 red outside the top 5%, the smaller of the two that do)
    assert ethnic["Black"]["red"] == SECONDARY and ethnic["White British"]["red"] == 130
    assert ethnic["Asian"]["red"] == 40  # beside the others, 0 more: withholding it would not help
    conclusion = context["conclusion"]
    assert "Black pupils" in _not_shown(conclusion) and "Mixed pupils" in _not_shown(conclusion)
    assert "Black pupils (" not in conclusion  # not named as rated red more often: not shown


def test_detailed_codes_withheld_together_do_not_give_their_slice_back_beside_their_broad_group():
    # Indian 3 and Pakistani 4 red outside the top 5%: both withheld; Asian, 20, and Bangladeshi, 13, shown
    # beside them gave their 7 back (20 - 13)
    top = {"WBRI": 100, "AIND": 20, "APKN": 20, "ABAN": 20, "BCRB": 20, "BAFR": 20, "MWBC": 20, "MWBA": 20,
           "CHNE": 20}  # fmt: skip
    result = _review(*_cohort(top, {"WBRI": 30, "AIND": 3, "APKN": 4, "ABAN": 13}, codes=True))
    context = fairness_report.report_context(result, figures=False)["red_list"]
    ethnic, detailed = _rows(context, "ethnic group"), _rows(context, DETAILED_ETHNICITY)
    assert detailed["Indian (AIND)"]["red"] == SECONDARY and detailed["Pakistani (APKN)"]["red"] == SECONDARY
    assert ethnic["Asian"]["red"] == 80 and ethnic["Asian"]["top"] == 60
    assert slices_given_back(context, result.nesting) == []
    # the least that closes it: Bangladeshi's red figures, the one other code of the line
    assert detailed["Bangladeshi (ABAN)"]["red"] == SECONDARY
    assert [g for g, r in detailed.items() if is_withheld(r["red"])] == [
        "Bangladeshi (ABAN)", "Pakistani (APKN)", "Indian (AIND)"]  # fmt: skip


def test_the_overall_red_list_a_few_pupils_beyond_the_top_k_is_withheld_and_said():
    # 15 boys red outside the top 5%, 10 girls in the top 5% not red: every group 0, 15 or 10 apart, and
    # the overall red list 5 pupils more than the top 5%
    missed = (("Asian", 10, {"sex": "F", "sen_provision": "K", "fsm": 1.0, "cin_open": 1.0}),)
    top = {"White British": 100, "Asian": 40, "Black": 20, "Mixed": 20, "Chinese": 10}
    result = _review(*_cohort(top, {"White British": 15}, missed=missed))
    assert result.red_list.red - result.red_list.top == 5
    data = fairness_report.summary_json(result)
    context = data["red_list"]
    assert context["red"] in (SECONDARY, SUPPRESSED) and context["precision"]["red"] is None
    assert context["top"] == 200
    assert slices_given_back(context, result.nesting) == []
    for section in context["attributes"]:  # no table's groups add up to it
        assert any(is_withheld(r["red"]) for r in section["rows"]), section["name"]
    said = "withheld: beside the 200 in the top 5%"
    assert said in context["summary"] and said in data["summary"]["red_list"]
    withheld = "not the top 5%; its size is withheld here, with its precision over all pupils"
    assert withheld in context["conclusion"]
    page = " ".join(unescape(fairness_report.render_report(result)).split())
    assert said in page
    # the groups withheld (one in each table at least) are named as not shown, never as cleared
    hidden = _not_shown(context["conclusion"])
    for section in context["attributes"]:
        for r in section["rows"]:
            if is_withheld(r["red"]) and section["name"] != DETAILED_ETHNICITY:
                assert group_phrase(section["name"], r["group"]) in hidden
                assert r["direction"] == "" and r["red_over_top"] is None


def test_nothing_changes_where_no_slice_is_at_risk():
    top = {"White British": 100, "Asian": 40, "Black": 20, "Mixed": 20, "Chinese": 20}
    result = _review(*_cohort(top, {"White British": 30, "Black": 20, "Mixed": 10}))
    context = fairness_report.report_context(result, figures=False)["red_list"]
    plain = shown_attribute_counts({a.attribute: a.table for a in result.red_list.attributes}, result.nesting)
    for section in context["attributes"]:
        for r in section["rows"]:
            assert r["red"] == plain[section["name"]][r["group"]]["selected"], (section["name"], r["group"])
            assert not is_withheld(r["red"]) or r["red"] == SUPPRESSED
    assert context["red"] == 260 and context["precision"]["red"] is not None
    holds = "The risk matrix's red list, which officers act on, holds 260 pupils against 200 in the top 5%"
    assert context["summary"].startswith(holds)
    assert "Not shown, so neither named nor cleared" not in context["conclusion"]
    assert slices_given_back(context, result.nesting) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_slice_of_a_random_cohort_is_given_back(seed):
    frame, p, y = random_cohort(seed)
    pupils = len(frame)
    need = (frame["cla_open"] + frame["cpp_open"]).to_numpy() > 0
    order = np.argsort(-p)
    red = np.zeros(pupils, bool)
    red[order[: int(0.045 * pupils)]] = True  # the very high band: a little under the top 5%
    red[order[: int(0.15 * pupils)]] |= need[order[: int(0.15 * pupils)]]  # and high at need 3
    result = _review(y, p, frame, red)
    context = fairness_report.report_context(result, figures=False)["red_list"]
    assert slices_given_back(context, result.nesting) == []
