"""`describe`'s secondary suppression across its tables: a "<10" is protected by the partner that loses
least, not by a cell whose withholding takes a large group's figures with it."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.models.describe import EXCLUDED, NOT_EXCLUDED, OUTCOMES, suppress_all
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
