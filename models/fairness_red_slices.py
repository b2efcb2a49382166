"""The red list's figures read beside the top k%'s: which slices of pupils they give back, and what the
fairness review withholds so that none of them is a count of 1-9.

The top k% is (nearly) inside the red list, so red less top is a count of pupils red outside the top k%
(true positives less true positives: those of them with the outcome; false positives: those without).
The red list section (`fairness_red_list`) prints, by group, the red count and precision among red beside
the top k%'s, and the overall red and top k% sizes and precisions. A reader subtracts:

* a group's red figures less its top k% figures (`overlap_small`): its red figures are withheld ("x");
* a group's red figures as bounds on its top k% figures (`top_given_back`): red true (false) positives
  are at least the top k%'s, so a red count equal to the top k%'s makes the red precision the top k%'s,
  which the groups table may withhold (the demo's White and Asian pupils, 42 and 42: their 11 top 5% true
  positives, withheld beside White and Black African's under 10, then 6): its red precision is withheld;
* groups whose figures are withheld, together: a line's total (the overall figures, or a broad ethnic
  group's over its detailed codes) less its shown groups, red less top (e.g. Mixed 23 red against 20 in
  the top 5% and Chinese 24 against 20, each withheld for its own 3 and 4, gave their 7 back);
* the overall red less the overall top k% (`total_at_risk`): where 1-9, the overall red count (and
  precision among red) is withheld, and then no table's groups may add up to it.

`slices` finds every slice a reader can work out: the sums a line's published figures give are an
attribute's groups (and the detailed codes nested in its groups) as sets of its finest groups, and what
they pin down is the unions of the smallest "blocks" each side's published sets leave (a laminar family's
span); a slice is worked out when it is such a union on the red side and on the top k% side. Each such
smallest slice, and each published group or total that is one, is checked; a union of slices checked
separately is their differences' sum, as for groups shown side by side. `shown_beside_top` withholds
red figures until none is 1-9: a group's own (`overlap_small`), else the partner that closes a slice at
least cost (`privacy.complement`: the fewest slices left at risk, then the smallest red count), and
a group's whose red figures pin a withheld top k% figure (`top_given_back`).
`slice_fixes` takes the side to withhold: evaluate (`models.evaluate_schools`) runs the same rule with
scores.html's red counts by school, published first, and withholds its own top 5% figures instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from exclusion_risk.models.fairness import AttributeReview
from exclusion_risk.models.group_counts import (
    ERROR_CELLS,
    errors_withheld,
    shown_attribute_counts,
    shown_total,
)
from exclusion_risk.privacy import SECONDARY, SUPPRESSION_THRESHOLD, TOTAL, complement, is_withheld

SLICE_COUNTS = ("selected", "tp", "fp")  # pupils, with the outcome, without it
WHOLE = (TOTAL, TOTAL)  # all pupils, in a family's sets
Key = tuple[str, str]  # (attribute, group)
Atoms = frozenset[int]


def given_back(counts: dict) -> tuple[bool, bool]:
    """Whether a group's selected count, and its true and false positives (precision x selected), can be
    read from its row of the section."""
    count = not is_withheld(counts["selected"])
    return count, count and not errors_withheld(counts)


def _small(difference: int) -> bool:
    return 0 < abs(difference) < SUPPRESSION_THRESHOLD


def overlap_small(red: pd.Series, top: pd.Series, red_shown: dict, top_shown: dict) -> bool:
    """Whether a group's red and top k% figures as shown, read together, give a slice of 1-9 back: the
    pupils red outside the top k% (or the other way), or those of them with the outcome, or without it
    (from the true counts)."""
    (red_count, red_errors), (top_count, top_errors) = given_back(red_shown), given_back(top_shown)
    cells = ["selected"] if red_count and top_count else []
    cells += ["tp", "fp"] if red_errors and top_errors else []
    return any(_small(int(red[c]) - int(top[c])) for c in cells)


def _pins_top(red: pd.Series, top: pd.Series, red_shown: dict, top_shown: dict) -> bool:
    """Whether a group's red figures as shown (`red_shown`), the top k% taken as inside the red list,
    leave one of its top k% counts that the review's table withholds (`top_shown`) one value: its top k%
    true (false) positives are at most its red ones, or its red count where only that is shown, and sum
    to its top k% count."""
    top_count, top_errors = given_back(top_shown)
    count, errors = given_back(red_shown)
    if top_errors or not count:
        return False
    most = {c: int(red[c]) if errors else int(red["selected"]) for c in ("tp", "fp")}
    if not top_count:  # its size: at most the red count, or the red true and false positives together
        return min(int(red["selected"]), most["tp"] + most["fp"]) == 0
    size = int(top["selected"])  # a shown 0 gives its true positives back by itself
    return size > 0 and max(0, size - most["fp"]) == min(size, most["tp"])


def top_given_back(red: pd.Series, top: pd.Series, red_shown: dict, top_shown: dict) -> set[str]:
    """The group's red counts to withhold because, read beside its top k% figures as shown, they give a
    top k% count back that the review's table withholds (`_pins_top`): its red precision where that alone
    does, its red count too where that does. A red count equal to the top k%'s is the same pupils, so its
    precision among red is the top k%'s: on the demo White and Asian pupils' 42 red against 42 in the top
    5%, at 0.262, gave back the 11 true positives the groups table withheld to protect White and Black
    African's under 10, which were then Mixed's 112 less 84, 11 and 11: 6. A red true (false) positive
    count of 0 gives the top k%'s as 0 the same way."""
    if not _pins_top(red, top, red_shown, top_shown):
        return set()
    precision_withheld = {**red_shown, **dict.fromkeys(ERROR_CELLS, SECONDARY)}
    return set(ERROR_CELLS) if not _pins_top(red, top, precision_withheld, top_shown) else {
        "selected", *ERROR_CELLS}  # fmt: skip


