"""Secondary suppression: no withheld count in a published table can be worked out by subtraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.privacy import SECONDARY, SUPPRESSED, TOTAL, is_withheld, suppress_table


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
