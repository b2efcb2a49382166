"""Secondary suppression: no withheld count in a published table can be worked out by subtraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.privacy import (
    SECONDARY,
    SUPPRESSED,
    TOTAL,
    complement,
    exposure,
    is_withheld,
    suppress_table,
    withheld_pinned,
)


def _lines(shown: pd.DataFrame, row_totals: bool, column_totals: bool) -> list[list]:
    """Each row and column of the shown table whose total is shown: its values, total last."""
    grid = shown.to_numpy().tolist()
    lines = []
    if row_totals:
        lines += grid
    if column_totals:
        lines += [list(column) for column in zip(*grid, strict=True)]
    return lines


def _derivable(line: list) -> bool:
    """Exactly one value of a "cells sum to total" line withheld: the total minus the rest gives it."""
    return sum(is_withheld(v) for v in line) == 1


tables = st.tuples(st.integers(1, 5), st.integers(1, 5)).flatmap(
    lambda shape: st.lists(
        st.lists(st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 60)), min_size=shape[1],
                 max_size=shape[1]),
        min_size=shape[0], max_size=shape[0],
    )
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(rows=tables, row_totals=st.booleans(), column_totals=st.booleans())
def test_no_withheld_count_follows_from_one_line_and_small_counts_are_withheld(
    rows, row_totals, column_totals
):
    counts = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))])
    shown = suppress_table(counts, row_totals=row_totals, column_totals=column_totals)
    full = counts.copy()
    if row_totals:
        full[TOTAL] = full.sum(axis=1)
    if column_totals:
        full.loc[TOTAL] = full.sum(axis=0)
    assert shown.shape == full.shape
    for value, truth in zip(shown.to_numpy().ravel(), full.to_numpy().ravel(), strict=True):
        if 0 < truth < 10:
            assert value == SUPPRESSED  # every primary cell, totals included
        elif value == SUPPRESSED:
            raise AssertionError(f"{truth} shown as <10")
        elif value != SECONDARY:
            assert value == truth  # what is shown is the true count
    for line in _lines(shown, row_totals, column_totals):
        assert not _derivable(line), line


def test_a_single_small_cell_beside_zeros_takes_the_row_total_with_it():
    shown = suppress_table(pd.DataFrame({"red": [4, 30], "amber": [0, 25]}), column_totals=False)
    assert shown.loc[0].tolist() == [SUPPRESSED, 0, SUPPRESSED]  # the total is also under 10
    shown = suppress_table(
        pd.DataFrame({"red": [4, 30], "amber": [0, 25], "green": [12, 40]}), column_totals=False
    )
    assert shown.loc[0].tolist() == [SUPPRESSED, 0, SECONDARY, 16]
    assert shown.loc[1].tolist() == [30, 25, 40, 95]


def test_a_table_without_small_counts_is_shown_whole():
    counts = pd.DataFrame(np.array([[10, 20], [30, 40]]))
    assert suppress_table(counts).to_numpy().tolist() == [[10, 20, 30], [30, 40, 70], [40, 60, 100]]


def test_a_count_withheld_elsewhere_is_withheld_here_with_a_partner():
    counts = pd.DataFrame({"linked": [40, 17], "unlinked": [0, 23]})
    shown = suppress_table(counts, withhold=[(TOTAL, "unlinked")])
    assert shown.at[TOTAL, "unlinked"] == SECONDARY
    assert sum(is_withheld(v) for v in shown.loc[TOTAL]) == 2
    assert sum(is_withheld(v) for v in shown["unlinked"]) >= 2


def _pinned_by_bounds(line: list) -> bool:
    """What a reader can work out from a line whose total is shown, knowing a "<10" is 1 to 9 and an "x"
    10 or more (or, if that is impossible, 0 too: an "x" may hide a zero): a withheld value that the
    withheld values' sum (the total less the shown cells) leaves one possibility. Enumerated by sets."""
    *cells, total = line
    held = [v for v in cells if is_withheld(v)]
    if len(held) < 2 or is_withheld(total):
        return False
    hidden = total - sum(v for v in cells if not is_withheld(v))
    for x_values in (range(10, hidden + 1), [0, *range(10, hidden + 1)]):
        allowed = [set(range(1, 10)) if v == SUPPRESSED else set(x_values) for v in held]
        left = []
        for i in range(len(held)):
            sums = {0}
            for j, values in enumerate(allowed):
                if j != i:
                    sums = {a + b for a in sums for b in values if a + b <= hidden}
            left.append(sum(1 for v in allowed[i] if hidden - v in sums))
        if 1 in left:
            return True
        if min(left) > 1:
            return False
    return False


