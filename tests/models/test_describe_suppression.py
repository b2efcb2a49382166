"""`describe`'s secondary suppression across its tables: a "<10" is protected by the partner that loses
least, not by a cell whose withholding takes a large group's figures with it."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.models.describe import EXCLUDED, NOT_EXCLUDED, OUTCOMES, suppress_all
from exclusion_risk.models.describe_joint import joint_key
from exclusion_risk.privacy import SUPPRESSED, TOTAL, is_withheld


def _table(rows: dict[str, list[int]]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=[EXCLUDED, NOT_EXCLUDED]).rename_axis("value")


# The demo's Black pupils (2015/16-2018/19): Black African's 3 permanently excluded are "<10".
TABLES = {
    ("any", "ethnicity"): _table({"WBRI": [5972, 153912], "BCRB": [355, 4088], "BAFR": [111, 4807],
                                  "BOTH": [23, 878]}),
    ("any", "ethnicity_group"): _table({"White British": [5972, 153912], "Black": [489, 9773]}),
    ("permanent", "ethnicity"): _table({"WBRI": [251, 159633], "BCRB": [23, 4420], "BAFR": [3, 4915],
                                        "BOTH": [0, 901]}),
    ("permanent", "ethnicity_group"): _table({"White British": [251, 159633], "Black": [26, 10236]}),
}  # fmt: skip
LINES = [
    [("ethnicity", "WBRI"), ("ethnicity_group", "White British")],
    [("ethnicity", "BAFR"), ("ethnicity", "BCRB"), ("ethnicity", "BOTH"), ("ethnicity_group", "Black")],
]


def _one_withheld(values: list) -> bool:
    return sum(is_withheld(v) for v in values) == 1


def test_black_caribbean_pupils_are_not_withheld_to_protect_black_africans_small_count():
    """Black other's 901 not permanently excluded, the smallest partner for Black African's withheld
    4,915, sat beside a 0: its pupils went too, then Black Caribbean's 4,443 pupils, and with them every
    Black Caribbean figure (355 of 4,443 suspended or excluded: the study's fourth most over-excluded
    group). Black Caribbean's 4,420, whose 23 permanently excluded were already withheld, costs nothing."""
    shown = suppress_all(TABLES, LINES)
    any_table, permanent = shown[("any", "ethnicity")], shown[("permanent", "ethnicity")]
    assert any_table.loc["BCRB"].tolist() == [355, 4088, 4443]
    assert any_table.loc["BOTH"].tolist() == [23, 878, 901]
    assert permanent.loc["BAFR", EXCLUDED] == SUPPRESSED
    assert permanent.loc["BCRB", TOTAL] == 4443 and permanent.loc["BOTH", TOTAL] == 901
    withheld = sum(is_withheld(v) for table in shown.values() for v in table.to_numpy().ravel())
    assert withheld == 4  # BAFR's 3 and 4,915; BCRB's 23 and 4,420 (permanent)


def test_no_withheld_count_follows_from_a_table_line_or_a_shared_sum():
    shown = suppress_all(TABLES, LINES)
    for table in shown.values():
        for _, row in table.iterrows():
            assert not _one_withheld(row.tolist()), row
        for column in table.columns:
            assert not _one_withheld(table[column].tolist()), column
    for outcome in OUTCOMES:
        for members in LINES:
            for column in (EXCLUDED, NOT_EXCLUDED, TOTAL):
                values = [shown[(outcome, v)].loc[row, column] for v, row in members]
                assert not _one_withheld(values), (outcome, members, column, values)


# The demo's White other and Mixed pupils (2015/16-2018/19, permanent exclusions): Mixed's 38 less
# MWBC's 36 and MWBA's 0 left MWAS + MOTH = 2, both "<10" (1 to 9), so both were 1; White other's 16
# less WOTH's 11 leaves WIRI + WROM = 5, which narrows them (1 to 4) but pins neither.
MIXED_TABLES = {
    ("any", "ethnicity"): _table({"WBRI": [5972, 153912], "WIRI": [20, 562], "WOTH": [214, 9754],
                                  "WROM": [51, 949], "MWBC": [551, 7012], "MWBA": [53, 1646],
                                  "MWAS": [92, 3009], "MOTH": [105, 3010]}),
    ("any", "ethnicity_group"): _table({"White British": [5972, 153912], "White other": [285, 11265],
                                        "Mixed": [801, 14677]}),
    ("permanent", "ethnicity"): _table({"WBRI": [251, 159633], "WIRI": [1, 581], "WOTH": [11, 9957],
                                        "WROM": [4, 996], "MWBC": [36, 7527], "MWBA": [0, 1699],
                                        "MWAS": [1, 3100], "MOTH": [1, 3114]}),
    ("permanent", "ethnicity_group"): _table({"White British": [251, 159633], "White other": [16, 11534],
                                              "Mixed": [38, 15440]}),
}  # fmt: skip
MIXED_LINES = [
    [("ethnicity", "WBRI"), ("ethnicity_group", "White British")],
    [("ethnicity", "WIRI"), ("ethnicity", "WOTH"), ("ethnicity", "WROM"), ("ethnicity_group", "White other")],
    [("ethnicity", "MOTH"), ("ethnicity", "MWAS"), ("ethnicity", "MWBA"), ("ethnicity", "MWBC"),
     ("ethnicity_group", "Mixed")],
]  # fmt: skip


