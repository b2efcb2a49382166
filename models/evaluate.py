"""Back-testing: how a recorded scoring turned out, once that year's outcomes are in the extracts.

`realised_outcomes` builds the scored year's feature table for the scored census (point in time, with
the outcome the model was trained for: `label_any`, `label_permanent` or `label_repeat`) and names each
pupil by the UPN recorded on that census, as the scoring did (the feature table's `upn`).
`evaluate_scores` matches a run's pupils (`models.score_runs`) to those outcomes and measures:

* `by_capacity`: the top k% of the matched pupils in the list's order (the rank recorded with each
  pupil; for older runs, probability descending, ties by UPN; ceil(k x pupils) of them): selected,
  true positives, precision with its Wilson 95% interval, recall (of every pupil with the outcome);
* `by_band` / `by_rag`: the same for each likelihood band and RAG rating (the band is the selection);
* `calibration`: ten equal-count groups of pupils by probability (the same ranking), observed rate
  with its Wilson interval against the mean predicted probability;
* `by_school` and `by_group` (the fairness review's sex, ethnic group, FSM, SEN provision and social
  care, `models.fairness.review_groups`): pupils, with the outcome, observed and mean predicted, and
  the top 5%'s selected, true positives, precision (interval) and recall within the group.

Pupils scored but absent from the outcomes (not on that census in these extracts) are counted and
reported (`pupils.without_outcomes`), never silently dropped; pupils on the census but not scored
are counted too.

Small numbers (privacy.py): each table is a partition of pupils into counts (true positives, false
positives, false negatives, true negatives; or with / without the outcome) passed through
`privacy.suppress_table` before anything is shown; a rate is shown only where every count it is worked
out from is shown. The school and group tables take the fairness review's rule instead
(`group_counts.shown_group_counts`: pupils, excluded, selected and the four cells, a group with one
cell withheld having all four withheld), so that a back-test of the scores the review looked at
withholds the same cells as the review; each of their rates is shown where the counts it rests on are,
and true positives a shown zero implies are shown as 0 (`models.evaluate_groups`). The school table is
also read beside the red counts by school that scores.html published for the year: a school's top 5% is
withheld where the two would give back its pupils red outside the top 5% (`models.evaluate_schools`, the
fairness review's red-list rule with evaluate's side withheld), and the social care groups' beside its
risk matrix's very high, need level 3 cell (`models.evaluate_need`). The ratings' and bands' sizes are
read against the rank cuts' too (red less the top 5% is the pupils rated red outside it:
`selection_overlaps.withhold_cell_sizes`), and their counts with the outcome against the rank cuts'
(`selection_overlaps.withhold_overlaps`); what is withheld for these, or cannot be (scores.html's red
count or very high band less the top 5%'s size), is said in `withheld`. A band whose total scores.html's
risk matrix withholds is withheld here too, and kept from the other sizes (its size beside the row's shown
cells gave a withheld cell back: `evaluate_need.page_withheld_bands`). Only aggregates leave this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.features import labels as feature_labels
from exclusion_risk.features.build import build_feature_table, prepare
from exclusion_risk.features.need import need_levels
from exclusion_risk.linkage.history import PupilHistory
from exclusion_risk.models.band_precision import OUTCOMES, share_with_interval
from exclusion_risk.models.band_precision import percent as share_text
from exclusion_risk.models.evaluate_calibration import group_calibration
from exclusion_risk.models.evaluate_groups import as_shown as _value
from exclusion_risk.models.evaluate_groups import group_rows, school, selection_cells
from exclusion_risk.models.evaluate_groups import rate as _rate
from exclusion_risk.models.evaluate_groups import shown as _shown
from exclusion_risk.models.evaluate_need import (
    SOCIAL_CARE,
    bands_beside_matrix,
    beside_pages,
    need_pages,
    page_withheld_bands,
    printed_sizes,
    shown_beside_need,
)
from exclusion_risk.models.evaluate_schools import red_pages, shown_beside_red
from exclusion_risk.models.fairness import review_groups
from exclusion_risk.models.group_counts import shown_group_counts
from exclusion_risk.models.metrics import DEFAULT_CAPACITIES, top_share
from exclusion_risk.models.risk_matrix import RiskMatrix
from exclusion_risk.models.score_runs import NEED, RANK, ScoringRun
from exclusion_risk.models.selection_overlaps import CALIBRATION_GROUPS, tenths, withhold_overlaps
from exclusion_risk.privacy import (
    SECONDARY,
    SUPPRESSED,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    is_withheld,
    suppress_count,
    suppress_nested,
    suppress_table,
)

HEADLINE_CAPACITY = 0.05
# The fairness review's attributes reported here (its detailed ethnicity is left to the review).
GROUP_ATTRIBUTES = ("sex", "ethnic group", "free school meals", "SEN provision", "social care")


class OutcomesIncomplete(ValueError):
    """The scored year's outcomes are not complete in the extracts; the message says through when they are."""


