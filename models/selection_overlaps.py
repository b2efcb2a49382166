"""The back-test's selections read against each other: no slice between two of them gives a count back.

`evaluate` publishes the pupils with the outcome in several selections of one ranked list: the top 1%,
5% and 10%, each likelihood band, each RAG rating and each tenth of the list. Each table is suppressed on
its own, but the selections overlap: on the demo the "very high" band (3,137 pupils, 1,014 with the
outcome) held the top 5% (3,126, 1,013), so the 11 pupils between had exactly 1; and red (1,023) less
very high gave the 9 excluded among the 109 high-likelihood pupils with a protection plan or looked after.

So the pupils are cut into the slices no published selection splits (each pupil's membership of every
selection; the slices' sizes are taken as known, as the list's cut points and the scores' matrix show
them), each selection's shown count is an equation over the slices, and a piece (a slice, or what one
selection holds beyond another, or what two share) whose count with the outcome, or without it, the
equations pin to 1-9 is a disclosure. `withheld_selections` withholds one more selection (or two) at a
time (the least used first: tenths, then bands, then ratings, then capacities; never the headline) until
none is pinned.
"""

from __future__ import annotations

from collections.abc import Hashable
from itertools import combinations

import numpy as np
import pandas as pd

from exclusion_risk.models.metrics import top_share
from exclusion_risk.privacy import SECONDARY, SUPPRESSION_THRESHOLD, is_withheld
from exclusion_risk.values import and_join

CALIBRATION_GROUPS = 10
BESIDE_SCORES_PAGE = "Warning: scores.html prints the number of pupils "  # the opening of beside_scores_page


def beside_scores_page(names: list[str]) -> str:
    """The warning that scores.html prints sizes this page withholds: `names`, as 'rated red' or 'in the
    high band', exactly those (scores.html withholds some bands' sizes itself: those it does are
    withheld here too, `evaluate_need.page_withheld_bands`)."""
    one = len(names) == 1
    return (
        f"{BESIDE_SCORES_PAGE}{and_join(names)}, which this page withholds (\"x\"): beside the tenths "
        f"and top k% here, which follow from the pupils with outcomes, {'it gives' if one else 'those give'} "
        "back a number of pupils under 10 (of one band or rating within one tenth, say). No outcome is "
        "given back, but this evaluation should not be published beside that page."
    )


# A selection: (table, key) -> (pupil mask, its count with the outcome as shown: int, or None if withheld)
Selection = tuple[np.ndarray, int | None]


