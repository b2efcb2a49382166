"""What a reader can work out from published group tables: every count a linear combination of the
published counts and rates pins down exactly.

The unknowns are each group's tp, fp, fn and tn (of the selection at capacity) in every table, and the
population's. A published count is an equation (n = tp + fp + fn + tn, selected = tp + fp, ...), a
published rate another (precision p: tp - p (tp + fp) = 0), and each table's groups sum to the population
(an intersection's to its two attributes' groups). A count is determined when it lies in the row space of
those equations; `small_counts_determined` lists those between 1 and 9: each is a disclosure.
"""

from __future__ import annotations

import numpy as np

CELLS = ("tp", "fp", "fn", "tn")
RATES = {  # fairness.json's metric label -> (numerator cells, denominator cells)
    "base rate (excluded)": (("tp", "fn"), CELLS),
    "selection rate": (("tp", "fp"), CELLS),
    "precision": (("tp",), ("tp", "fp")),
    "recall (TPR)": (("tp",), ("tp", "fn")),
    "false-positive rate": (("fp",), ("fp", "tn")),
    "false-negative rate": (("fn",), ("tp", "fn")),
}
SUMS = {"n": CELLS, "selected": ("tp", "fp"), "positives": ("tp", "fn"), "negatives": ("fp", "tn"),
        "not selected": ("fn", "tn")}  # fmt: skip
# evaluation.json's group row: count -> its cells; rate -> fairness' label for it
EVALUATION_COUNTS = {"pupils": CELLS, "excluded": ("tp", "fn"), "selected": ("tp", "fp"),
                     "true_positives": ("tp",)}  # fmt: skip
EVALUATION_RATES = {"precision": "precision", "recall": "recall (TPR)", "observed": "base rate (excluded)"}
ALL = ("population", "all")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Equations:
    def __init__(self):
        self.index: dict[tuple, int] = {}
        self.rows: list[dict[int, float]] = []
        self.values: list[float] = []

    def cell(self, table: str, group: str, cell: str) -> int:
        return self.index.setdefault((table, group, cell), len(self.index))

    def add(self, terms: list[tuple[tuple, float]], value: float) -> None:
        row: dict[int, float] = {}
        for (table, group, cell), weight in terms:
            key = self.cell(table, group, cell)
            row[key] = row.get(key, 0.0) + weight
        self.rows.append(row)
        self.values.append(float(value))

    def count(self, table: str, group: str, cells, value) -> None:
        if _number(value):
            self.add([((table, group, c), 1.0) for c in cells], value)

    def rate(self, table: str, group: str, label: str, value) -> None:
        if value is not None:
            numerator, denominator = RATES[label]
            self.add([((table, group, c), 1.0) for c in numerator]
                     + [((table, group, c), -value) for c in denominator], 0.0)  # fmt: skip

    def partition(self, table: str, groups: list[str], whole: tuple[str, str]) -> None:
        for c in CELLS:
            self.add([((table, g, c), 1.0) for g in groups] + [((*whole, c), -1.0)], 0.0)


def fairness_equations(equations: Equations, document: dict) -> None:
    """`fairness.json`'s group and intersection tables."""
    every = document["groups"] + document["intersections"]
    tables = {t["name"]: [r["group"] for r in t["rows"]] for t in every}
    for t in every:
        for r in t["rows"]:
            for count in ("n", "selected", "positives"):
                equations.count(t["name"], r["group"], SUMS[count], r[count])
            for metric, label in zip(r["metrics"], document["metrics"], strict=True):
                equations.rate(t["name"], r["group"], label, metric["value"])
    equations.count(*ALL, CELLS, document["pupils"])
    equations.count(*ALL, SUMS["positives"], document["positives"])
    for t in document["groups"]:
        equations.partition(t["name"], tables[t["name"]], ALL)
    for t in document["intersections"]:
        first, second = t["name"].split(" × ")
        for part, attribute in ((0, first), (1, second)):
            for label in {g.split(" / ")[part] for g in tables[t["name"]]}:
                inside = [g for g in tables[t["name"]] if g.split(" / ")[part] == label]
                equations.partition(t["name"], inside, (attribute, label))


def evaluation_equations(equations: Equations, document: dict, capacity: float = 0.05) -> None:
    """`evaluation.json`'s group table and its totals at `capacity`."""
    top = next(r for r in document["by_capacity"] if abs(r["capacity"] - capacity) < 1e-9)
    equations.count(*ALL, SUMS["selected"], top["selected"])
    equations.count(*ALL, ("tp",), top["true_positives"])
    equations.count(*ALL, SUMS["positives"], document["pupils"]["with_outcome"])
    for r in document["by_group"]:
        for count, cells in EVALUATION_COUNTS.items():
            equations.count(r["attribute"], r["group"], cells, r[count])
        for rate, label in EVALUATION_RATES.items():
            equations.rate(r["attribute"], r["group"], label, r[rate])