@dataclass
class Matched:
    """The run's pupils with outcomes, ranked as the scorer ranks them; counts of who was not matched."""

    frame: pd.DataFrame  # upn, probability, likelihood_band, rag, school_urn, outcome, group columns
    scored: int
    without_outcomes: int
    not_scored: int
    # the pupils on the census not scored (outcome, outcome_school, group columns): the census's own
    # counts by group are published elsewhere (the fairness review, describe), so these are the difference
    unscored: pd.DataFrame | None = None
    # the run's pupils as it recorded them, matched or not: the page `score` wrote counted every one
    pupils: pd.DataFrame | None = None


def realised_outcomes(history: PupilHistory, year: str, census: str, label: str) -> pd.DataFrame:
    """Each pupil on `year`'s `census` (a name or code) with `outcome` (0/1, the model's `label`), the
    school and the review's groups, keyed by `upn` as recorded on that census. Raises
    OutcomesIncomplete when the year's outcomes are not complete in the extracts."""
    term = calendar.parse_census(census)
    table = build_feature_table(history, [year], label=label, census=term)
    if not len(table):  # not "outcomes not complete": waiting for exclusions would not help
        raise OutcomesIncomplete(
            f"the extracts hold no {calendar.census_name(term)} census of {year}, the year of the scoring: "
            "evaluate against the extracts of the authority that was scored, once the year's exclusions "
            "are in"
        )
    outcome = table[f"label_{label}"]
    if outcome.isna().all():
        prep = prepare(history)
        through = feature_labels.complete_through(prep)
        known = "no year" if through is None else calendar.format_year(through)
        # what the extract lacks, by the year's own date: never a pupil's date
        end = calendar.start_year(year) + 1
        # the linked exclusions, which a links.csv written before the year's records leaves short: "the
        # extract holds no record" was untrue where the extract held them and last year's links did not
        since = (f"; no linked exclusion starts on or after 1 July {end}: the extract ends before it, or "
                 "its links were written before those records were added" if len(prep.exclusions)
                 else "; no exclusion record is linked")  # fmt: skip
        raise OutcomesIncomplete(
            f"the outcomes of {year} are not complete in the extracts (complete through {known}{since}): "
            "evaluate once the year's exclusions are in"
        )
    groups = review_groups(table)
    frame = pd.DataFrame(
        {
            "upn": table["upn"].astype("string").to_numpy(),
            "outcome": outcome.to_numpy(dtype=float),
            "outcome_school": table["SchoolURN"].astype("string").fillna("").to_numpy(),
        }
    )
    for attribute in GROUP_ATTRIBUTES:
        frame[attribute] = groups[attribute].to_numpy()
    # the need level `score` places a pupil with (the matrix's other axis): for the stored thresholds' page
    frame["need_level"] = need_levels(table)
    return frame.drop_duplicates("upn")


def match(pupils: pd.DataFrame, outcomes: pd.DataFrame) -> Matched:
    """The run's pupils (RUN_PUPIL_COLUMNS) joined to `realised_outcomes` by UPN, ranked by their recorded
    RANK (the list's order when scored), or where a run has none by probability descending, ties by UPN."""
    scored = pupils.drop_duplicates("upn")
    # the need level the extracts give (`realised_outcomes`), for every run alike: runs recorded before
    # need levels were kept have none of their own, and one column of that name must reach the pages
    own_need = [NEED] if NEED in outcomes.columns else []
    joined = scored.drop(columns=own_need, errors="ignore").merge(outcomes, on="upn", how="inner")
    joined["school_urn"] = joined["school_urn"].where(joined["school_urn"] != "", joined["outcome_school"])
    if RANK in joined.columns and joined[RANK].notna().all():
        joined = joined.sort_values(RANK, kind="mergesort")  # the list exactly as the officer saw it
    else:  # runs recorded before ranks were kept: as the scorer ranks (ties by UPN)
        joined = joined.sort_values(["probability", "upn"], ascending=[False, True], kind="mergesort")
    joined = joined.reset_index(drop=True)
    joined["outcome"] = joined["outcome"].astype(int)
    unscored = outcomes[~outcomes["upn"].isin(scored["upn"])]
    return Matched(
        joined,
        scored=len(scored),
        without_outcomes=len(scored) - len(joined),
        not_scored=len(unscored),
        unscored=unscored.reset_index(drop=True),
        pupils=scored.reset_index(drop=True),
    )