def _values_left(shown: dict, members: list, outcome: str, column: str, bound: int) -> dict:
    """By brute force: each withheld value of a shared sum (first variable's rows = second's) and the
    values it can take, given the shown ones and its marker ("<10": 1-9, "x": 10 to `bound`)."""
    first = members[0][0]
    values = {m: shown[(outcome, m[0])].loc[m[1], column] for m in members}
    sign = {m: 1 if m[0] == first else -1 for m in members}
    known = -sum(sign[m] * int(x) for m, x in values.items() if not is_withheld(x))  # held signed sum
    held = [m for m, x in values.items() if is_withheld(x)]
    domains = {m: range(1, 10) if values[m] == SUPPRESSED else range(10, bound + 1) for m in held}
    left = {}
    for m in held:
        sums = {0}
        for other in held:
            if other != m:
                sums = {s + sign[other] * v for s in sums for v in domains[other]}
        left[m] = [v for v in domains[m] if known - sign[m] * v in sums]
    return left


def test_no_withheld_count_of_a_shared_sum_is_left_one_value_by_its_markers():
    """Several withheld values of a shared sum are read as one table's line is (`privacy._pinned`):
    two "<10" summing to 2 are both 1, so a partner is withheld beside them."""
    shown = suppress_all(MIXED_TABLES, MIXED_LINES)
    mixed = [shown[("permanent", "ethnicity")].loc[v, EXCLUDED] for v in ("MWBC", "MWAS", "MOTH")]
    mixed.append(shown[("permanent", "ethnicity_group")].loc["Mixed", EXCLUDED])
    assert sum(is_withheld(v) for v in mixed) >= 3, mixed
    bound = 400  # above the 357 permanently excluded: no value can exceed it
    for members in MIXED_LINES:
        left = _values_left(shown, members, "permanent", EXCLUDED, bound)
        assert all(len(values) > 1 for values in left.values()), (members, left)
    white_other = _values_left(shown, MIXED_LINES[1], "permanent", EXCLUDED, bound)
    assert white_other == {("ethnicity", "WIRI"): [1, 2, 3, 4], ("ethnicity", "WROM"): [1, 2, 3, 4]}


def test_no_chi_square_figure_where_the_outcomes_total_is_withheld():
    """A reviewer's find (400-pupil authority, seed 3): girls 0 of 777 permanently excluded, boys "<10"
    of 849, the total "<10" too; chi2_cells.csv gave the girls' expected count 2.4 (= 777 x 5 / 1,626,
    so the total was 5, and the boys' "<10" was 5), and the statistic 4.59 and residual -1.55 fit
    [[0, 777], [5, 844]] exactly. Now no statistic, expected count or residual rests on a withheld total."""
    from exclusion_risk.models.describe import chi_square

    table = _table({"F": [0, 777], "M": [5, 844]})
    shown = suppress_all({("permanent", "sex"): table}, [])[("permanent", "sex")]
    # the girls' 0 is withheld too: beside the boys' "<10" it said every one was a boy
    assert is_withheld(shown.loc[TOTAL, EXCLUDED]) and is_withheld(shown.loc["F", EXCLUDED])
    test = chi_square("permanent", "sex", table, shown)
    assert test.row["statistic"] is None and test.row["p_value"] is None
    assert test.cells == []
    # with the totals shown, the test stands as before (the withheld rows pooled)
    table = _table({"F": [0, 777], "M": [15, 834]})
    shown = suppress_all({("permanent", "sex"): table}, [])[("permanent", "sex")]
    test = chi_square("permanent", "sex", table, shown)
    assert test.row["statistic"] is not None and len(test.cells) == 2


