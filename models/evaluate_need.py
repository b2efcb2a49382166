"""evaluate's by-group and overall figures read beside scores.html's risk matrix and red count.

`exclusion-risk score` publishes scores.html first, with the risk matrix's cells (likelihood band x need
level) and the pupils rated red; `evaluate` publishes the top 5% of the same list, overall and by the
fairness review's groups. Need level 3 is an open child protection plan or being looked after: the
social care groups "looked after" and "child protection plan" together. The top 5% sits (nearly) inside
the very high band, so the very high, need level 3 cell less evaluate's top 5% among those two groups is
the pupils of very high likelihood on a plan or looked after outside the top 5%; on a small cohort, 1-9.

`shown_beside_need` withholds a social care group's top 5% ("x", and the precision that would give it
back) until no such slice is 1-9, alone or with the groups withheld together (read from the top 5%'s
size less the groups shown): the fairness review's red-list rule with evaluate's side withheld, as
`evaluate_schools` runs it beside the red counts by school (`fairness_red_slices.slice_fixes`, side TOP).

What evaluate cannot withhold it says (`beside_pages`): the top 5%'s size follows from the pupils with
outcomes, so where scores.html's red count, or its very high band's pupils, less it is 1-9 (the pupils
rated red outside the top 5%: on the demo 3,246 less 3,126, 120), no figure of evaluate's closes it.

The pages are those `evaluate_schools.red_pages` reads: the scoring's own and, where it re-cut the bands,
the model's stored thresholds'. A pupil's need level is the census's (`realised_outcomes`), so a page
is taken over the pupils matched to outcomes: a scored pupil not on that census is not counted in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.models.fairness_red_slices import (
    SLICE_COUNTS,
    TOP,
    WHOLE,
    Family,
    slice_fixes,
)
from exclusion_risk.models.group_counts import ERROR_CELLS, PROTECTED, shown_group_counts
from exclusion_risk.models.risk_matrix import RiskMatrix, load_risk_matrix
from exclusion_risk.models.score_report import matrix_shown
from exclusion_risk.privacy import SECONDARY, SUPPRESSION_THRESHOLD, TOTAL, is_withheld
from exclusion_risk.values import and_join

SOCIAL_CARE = "social care"
NEED_GROUPS = ("looked after", "child protection plan")  # need level 3: open on census day
NEED = ("need level", "3")  # the cell's key among the groups'
TOP_NEED = 3


@dataclass
class NeedPage:
    """A scores.html's very high band: its pupils by social care group (true counts), and as printed its
    need level 3 cell and its pupils in all (an int, "<10" or "x")."""

    band: dict[str, int]
    cell: int | str
    row: int | str


def need_levels_of(frame: pd.DataFrame) -> np.ndarray:
    """The pupils' need levels (0-3) as `score` places them: a blank or unreadable one is 0."""
    return pd.to_numeric(frame["need_level"], errors="coerce").fillna(0).astype(int).to_numpy()


def need_page(frame: pd.DataFrame, bands, risk: RiskMatrix) -> NeedPage:
    """The page `score` writes for the pupils of `frame` (social care, need_level) placed in `bands`."""
    needs = need_levels_of(frame)
    bands = np.asarray(bands, dtype=object).astype(str)
    shown = matrix_shown(bands, needs, risk)
    top = risk.bands[0].label
    groups = frame[SOCIAL_CARE].astype(str).to_numpy()
    inside = bands == top
    return NeedPage({str(g): int((inside & (groups == g)).sum()) for g in np.unique(groups)},
                    shown.at[top, TOP_NEED], shown.at[top, TOTAL])  # fmt: skip


def need_pages(frame: pd.DataFrame, matrix: RiskMatrix | None) -> list[NeedPage]:
    """The very high bands of the pages written for the evaluated year (as `evaluate_schools.red_pages`):
    the scoring's own and, where the stored thresholds (`matrix`) place pupils in other bands, theirs;
    none where the pupils' need levels or groups are not known."""
    if not len(frame) or "need_level" not in frame or SOCIAL_CARE not in frame:
        return []
    risk = matrix or load_risk_matrix()
    pages = [need_page(frame, frame["likelihood_band"], risk)]
    if matrix is not None:
        needs = need_levels_of(frame)
        bands = matrix.place(frame["probability"].to_numpy(dtype=float), needs)["likelihood_band"]
        if (np.asarray(bands).astype(str) != frame["likelihood_band"].astype(str).to_numpy()).any():
            pages.append(need_page(frame, bands, matrix))
    return pages


def _family(page: NeedPage, table: pd.DataFrame) -> Family:
    """The social care groups as atoms; the need level 3 cell as the set of its two groups."""
    groups = sorted({*map(str, table.index), *page.band})
    top = table.reindex(groups, fill_value=0)
    sets, counts = {}, {}
    for k, group in enumerate(groups):
        sets[(SOCIAL_CARE, group)] = frozenset({k})
        counts[(SOCIAL_CARE, group)] = _pair(page.band.get(group, 0), top.loc[group])
    need = [g for g in NEED_GROUPS if g in groups]
    sets[NEED] = frozenset(groups.index(g) for g in need)
    counts[NEED] = _pair(sum(page.band.get(g, 0) for g in need), top.loc[need].sum())
    sets[WHOLE] = frozenset(range(len(groups)))
    counts[WHOLE] = _pair(sum(page.band.values()), top.sum())
    return Family(sets, counts)


def _pair(red: int, top: pd.Series) -> dict[str, tuple[int, int]]:
    # scores.html prints no outcome: the page's side of the counts with and without it is never read
    return {c: (int(red) if c == "selected" else 0, int(top[c])) for c in SLICE_COUNTS}