def overall_precision(table: pd.DataFrame, shown: dict) -> float | None:
    """Precision of a selection over all pupils (one attribute's groups summed), where its total confusion
    counts are published (none withheld in any table) and each non-zero one is 10 or more."""
    values = {c: int(table[c].sum()) for c in ERROR_CELLS}
    if any(is_withheld(shown_total(shown, c, v)) for c, v in values.items()):
        return None
    if min((v for v in values.values() if v > 0), default=0) < SUPPRESSION_THRESHOLD:
        return None
    selected = values["tp"] + values["fp"]
    return values["tp"] / selected if selected else None


def total_at_risk(red: pd.DataFrame, top: pd.DataFrame) -> set[str]:
    """The overall red list's counts to withhold because beside the top k%'s they give 1-9 back (`red`,
    `top`: one attribute's table of each, summed): its size and precision (every count) where the pupils
    differ by 1-9, its precision (the confusion counts) where only those with or without the outcome do."""
    differences = {c: int(red[c].sum()) - int(top[c].sum()) for c in SLICE_COUNTS}
    if _small(differences["selected"]):
        return {"selected", *ERROR_CELLS}
    return set(ERROR_CELLS) if _small(differences["tp"]) or _small(differences["fp"]) else set()


@dataclass
class Family:
    """An attribute's groups, and any attribute's nested in them, as sets of atoms (the finest groups: a
    broad group is its detailed codes), with each set's true red and top k% counts; WHOLE is all pupils."""

    sets: dict[Key, Atoms]
    counts: dict[Key, dict[str, tuple[int, int]]]  # key -> count -> (red, top)

    def difference(self, atoms: Atoms, count: str) -> int:
        """Red less top k% over a slice: a set's own counts, else its atoms' (each a set) summed."""
        named = next((k for k, s in self.sets.items() if s == atoms), None)
        if named is not None:
            red, top = self.counts[named][count]
            return red - top
        singles = {next(iter(s)): k for k, s in self.sets.items() if len(s) == 1}
        return sum(self.counts[singles[a]][count][0] - self.counts[singles[a]][count][1] for a in atoms)


def _pair(red: pd.Series, top: pd.Series) -> dict[str, tuple[int, int]]:
    return {c: (int(red[c]), int(top[c])) for c in SLICE_COUNTS}


def families(red: dict[str, pd.DataFrame], top: dict[str, pd.DataFrame], nesting: dict) -> list[Family]:
    """One `Family` per attribute not nested in another (and per attribute nested in it, if several), from
    the red list's and the top k%'s tables (attribute -> table indexed by group)."""
    out = []
    for attribute in red:
        if attribute in nesting:
            continue
        nested = [n for n, (coarser, _) in nesting.items() if coarser == attribute and n in red]
        for inner in nested or [None]:
            sets: dict[Key, Atoms] = {}
            counts = {WHOLE: _pair(*(t[attribute][list(SLICE_COUNTS)].sum() for t in (red, top)))}
            children: dict[str, set[int]] = {}
            if inner is not None:
                for code in red[inner].index:
                    sets[(inner, code)] = frozenset({len(sets)})
                    counts[(inner, code)] = _pair(red[inner].loc[code], top[inner].loc[code])
                    children.setdefault(nesting[inner][1].get(code), set()).add(len(sets) - 1)
            for group in red[attribute].index:  # a broad group no code falls in is an atom of its own
                atoms = children.get(group) or {len({a for s in sets.values() for a in s})}
                sets[(attribute, group)] = frozenset(atoms)
                counts[(attribute, group)] = _pair(red[attribute].loc[group], top[attribute].loc[group])
            sets[WHOLE] = frozenset(a for s in sets.values() for a in s)
            out.append(Family(sets, counts))
    return out