def test_an_outcome_of_1_to_9_pupils_is_not_split_by_group_even_by_zeros():
    """A year with one permanent exclusion: every table showed one group "<10" and the rest 0, so the
    tables together described the child (a Year 8 White British boy eligible for FSM with SEMH needs,
    at one named school). Where an outcome's total is 1-9 none of its split is shown."""
    tables = {
        ("any", "sex"): _table({"M": [40, 1500], "F": [20, 1540]}),
        ("permanent", "sex"): _table({"M": [1, 1539], "F": [0, 1560]}),
        ("any", "fsm"): _table({"1": [30, 600], "0": [30, 2440]}),
        ("permanent", "fsm"): _table({"1": [1, 629], "0": [0, 2470]}),
    }  # fmt: skip
    shown = suppress_all(tables)
    for variable in ("sex", "fsm"):
        permanent = shown[("permanent", variable)]
        for value in permanent.index.drop(TOTAL):  # alike: "<10" beside "x" told who had one
            assert permanent.loc[value, [EXCLUDED, NOT_EXCLUDED]].tolist() == ["x", "x"], (variable, value)
        assert permanent.loc[TOTAL, EXCLUDED] == SUPPRESSED
        assert is_withheld(permanent.loc[TOTAL, NOT_EXCLUDED])
        assert permanent.loc["M" if variable == "sex" else "1", TOTAL] in (1540, 630)  # pupils still shown
        assert shown[("any", variable)].loc[TOTAL, EXCLUDED] == 60  # the other outcome keeps its split


# An auditor's authority (3,000 pupils, four years), as its tables stood: no sum alone pinned a count, but
# the broad groups' total less the four shown, with each withheld broad group's detailed codes, left
# CHNE's, WROM's and NOBT's "<10" summing to 3 (each 1) and White other's "x" 12.
ETHNIC = {
    "WBRI": ("White British", 263, 7737, 14), "WIRI": ("White other", 0, 20, 0),
    "WROM": ("White other", 1, 45, 0), "WOTH": ("White other", 11, 465, 1),
    "AIND": ("Asian", 2, 98, 0), "APKN": ("Asian", 23, 377, 1), "ABAN": ("Asian", 1, 49, 0),
    "AOTH": ("Asian", 1, 49, 0), "BCRB": ("Black", 14, 286, 1), "BAFR": ("Black", 8, 142, 0),
    "BOTH": ("Black", 2, 48, 0), "MWBC": ("Mixed", 29, 471, 2), "MWBA": ("Mixed", 2, 98, 0),
    "MWAS": ("Mixed", 1, 49, 0), "MOTH": ("Mixed", 2, 48, 0), "CHNE": ("Chinese/other", 1, 31, 0),
    "OOTH": ("Chinese/other", 0, 17, 0), "REFU": ("unknown", 0, 44, 0), "NOBT": ("unknown", 1, 65, 0),
}  # fmt: skip


def _ethnic_tables() -> tuple[dict, list]:
    tables = {}
    for outcome in OUTCOMES:
        detailed, broad = {}, {}
        for code, (group, excluded, others, permanent) in ETHNIC.items():
            pupils = excluded + others
            count = excluded if outcome == "any" else permanent
            detailed[code] = [count, pupils - count]
            broad[group] = [a + b for a, b in zip(broad.get(group, [0, 0]), detailed[code], strict=True)]
        tables[(outcome, "ethnicity")], tables[(outcome, "ethnicity_group")] = _table(detailed), _table(broad)
    groups = dict.fromkeys(group for group, *_ in ETHNIC.values())
    lines = [sorted([*(("ethnicity", c) for c, v in ETHNIC.items() if v[0] == g), ("ethnicity_group", g)])
             for g in groups]  # fmt: skip
    return tables, lines


def test_no_withheld_count_follows_from_every_sum_solved_together():
    tables, lines = _ethnic_tables()
    shown = suppress_all(tables, lines)
    assert shown[("any", "ethnicity")].loc["CHNE", EXCLUDED] == SUPPRESSED  # the auditor's three "<10"
    # the published tables, every sum of them at once: nothing withheld is left one value
    assert joint_key(shown, tables, lines, set(), ("permanent", "any", EXCLUDED)) is None
    # withheld to break the pin: a shown count of the sums through it, the smallest (WOTH's 11)
    assert is_withheld(shown[("any", "ethnicity")].loc["WOTH", EXCLUDED])


def test_an_outcome_of_1_to_9_pupils_costs_no_other_table_its_counts():
    """3 permanently excluded of 400 (their split withheld whole) and a group of no pupils: the zeros the
    tables give pinned some of the withheld split (no pupils, none permanently excluded), and the joint
    check withheld group after group, then the grand total, to no end (a reviewer's find: every `any`
    count of sex withheld; on a 3,000-pupil year, 38 group sizes and every chi-square test)."""
    from exclusion_risk.models.describe import counts, shared_sums

    n = 400
    frame = pd.DataFrame({"sex": ["M" if i % 2 else "F" for i in range(n)], "fsm": "0",
                          "any": [int(i % 10 < 3) for i in range(n)]})  # fmt: skip
    frame["permanent"] = 0
    frame.loc[[1, 2, 12], "permanent"] = 1
    tables = {(o, v): counts(frame, v, o) for o in OUTCOMES for v in ("sex", "fsm")}
    shown = suppress_all(tables, shared_sums(frame, tables))
    assert shown[("any", "sex")].to_numpy().tolist() == [[80, 120, 200], [40, 160, 200], [120, 280, 400]]
    assert shown[("permanent", "fsm")].loc[TOTAL, TOTAL] == 400
