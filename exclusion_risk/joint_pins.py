"""Withheld counts that a reader can work out by solving every published sum at once.

`privacy.suppress_table` and describe's shared sums check one sum at a time (`privacy.withheld_pinned`).
Several sums together can pin what no one of them does: an auditor's authority published 362 pupils
suspended or excluded, four broad ethnic groups' 263, 27, 24 and 34, and three broad groups withheld
whose detailed codes were a "<10" each beside zeros and one shown 11. No sum alone pinned anything; all
of them together left the three "<10" summing to 3, so each was 1 (and White other's "x" was 12).

Here the reader is an integer program: one unknown per withheld count, each within what its marker says
("<10": 1 to 9; "x": 0, or the threshold or more; a count withheld without a marker's meaning, any
number), every published sum an equation and every known order (a part never above its whole) an
inequality. A withheld count is pinned when the smallest and the largest value the program allows are
the same. The true counts are one solution, so each solve that finds another marks every count it moves
as not pinned, and most need no solve of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from exclusion_risk.privacy import SUPPRESSED, SUPPRESSION_THRESHOLD


@dataclass(frozen=True)
class Withheld:
    """A withheld count: its true value, and what a reader knows of it (`low` to `high`; with `gap`, not
    1 to threshold - 1 either: an "x" is withheld as a complement, so it is 0 or at least the threshold)."""

    true: int
    low: int
    high: int
    gap: bool = False


def marker_domain(true: int, marker: str, ceiling: int, anything: bool = False) -> Withheld:
    """What a reader knows of a count printed as `marker` ("<10" or "x"), no more than `ceiling`;
    `anything`: withheld whatever its size (an outcome of 1-9 pupils not split at all: `withhold_split`)."""
    if anything:
        return Withheld(true, 0, ceiling)
    if marker == SUPPRESSED:
        return Withheld(true, 1, SUPPRESSION_THRESHOLD - 1)
    return Withheld(true, 0, ceiling, gap=True)


def pinned_counts(
    cells: Mapping[Hashable, int | Withheld],
    equations: Iterable[Mapping[Hashable, int]],
    at_most: Iterable[tuple[Hashable, Hashable]] = (),
    checked: Callable[[Hashable], bool] = lambda key: True,
) -> list[Hashable]:
    """The withheld cells (`Withheld` values of `cells`; the rest are shown counts) that every
    `equations` (each {cell: coefficient}, the signed sum 0) and `at_most` ((a, b): a <= b) together leave
    one value only, in the order of `cells`; of those `checked` says to check (the rest are unknowns
    still, but not solved for)."""
    unknown = [key for key, value in cells.items() if isinstance(value, Withheld)]
    if not unknown:
        return []
    # here, not at the top: the command line's start (`--help`, `check`, `link`) loads no scipy
    from scipy.optimize import Bounds, LinearConstraint, milp

    index = {key: i for i, key in enumerate(unknown)}
    gaps = [key for key in unknown if cells[key].gap]
    size = len(unknown) + len(gaps)  # each "x" has a binary: 0 (the count is 0) or 1 (threshold or more)
    rows, low, high = [], [], []

    def add(coefficients: Mapping[Hashable, int], lower: float, upper: float) -> None:
        row, constant = np.zeros(size), 0
        for key, coefficient in coefficients.items():
            if key in index:
                row[index[key]] += coefficient
            else:
                constant += coefficient * int(cells[key])
        if row.any():
            rows.append(row)
            low.append(lower - constant)
            high.append(upper - constant)

    for equation in equations:
        add(equation, 0, 0)
    for small, large in at_most:
        if small in cells and large in cells:
            add({small: 1, large: -1}, -np.inf, 0)
    for j, key in enumerate(gaps, start=len(unknown)):
        cell = cells[key]
        for coefficient, lower, upper in ((SUPPRESSION_THRESHOLD, 0, np.inf), (cell.high, -np.inf, 0)):
            row = np.zeros(size)  # count >= threshold * binary, count <= high * binary
            row[index[key]], row[j] = 1, -coefficient
            rows.append(row)
            low.append(lower)
            high.append(upper)
    bounds = Bounds([cells[k].low for k in unknown] + [0] * len(gaps),
                    [cells[k].high for k in unknown] + [1] * len(gaps))  # fmt: skip
    constraints = LinearConstraint(np.array(rows), low, high) if rows else ()
    true = np.array([cells[k].true for k in unknown])
    free = np.zeros(len(unknown), dtype=bool)
    pinned = []
    for i, key in enumerate(unknown):
        if free[i] or not checked(key):
            continue
        for sign in (1, -1):
            objective = np.zeros(size)
            objective[i] = sign
            result = milp(objective, integrality=np.ones(size), bounds=bounds, constraints=constraints)
            if result.x is None:  # the true counts are a solution: a solver that finds none is not trusted
                raise RuntimeError(f"the published sums could not be solved ({result.message})")
            free |= np.rint(result.x[: len(unknown)]).astype(int) != true
            if free[i]:
                break
        if not free[i]:
            pinned.append(key)
    return pinned