@settings(max_examples=300, deadline=None)
@given(rows=tables, row_totals=st.booleans(), column_totals=st.booleans())
def test_no_line_pins_its_withheld_counts_by_their_markers_bounds(rows, row_totals, column_totals):
    counts = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))])
    shown = suppress_table(counts, row_totals=row_totals, column_totals=column_totals)
    for line in _lines(shown, row_totals, column_totals):
        assert not _pinned_by_bounds(line), line


def test_two_small_cells_summing_to_two_take_a_third_with_them():
    """A linkage report's stage row: 333 records, 318 by UPN, 13 by name and DOB, then one probabilistic
    link and one unlinked record, each "<10": 333 - 318 - 13 = 2 made both 1."""
    counts = pd.DataFrame([{"upn": 318, "name_dob": 13, "probabilistic": 1, "unlinked": 1}])
    shown = suppress_table(counts, column_totals=False)
    assert shown.loc[0].tolist() == [318, SECONDARY, SUPPRESSED, SUPPRESSED, 333]


def test_a_withheld_count_and_a_small_one_summing_to_eleven_are_not_left_as_ten_and_one():
    # 11 records, 10 linked withheld beside 1 unlinked: "x" is at least 10, so 10 and 1.
    counts = pd.DataFrame({"linked": [10, 40], "unlinked": [1, 30]})
    shown = suppress_table(counts, withhold=[(0, "linked")])
    assert not _pinned_by_bounds(shown.loc[0].tolist())
    assert is_withheld(shown.at[0, TOTAL])


def test_an_x_that_may_hide_a_zero_does_not_leave_a_small_cell_pinned():
    """A zero withheld because another table withholds it: '<10', 'x', 20 and 23 shown made the '<10' 3
    to a reader who knows an 'x' is 0 or at least 10."""
    shown = suppress_table(pd.DataFrame([[3, 0, 20]]), column_totals=False, withhold=[(0, 1)])
    assert not _pinned_by_bounds(shown.loc[0].tolist())
    assert shown.loc[0].tolist() == [SUPPRESSED, SECONDARY, SECONDARY, 23]


@settings(max_examples=200, deadline=None)
@given(rows=tables, forced=st.integers(0, 24))
def test_no_line_pins_its_withheld_counts_with_a_count_withheld_from_elsewhere(rows, forced):
    counts = pd.DataFrame(rows, columns=[f"c{i}" for i in range(len(rows[0]))])
    row, column = forced % len(rows), forced % len(rows[0])
    shown = suppress_table(counts, withhold=[(row, counts.columns[column])])
    for line in _lines(shown, True, True):
        assert not _derivable(line) and not _pinned_by_bounds(line), line


def test_the_complement_is_a_cell_already_hidden_behind_its_other_line_not_one_beside_zeros():
    """Column a's "<10" (3) needs a partner: C's 40 (its only one). Column b then holds A's 50 alone: the
    smallest partner, B's 12, sits beside a zero, so its row total went too, then A's total, and so on
    (seven cells withheld); C's 200, whose row already hides 40, protects it at no further cost."""
    counts = pd.DataFrame({"a": [3, 0, 40], "b": [50, 12, 200]}, index=["A", "B", "C"])
    shown = suppress_table(counts)
    assert shown.loc["A"].tolist() == [SUPPRESSED, SECONDARY, 53]
    assert shown.loc["B"].tolist() == [0, 12, 12]
    assert shown.loc["C"].tolist() == [SECONDARY, SECONDARY, 240]
    assert shown.loc[TOTAL].tolist() == [43, 262, 305]