def _selection_rows(counts: pd.DataFrame, key: str, positives_total: int | str) -> list[dict[str, Any]]:
    """Rows {key, selected, true_positives, precision, recall, ci_low, ci_high} from a table of
    tp / fp per row (already suppressed, with a TOTAL column); recall over `positives_total`."""
    rows = []
    for name in counts.index:
        if name == TOTAL:
            continue
        tp, fp, selected = counts.at[name, "tp"], counts.at[name, "fp"], counts.at[name, TOTAL]
        precision, low, high = _rate(tp, [tp, fp])
        recall = None
        if _shown(tp) and _shown(positives_total) and int(positives_total) > 0:
            recall = int(tp) / int(positives_total)
        rows.append(
            {
                key: name,
                "selected": _value(selected),
                "true_positives": _value(tp),
                "precision": precision,
                "recall": recall,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return rows


def by_capacity(frame: pd.DataFrame, capacities=DEFAULT_CAPACITIES) -> list[dict[str, Any]]:
    """The top k% of the ranked pupils for each capacity. Each row's true and false positives are
    suppressed with the row's total (selected); as rows nest, a row whose counts differ by 1-9 from the
    last shown smaller row is withheld too ("x")."""
    outcome = frame["outcome"].to_numpy()
    counts = pd.DataFrame(
        [[int(outcome[: top_share(len(frame), k)].sum()), top_share(len(frame), k)] for k in capacities],
        index=list(capacities),
        columns=["tp", "selected"],
    )
    counts["fp"] = counts.pop("selected") - counts["tp"]
    nested = sorted(counts.index, key=lambda k: top_share(len(frame), k))
    shown = suppress_nested(counts.loc[nested, ["tp", "fp"]]).reindex(counts.index)
    return _selection_rows(shown, "capacity", suppress_count(int(outcome.sum())))


def shown_positives(counts: pd.DataFrame) -> pd.Series:
    """Each row's positives as published when every row's pupils are public (a band's, a tenth's):
    withheld when it or the row's other pupils number 1-9, and withheld in at least two rows or none,
    as the positives' and the others' column totals are public too (`suppress_table` on each column).
    `counts`: columns `positives`, `others`. Values: int, "<10" (positives 1-9) or "x"."""
    shown = suppress_table(counts[["positives", "others"]].astype(int), row_totals=False)
    out = {}
    for name in counts.index:
        positives = int(counts.at[name, "positives"])
        withheld = any(is_withheld(shown.at[name, c]) for c in ("positives", "others"))
        out[name] = (
            (SUPPRESSED if 0 < positives < SUPPRESSION_THRESHOLD else SECONDARY) if withheld else positives
        )
    return pd.Series(out, dtype=object)


def _category_counts(outcome: pd.Series, keys: pd.Series, order: list) -> pd.DataFrame:
    grouped = outcome.groupby(keys).agg(["sum", "count"])
    names = [*order, *sorted(n for n in grouped.index if n not in order)]
    grouped = grouped.reindex(names, fill_value=0)
    return pd.DataFrame({"positives": grouped["sum"], "others": grouped["count"] - grouped["sum"]}).astype(
        int
    )


def by_category(frame: pd.DataFrame, column: str, order: list[str], key: str,
                withhold: Iterable[str] = ()) -> list[dict[str, Any]]:  # fmt: skip
    """Each band (or RAG rating) as a selection: its pupils, those with the outcome, precision, recall.
    `withhold`: the bands (or ratings) whose sizes are withheld from the start (scores.html's)."""
    counts = _category_counts(frame["outcome"], frame[column].astype(str), order)
    positives, total = shown_positives(counts), suppress_count(int(counts["positives"].sum()))
    # the sizes add up to the pupils with outcomes: one withheld size must not be the total less the rest
    hidden = [(name, "pupils") for name in withhold if name in counts.index]
    sizes = suppress_table(pd.DataFrame({"pupils": counts.sum(axis=1)}), row_totals=False,
                           withhold=hidden)["pupils"]  # fmt: skip
    rows = []
    for name in counts.index:
        tp, pupils = positives[name], sizes[name]
        precision, low, high = _rate(tp, [pupils])
        recall = int(tp) / int(total) if _shown(tp) and _shown(total) and int(total) else None
        rows.append(
            {
                key: name,
                **selection_cells(_value(pupils), tp, precision, recall, low, high),
            }
        )
    return rows


def calibration(frame: pd.DataFrame, groups: int = CALIBRATION_GROUPS) -> list[dict[str, Any]]:
    """Ten equal-count groups by the scorer's ranking, highest first: observed vs mean predicted."""
    tenth = pd.Series(tenths(len(frame), groups))
    counts = _category_counts(frame["outcome"].reset_index(drop=True), tenth, sorted(set(tenth)))
    positives = shown_positives(counts)
    predicted = frame["probability"].astype(float).reset_index(drop=True).groupby(tenth).mean()
    rows = []
    for decile in counts.index:
        pupils = int(counts.loc[decile].sum())
        observed, low, high = _rate(positives[decile], [pupils]) if _shown(positives[decile]) else (None,) * 3
        rows.append(
            {
                "decile": int(decile),
                "pupils": suppress_count(pupils),
                "excluded": positives[decile],
                "mean_predicted": float(predicted[decile]),
                "observed": observed,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return rows


def split_counts(with_outcomes: int, without_outcomes: int) -> dict[str, int | str]:
    """The scored pupils split into those with and without outcomes, as published beside the scored
    total: when either part is 1-9 ("<10") the other is withheld ("x"), or it would be the total less
    the other."""
    shown = {
        "with_outcomes": suppress_count(with_outcomes),
        "without_outcomes": suppress_count(without_outcomes),
    }
    if 0 < without_outcomes < SUPPRESSION_THRESHOLD:
        shown["with_outcomes"] = SECONDARY
    if 0 < with_outcomes < SUPPRESSION_THRESHOLD:
        shown["without_outcomes"] = SECONDARY
    return shown


def ranked_sections(
    frame: pd.DataFrame, band_order: list[str], capacities=DEFAULT_CAPACITIES,
    printed: frozenset = frozenset(), page_bands: Iterable[str] = (),
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The tables of the ranked pupils (`frame`: outcome, probability, likelihood_band and rag, in the
    list's order) as evaluation.json publishes them: by capacity, band, rating and tenth, each suppressed
    and then read against the others (`withhold_overlaps`); with the sentences saying what more is
    withheld. `page_bands`: the bands whose sizes scores.html's risk matrix withholds
    (`evaluate_need.page_withheld_bands`), withheld here too and kept from being worked out from the
    other sizes. The training run's stored calibration curve is checked against them (`stored_curve`)."""
    with_outcome = suppress_count(int(frame["outcome"].sum()))
    page_bands = [b for b in page_bands if b in set(frame["likelihood_band"].astype(str))]
    sections = {
        "by_capacity": by_capacity(frame, capacities),
        "by_band": by_category(frame, "likelihood_band", band_order, "band", page_bands),
        "by_rag": by_category(frame, "rag", ["red", "amber", "green"], "rag"),
        "calibration": calibration(frame),
    }
    guarded = frozenset(("by_band", b) for b in page_bands)
    said = [bands_beside_matrix(page_bands)] if page_bands else []
    return sections, said + withhold_overlaps(frame, sections, not is_withheld(with_outcome),
                                              HEADLINE_CAPACITY, printed, guarded)  # fmt: skip


def evaluate_scores(
    matched: Matched, band_order: list[str], capacities=DEFAULT_CAPACITIES, matrix: RiskMatrix | None = None
) -> dict[str, Any]:
    """The evaluation's tables (see the module docstring) for pupils matched to their outcomes. `matrix`:
    the risk matrix with the model version's stored thresholds, whose scores.html for the year the school
    table is read beside as well as the scoring's own (`evaluate_schools`)."""
    frame = matched.frame
    if frame.empty:
        raise OutcomesIncomplete("none of the scored pupils is on that census in these extracts")
    selected = np.zeros(len(frame), dtype=bool)
    selected[: top_share(len(frame), HEADLINE_CAPACITY)] = True
    unscored = matched.unscored
    reds, needs, notes = red_pages(frame, matched.pupils, matrix), need_pages(frame, matrix), []
    # social care beside scores.html's very high, need level 3 cell (`evaluate_need`)
    beside_need = {SOCIAL_CARE: partial(shown_beside_need, pages=needs, notes=notes)}
    groups = {a: group_rows(frame, a, selected, unscored, beside_need.get(a, shown_group_counts))
              for a in GROUP_ATTRIBUTES}  # fmt: skip
    by_group = [{"attribute": a, **row} for a, rows in groups.items() for row in rows]
    with_outcome = suppress_count(int(frame["outcome"].sum()))
    # the sizes scores.html prints for these pupils are known: withholding them here would hide nothing
    printed = printed_sizes(frame, matched.scored, reds, matrix)
    # the bands whose sizes scores.html withholds: beside its matrix's shown cells they give one back
    sections, overlaps = ranked_sections(frame, band_order, capacities, printed,
                                         page_withheld_bands(frame, matrix))  # fmt: skip
    notes += overlaps
    # the top 5%'s size is known however it is printed: 5% of the pupils with outcomes, rounded up
    beside = partial(shown_beside_red, pages=reds, top_shown=True)
    notes += beside_pages(int(selected.sum()), reds, needs)
    return {
        "pupils": {
            "scored": suppress_count(matched.scored),
            **split_counts(len(frame), matched.without_outcomes),
            "on_census_not_scored": suppress_count(matched.not_scored),
            "with_outcome": with_outcome,
        },
        **sections,
        "by_school": group_rows(
            school(frame, "school_urn"), "school", selected, school(unscored, "outcome_school"), beside
        ),
        "by_group": by_group,
        # for whom the probabilities ran high or low, beyond the year's own scale (the review's rule)
        "calibration_by_group": group_calibration(by_group, with_outcome, float(frame["probability"].sum())),
        "withheld": notes,  # sentences: what is withheld beyond "<10" and its partners and why, or cannot be
    }


def percent(share: float | None) -> str:
    """A share as every evaluate output writes it (`band_precision.percent`); "-" when not shown."""
    return "-" if share is None else share_text(share)


def outcome_words(label: str) -> str:
    """What the model's label counts, as said after a scoring: were suspended or excluded later that year."""
    return OUTCOMES.get(label, OUTCOMES["any"]).replace("that year", "later that year")


def headline(document: dict[str, Any]) -> str:
    """The result in a sentence: Of the 312 pupils in the top 5%, 101 (32%) were suspended or excluded..."""
    row = next(r for r in document["by_capacity"] if abs(r["capacity"] - HEADLINE_CAPACITY) < 1e-9)
    outcome = outcome_words(document["label"])
    comparison = document["comparison"]
    stated = ""
    if comparison["stated"] is not None:
        said = share_with_interval(*(comparison[k] for k in ("stated", "stated_ci_low", "stated_ci_high")))
        stated = f"; the model's test year ({comparison['test_year']}) said {said}: {comparison['verdict']}"
    if row["precision"] is None:
        return f"Of the {row['selected']} pupils in the top 5%, too few to show {outcome}{stated}."
    # the realised share with its interval, as the page's table gives it, beside the stated one's
    low, high = row.get("ci_low"), row.get("ci_high")
    realised = percent(row["precision"]) if low is None else share_with_interval(row["precision"], low, high)
    return (
        f"Of the {row['selected']:,} pupils in the top 5%, {row['true_positives']:,} ({realised}) {outcome}"
        f"{stated}."
    )


def run_facts(run: ScoringRun) -> dict[str, Any]:
    """The evaluated run, without identifiers."""
    return {
        "run_id": run.run_id,
        "year": run.year,
        "census": run.census,
        "model_name": run.model_name,
        "model_version": run.model_version,
        "model_run_id": run.model_run_id,
        "scored_on": run.scored_on,
        "risk_matrix_version": run.risk_matrix_version,
    }