def _scaled_system(equations: Equations) -> tuple[np.ndarray, np.ndarray]:
    """The equations as a matrix and right-hand side, each row scaled to a largest weight of 1."""
    matrix = np.zeros((len(equations.rows), len(equations.index)))
    for i, row in enumerate(equations.rows):
        for key, weight in row.items():
            matrix[i, key] = weight
    values = np.asarray(equations.values)
    scale = np.abs(matrix).max(axis=1)
    return matrix / scale[:, None], values / scale


def small_counts_determined(equations: Equations) -> list[tuple[str, str, str, int]]:
    """(table, group, count, value) for each group count of 1-9 the equations pin down exactly."""
    matrix, values = _scaled_system(equations)
    solution = np.linalg.lstsq(matrix, values, rcond=None)[0]
    _, singular, vt = np.linalg.svd(matrix)
    null = vt[int((singular > 1e-9 * singular[0]).sum()):]
    found = []
    groups = sorted({(t, g) for (t, g, _) in equations.index if (t, g) != ALL})
    for table, group in groups:
        for count, cells in {**{c: (c,) for c in CELLS}, **SUMS}.items():
            vector = np.zeros(len(equations.index))
            for c in cells:
                vector[equations.index[(table, group, c)]] = 1.0
            if len(null) and np.abs(null @ vector).max() > 1e-7:
                continue  # some solution moves it: not determined
            value = float(vector @ solution)
            if 0.5 < value < 9.5:
                found.append((table, group, count, round(value)))
    return found


# ---- the red list beside the top k%: what a reader bounds, not only what a sum gives ----------------
# fairness.json's red list prints, by group, the red count and precision (and share) beside the top k%'s.
# The README says the top k% is inside the red list, so a reader takes each group's red true (false)
# positives as its top k% ones plus those red outside the top k%, a count that is never negative: a red
# count equal to the top k%'s leaves none outside, and the red precision is then the top k%'s. Equalities
# alone miss that; `bounded_small_counts` solves the linear programme, min and max of each count.
OUTSIDE = "red outside the top k%: "


def red_list_equations(equations: Equations, document: dict, nesting: dict) -> None:
    """`fairness.json`'s red list read beside its group tables (`fairness_equations`, added first): each
    group's red figures are its top k% cells plus cells OUTSIDE (tp, fp); the outside cells of an
    attribute's groups sum to all pupils', a broad group's to its detailed codes' (`nesting`: attribute ->
    (coarser attribute, code -> broad group)), as the top k% cells do (`nested_partitions`)."""
    red = document["red_list"]

    def red_cells(table: str, group: str) -> list[tuple[tuple, float]]:
        return [((t, group, c), 1.0) for t in (table, OUTSIDE + table) for c in ("tp", "fp")]

    def tp(table: str, group: str) -> list[tuple[tuple, float]]:
        return [((t, group, "tp"), 1.0) for t in (table, OUTSIDE + table)]

    def add_rate(terms, denominator, value) -> None:
        if value is not None:
            equations.add(terms + [(key, -value * w) for key, w in denominator], 0.0)

    for section in red["attributes"]:
        name = section["name"]
        for r in section["rows"]:
            group = r["group"]
            if _number(r["red"]):
                equations.add(red_cells(name, group), r["red"])
            equations.count(name, group, SUMS["selected"], r["top"])
            add_rate(tp(name, group), red_cells(name, group), r["red_precision"].get("value"))
            pupils = [((name, group, c), 1.0) for c in CELLS]
            add_rate(red_cells(name, group), pupils, r["red_share"].get("value"))
            if r["red_over_top"] is not None:
                add_rate(red_cells(name, group), [((name, group, c), 1.0) for c in ("tp", "fp")],
                         r["red_over_top"])  # fmt: skip
        groups = [r["group"] for r in section["rows"]]
        if name not in nesting:
            for c in ("tp", "fp"):
                equations.add([((OUTSIDE + name, g, c), 1.0) for g in groups]
                              + [((OUTSIDE + ALL[0], ALL[1], c), -1.0)], 0.0)  # fmt: skip
    whole = [((t, ALL[1], c), 1.0) for t in (ALL[0], OUTSIDE + ALL[0]) for c in ("tp", "fp")]
    if _number(red["red"]):
        equations.add(whole, red["red"])
    add_rate([((t, ALL[1], "tp"), 1.0) for t in (ALL[0], OUTSIDE + ALL[0])], whole, red["precision"]["red"])
    nested_partitions(equations, document, nesting, prefixes=("", OUTSIDE))


def nested_partitions(equations: Equations, document: dict, nesting: dict, prefixes=("",)) -> None:
    """A broad group's cells are its detailed codes' (`nesting`), for each table prefix."""
    tables = {t["name"]: [r["group"] for r in t["rows"]] for t in document["groups"]}
    for attribute, (coarser, parents) in nesting.items():
        for broad in tables.get(coarser, []):
            codes = [g for g in tables.get(attribute, []) if parents.get(g) == broad]
            if not codes:
                continue
            for prefix in prefixes:
                cells = CELLS if prefix == "" else ("tp", "fp")
                for c in cells:
                    equations.add([((prefix + attribute, g, c), 1.0) for g in codes]
                                  + [((prefix + coarser, broad, c), -1.0)], 0.0)  # fmt: skip


