"""Privacy rules shared by every stage: the notices, small-number suppression, the identifier guard."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

DECISION_SUPPORT_NOTICE = (
    "These scores support a professional's judgement; they are not decisions. "
    "No child should be treated differently on the strength of a score alone."
)
# describe's, beside its counts and rates of groups: it publishes no score, and the notice above spoke of one
DESCRIBE_NOTICE = (
    "These descriptive figures support a professional's judgement; they do not replace it and are not "
    "decisions. No child should be treated differently on the strength of a group's figures."
)

SUPPRESSION_THRESHOLD = 10
SUPPRESSED = "<10"


def suppress_count(n: int, threshold: int = SUPPRESSION_THRESHOLD) -> int | str:
    """A count as it may be shown in a report: groups under `threshold` pupils become '<10'."""
    return SUPPRESSED if 0 < n < threshold else n


Cell = tuple[int, int]  # a position in a table's grid
T = TypeVar("T")
SECONDARY = "x"  # withheld only so that a "<10" beside it cannot be worked out by subtraction
TOTAL = "total"


def _equations(shape: tuple[int, int], row_totals: bool, column_totals: bool) -> list[list[tuple[int, int]]]:
    """Every "cells sum to a shown total" line of the extended table, each listed with its total."""
    rows, cols = shape
    lines = []
    if row_totals:
        lines += [[(r, c) for c in range(cols)] for r in range(rows)]
    if column_totals:
        lines += [[(r, c) for r in range(rows)] for c in range(cols)]
    return lines


def suppress_table(
    counts: pd.DataFrame,
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    threshold: int = SUPPRESSION_THRESHOLD,
    withhold: Iterable[tuple[Hashable, Hashable]] = (),
    known: Iterable[tuple[Hashable, Hashable]] = (),
) -> pd.DataFrame:
    """A table of counts as published, with its totals, so that no withheld cell can be subtracted out.

    Returns `counts` with a `TOTAL` column (row totals) and/or a `TOTAL` row (column totals) added, each
    value an int or a marker:

    * primary: any cell or total with 0 < n < threshold is "<10" (SUPPRESSED); zeros are shown;
    * secondary: every row and column whose total is shown ("a line": its cells plus its total, the
      totals row and column included) must not hold exactly one withheld value, or that value is the
      total minus the shown cells. Nor, its total shown, may its withheld cells' sum (the total less the
      shown cells) leave any of them one value only, given what their markers say: a "<10" is 1 to 9, an
      "x" at least 10 (two "<10" summing to 2 are both 1; an "x" and a "<10" summing to 11 are 10 and 1).
      While some line does, a non-zero shown body cell of that line is withheld too ("x", SECONDARY: it
      is not under 10, so "<10" would be untrue), the one that loses least (`complement`): of those
      whose withholding leaves fewest lines through them pinned (a cell beside a value already withheld
      in its other line costs nothing more; one beside zeros takes its line's total, and with it that
      total's line, with it), the smallest. When the line has no such cell (the rest are zeros) its
      total is withheld instead. Repeated until no line changes.

    `withhold`: (row, column) labels of the returned table to withhold from the start, because another
    table withholds the same count (e.g. a total printed in two places); they are treated as secondary.
    `known`: (row, column) labels of totals a reader has from other reports whatever this table shows
    (scores.html's need levels' pupils: the social care and SEN groups published elsewhere make them up):
    never withheld to protect a cell, and every line through them is checked as if they were shown.

    This stops recovery from any single line's sum and its markers' bounds; it does not defend against
    solving several lines together.
    """
    values = counts.astype(int).copy()
    if row_totals:
        values[TOTAL] = values.sum(axis=1)
    if column_totals:
        values.loc[TOTAL] = values.sum(axis=0)
    grid = values.to_numpy()
    primary = (grid > 0) & (grid < threshold)
    withheld = primary.copy()
    for row, column in withhold:
        withheld[values.index.get_loc(row), values.columns.get_loc(column)] = True
    published = {(values.index.get_loc(row), values.columns.get_loc(column)) for row, column in known}
    for cell in published:
        withheld[cell] = False  # its "<10", if any, is printed, but the reader has the number elsewhere
    rows, cols = grid.shape
    lines = _equations(grid.shape, row_totals, column_totals)
    through: dict[Cell, list[list[Cell]]] = {}  # each cell's lines
    for line in lines:
        for cell in line:
            through.setdefault(cell, []).append(line)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if not _pinned(line, withheld, primary, grid, threshold):
                continue
            # A line's total is its last cell; the others (column totals, in the totals row) may be withheld.
            candidates = [cell for cell in line[:-1]
                          if not withheld[cell] and grid[cell] > 0 and cell not in published]  # fmt: skip
            target = complement(
                candidates, lambda cell: int(grid[cell]),
                lambda cell: exposure(cell, through[cell], withheld, primary, grid, threshold),
            ) if candidates else line[-1]  # fmt: skip
            if withheld[target] or target in published:  # the rest are zeros (or known): hide a zero
                target = next((cell for cell in line if not withheld[cell] and cell not in published), None)
                if target is None:  # nothing left to withhold: a line that cannot be helped
                    continue
            changed = changed or not withheld[target]  # a one-cell line cannot be helped: do not loop on it
            withheld[target] = True
    shown = values.astype(object)
    shown[:] = [[SUPPRESSED if primary[r, c] else SECONDARY if withheld[r, c] else int(grid[r, c])
                 for c in range(cols)] for r in range(rows)]  # fmt: skip
    return shown


def suppress_nested(counts: pd.DataFrame, threshold: int = SUPPRESSION_THRESHOLD) -> pd.DataFrame:
    """Selections that nest, each the top of one ranked list (rows, smallest first: the top 1%, 5%, 10%),
    their counts by column (with and without the outcome) as published: `suppress_table` with each row's
    total (its pupils); and a row whose counts differ by 1-9 from the last shown smaller row's withheld
    too ("x"), as the difference is the slice of the list between them. `evaluate`'s top k% and the
    training's precision and recall at k% (`metrics.evaluate`) follow this one rule."""
    shown = suppress_table(counts, column_totals=False, threshold=threshold)
    columns = list(counts.columns)
    previous = None
    for name in counts.index:
        if any(is_withheld(shown.at[name, c]) for c in columns):
            continue
        if previous is not None and any(
            0 < counts.at[name, c] - counts.at[previous, c] < threshold for c in columns
        ):
            shown.loc[name, columns] = SECONDARY
            continue
        previous = name
    return shown


def complement(candidates: Sequence[T], value: Callable[[T], int], cost: Callable[[T], int]) -> T:
    """The cell to withhold beside a withheld value a line would give away: the one that loses least.

    `cost(cell)`: how many lines the cell's withholding would leave pinned (`exposure`), each needing one
    more cell withheld; then the smallest `value`, then the first. Taking the smallest cell of the line
    alone withheld a cell whose other line had nothing else to hide behind, whose total then went too:
    on the demo, Black other's 901 not permanently excluded, beside its 0 excluded, took Black other's
    pupils and then Black Caribbean's 4,443 pupils and every figure of theirs, where Black Caribbean's
    count not permanently excluded, beside its withheld permanently excluded, protected the same "<10"
    at no further cost."""
    return min(candidates, key=lambda cell: (cost(cell), value(cell)))


def exposure(cell: Cell, lines: Iterable[list[Cell]], withheld: np.ndarray, primary: np.ndarray,
             grid: np.ndarray, threshold: int = SUPPRESSION_THRESHOLD) -> int:
    """How many of `lines` (the lines through `cell`: lists of grid positions, total last) would be
    pinned (`_pinned`) with `cell` withheld too: 0 when its withholding needs nothing more."""
    before, withheld[cell] = withheld[cell], True
    try:
        return sum(_pinned(line, withheld, primary, grid, threshold) for line in lines)
    finally:
        withheld[cell] = before


def exposure_in(counts: pd.DataFrame, shown: pd.DataFrame, cell: tuple[Hashable, Hashable],
                threshold: int = SUPPRESSION_THRESHOLD) -> int:
    """`exposure` of a (row, column) label of `shown`, `suppress_table(counts)` with both totals: how
    many of its rows and columns withholding that cell too would leave pinned."""
    values = counts.astype(int).copy()
    values[TOTAL] = values.sum(axis=1)
    values.loc[TOTAL] = values.sum(axis=0)
    marks = shown.loc[values.index, values.columns].to_numpy()
    withheld = np.vectorize(is_withheld, otypes=[bool])(marks)
    primary = marks == SUPPRESSED
    position = (values.index.get_loc(cell[0]), values.columns.get_loc(cell[1]))
    lines = [line for line in _equations(values.shape, True, True) if position in line]
    return exposure(position, lines, withheld, primary, values.to_numpy(), threshold)


_UNBOUNDED = 10**15  # no count reaches it


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Integer intervals (inclusive) as a sorted union of disjoint ones."""
    out: list[tuple[int, int]] = []
    for low, high in sorted(i for i in intervals if i[0] <= i[1]):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _values_left(domains: list[list[tuple[int, int]]], hidden: int, cell: int) -> int:
    """How many values (0, 1 or 2: at least) cell `cell` can take when the cells of `domains` (each a
    union of intervals) sum to `hidden`."""
    others = [(0, 0)]
    for k, domain in enumerate(domains):
        if k != cell:  # the other cells' possible sums: a Minkowski sum of interval unions
            others = _merged([(a + c, min(b + d, _UNBOUNDED)) for a, b in others for c, d in domain])
    room = _merged([(hidden - b, hidden - a) for a, b in others])
    count = 0
    for a, b in domains[cell]:
        for c, d in room:
            count += max(0, min(b, d) - max(a, c) + 1)
            if count > 1:
                return 2
    return count


Intervals = list[tuple[int, int]]  # inclusive integer intervals: the values a withheld count may take


def sum_pins(domains_of: Callable[[Intervals], list[Intervals]], total: int, cells: Iterable[int]) -> bool:
    """Whether withheld values that sum to `total` leave any of `cells` (positions in the domains) one
    value only. `domains_of(zero)` gives each value's possible values as inclusive intervals, an "x"'s
    as 10 or more with `zero` beside it: read by a reader who takes an "x" as 10 or more (`zero` empty)
    and, where that view is impossible, by one who allows 0 too (an "x" may hide a zero)."""
    cells = list(cells)
    for zero in ([], [(0, 0)]):
        domains = domains_of(zero)
        left = [_values_left(domains, total, k) for k in cells]
        if any(n == 1 for n in left):
            return True
        if all(n > 1 for n in left):  # this reader's view is consistent and pins nothing
            return False
    return False


def _pinned(line, withheld, primary, grid, threshold: int) -> bool:
    """Whether a line's withheld values can be worked out from it (`suppress_table`'s secondary rule):
    one withheld; or, its total shown, a withheld cell left one value by the sum of the withheld cells
    (the total less the shown cells) and what each marker allows: "<10" 1 to 9; "x" 10 or more (or 0:
    `sum_pins`)."""
    held = [cell for cell in line if withheld[cell]]
    if len(held) > 1 and withheld[line[-1]]:  # a withheld total: the line's sum is not known
        return False
    values, small = [int(grid[cell]) for cell in held], [bool(primary[cell]) for cell in held]
    return withheld_pinned(values, small, threshold=threshold)


def _negated(domain: Intervals) -> Intervals:
    return [(-high, -low) for low, high in reversed(domain)]


def withheld_pinned(values: Sequence[int], small: Sequence[bool], signs: Sequence[int] | None = None,
                    threshold: int = SUPPRESSION_THRESHOLD) -> bool:
    """The secondary rule of one sum a reader knows (`suppress_table`'s lines, and the sums that two of
    `describe`'s tables share): whether the withheld values of it (`values`, each marked "<10" where
    `small`, else "x") leave any of them one value only. One withheld value is the sum less the rest;
    several are pinned where their signed total (`signs`, +1 or -1 each: +1 for all of a line's cells,
    the total shown; -1 for those on the other side of an equation), which the reader works out from the
    shown values, leaves any one value only given what each marker allows (`sum_pins`: "<10" 1 to 9,
    "x" 10 or more, or 0): two "<10" summing to 2 are both 1."""
    if len(values) == 1:
        return True
    if not values:
        return False
    signs = [1] * len(values) if signs is None else list(signs)
    hidden = sum(sign * int(value) for sign, value in zip(signs, values, strict=True))
    low = [(1, threshold - 1)]

    def domains_of(zero):
        domains = [low if is_small else [*zero, (threshold, _UNBOUNDED)] for is_small in small]
        return [domain if sign > 0 else _negated(domain) for domain, sign in zip(domains, signs, strict=True)]

    return sum_pins(domains_of, hidden, range(len(values)))


# --- shares published to a precision that does not pin a count ------------------------------------------

def share_step(total: int, threshold: int = SUPPRESSION_THRESHOLD) -> float:
    """The precision a share of `total` pupils is published to: the finest decimal place whose unit
    `total` pupils turn into `threshold` or more (19,851 pupils: 0.001, about 20 pupils; 1,000 pupils:
    0.01; 200,000: 0.0001). A decimal place, so that a share reads as precise as it is printed."""
    step = 10.0 ** math.ceil(math.log10(threshold / max(total, 1)) - 1e-12)
    return min(float(f"{step:.0e}"), 1.0)


def rounded_share(count: int, total: int, step: float) -> float:
    """`count` / `total` as published to `step`, a decimal place: the nearest multiple of it (a share
    of a few pupils may read 0.0 at that place, as a share of nearly all may read 1.0)."""
    if count <= 0 or count >= total or step >= 1.0:
        return float(round(count / total)) if total else 0.0
    units = round(1 / step)  # in whole numbers, so that a part's and the rest's shares sum to 1
    whole, left = divmod(int(count) * units, int(total))
    whole += 2 * left > total or (2 * left == total and whole % 2 == 1)  # to the nearest, a half to even
    return round(whole / units, len(str(units)) - 1)


def _counts_of(share: float, total: int, step: float) -> Intervals:
    """The counts out of `total` that `rounded_share` publishes as `share`: a reader's possible values
    (`rounded_share` never falls as the count rises, so they are one run)."""
    counts = range(total + 1)
    low = bisect.bisect_left(counts, share, key=lambda k: rounded_share(k, total, step))
    high = bisect.bisect_right(counts, share, key=lambda k: rounded_share(k, total, step)) - 1
    return [(low, high)] if low <= high else []


def rounded_shares(counts: Sequence[int], total: int, threshold: int = SUPPRESSION_THRESHOLD,
                   small: bool = False) -> list[float | None]:  # fmt: skip
    """The shares of `counts` (parts of `total`, all of it) as published: each an exact fraction would be
    the count itself beside the population's size, which other reports publish, and one report's count
    less another's nested group of a different definition gave 1-9 pupils back (drift's 55 on a child
    protection plan, less evaluate's 50 on a plan and not looked after: 5 on a plan and looked after).
    So each share is rounded (`rounded_share`) to `share_step(total)`, standing for `threshold` counts or
    more; and where the counts' sum, `total`, would leave any of them one value only given what each
    rounded share allows (`sum_pins`, the rule of a table's line), the step is coarsened until none is.
    `small`: the reader also knows that no part is 1 to 9 (withheld or pooled where it would be).
    Where no decimal place stands for `threshold` counts (under 100 pupils, or coarsened that far), a share
    is None (withheld, as `rounded_rate`'s) unless its count is none or all of them: 0.0 or 1.0 would read
    as exact (30 of 80 pupils printed 0.0)."""
    step = share_step(total, threshold)
    floor = [(0, 0), (threshold, _UNBOUNDED)] if small else [(0, _UNBOUNDED)]
    while True:
        shares = [rounded_share(int(n), total, step) for n in counts]
        if step >= 1.0:
            return [None if 0 < int(n) < total else share for n, share in zip(counts, shares, strict=True)]
        domains = [[(max(a, c), min(b, d)) for a, b in _counts_of(r, total, step) for c, d in floor
                    if max(a, c) <= min(b, d)] for r in shares]  # fmt: skip
        some = [k for k, n in enumerate(counts) if 0 < n < total]  # a zero, or all of them, is no secret
        if len(counts) < 2 or not sum_pins(lambda _, d=domains: d, total, some):
            return shares
        step = _coarser(step)


def _coarser(step: float) -> float:
    """The next decimal place above `step` (0.001 -> 0.01)."""
    return min(float(f"{step * 10:.0e}"), 1.0)


def rounded_rate(part: float, total: float, threshold: int = SUPPRESSION_THRESHOLD) -> float | None:
    """A share of `total` pupils as published (`rounded_shares` of the part and the rest); None where
    `total` is under `threshold` or either part is 1 to 9 (then no share is published), or where no
    decimal place of a share stands for `threshold` pupils (under 100 pupils) and the share is not 0 or 1."""
    part, total = int(round(part)), int(round(total))
    rest = total - part
    if total < threshold or 0 < part < threshold or 0 < rest < threshold:
        return None
    if share_step(total, threshold) >= 1.0 and 0 < part < total:  # under 100 pupils: no place is fine enough
        return None
    return rounded_shares([part, rest], total, threshold, small=True)[0]


def pinned_small(
    counts: Sequence[int], sums: Iterable[Iterable[int]], threshold: int = SUPPRESSION_THRESHOLD
) -> list[int]:
    """Which unknowns a reader can solve for, of those under `threshold` (1 to 9): `counts` are the
    withheld values, `sums` each a set of their positions whose total is printed somewhere. Solved
    together, not a line at a time: a count is pinned when its unit vector lies in the row space of the
    sums (e.g. a page's red total less a band's total is the other red cells')."""
    if not len(counts):
        return []
    rows = np.array([[k in line for k in range(len(counts))] for line in map(set, sums)], dtype=float)
    rows = rows.reshape(-1, len(counts))
    rank = np.linalg.matrix_rank(rows) if len(rows) else 0
    units = np.eye(len(counts))
    return [
        k for k, n in enumerate(counts)
        if 0 < n < threshold and np.linalg.matrix_rank(np.vstack([rows, units[k]])) == rank
    ]  # fmt: skip


def curve_points_shown(
    with_outcome: Sequence[float], without: Sequence[float], totals: tuple[float, float],
    threshold: int = SUPPRESSION_THRESHOLD, fixed: Sequence[bool] | None = None,
) -> np.ndarray:
    """Which points of a figure drawn along one ranked list it may show (a boolean per point).

    Point i is the top of the list to that point: its pupils `with_outcome[i]` and `without[i]`, both
    growing along the list, whose whole holds `totals` (published beside the figure: the base rate). A
    point is read as counts (precision times the top's pupils; a true-positive rate times the excluded),
    so it is drawn only where each count, and each count's difference from the last point drawn, from the
    next `fixed` point and from the whole list's, is 0 or at least `threshold`: then every difference
    between two points drawn is too, and no slice of the list between them holds 1-9 pupils of either
    kind (`suppress_nested`'s rule for the tables' top k%). `fixed`: the points published elsewhere (a
    logged top k%), drawn whatever they hold and read against as the points drawn are. Every panel of a
    figure drawn along the same list is to take its points from one call, or two panels' points give a
    slice back between them. Counts that are expectations over tied scores are read to the nearest pupil.
    Taken from the top down, so the smallest tops are the ones left out."""
    def small(count: float) -> bool:
        return 0 < round(count) < threshold

    points = list(zip(with_outcome, without, strict=True))
    fixed = np.zeros(len(points), dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    after: list[tuple[float, float]] = [tuple(totals)] * len(points)
    upcoming = tuple(totals)
    for i in range(len(points) - 1, -1, -1):  # the next fixed point after each point, else the whole
        after[i] = upcoming
        if fixed[i]:
            upcoming = points[i]
    shown = np.zeros(len(points), dtype=bool)
    last = (0.0, 0.0)
    for i, point in enumerate(points):
        lines = zip(point, last, after[i], totals, strict=True)
        if not fixed[i] and any(small(c - before) or small(later - c) or small(total - c)
                                for c, before, later, total in lines):
            continue  # fmt: skip
        shown[i], last = True, point
    return shown


def withhold_split(shown: pd.DataFrame, columns: Sequence[Hashable]) -> pd.DataFrame:
    """`shown` (from `suppress_table`) with every row's value in `columns` withheld alike ("x"), the
    totals row's count of the first column kept as it stands, the rest of it withheld: a column whose
    total is 1-9 published its split as one "<10" among zeros (every pupil with the outcome in that one
    group), and "<10" beside "x" still told which group held at least one of them."""
    out = shown.copy()
    for column in columns:
        rows = [r for r in out.index if r != TOTAL or column != columns[0]]
        out.loc[rows, column] = SECONDARY
    return out


def is_withheld(value: object) -> bool:
    """Whether a value from `suppress_table` is withheld ("<10" or "x")."""
    return value in (SUPPRESSED, SECONDARY)


# A UPN: check letter, 11 digits, then a digit or (temporary UPN) a letter.
UPN_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{11}[0-9A-Z](?![A-Za-z0-9])")


class PrivacyError(RuntimeError):
    """Something about to be logged or published looks like a pupil identifier."""


def check_no_identifiers(text: str, where: str) -> str:
    """`text` unchanged, or PrivacyError when it holds a UPN-shaped token (the guard before MLflow)."""
    if UPN_PATTERN.search(text):
        raise PrivacyError(f"refusing to log {where}: it contains a UPN-shaped identifier")
    return text
