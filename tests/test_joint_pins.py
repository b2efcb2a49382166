"""A withheld count that every published sum, solved together, leaves one value only (`joint_pins`).

An auditor's authority: 362 pupils suspended or excluded, four broad groups shown (263, 27, 24, 34) and
three withheld (Chinese/other "<10", White other "x", unknown "<10"), whose detailed codes were a "<10"
each beside zeros and White other's WOTH 11. No sum alone pinned anything; together the three detailed
"<10" summed to 3, so each was 1, and White other's "x" was 12.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.joint_pins import Withheld, marker_domain, pinned_counts

CEILING = 400
CELL_CEILING = 24  # the 2x2 tables' body cells, each tried from 0 to this
SHOWN = {"total": 362, "WB": 263, "Asian": 27, "Black": 24, "Mixed": 34, "OOTH": 0, "WIRI": 0, "WIRT": 0,
         "WOTH": 11, "REFU": 0}  # fmt: skip
WITHHELD = {"CHNE": 1, "WROM": 1, "NOBT": 1, "Chinese/other": 1, "unknown": 1}
SUMS = [
    {"WB": 1, "Asian": 1, "Black": 1, "Mixed": 1, "Chinese/other": 1, "White other": 1, "unknown": 1,
     "total": -1},
    {"CHNE": 1, "OOTH": 1, "Chinese/other": -1},
    {"WIRI": 1, "WIRT": 1, "WROM": 1, "WOTH": 1, "White other": -1},
    {"REFU": 1, "NOBT": 1, "unknown": -1},
]


def _cells(shown: dict, withheld: dict, white_other: Withheld) -> dict:
    cells = dict(shown)
    cells.update({k: marker_domain(v, "<10", CEILING) for k, v in withheld.items()})
    cells["White other"] = white_other
    return cells


def test_the_auditors_three_single_pupils_are_pinned_by_the_sums_together():
    cells = _cells(SHOWN, WITHHELD, marker_domain(12, "x", CEILING))
    assert sorted(pinned_counts(cells, SUMS)) == sorted([*WITHHELD, "White other"])
    # no one sum pins them: each alone leaves them free
    for one in SUMS:
        assert pinned_counts(cells, [one]) == []


def test_withholding_woth_as_well_leaves_none_pinned():
    shown = {k: v for k, v in SHOWN.items() if k != "WOTH"}
    cells = _cells(shown, WITHHELD, marker_domain(12, "x", CEILING))
    cells["WOTH"] = marker_domain(11, "x", CEILING)
    assert pinned_counts(cells, SUMS) == []


def test_a_count_withheld_whatever_its_size_may_be_1_to_9():
    # an outcome of 1-9 pupils is not split at all: its withheld cells are any number, so 4 = 4 is pinned
    cells = {"total": 4, "a": Withheld(4, 0, CEILING), "b": 0}
    assert pinned_counts(cells, [{"a": 1, "b": 1, "total": -1}]) == ["a"]


def test_a_part_never_above_its_whole_is_read_too():
    # permanent <= any: a group's 3 permanently excluded of its 3 excluded at all is pinned by the order
    cells = {"perm": Withheld(3, 1, 9), "any": 3, "perm_other": Withheld(9, 1, 9), "perm_total": 12}
    sums = [{"perm": 1, "perm_other": 1, "perm_total": -1}]
    assert pinned_counts(cells, sums) == []
    assert pinned_counts(cells, sums, at_most=[("perm", "any")]) == ["perm", "perm_other"]


def _allowed(cell, values: np.ndarray) -> np.ndarray:
    if not isinstance(cell, Withheld):
        return values == cell
    inside = (values >= cell.low) & (values <= cell.high)
    return inside & ~((values > 0) & (values < 10)) if cell.gap else inside


def _brute_force(cells: dict) -> list:
    """The 2x2 table's withheld cells that one value only fits, trying every body a reader could hold."""
    grid = np.arange(CELL_CEILING + 1)
    a, b, c, d = np.meshgrid(grid, grid, grid, grid, indexing="ij")
    values = {"a": a, "b": b, "c": c, "d": d, "r1": a + b, "r2": c + d, "c1": a + c, "c2": b + d}
    fits = np.ones(a.shape, dtype=bool)
    for key, cell in cells.items():
        fits &= _allowed(cell, values[key])
    withheld = [k for k, cell in cells.items() if isinstance(cell, Withheld)]
    return [k for k in withheld if len(np.unique(values[k][fits])) == 1]


@settings(max_examples=80, deadline=None)
@given(counts=st.lists(st.integers(0, 12), min_size=4, max_size=4),
       markers=st.lists(st.sampled_from(["shown", "<10", "x"]), min_size=8, max_size=8))  # fmt: skip
def test_pinned_counts_agrees_with_trying_every_value(counts, markers):
    """A 2x2 table with its row and column totals: the solver's pins are those found by enumeration."""
    a, b, c, d = counts
    true = {"a": a, "b": b, "c": c, "d": d, "r1": a + b, "r2": c + d, "c1": a + c, "c2": b + d}
    cells: dict = {}
    for (key, value), marker in zip(true.items(), markers, strict=True):
        small = 0 < value < 10
        if small or (marker == "x" and value > 0):  # as suppress_table marks them: 1-9 always "<10"
            ceiling = CELL_CEILING if len(key) == 1 else 2 * CELL_CEILING  # a body cell, or a total of two
            cells[key] = marker_domain(value, "<10" if small else "x", ceiling)
        else:
            cells[key] = value
    sums = [{"a": 1, "b": 1, "r1": -1}, {"c": 1, "d": 1, "r2": -1}, {"a": 1, "c": 1, "c1": -1},
            {"b": 1, "d": 1, "c2": -1}]  # fmt: skip
    assert sorted(pinned_counts(cells, sums)) == sorted(_brute_force(cells))