def _blocks(known: Iterable[Atoms]) -> list[Atoms]:
    """The smallest sets whose sums `known` (a laminar family of sets with known sums) pins down: each set
    less the known sets inside it."""
    sets = set(known)
    blocks = [s.difference(*(t for t in sets if t < s)) for s in sets]
    return [b for b in blocks if b]


def _joint(red: list[Atoms], top: list[Atoms]) -> list[Atoms]:
    """The smallest slices both sides' blocks pin down: groups of overlapping blocks, each atom of them in
    a block of each side."""
    owner: dict[int, int] = {}
    groups: list[set[int]] = []
    for block in red + top:
        merged = {owner[a] for a in block if a in owner}
        atoms = set(block).union(*(groups[i] for i in merged))
        groups.append(atoms)
        for a in atoms:
            owner[a] = len(groups) - 1
    red_atoms, top_atoms = set().union(*red), set().union(*top)
    components = {frozenset(groups[i]) for i in set(owner.values())}
    return [c for c in components if c <= red_atoms and c <= top_atoms]


def slices(family: Family, red: set[Key], top: set[Key]) -> set[Atoms]:
    """The slices of `family` a reader works out, red less top k% (`red`, `top`: the keys whose counts are
    known on each side): the smallest, and each set of the family that is a union of them."""
    joint = _joint(_blocks(family.sets[k] for k in red if k in family.sets),
                   _blocks(family.sets[k] for k in top if k in family.sets))  # fmt: skip
    covered = frozenset().union(*joint)
    found = set(joint)
    found |= {s for s in family.sets.values()
              if s <= covered and all(b <= s or not b & s for b in joint)}  # fmt: skip
    return found


def _covers(family: Family, known: set[Key]) -> bool:
    """Whether the known sets of `family` add up to all pupils."""
    return frozenset().union(*(s for k, s in family.sets.items() if k in known)) == family.sets[WHOLE]


def _at_risk(fams: list[Family], count: str, red: set[Key], top: set[Key], published: tuple[bool, bool]):
    """(family index, slice) of each slice of 1-9 (`count`) a reader works out; the overall figures known
    where published or where any family's known groups add up to them."""
    red, top = set(red), set(top)
    if published[0] or any(_covers(f, red) for f in fams):
        red.add(WHOLE)
    if published[1] or any(_covers(f, top) for f in fams):
        top.add(WHOLE)
    return [(i, s) for i, f in enumerate(fams) for s in slices(f, red, top) if _small(f.difference(s, count))]


def _known(listed: dict, shown: dict, count: str) -> tuple[set[Key], set[Key]]:
    """The groups whose red (`listed`) and top k% (`shown`) `count` a reader has from their rows."""
    column = 0 if count == "selected" else 1

    def known(tables: dict) -> set[Key]:
        return {(a, g) for a, groups in tables.items() for g, c in groups.items()
                if g != TOTAL and given_back(c)[column]}  # fmt: skip

    return known(listed), known(shown)


RED, TOP = 0, 1  # the side whose figures are withheld: the red list's (the review) or the top k%'s


