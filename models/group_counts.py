"""A selection's counts by group as they may be published: one suppression pattern for one population.

The fairness review (`fairness.json`) and the back-test of the same scores (`evaluation.json`) both
publish, per group, the pupils, the excluded, the selected at capacity and what the error rates give
back (tp, fp, fn, tn). Suppressed by two different rules, each output withheld cells the other printed,
and together they gave a hidden count back (Chinese/other true positives = 1013 - 1004 - 0 = 9 on the
demo). So both take their counts from `shown_group_counts`, which is deterministic in the counts: the
same pupils, groups and selection give the same cells withheld in every output, so the group tables of
one read beside the other's give nothing back that either hides (a linear audit of both finds no count
under 10: tests/models/disclosure_audit.py). It does not make two different populations safe to publish
side by side, nor other counts an output prints beside these. The same rule hides the ablated model's and
each option's counts.

The rule (`privacy.suppress_table` on the group x count table, its column totals being the whole
population's): primary "<10", secondary "x" so no column sum gives a withheld cell back; a group with
one confusion count withheld has all four withheld (`closed`), because its shown counts and any one of
them give the other three; and where a row (the population's too) shows a count and one that holds its
pupils (`NESTED`: the excluded and the pupils, ...), whose difference is 1-9, the smaller is withheld
("x", `nested_small`): a group of 15 pupils, 10 of them excluded, showed both and so its 5 not excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from exclusion_risk.models.fairness_intersections import shown_nested_counts
from exclusion_risk.privacy import (
    SUPPRESSED,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    is_withheld,
    suppress_count,
    suppress_table,
)

ERROR_CELLS = ("tp", "fp", "fn", "tn")
COUNTS = ("n", "selected", "positives")
# The counts a group's rates rest on or give back (precision x selected = tp, then fp, fn and tn). The
# confusion counts are suppressed as the shown counts are, across the groups and the total: left out, a
# group whose error rates were hidden had its true positives worked out from its siblings' and the
# total's (girls / Black: 59 - 51 = 8).
PROTECTED = (*COUNTS, *ERROR_CELLS)
# (count, a count of the same row holding its pupils): both shown, their difference is a count too (the
# pupils not excluded, not selected, selected without the outcome, ...).
NESTED = (
    ("selected", "n"), ("positives", "n"), ("tp", "selected"), ("fp", "selected"), ("tp", "positives"),
    ("fn", "positives"), *((cell, "n") for cell in ERROR_CELLS),
)  # fmt: skip


def confusion_by_group(outcome, selected, labels) -> pd.DataFrame:
    """One row per group (index: the group as text): pupils `n`, `selected`, `positives` and tp, fp, fn,
    tn of the selection against the outcome."""
    outcome = np.asarray(outcome, dtype=bool)
    selected = np.asarray(selected, dtype=bool)
    cells = pd.DataFrame({
        "group": pd.Series(labels).astype(str).to_numpy(),
        "tp": selected & outcome, "fp": selected & ~outcome, "fn": ~selected & outcome,
        "tn": ~selected & ~outcome,
    })  # fmt: skip
    table = cells.groupby("group")[list(ERROR_CELLS)].sum().astype(int)
    table["n"] = table.sum(axis=1)
    table["selected"] = table["tp"] + table["fp"]
    table["positives"] = table["tp"] + table["fn"]
    return table[list(PROTECTED)]


def nested_small(counts: dict) -> set[str]:
    """The counts of a row as shown (count -> value) to withhold because, beside a shown count that holds
    their pupils (`NESTED`), their difference is 1-9: the smaller of each such pair (it is 10 or more, or
    it would be "<10" already, so "x" is true of it)."""
    def shown(c: str) -> bool:
        return c in counts and not is_withheld(counts[c])

    return {part for part, whole in NESTED if shown(part) and shown(whole)
            and 0 < int(counts[whole]) - int(counts[part]) < SUPPRESSION_THRESHOLD}  # fmt: skip


def closed(suppress: Callable[[dict[str, set[str]]], dict[str, dict]]) -> dict[str, dict]:
    """`suppress(forced)` (group -> counts withheld from the start) run until every group with one of
    its ERROR_CELLS withheld has all of them withheld (with its shown counts, any one gives the rest),
    and no row (the population's, TOTAL, too where `suppress` gives it) shows two counts whose difference
    gives 1-9 back (`nested_small`). What more `suppress` withholds to keep those from its totals is its
    own rule's (the partners of `suppress_table`)."""
    forced: dict[str, set[str]] = {}
    while True:
        shown = suppress(forced)
        more = {}
        for group, counts in shown.items():
            errors = group != TOTAL and any(is_withheld(counts[c]) for c in ERROR_CELLS)
            new = ({*ERROR_CELLS} if errors else set()) | nested_small(counts)
            new -= forced.get(group, set())
            if new:
                more[group] = new
        if not more:
            return shown
        for group, cells in more.items():
            forced.setdefault(group, set()).update(cells)


def shown_group_counts(table: pd.DataFrame, withhold: Iterable[tuple[str, str]] = ()) -> dict[str, dict]:
    """Group -> {count: value as shown} (and TOTAL -> the population's), for a table indexed by group
    with the PROTECTED columns. Rows are taken largest first (ties by name) whatever order they come in,
    so the pattern depends on the counts alone. `withhold`: (group, count) withheld from the start."""
    counts = table[list(PROTECTED)].astype(int)
    order = sorted(counts.index, key=lambda group: (-int(counts.at[group, "n"]), str(group)))
    counts = counts.loc[order]
    start = list(withhold)
    return closed(lambda forced: suppress_table(
        counts, row_totals=False, withhold=start + [(g, c) for g, cs in forced.items() for c in cs]
    ).to_dict("index"))  # fmt: skip


def _joined(start: dict[str, set[str]], forced: dict[str, set[str]]) -> dict[str, set[str]]:
    """Group -> counts withheld from the start: both mappings' together."""
    return {group: set(start.get(group, ())) | set(forced.get(group, ())) for group in {*start, *forced}}


def shown_attribute_counts(
    tables: dict[str, pd.DataFrame], nesting: dict, withhold: dict[str, dict[str, set[str]]] | None = None
) -> dict[str, dict]:
    """Attribute -> group -> counts as shown, for one selection's tables (column `group` and PROTECTED):
    `shown_group_counts`; an attribute nested in a coarser one (`nesting`: attribute -> (coarser, group ->
    coarser group); detailed ethnicity) against the coarser groups as shown, which are its totals.
    `withhold`: attribute -> group -> counts withheld from the start ("x"), their partners chosen by the
    same rule."""
    withhold = withhold or {}
    shown = {a: shown_group_counts(t.set_index("group"), [(g, c) for g, cs in withhold.get(a, {}).items()
                                                          for c in sorted(cs)])
             for a, t in tables.items() if a not in nesting}  # fmt: skip
    for attribute, table in tables.items():
        if attribute in nesting:
            coarser, parents = nesting[attribute]
            start = withhold.get(attribute, {})
            marginal = shown.get(coarser, {})
            shown[attribute] = closed(lambda forced, table=table, parents=parents, m=marginal, start=start: (
                shown_nested_counts(table, parents, m, PROTECTED, _joined(start, forced))))
    return shown


def withheld_among(tables: Iterable[dict | None], cells: Iterable[str]) -> str | None:
    """How a rate resting on `cells` of one or more groups' counts as shown (`tables`; None: not tabled)
    reads where one of them is withheld: "<10" (SUPPRESSED) where one is under 10, "-" where they are
    withheld as "x" only; None where all are shown. A rate with a shown denominator gives its numerator
    back, and with a shown numerator its denominator: it is shown only with every count it rests on."""
    cells = list(cells)
    withheld = [t[c] for t in tables if t is not None for c in cells if is_withheld(t[c])]
    if not withheld:
        return None
    return SUPPRESSED if SUPPRESSED in withheld else "-"


def errors_withheld(counts: dict) -> bool:
    """Whether the group's confusion counts are withheld (`closed`): its error rates would give them back."""
    return any(is_withheld(counts[c]) for c in ERROR_CELLS)


def shown_total(shown: dict[str, dict], column: str, value: int) -> int | str:
    """A population total (`value` of `column`) as published beside several attributes' tables (`shown`:
    attribute -> group -> counts, TOTAL included): withheld as any of them withholds it, else the count."""
    withheld = [t[TOTAL][column] for t in shown.values() if TOTAL in t and is_withheld(t[TOTAL][column])]
    return withheld[0] if withheld else suppress_count(int(value))