def _slices(masks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(slice of each pupil, selections x slices membership) for the pupils cut by every mask."""
    signature = np.stack(masks, axis=1)
    patterns, slice_of = np.unique(signature, axis=0, return_inverse=True)
    return slice_of.ravel(), patterns.T.astype(float)


def _pinned(membership: np.ndarray, shown: list[int], vector: np.ndarray) -> bool:
    """Whether `vector` (over slices) is a combination of the shown selections' rows."""
    rows = membership[shown]
    if not len(rows):
        return False
    return np.linalg.matrix_rank(np.vstack([rows, vector])) == np.linalg.matrix_rank(rows)


def _pieces(membership: np.ndarray) -> list[np.ndarray]:
    """The sets of slices a reader would work out: each slice, and for every two selections (withheld
    ones too: their pupils are known) what one holds beyond the other and what both hold."""
    count = membership.shape[1]
    found = {tuple(row) for row in np.eye(count, dtype=bool)}
    rows = membership > 0
    for a, b in combinations(range(len(rows)), 2):
        for piece in (rows[a] & ~rows[b], rows[a] & rows[b], rows[b] & ~rows[a]):
            if piece.any():
                found.add(tuple(piece))
    return [np.array(piece, dtype=float) for piece in sorted(found)]


def _small_pinned(membership, shown, pieces, positives, sizes, skip) -> np.ndarray | None:
    """A piece whose count with the outcome or without it is 1-9 and that the shown selections pin."""
    rows = membership[shown]
    if not len(rows):
        return None
    null = np.linalg.svd(rows)[2][np.linalg.matrix_rank(rows):]  # directions the shown rows leave free
    for piece in pieces:
        count, size = piece @ positives, piece @ sizes
        small = any(0 < c < SUPPRESSION_THRESHOLD for c in (count, size - count))
        if small and tuple(piece) not in skip and (not len(null) or np.abs(null @ piece).max() < 1e-9):
            return piece
    return None


def withheld_selections(
    selections: dict[tuple[str, Hashable], Selection],
    outcome: np.ndarray,
    order: list[tuple[str, Hashable]],
    total_shown: bool,
) -> set[tuple[str, Hashable]]:
    """The selections (beyond those already withheld) whose counts with the outcome must be withheld so
    that no piece (`_pieces`) has its count pinned to 1-9. `order`: the selections that may be withheld,
    first choice first; `total_shown`: whether the count of all pupils with the outcome is published.
    A piece pinned by what may not be withheld (the headline) is left: withholding the rest would not help."""
    keys = list(selections)
    index = {k: i for i, k in enumerate(keys)}
    masks = [selections[k][0] for k in keys] + [np.ones(len(outcome), dtype=bool)]
    slice_of, membership = _slices(masks)
    positives = np.bincount(slice_of, weights=outcome.astype(float), minlength=membership.shape[1])
    sizes = np.bincount(slice_of, minlength=membership.shape[1]).astype(float)
    pieces = _pieces(membership)
    shown = [i for i, k in enumerate(keys) if selections[k][1] is not None] + ([len(keys)] * total_shown)
    withheld: set[tuple[str, Hashable]] = set()
    unhelped: set[tuple] = set()
    while (piece := _small_pinned(membership, shown, pieces, positives, sizes, unhelped)) is not None:
        candidates = [index[k] for k in order if k in index and index[k] in shown]
        if _pinned(membership, [j for j in shown if j not in candidates], piece):
            unhelped.add(tuple(piece))
            continue
        # The fewest selections, first choices first, whose withholding unpins this piece: one, else
        # two (a selection the others add up to, such as a band beside the rest and the total, must go
        # with one of those), else the first that holds part of it.
        options = [(i,) for i in candidates] + list(combinations(candidates, 2))
        unpin = next((o for o in options if not _pinned(membership, [j for j in shown if j not in o], piece)),
                     None)  # fmt: skip
        choice = unpin or ([i for i in candidates if membership[i] @ piece > 0] or candidates)[:1]
        for i in choice:
            shown.remove(i)
            withheld.add(keys[i])
    return withheld


def tenths(n: int, groups: int = CALIBRATION_GROUPS) -> np.ndarray:
    """Each of `n` ranked pupils' equal-count group (1 = highest), as `calibration` cuts them."""
    parts = np.array_split(np.arange(n), min(groups, n))
    return np.concatenate([np.full(len(p), i + 1) for i, p in enumerate(parts)])


# section -> (its rows' key, the field holding the count with the outcome, the ranked pupils' column)
_SELECTIONS = {
    "calibration": ("decile", "excluded", None),
    "by_band": ("band", "true_positives", "likelihood_band"),
    "by_rag": ("rag", "true_positives", "rag"),
    "by_capacity": ("capacity", "true_positives", None),
}


def published_selections(
    frame: pd.DataFrame, sections: dict[str, list[dict]], headline: float
) -> tuple[dict[tuple[str, Hashable], Selection], list[tuple[str, Hashable]]]:
    """The selections of `sections` (each tenth, band, rating and top k% of the ranked pupils in
    `frame`) with their counts with the outcome as shown, and those that may be withheld (all but the
    `headline` capacity), in `withheld_selections`' order."""
    n = len(frame)
    selections, order = {}, []
    for section, (key, field, column) in _SELECTIONS.items():
        # each pupil's tenth, band or rating as text, once per section (the capacities are rank cuts)
        values = tenths(n).astype(str) if section == "calibration" else (
            None if column is None else frame[column].astype(str).to_numpy())  # fmt: skip
        for row in sections[section]:
            mask = np.arange(n) < top_share(n, row[key]) if values is None else values == str(row[key])
            selections[(section, row[key])] = (mask, None if is_withheld(row[field]) else int(row[field]))
            if not (section == "by_capacity" and abs(row[key] - headline) < 1e-9):
                order.append((section, row[key]))
    return selections, order


def withhold_overlaps(
    frame: pd.DataFrame, sections: dict[str, list[dict]], total_shown: bool, headline: float,
    printed: frozenset = frozenset(), guarded: frozenset = frozenset(),
) -> list[str]:
    """Withhold ("x") the count with the outcome, and the rates from it, of selections whose overlaps
    would give a slice's count of 1-9 back (`withheld_selections`); the `headline` capacity is kept. Then
    the ratings' and bands' sizes that would give a number of pupils back (`withhold_cell_sizes`), whose
    sentences saying so it returns."""
    selections, order = published_selections(frame, sections, headline)
    withheld = withheld_selections(selections, frame["outcome"].to_numpy(), order, total_shown)
    for section, (key, field, _) in _SELECTIONS.items():
        for row in sections[section]:
            if (section, row[key]) in withheld:
                row[field] = SECONDARY
                rates = ("observed",) if section == "calibration" else ("precision", "recall")
                row.update(dict.fromkeys((*rates, "ci_low", "ci_high")))
    said = [overlaps_said(sections, withheld)] if withheld else []
    return said + withhold_cell_sizes(frame, sections, printed, guarded)


def overlaps_said(sections: dict[str, list[dict]], withheld: set[tuple[str, Hashable]]) -> str:
    """The sentence saying which counts with the outcome `withheld_selections` withheld, and why: they
    are withheld beyond "<10" and its partners, so `withheld` (the page, the console) says so."""
    names = {"by_rag": lambda k: f"rated {k}", "by_band": lambda k: f"in the {k} band",
             "calibration": lambda k: f"in tenth {k} of the list",
             "by_capacity": lambda k: f"in the top {100 * k:g}%"}  # fmt: skip
    named = [names[section](row[key]) for section, (key, _, _) in _SELECTIONS.items()
             for row in sections[section] if (section, row[key]) in withheld]  # fmt: skip
    tops = and_join([f"{100 * row['capacity']:g}%" for row in sections["by_capacity"]])
    one = len(named) == 1
    return (
        f"Withheld (\"x\"): the number{'' if one else 's'} with the outcome of the pupils {and_join(named)}, "
        f"and the rates worked out from {'it' if one else 'them'}. Beside the other counts with the outcome "
        f"this page prints (the top {tops}'s, the bands', the ratings', the tenths' and all pupils'), "
        f"{'it' if one else 'they'} would give back a number under 10 with the outcome, or without it: that "
        "of the pupils in one of these outside another (a band's pupils outside the top 5%, say), or in two."
    )


def withhold_cell_sizes(frame: pd.DataFrame, sections: dict[str, list[dict]],
                        printed: frozenset = frozenset(), guarded: frozenset = frozenset()) -> list[str]:
    """Withhold ("x") the sizes, and the rates that give them back, of RAG ratings (then bands) whose
    pupils, with the other sizes the page prints, would solve for a number of pupils of 1-9: a rating is
    cells of the risk matrix, so red less the very high band is the high-likelihood pupils with a
    protection plan or looked after (a one-school run: 147 red, 146 very high, so 1); and red less the
    top 5% is the pupils rated red outside it (on the demo 3,246 less 3,126: 120, but 1-9 on a small
    cohort). The sizes read together are the ratings', the bands' and the rank cuts' (each capacity's top
    k% and each tenth, printed whatever is withheld: they follow from the pupils with outcomes); what is
    solved for is every slice they leave and what one holds beyond another or two share (`_pieces`). A
    slice the rank cuts alone give back is not the ratings' or bands' to close. The cells a scoring can
    hold are those it holds (a possible cell that is empty is taken as known: it only withholds more).
    Returns the sentence saying what was withheld and why (none where nothing was).

    `printed`: the (section, band or rating) whose size scores.html prints for the same pupils (its
    matrix's band totals, its red count). A size withheld here that the page prints keeps this page safe
    on its own, not beside that one, and that is said (`beside_scores_page`): on the demo evaluate
    withheld the high and low bands' sizes ("x") while scores.html printed 6,467 and 43,752, and tenths
    4-10 (43,756) less the low band gave the 4 pupils of tenth 4 in the medium band, without a word.
    `guarded`: the (section, band) withheld because scores.html withholds them (`page_withheld_bands`):
    their sizes are kept from being worked out from the sizes shown, as a slice of 1-9 is; where the
    rank cuts alone give one, that is said."""
    n = len(frame)
    values = {"by_rag": ("rag", frame["rag"].astype(str).to_numpy()),
              "by_band": ("band", frame["likelihood_band"].astype(str).to_numpy())}  # fmt: skip
    rows = [(section, row) for section in values for row in sections[section]]
    masks = [values[section][1] == str(row[values[section][0]]) for section, row in rows]
    # pupils outside every published band or rating (no rating recorded) make a cut no sum of the cells
    placed = np.ones(n, dtype=bool)
    for section, (key, column) in values.items():
        placed &= np.isin(column, [str(row[key]) for row in sections[section]])
    rank = np.arange(n)
    cuts = [rank < top_share(n, row["capacity"]) for row in sections["by_capacity"]]
    cuts += [tenths(n) == t for t in range(1, min(CALIBRATION_GROUPS, n) + 1)] + [np.ones(n, dtype=bool)]
    fixed = [cut[placed] for cut in cuts if not (cut & ~placed).any()]
    if not placed.any():
        return []
    slice_of, membership = _slices([m[placed] for m in masks] + fixed)
    sizes = np.bincount(slice_of, minlength=membership.shape[1]).astype(float)
    pieces = [piece for piece in _pieces(membership) if 0 < piece @ sizes < SUPPRESSION_THRESHOLD]
    pieces += [membership[i] for i, (section, row) in enumerate(rows)
               if (section, str(row[values[section][0]])) in guarded and masks[i].any()]  # fmt: skip
    always = list(range(len(rows), len(membership)))

    def pinned(shown: list[int]) -> list[tuple]:
        return [tuple(piece) for piece in pieces if _pinned(membership, [*shown, *always], piece)]

    unclosable = set(pinned([]))

    def at_risk() -> list[tuple]:
        shown = [i for i, (_, row) in enumerate(rows) if not is_withheld(row["selected"])]
        return [piece for piece in pinned(shown) if piece not in unclosable]

    withheld, beside_page = [], []
    given = [f"in the {row['band']} band" for i, (section, row) in enumerate(rows)
             if (section, str(row.get("band"))) in guarded
             and tuple(membership[i]) in unclosable]  # fmt: skip
    while risks := len(at_risk()):
        # a shown 0 gives nothing back: its pupils are none
        shown = [row for (_, row), mask in zip(rows, masks, strict=True)
                 if not is_withheld(row["selected"]) and mask.any()]  # fmt: skip
        # the fewest rows, first choices first (ratings before bands, in their order), that leave fewest
        # slices at risk: one, else two (a band the others and the total add up to goes with one of them)
        options = [(k,) for k in range(len(shown))]
        costs = {option: (_left(shown, option, at_risk), option) for option in options}
        if min(costs.values())[0] >= risks:
            pairs = list(combinations(range(len(shown)), 2))
            costs = {option: (_left(shown, option, at_risk), option) for option in pairs} or costs
            if min(costs.values())[0] >= risks:
                costs = {option: (0, option) for option in options}
        for k in min(costs, key=costs.__getitem__):
            row = shown[k]
            row.update({"selected": SECONDARY, "precision": None, "ci_low": None, "ci_high": None})
            withheld.append(f"rated {row['rag']}" if "rag" in row else f"in the {row['band']} band")
            key = ("by_rag", str(row["rag"])) if "rag" in row else ("by_band", str(row["band"]))
            if key in printed:
                beside_page.append(withheld[-1])
    said = [beside_scores_page(beside_page)] if beside_page else []
    if given:
        said.append(f"Warning: the number of pupils {and_join(given)}, which scores.html's risk matrix "
                    "withholds, follows from the top k% and tenths here (which follow from the pupils with "
                    "outcomes) and cannot be withheld: beside that page's cells it gives back a number "
                    "under 10. This evaluation should not be published beside that page.")
    if not withheld:
        return said
    tops = and_join([f"{100 * row['capacity']:g}%" for row in sections["by_capacity"]])
    one = len(withheld) == 1
    return [
        f"Withheld (\"x\"): the number{'' if one else 's'} of pupils {and_join(withheld)}, and the "
        f"precision{'' if one else 's'} that would give {'it' if one else 'them'} back. Beside the other "
        f"numbers of pupils this page prints (the ratings', the bands', the top {tops}'s, the tenths' and "
        f"all pupils'), {'it' if one else 'they'} would give back a number under 10: the pupils of a rating "
        "or band outside a top k% (those rated red outside the top 5%, say), or of one band and rating."
    ] + said


def _left(rows: list[dict], option: tuple[int, ...], at_risk) -> int:
    """How many slices `at_risk()` finds with the sizes of `rows` at `option` withheld too."""
    kept = [rows[k]["selected"] for k in option]
    for k in option:
        rows[k]["selected"] = SECONDARY
    try:
        return len(at_risk())
    finally:
        for k, value in zip(option, kept, strict=True):
            rows[k]["selected"] = value