def bounded_small_counts(equations: Equations, tables: set[str] | None = None) -> list[tuple]:
    """(table, group, count, value) for each count that the equations, with every cell 0 or more, pin to
    one value of 1-9 (the least and the most it can be: a linear programme, so a count pinned only by
    integrality is missed): each group count (CELLS and SUMS) of `tables` (every table where None), and
    where the red list is read (`red_list_equations`) each group's pupils red outside the top k% (tp, fp,
    selected: table OUTSIDE + name) and its red figures (the top k%'s and those: table "red: " + name)."""
    from scipy.optimize import linprog

    matrix, values = _scaled_system(equations)
    selections = {"tp": ("tp",), "fp": ("fp",), "selected": ("tp", "fp")}
    queries = []  # (table as reported, group, count, the cells summed)
    for table, group in sorted({(t, g) for (t, g, _) in equations.index if (t, g) != ALL}):
        if table.startswith(OUTSIDE):
            name = table[len(OUTSIDE):]
            for count, cells in selections.items():
                queries.append((table, group, count, [(table, group, c) for c in cells]))
                red = [(t, group, c) for t in (table, name) for c in cells]
                queries.append(("red: " + name, group, count, red))
        elif tables is None or table in tables:
            for count, cells in {**{c: (c,) for c in CELLS}, **SUMS}.items():
                queries.append((table, group, count, [(table, group, c) for c in cells]))
    feasible = linprog(np.zeros(matrix.shape[1]), A_eq=matrix, b_eq=values, bounds=(0, None), method="highs")
    assert feasible.status == 0, "the published figures do not fit the reader's model (is the top k% red?)"
    found = []
    for table, group, count, keys in queries:
        if any(key not in equations.index for key in keys):
            continue  # a cell no equation mentions: free
        vector = np.zeros(len(equations.index))
        for key in keys:
            vector[equations.index[key]] = 1.0
        low = linprog(vector, A_eq=matrix, b_eq=values, bounds=(0, None), method="highs")
        if low.status != 0 or not 0.5 < low.fun < 9.5:
            continue
        high = linprog(-vector, A_eq=matrix, b_eq=values, bounds=(0, None), method="highs")
        if high.status == 0 and -high.fun - low.fun < 0.5:
            found.append((table, group, count, round(low.fun)))
    return found


# ---- selections of one ranked list: tenths, bands, ratings, top k%, a stored calibration curve ---------


def ranked_counts_pinned(outcome: np.ndarray, published: list[tuple[np.ndarray, int | None]]) -> list[tuple]:
    """Slices of the pupils whose count with the outcome, or without it, is 1-9 and pinned by published
    counts with the outcome of selections of them (`published`: (pupil mask, count, None where withheld));
    every selection's size and the total with the outcome are taken as known. The unknowns are the counts
    with the outcome of the atoms (the pupils no selection splits), each 0 to its size; a slice (an atom,
    or what one selection holds beyond another or two share) is pinned where its least and most agree
    (linear programme). Returns (pupils, count with the outcome) of each."""
    from scipy.optimize import linprog

    masks = [m for m, _ in published] + [np.ones(len(outcome), dtype=bool)]
    signature = np.stack(masks, axis=1)
    atoms, atom_of = np.unique(signature, axis=0, return_inverse=True)
    atom_of = atom_of.ravel()
    sizes = np.bincount(atom_of, minlength=len(atoms))
    truth = np.bincount(atom_of, weights=outcome.astype(float), minlength=len(atoms))
    counts = [c for _, c in published] + [int(outcome.sum())]
    rows = [atoms[:, k].astype(float) for k, c in enumerate(counts) if c is not None]
    values = [float(c) for c in counts if c is not None]
    pieces = {tuple(row) for row in np.eye(len(atoms), dtype=bool)}
    member = atoms.T.astype(bool)
    for a in range(len(member)):
        for b in range(a + 1, len(member)):
            for piece in (member[a] & ~member[b], member[a] & member[b], member[b] & ~member[a]):
                if piece.any():
                    pieces.add(tuple(piece))
    bounds = list(zip(np.zeros(len(atoms)), sizes.astype(float), strict=True))
    found = []
    for piece in sorted(pieces):
        vector = np.array(piece, dtype=float)
        value, size = vector @ truth, vector @ sizes
        if not (0 < value < 10 or 0 < size - value < 10):
            continue  # only small counts matter; the truth says which to solve for
        low = linprog(vector, A_eq=np.array(rows), b_eq=values, bounds=bounds, method="highs")
        high = linprog(-vector, A_eq=np.array(rows), b_eq=values, bounds=bounds, method="highs")
        assert low.status == 0 and high.status == 0, "the published counts do not fit the pupils"
        if -high.fun - low.fun < 0.5:
            found.append((int(size), int(value)))
    return sorted(set(found))