def slice_fixes(fams: list[Family], listed: dict, shown: dict, published: dict[str, tuple[bool, bool]],
                side: int = RED) -> dict[Key, str]:  # fmt: skip
    """(attribute, group) -> the count (of SLICE_COUNTS) whose figures on `side` to withhold more: for the
    first count with a slice of 1-9 a reader works out (`published`: count -> whether the overall red and
    top k% figures are published), of the groups whose withholding on `side` closes one such slice, the
    one `complement` takes (fewest slices at risk left, then the smallest count on that side); where none
    closes one alone, the least costly group of the families at risk (the next round takes another). A
    slice worked out with every figure on `side` withheld (the overall figures alone) is left. The
    review withholds the red list's figures (RED); evaluate, read beside the red counts by school that
    scores.html published first, its top 5%'s (TOP)."""
    for count in SLICE_COUNTS:
        known = _known(listed, shown, count)
        # a slice still worked out with every figure on `side` withheld is not this side's to close
        floor = [set(known[0]), set(known[1])]
        floor[side] = set()
        unclosable = _at_risk(fams, count, *floor, published[count])
        risks = [r for r in _at_risk(fams, count, *known, published[count]) if r not in unclosable]
        if not risks:
            continue
        candidates = sorted({k for i, _ in risks for k in known[side] if k in fams[i].sets})

        def left_without(key: Key, count=count, known=known) -> list:
            sides = [set(known[0]), set(known[1])]
            sides[side].discard(key)
            return _at_risk(fams, count, *sides, published[count])

        left = {k: left_without(k) for k in candidates}
        closing = [k for k in candidates if any(risk not in left[k] for risk in risks)] or candidates
        if not closing:
            return {}
        size = {k: next(f.counts[k]["selected"][side] for f in fams if k in f.counts) for k in closing}
        return {complement(closing, size.__getitem__, lambda k, left=left: len(left[k])): count}
    return {}


def _published(red: list[AttributeReview], top: list[AttributeReview], listed: dict, shown: dict):
    """count -> whether the overall red and top k% counts are published (red: its size; with the outcome
    or without it: its precision and size; top k%: every count the review's tables show)."""
    if not red:
        return dict.fromkeys(SLICE_COUNTS, (False, False))
    tables = red[0].table, top[0].table
    size = not is_withheld(shown_total(listed, "selected", int(tables[0]["selected"].sum())))
    errors = size and overall_precision(tables[0], listed) is not None
    top_shown = {c: not is_withheld(shown_total(shown, c, int(tables[1][c].sum()))) for c in SLICE_COUNTS}
    return {c: (size if c == "selected" else errors, top_shown[c]) for c in SLICE_COUNTS}


def _overlaps(red: list[AttributeReview], top: list[AttributeReview], listed: dict, shown: dict) -> dict:
    found = {}
    for t, own in zip(top, red, strict=True):
        rows, counts = t.table.set_index("group"), listed[own.attribute]
        for g, row in own.table.set_index("group").iterrows():
            if overlap_small(row, rows.loc[g], counts[g], shown[t.attribute][g]):
                found[(own.attribute, g)] = {"selected", *ERROR_CELLS}
            elif cells := top_given_back(row, rows.loc[g], counts[g], shown[t.attribute][g]):
                found[(own.attribute, g)] = cells
    return found


def shown_beside_top(red: list[AttributeReview], top: list[AttributeReview], shown: dict,
                     nesting: dict) -> dict:  # fmt: skip
    """The red list's counts as shown (`shown_attribute_counts`), with red figures withheld ("x") until
    none, read beside the top k% figures as shown (`shown`), gives a slice of 1-9 back: a group's own
    where its row does (`overlap_small`) or pins a top k% figure the groups table withholds
    (`top_given_back`), their partners in each line (the attribute's total, detailed
    ethnicity's broad group) withheld by the same rule; the overall red count or precision where the
    overall figures do (`total_at_risk`); then a partner wherever groups together, or a total worked out
    from its groups, do (`slice_fixes`). Repeated until nothing more is withheld."""
    tables = {a.attribute: a.table for a in red}
    fams = families({a: t.set_index("group") for a, t in tables.items()},
                    {a.attribute: a.table.set_index("group") for a in top}, nesting)  # fmt: skip
    overall = total_at_risk(red[0].table, top[0].table) if red else set()
    withhold: dict[str, dict[str, set[str]]] = {a: {TOTAL: set(overall)} for a in tables
                                                if overall and a not in nesting}  # fmt: skip
    while True:
        listed = shown_attribute_counts(tables, nesting, withhold)

        def new(found: dict) -> dict:
            return {k: c for k, c in found.items() if not c <= withhold.get(k[0], {}).get(k[1], set())}

        found = new(_overlaps(red, top, listed, shown))
        if not found:
            fixes = slice_fixes(fams, listed, shown, _published(red, top, listed, shown))
            found = new({k: {"selected", *ERROR_CELLS} if c == "selected" else set(ERROR_CELLS)
                         for k, c in fixes.items()})  # fmt: skip
        if not found:
            return listed
        for (attribute, group), cells in found.items():
            withhold.setdefault(attribute, {}).setdefault(group, set()).update(cells)
