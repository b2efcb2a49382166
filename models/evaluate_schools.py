"""evaluate's by-school table read beside scores.html's: no school's red less its top 5% is a count of 1-9.

`exclusion-risk score` publishes scores.html with each school's pupils rated red (`score_report`);
`evaluate` publishes each school's pupils in the top 5% of the same ranked list. The top 5% sits (nearly)
inside the red list, so a school's red count less its top 5% is its pupils red outside the top 5%: of
lower likelihood, raised to red by their need, mostly on a child protection plan or looked after. On the
demo (its scored year the model's test year) 19 schools gave 1-9 back that way: 3352166's 11 red against
10 in the top 5%, 3354174's 150 against 149.

scores.html comes first (evaluate waits for the year's outcomes) and officers act on it, so evaluate
withholds: a school's top 5% ("x", and the precision that would give it back) where, beside the red count
a page shows for it, it gives 1-9 back; then a partner wherever schools withheld together, read from the
totals (the red count, the top 5%'s size), do. The rule is the fairness review's for its red list
(`fairness_red_slices`: `overlap_small`, `families`, `slice_fixes`), run with the top 5%'s side withheld;
the partners that keep a withheld count from being the column's total less the rest are
`shown_group_counts`' as ever.

The pages (`red_pages`): the evaluated scoring's own (every pupil it scored with the rating it recorded,
suppressed as scores.html suppresses it: `score_report.rag_table`) and, where that scoring re-cut the bands
(`score --capacity`), the page the model's stored thresholds give for the year (each pupil matched to an
outcome placed as `score` places them without --capacity: `RiskMatrix.place` with the need level on the
census). A page at any other re-cut capacity is not known here: scores.html at a re-cut capacity says so
(`score_notes.recut_lines`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from exclusion_risk.models.evaluate_need import need_levels_of
from exclusion_risk.models.fairness_red_slices import (
    SLICE_COUNTS,
    TOP,
    families,
    overlap_small,
    slice_fixes,
)
from exclusion_risk.models.group_counts import ERROR_CELLS, PROTECTED, shown_group_counts
from exclusion_risk.models.risk_matrix import RiskMatrix
from exclusion_risk.models.score_report import rag_table
from exclusion_risk.privacy import SECONDARY, TOTAL, is_withheld

SCHOOL = "school"
UNKNOWN = "unknown"  # scores.html's and evaluate's name for a pupil with no school


@dataclass
class RedPage:
    """A scores.html's red counts by school: the true counts, as printed, and whether the page prints
    the red count (their total)."""

    counts: pd.Series  # school -> pupils rated red
    shown: dict[str, int | str]  # school -> as printed: an int, "<10" or "x"
    total_shown: bool


def red_page(schools: Iterable, rags: Iterable) -> RedPage:
    """The page `score` writes for pupils at `schools` ("" for none) rated `rags`."""
    frame = pd.DataFrame({SCHOOL: pd.Series(list(schools), dtype="string").fillna("").replace("", UNKNOWN),
                          "rag": pd.Series(list(rags), dtype="string")})  # fmt: skip
    shown = rag_table(frame, SCHOOL)
    counts = (frame["rag"] == "red").groupby(frame[SCHOOL].astype(str)).sum().astype(int)
    return RedPage(
        counts=counts,
        shown={str(g): shown.at[g, "red"] for g in shown.index if g != TOTAL},
        total_shown=not is_withheld(shown.at[TOTAL, "red"]),
    )


def red_pages(frame: pd.DataFrame, pupils: pd.DataFrame | None, matrix: RiskMatrix | None) -> list[RedPage]:
    """The red counts by school of the pages written for the evaluated year: the scoring's own (`pupils`,
    every pupil it scored, else the matched `frame`) and, where its ratings are not the model's stored
    thresholds' (`matrix`: a re-cut capacity), the stored thresholds' for the matched pupils (`frame`
    with `need_level`)."""
    own = pupils if pupils is not None else frame
    pages = [red_page(own["school_urn"], own["rag"])]
    if matrix is not None and "need_level" in frame and len(frame):
        needs = need_levels_of(frame)
        rags = matrix.place(frame["probability"].to_numpy(dtype=float), needs)["rag"]
        if (rags != frame["rag"].astype(str).to_numpy()).any():
            pages.append(red_page(frame["school_urn"], rags))
    return pages


def _fixes(page: RedPage, table: pd.DataFrame, shown: dict[str, dict], top_shown: bool) -> dict:
    """School -> counts of its top 5% to withhold more, beside `page`: its own where its row gives 1-9
    back (`overlap_small`), else the partner `slice_fixes` takes (withheld schools together)."""
    schools = sorted({*map(str, table.index), *map(str, page.counts.index)})
    red = pd.DataFrame({"selected": page.counts.reindex(schools, fill_value=0), "tp": 0, "fp": 0})
    top = table.reindex(schools, fill_value=0)[list(SLICE_COUNTS)]
    # scores.html prints no outcome: the red side's confusion counts are never known
    listed = {g: {"selected": page.shown.get(g, SECONDARY), **dict.fromkeys(ERROR_CELLS, SECONDARY)}
              for g in schools}  # fmt: skip
    tops = {g: shown.get(g) or dict.fromkeys(PROTECTED, SECONDARY) for g in schools}
    own = {g: {"selected"} for g in schools if overlap_small(red.loc[g], top.loc[g], listed[g], tops[g])}
    if own:
        return own
    published = {c: (page.total_shown and c == "selected", top_shown) for c in SLICE_COUNTS}
    fixes = slice_fixes(families({SCHOOL: red}, {SCHOOL: top}, {}), {SCHOOL: listed}, {SCHOOL: tops},
                        published, side=TOP)  # fmt: skip
    return {g: {"selected"} if c == "selected" else {"tp"} for (_, g), c in fixes.items()}


def shown_beside_red(table: pd.DataFrame, withhold: Iterable[tuple[str, str]], pages: list[RedPage],
                     top_shown: bool) -> dict[str, dict]:  # fmt: skip
    """The schools' counts as shown (`shown_group_counts` of `table`, `withhold` from the start), with a
    school's top 5% withheld ("x") until, read beside each page's red counts, none gives 1-9 back, alone
    or with others (`top_shown`: whether the top 5%'s size is printed)."""
    base, extra = list(withhold), {}
    while True:
        shown = shown_group_counts(table, base + [(g, c) for g, cs in extra.items() for c in sorted(cs)])
        found = next((f for page in pages if (f := _fixes(page, table, shown, top_shown))), {})
        if not found:
            return shown
        for school, cells in found.items():
            extra.setdefault(school, set()).update(cells)



def missing_schools(pupils: pd.DataFrame, matched: pd.DataFrame, census: str) -> list[str]:
    """A warning for each school of the scoring (`pupils`: every pupil it scored) none of whose scored
    pupils is among those matched to outcomes (`matched`) on `census` ("the 2018/19 autumn census"): the
    extracts may be the wrong ones or incomplete (a school's census rows missing), and the school
    vanishes from every table without a word. Its scored pupils as scores.html's school table printed
    them: a count, "fewer than 10", or none where the page withheld it ("x")."""
    schools = pd.Series(pupils["school_urn"], dtype="string").fillna("").replace("", UNKNOWN)
    found = set(pd.Series(matched["upn"], dtype="string"))
    on_census = pd.Series(pupils["upn"], dtype="string").isin(found).to_numpy()
    gone = sorted(set(schools[~on_census]) - set(schools[on_census]) - {UNKNOWN})
    if not gone:
        return []
    shown = rag_table(pd.DataFrame({SCHOOL: schools, "rag": pd.Series(pupils["rag"], dtype="string")}),
                      SCHOOL)  # fmt: skip
    said = []
    for school in gone:
        count = shown.at[school, TOTAL]
        words = ("" if count == SECONDARY else "fewer than 10 " if is_withheld(count) else f"{int(count):,} ")
        said.append(
            f"school {school}: none of its {words}scored pupils is on {census} in these extracts. The "
            "extracts may be the wrong ones or incomplete (that school's census rows missing), and this "
            "evaluation does not cover that school: its pupils are left out of every figure"
        )
    return said