def _fixes(page: NeedPage, table: pd.DataFrame, shown: dict[str, dict]) -> dict[str, set[str]]:
    """Social care group -> counts of its top 5% to withhold more, beside `page` (`slice_fixes`)."""
    if is_withheld(page.cell):  # the groups' sum is read only beside a printed cell
        return {}
    listed = {NEED[0]: {NEED[1]: {"selected": page.cell, **dict.fromkeys(ERROR_CELLS, SECONDARY)}}}
    hidden = dict.fromkeys(PROTECTED, SECONDARY)
    tops = {SOCIAL_CARE: {g: shown.get(g) or hidden for g in map(str, table.index)}}
    published = {c: (c == "selected" and not is_withheld(page.row), True) for c in SLICE_COUNTS}
    fixes = slice_fixes([_family(page, table)], listed, tops, published, side=TOP)
    return {g: {"selected"} if c == "selected" else {"tp"} for (_, g), c in fixes.items()}


WITHHELD = (
    'Withheld ("x"): the top 5% of some social care groups, and the precision that would give it back. '
    "Beside the pupils of very high likelihood on a child protection plan or looked after that "
    "scores.html's risk matrix shows, they would give back a number under 10: those of them outside the "
    "top 5%."
)


def shown_beside_need(table: pd.DataFrame, withhold: Iterable[tuple[str, str]], pages: list[NeedPage],
                      notes: list[str] | None = None) -> dict[str, dict]:  # fmt: skip
    """The social care groups' counts as shown (`shown_group_counts` of `table`, `withhold` from the
    start), with a group's top 5% withheld ("x") until, read beside each page's very high, need level 3
    cell, none gives 1-9 back, alone or with others. `notes`: gets the sentence saying so, where any is."""
    base, extra = list(withhold), {}
    while True:
        shown = shown_group_counts(table, base + [(g, c) for g, cs in extra.items() for c in sorted(cs)])
        found = next((f for page in pages if (f := _fixes(page, table, shown))), {})
        if not found:
            if extra and notes is not None:
                notes.append(WITHHELD)
            return shown
        for group, cells in found.items():
            extra.setdefault(group, set()).update(cells)


def beside_pages(top_size: int, reds: list, needs: list[NeedPage]) -> list[str]:
    """Sentences saying where a page's red count (`reds`: `evaluate_schools.RedPage`) or its very high
    band's pupils (`needs`) less the top 5%'s size is 1-9: neither is evaluate's to withhold."""
    figures = [("red count", int(page.counts.sum()) if page.total_shown else None) for page in reds]
    figures += [("very high band's pupils", page.row) for page in needs]
    said = []
    for name, figure in figures:
        if figure is None or is_withheld(figure):
            continue
        if 0 < abs(int(figure) - top_size) < SUPPRESSION_THRESHOLD:
            said.append(
                f"Warning: scores.html's {name} less the top 5%'s pupils here is a number under 10 (those "
                "outside the top 5%, or the other way). Neither can be withheld here: the top 5%'s size "
                "follows from the pupils with outcomes. This evaluation should not be published beside that "
                "page."
            )
    return list(dict.fromkeys(said))


def printed_sizes(frame: pd.DataFrame, scored: int, reds: list, matrix: RiskMatrix | None) -> frozenset:
    """The (section, band or rating) of evaluate's tables whose size the scoring's own scores.html prints
    for the same pupils: each band's total in its risk matrix and the red count, where printed. Only when
    every scored pupil is matched (`scored`): otherwise the page counts other pupils than these."""
    if len(frame) != scored or not len(frame):
        return frozenset()
    printed = set()
    red = int(frame["rag"].astype(str).eq("red").sum())
    if reds and reds[0].total_shown and int(reds[0].counts.sum()) == red:
        printed.add(("by_rag", "red"))
    if "need_level" in frame:
        needs = need_levels_of(frame)
        bands = frame["likelihood_band"].astype(str).to_numpy()
        shown = matrix_shown(bands, needs, matrix or load_risk_matrix())
        printed |= {("by_band", str(band)) for band, size in shown[TOTAL].items() if not is_withheld(size)}
    return frozenset(printed)


def bands_beside_matrix(bands: list[str]) -> str:
    """The sentence saying the sizes of `bands` are withheld as scores.html's risk matrix withholds them."""
    one = len(bands) == 1
    it, they = ("it", "it") if one else ("them", "they")
    return (
        f'Withheld ("x"): the number{"" if one else "s"} of pupils in the {and_join(bands)} '
        f'band{"" if one else "s"}, and the precision{"" if one else "s"} that would give {it} back: '
        f"scores.html's risk matrix withholds {it} too, and beside the cells it shows, {they} would give "
        "back a number under 10 (the pupils of one band at one need level: those on a child protection "
        "plan or looked after, say)."
    )


def page_withheld_bands(frame: pd.DataFrame, matrix: RiskMatrix | None) -> list[str]:
    """The bands whose pupils in all the scoring's scores.html withholds in its risk matrix (the page of
    `frame`'s pupils in their recorded bands at their census need levels, as `need_pages` takes it): a
    band's size printed here would be the row's total beside the row's shown cells, so the withheld
    cells' sum (on a 3,000-pupil authority `high 68 257 19 <10 x` beside evaluate's 350: 6 on a plan or
    looked after). None where the pupils' need levels are not known."""
    if not len(frame) or "need_level" not in frame:
        return []
    shown = matrix_shown(frame["likelihood_band"].astype(str).to_numpy(), need_levels_of(frame),
                         matrix or load_risk_matrix())  # fmt: skip
    return [str(band) for band in shown.index if band != TOTAL and is_withheld(shown.at[band, TOTAL])]