def test_a_partner_that_leaves_the_small_counts_pinned_by_their_bounds_is_not_taken_first():
    """1 + 1 beside 10 and 500: withholding the 10 leaves "x" + "<10" + "<10" = 12, so 10, 1 and 1, and
    the 500 had to go as well; the 500 alone protects them."""
    counts = pd.DataFrame([{"a": 1, "b": 1, "c": 10, "d": 500}])
    shown = suppress_table(counts, column_totals=False)
    assert shown.loc[0].tolist() == [SUPPRESSED, SUPPRESSED, 10, SECONDARY, 512]


def _oracle_cost(grid: np.ndarray, marks: np.ndarray, cell: tuple[int, int]) -> int:
    """How many of the row and column through `cell` a reader could solve with `cell` withheld too
    (`_derivable` or `_pinned_by_bounds`), read off the table as it would be printed."""
    marks = marks.copy()
    marks[cell] = SECONDARY
    printed = np.where(marks == "", grid, marks)
    lines = [printed[cell[0], :].tolist(), printed[:, cell[1]].tolist()]
    return sum(_derivable(line) or _pinned_by_bounds(line) for line in lines)


@settings(max_examples=300, deadline=None)
@given(rows=tables, extra=st.lists(st.integers(0, 35), max_size=4))
def test_the_chosen_complement_is_the_smallest_of_those_that_lose_least(rows, extra):
    """For random group counts (with row and column totals) and cells already withheld, the cell chosen
    to protect a line that gives a withheld value away is, of its non-zero shown cells, the smallest of
    those whose withholding leaves fewest lines through it solvable, as a reader of the printed table
    finds them. Every line the final table prints gives nothing away (the tests above)."""
    counts = pd.DataFrame(rows)
    grid = counts.to_numpy()
    grid = np.vstack([np.column_stack([grid, grid.sum(axis=1)]), np.append(grid.sum(axis=0), grid.sum())])
    marks = np.where((grid > 0) & (grid < 10), SUPPRESSED, "").astype(object)
    for k in extra:  # counts withheld beside them, as another table's suppression would ask
        cell = (k % grid.shape[0], (k // grid.shape[0]) % grid.shape[1])
        marks[cell] = marks[cell] or SECONDARY
    withheld = marks != ""
    primary = marks == SUPPRESSED
    printed = np.where(withheld, marks, grid)
    lines = [[(r, c) for c in range(grid.shape[1])] for r in range(grid.shape[0])]
    lines += [[(r, c) for r in range(grid.shape[0])] for c in range(grid.shape[1])]
    for line in lines:
        values = [printed[cell] for cell in line]
        if not (_derivable(values) or _pinned_by_bounds(values)):
            continue
        candidates = [cell for cell in line[:-1] if not withheld[cell] and grid[cell] > 0]
        if not candidates:
            continue
        chosen = complement(candidates, lambda cell: int(grid[cell]), lambda cell: exposure(
            cell, [ln for ln in lines if cell in ln], withheld, primary, grid))  # fmt: skip
        costs = {cell: _oracle_cost(grid, marks, cell) for cell in candidates}
        least = min(costs.values())
        assert costs[chosen] == least, (line, costs, chosen)
        assert grid[chosen] == min(grid[cell] for cell in candidates if costs[cell] == least)


def test_withheld_values_either_side_of_a_shared_sum_are_pinned_when_their_difference_leaves_one_value():
    """`withheld_pinned`, the rule of one line, on a sum two tables share (`describe`): a "<10" on one
    side and a "<10" on the other differing by 8 are 9 and 1; two "<10" on one side summing to 2 are
    1 and 1; an "x" beside them leaves a range."""
    assert withheld_pinned([9, 1], [True, True], [1, -1])
    assert withheld_pinned([1, 1], [True, True])
    assert withheld_pinned([1, 1], [True, True], [-1, -1])
    assert not withheld_pinned([1, 1, 36], [True, True, False])
    assert not withheld_pinned([1, 1, 38], [True, True, False], [1, 1, -1])
    assert not withheld_pinned([1, 3, 4], [True, True, True])  # SLD + VI + OTH = 4 (demo): 1 or 2 each
    assert withheld_pinned([5], [True]) and not withheld_pinned([], [])
