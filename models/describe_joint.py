"""describe's published tables read as one system of sums: a withheld count that they pin together.

`describe.suppress_all` keeps each table's lines and each sum two tables share from pinning a withheld
count, one sum at a time. An auditor solved them together: the broad ethnic groups' column total less the
shown groups, with each withheld broad group's detailed codes, left three "<10" summing to 3 (each 1).
This module gives every sum a reader has to `joint_pins.pinned_counts` (each table's rows and columns;
a row's pupils alike in every outcome's table; the outcome's totals alike in every variable's table; the
shared sums; a permanent exclusion count never above the same group's any-exclusion count) and, where a
withheld count is pinned, names a shown count of one of its sums to withhold as well (the smallest,
a group's own count before a total), for `suppress_all` to suppress around and check again.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import pandas as pd

from exclusion_risk.joint_pins import Withheld, marker_domain, pinned_counts
from exclusion_risk.privacy import TOTAL, is_withheld

Cell = tuple[str, str, Hashable, str]  # (outcome, variable, row, column)


def linked_parts(pairs: list[tuple[tuple, tuple]]) -> list[list[tuple]]:
    """The nodes of an undirected graph given by its edges, in connected parts."""
    parent: dict[tuple, tuple] = {}

    def find(node: tuple) -> tuple:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for x, y in pairs:
        parent[find(x)] = find(y)
    parts: dict[tuple, list[tuple]] = {}
    for node in list(parent):
        parts.setdefault(find(node), []).append(node)
    return [sorted(members) for members in parts.values()]


def _true_tables(tables: dict[tuple[str, str], pd.DataFrame]) -> dict[tuple[str, str], pd.DataFrame]:
    full = {}
    for key, table in tables.items():
        values = table.astype(int).copy()
        values[TOTAL] = values.sum(axis=1)
        values.loc[TOTAL] = values.sum(axis=0)
        full[key] = values
    return full


def _sums(shown: dict, lines: Sequence[Sequence[tuple[str, Hashable]]]) -> list[dict[Cell, int]]:
    """Every sum a reader of the tables knows, each {cell: coefficient} summing to 0."""
    sums: list[dict[Cell, int]] = []
    first: dict[str, str] = {}  # each outcome's first variable: its totals are every variable's
    for (outcome, variable), table in shown.items():
        columns = list(table.columns)
        for row in table.index:
            parts = {(outcome, variable, row, c): 1 for c in columns if c != TOTAL}
            sums.append({**parts, (outcome, variable, row, TOTAL): -1})
        for column in columns:
            body = {(outcome, variable, row, column): 1 for row in table.index if row != TOTAL}
            sums.append({**body, (outcome, variable, TOTAL, column): -1})
        anchor = first.setdefault(outcome, variable)
        if anchor != variable:
            sums += [{(outcome, anchor, TOTAL, c): 1, (outcome, variable, TOTAL, c): -1} for c in columns]
    outcomes = list(dict.fromkeys(outcome for outcome, _ in shown))
    for (outcome, variable), table in shown.items():
        if outcome != outcomes[0]:  # a group's pupils are the same pupils in every outcome's table
            sums += [{(outcomes[0], variable, row, TOTAL): 1, (outcome, variable, row, TOTAL): -1}
                     for row in table.index]  # fmt: skip
    for members in lines:
        side = members[0][0]
        for outcome in outcomes:
            for column in next(t for (o, _), t in shown.items() if o == outcome).columns:
                sums.append({(outcome, v, row, column): 1 if v == side else -1 for v, row in members})
    return sums


def _key(cell: Cell) -> tuple:
    """`suppress_all`'s key for withholding `cell` (and the same count wherever it is printed)."""
    outcome, variable, row, column = cell
    if row == TOTAL:
        return ("grand",) if column == TOTAL else ("column", outcome, column)
    return ("pupils", variable, row) if column == TOTAL else ("cell", outcome, variable, row, column)


def joint_key(
    shown: dict[tuple[str, str], pd.DataFrame],
    tables: dict[tuple[str, str], pd.DataFrame],
    lines: Sequence[Sequence[tuple[str, Hashable]]],
    split: set[str],
    nested: tuple[str, str, str],
) -> tuple | None:
    """A `suppress_all` key to withhold where the published tables (`shown`, as published: `split`'s
    outcomes with their split withheld) pin a withheld count together; None where none is pinned.
    `nested`: (part, whole, column): a group's count in `column` of the first outcome's table is never
    above its count in the second's (the permanently excluded are among those excluded at all)."""
    true = _true_tables(tables)
    ceiling = max(int(t.loc[TOTAL, TOTAL]) for t in true.values())
    cells: dict[Cell, int | Withheld] = {}
    for (outcome, variable), table in shown.items():
        for row in table.index:
            for column in table.columns:
                value = table.loc[row, column]
                count = int(true[(outcome, variable)].loc[row, column])
                anything = outcome in split and column != TOTAL  # `withhold_split`: 1-9 or not, withheld
                cells[(outcome, variable, row, column)] = (
                    marker_domain(count, value, ceiling, anything) if is_withheld(value) else int(value))
    part, whole, column = nested
    at_most = [((part, v, row, column), (whole, v, row, column)) for (o, v), t in shown.items() if o == part
               for row in t.index]  # fmt: skip
    sums = _sums(shown, lines)
    # an outcome of 1-9 pupils has its split withheld whole (`withhold_split`), and zeros the tables give
    # anyway pin some of it (a group of no pupils, or none excluded at all, has none permanently excluded):
    # withholding more cannot unpin those, so only the other tables' counts are checked (a reviewer's
    # find: each pass withheld another group's pupils, then the grand total, and the pins stood)
    pinned = pinned_counts(cells, sums, at_most, checked=lambda c: not (c[0] in split and c[3] != TOTAL))
    if not pinned:
        return None
    shown_counts = {c for c, v in cells.items() if not isinstance(v, Withheld) and v > 0}
    around = [c for s in sums if pinned[0] in s for c in s if c in shown_counts]
    if not around:  # every other count of its sums is 0 or withheld: its table's smallest shown count
        table = pinned[0][:2]
        around = [c for c in shown_counts if c[:2] == table]
    if not around:
        return None
    chosen = min(around, key=lambda c: (c[2] == TOTAL, cells[c], str(c)))
    return _key(chosen)
