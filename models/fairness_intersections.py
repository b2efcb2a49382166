"""Intersections for the fairness review (sex x ethnic group, sex x SEN, FSM x ethnic group) and their
small-number suppression.

An intersection's cells add up, along each of its two attributes, to the groups of the other attribute's
own table (boys x every ethnic group = boys). So its counts are suppressed as a two-way table with both
totals (`suppress_table`), the totals being the single-attribute tables' counts: a total withheld there is
withheld here too, and no cell can be worked out by subtraction from the totals beside it.

Each cell is compared with the cell of the same first-attribute group and the second attribute's
reference group (girls / Asian with girls / White British, boys / SEN support with boys / no SEN), so a
ratio shows one effect within one stratum, never the two effects mixed.

A finer attribute nested in a coarser one (detailed ethnicity in the broad groups) is suppressed the same
way: as a table whose row totals are the coarser attribute's published counts (`shown_nested_counts`).
"""

from __future__ import annotations

import pandas as pd

from exclusion_risk.privacy import TOTAL, is_withheld, suppress_table

INTERSECTIONS = (("sex", "ethnic group"), ("sex", "SEN provision"), ("free school meals", "ethnic group"))
SEPARATOR = " / "


def intersection_name(first: str, second: str) -> str:
    return f"{first} × {second}"


def intersection_parts(name: str) -> tuple[str, str] | None:
    """The two attributes an intersection's name crosses; None for a single attribute."""
    return next(((a, b) for a, b in INTERSECTIONS if intersection_name(a, b) == name), None)


def intersection_groups(groups: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Intersection name -> "group / group" label per pupil, for the pairs in INTERSECTIONS present."""
    out = {}
    for first, second in INTERSECTIONS:
        if first in groups and second in groups:
            labels = pd.Series(groups[first]).astype(str) + SEPARATOR + pd.Series(groups[second]).astype(str)
            out[intersection_name(first, second)] = labels
    return out


def intersection_references(
    crossed: dict[str, pd.Series], references: dict[str, str]
) -> dict[str, tuple[str, dict[str, str]]]:
    """Per intersection: (how the reference is chosen, cell -> its reference cell): the cell of the same
    first-attribute group and the second attribute's reference group (`references`: the single
    attributes' reference groups)."""
    out = {}
    for first, second in INTERSECTIONS:
        name = intersection_name(first, second)
        if name not in crossed or second not in references:
            continue
        cells = {}
        for label in pd.unique(pd.Series(crossed[name]).astype(str)):
            stratum = label.split(SEPARATOR, 1)[0]
            cells[label] = f"{stratum}{SEPARATOR}{references[second]}"
        out[name] = (f"the same {first}, {second}: {references[second]}", cells)
    return out


def nested_parents(children: pd.Series, parents: pd.Series) -> dict[str, str]:
    """Each child group -> the parent group most of its pupils are in."""
    pairs = pd.DataFrame({"child": pd.Series(children).astype(str).to_numpy(),
                          "parent": pd.Series(parents).astype(str).to_numpy()})  # fmt: skip
    counts = pairs.groupby(["child", "parent"]).size().sort_values(ascending=False, kind="stable")
    return {child: parent for (child, parent) in reversed(counts.index.tolist())}


def shown_nested_counts(
    table: pd.DataFrame,
    parents: dict[str, str],
    marginal: dict[str, dict],
    counts: tuple[str, ...],
    forced: dict[str, set[str]] | None = None,
) -> dict[str, dict]:
    """Group -> {count: value as shown} for an attribute whose groups nest in a coarser attribute's
    (`parents`: group -> coarser group; `marginal`: the coarser table as shown, group -> count -> value).
    Each count is suppressed as a table with one row per coarser group, whose row totals are the
    coarser table's counts (withheld here where withheld there), so no group is its coarser group's
    count minus its shown siblings. `forced`: group -> counts withheld from the start."""
    frame = table.assign(_row=table["group"].map(parents).fillna("unknown"))
    shown: dict[str, dict] = {label: {} for label in table["group"]}
    forced = forced or {}
    for count in counts:
        grid = frame.pivot_table(index="_row", columns="group", values=count, aggfunc="sum", fill_value=0)
        withhold = [(row, TOTAL) for row in grid.index if is_withheld(marginal.get(row, {}).get(count))]
        withhold += [(row, label) for label, row in zip(frame["group"], frame["_row"], strict=True)
                     if count in forced.get(label, ())]  # fmt: skip
        published = suppress_table(grid.astype(int), column_totals=False, withhold=withhold)
        for label, row in zip(frame["group"], frame["_row"], strict=True):
            shown[label][count] = published.loc[row, label]
    return shown


def shown_intersection_counts(
    table: pd.DataFrame,
    first: str,
    second: str,
    marginal: dict[str, dict[str, dict]],
    counts: tuple[str, ...],
    forced: dict[str, set[str]] | None = None,
) -> dict[str, dict]:
    """Intersection cell label -> {count: value as shown}, each count suppressed as a two-way table.

    `table`: the intersection's group metrics table (column `group`, one column per count);
    `marginal`: the single-attribute tables as shown (attribute -> group -> count -> value), whose
    withheld values are withheld in this table's totals too; `forced`: cell label -> counts withheld
    from the start.
    """
    split = table["group"].str.split(SEPARATOR, n=1, expand=True)
    frame = table.assign(_row=split[0], _column=split[1])
    shown: dict[str, dict] = {label: {} for label in table["group"]}
    forced = forced or {}
    for count in counts:
        grid = frame.pivot_table(index="_row", columns="_column", values=count, aggfunc="sum", fill_value=0)
        withhold = [
            (row, TOTAL) for row in grid.index if is_withheld(marginal.get(first, {}).get(row, {}).get(count))
        ] + [
            (TOTAL, column)
            for column in grid.columns
            if is_withheld(marginal.get(second, {}).get(column, {}).get(count))
        ] + [
            (row, column)
            for label, row, column in zip(frame["group"], frame["_row"], frame["_column"], strict=True)
            if count in forced.get(label, ())
        ]
        published = suppress_table(grid.astype(int), withhold=withhold)
        for label, row, column in zip(frame["group"], frame["_row"], frame["_column"], strict=True):
            shown[label][count] = published.loc[row, column]
    return shown
