"""How sure: each likelihood band's realised precision on the model's test year, with a Wilson interval.

At training (`models.train`), once the thresholds are fitted on the validation year, the test-year
pupils are placed in the bands with those thresholds and, for each band, `band_precision` counts the
pupils and those with the outcome (the model's label, e.g. suspended or excluded that year). The result
is stored with the thresholds in the model version's scoring config (`risk_matrix.ScoringConfig`), so it
always describes the thresholds it travels with; re-cut thresholds (`exclusion-risk score --capacity`)
get it recomputed on the test year, or none.

Small numbers (privacy.py): the counts are a table of bands x (outcome, no outcome) whose rows sum to
each band's pupils and whose columns sum to the test year's totals; `privacy.suppress_table` withholds
every count of 1-9 and any count that would let a withheld one be worked out, before anything is
stored. A band's precision is shown only when neither its outcome count nor its no-outcome count is
withheld (so it has at least 10 of each, or none of one); otherwise it reads "too few pupils in the
test year to say".

The model's precision at its capacities (top 1%, 5%, 10%) is published beside the bands, and the bands
overlap them: on the demo the very high band (3,137 pupils) held the top 5% (3,126), so its count with
the outcome would have said how many of the 11 between had it (fewer than 10). A band whose count with
the outcome would give such a slice back is withheld too (`selection_overlaps.withheld_selections`, as
`evaluate` does for a scoring); its precision and interval are then rounded (`_rounded`: to whole
percents, else 2 or 5 points; the interval outwards) so that at least two counts give the same
figures, or not given where none does.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.models.metrics import DEFAULT_CAPACITIES, top_share
from exclusion_risk.models.selection_overlaps import withheld_selections
from exclusion_risk.privacy import (
    SECONDARY,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    is_withheld,
    sum_pins,
    suppress_table,
)

CONFIDENCE = 0.95
# The outcome each training label counts, in words (models.config `label`).
OUTCOMES = {
    "any": "were suspended or excluded that year",
    "permanent": "were permanently excluded that year",
    "repeat": "were suspended two or more times that year",
}
NOT_MEASURED = "Not measured for these thresholds: no test-year figures are stored with them."
_FIELDS = ("pupils", "positives", "precision", "low", "high")


@dataclass(frozen=True)
class Outcomes:
    """The test year's pupils as a model scored them, with their outcome labels (0/1)."""

    year: str
    probabilities: np.ndarray
    labels: np.ndarray
    label: str = "any"  # which outcome the labels count (OUTCOMES)


def _count(value) -> int | str:
    return value if is_withheld(value) else int(value)


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The Wilson score interval of successes / trials at CONFIDENCE (band precision, `evaluate`):
    scipy's `binomtest(...).proportion_ci(method="wilson")` term for term, without the test's exact
    p-value (binomtest computes it first; a search over counts spent nearly all its time there)."""
    from scipy.special import ndtri

    k, n = operator.index(successes), operator.index(trials)
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"a Wilson interval needs 0 <= successes <= trials, trials >= 1: {k} of {n}")
    p = k / n
    z = ndtri(0.5 + 0.5 * CONFIDENCE)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    return float(0.0 if k == 0 else center - delta), float(1.0 if k == n else center + delta)


def band_precision(matrix, test: Outcomes) -> dict[str, Any]:
    """Per band of `matrix` (its thresholds as they are): test-year pupils, positives, precision and
    its Wilson interval, suppressed as the module text says. Aggregates only: safe to log to MLflow."""
    probabilities = np.asarray(test.probabilities, dtype=float)
    labels = np.asarray(test.labels, dtype=float)
    labelled = ~np.isnan(labels)
    probabilities, labels = probabilities[labelled], labels[labelled].astype(int)
    keys = matrix.place(probabilities, np.zeros(probabilities.size, dtype=int))["band_key"]
    frame = pd.DataFrame({"band": keys, "positives": labels, "others": 1 - labels})
    order = [band.key for band in matrix.bands]
    counts = frame.groupby("band")[["positives", "others"]].sum().reindex(order, fill_value=0)
    shown = suppress_table(counts)
    overlapping = _overlapping(keys, probabilities, labels, shown, order)
    bands, counted = {}, {}
    for key in order:
        positives, others = shown.at[key, "positives"], shown.at[key, "others"]
        entry = dict.fromkeys(_FIELDS)
        published = SECONDARY if key in overlapping else _count(positives)
        entry.update(pupils=_count(shown.at[key, TOTAL]), positives=published)
        if not is_withheld(positives) and not is_withheld(others) and positives + others > 0:
            pupils = int(positives) + int(others)
            if key in overlapping:  # the count withheld; the rates rounded below, if that hides it
                counted[key] = (int(positives), pupils)
            else:
                low, high = wilson(int(positives), pupils)
                entry.update(precision=int(positives) / pupils, low=low, high=high)
        bands[key] = entry
    for step in _STEPS if counted else ():  # the finest rounding that leaves every such count unknown
        rounded = {key: _rounded(k, n, step) for key, (k, n) in counted.items()}
        candidates = {key: same for key, (_, same) in rounded.items()}
        unknown = all(len(same) > 1 for same in candidates.values())
        if unknown and _hidden_together(shown, candidates, order, overlapping):
            for key, (figures, _) in rounded.items():
                bands[key].update(figures)
            break
    return {"year": test.year, "label": test.label, "confidence": CONFIDENCE, "bands": bands}


def _hidden_together(
    shown: pd.DataFrame, candidates: dict[str, list[int]], order: list[str], overlapping: set[str]
) -> bool:
    """Whether each band whose rates are given rounded still has two counts or more once the column of
    counts with the outcome is read with its total: the rounded bands' candidates, a "<10" as 1-9 and an
    "x" as 10 or more (or 0: `privacy.sum_pins`), summing to the total less the shown counts."""
    total = shown.at[TOTAL, "positives"]
    if is_withheld(total):
        return True
    hidden = [key for key in order if key in overlapping or is_withheld(shown.at[key, "positives"])]
    rest = int(total) - sum(int(shown.at[key, "positives"]) for key in order if key not in hidden)

    def domains_of(zero):
        def domain(key):
            if key in candidates:
                return [(k, k) for k in candidates[key]]
            if key in overlapping or shown.at[key, "positives"] == SECONDARY:
                return [*zero, (SUPPRESSION_THRESHOLD, int(total))]
            return [(1, SUPPRESSION_THRESHOLD - 1)]  # a "<10"

        return [domain(key) for key in hidden]

    return not sum_pins(domains_of, rest, [hidden.index(key) for key in candidates])


_STEPS = (0.01, 0.02, 0.05)  # the roundings tried, finest first: whole percents, then coarser
_EDGE = 1e-9  # a bound on a step (0.06 / 0.02, read as 2.9999...) stays on it


def _rounded(positives: int, pupils: int, step: float) -> tuple[dict[str, float], list[int]]:
    """Precision and interval rounded to `step`, and the counts of `pupils` that give the same three
    figures (two or more: the count stays unknown)."""
    reach = int(pupils * step) + 1  # counts further off cannot round to the same figures
    near = range(max(0, positives - reach), min(pupils, positives + reach) + 1)

    def figures(k: int) -> tuple[float, ...]:
        # the point to the nearest step, the interval outwards: rounded to the nearest, a tester's 68 of
        # 988 (6.9% [5.5%, 8.6%]) read "6% [6%-8%]", narrower than the truth with the point on its edge
        low, high = wilson(k, pupils)
        return (round(round(k / pupils / step) * step, 2), round(math.floor(low / step + _EDGE) * step, 2),
                round(math.ceil(high / step - _EDGE) * step, 2))

    shown = figures(positives)
    same = [k for k in near if figures(k) == shown]
    return dict(zip(("precision", "low", "high"), shown, strict=True)), same


def _overlapping(keys, probabilities, labels, shown: pd.DataFrame, order: list[str]) -> set[str]:
    """Bands whose count with the outcome, beside the top 1%/5%/10% the model's precision counts (ranked
    by probability, ties as they stand), would give a slice of 1-9 back."""
    n = probabilities.size
    if n == 0:
        return set()
    keys = np.asarray(keys)
    rank = np.empty(n, dtype=int)
    rank[np.argsort(-probabilities, kind="stable")] = np.arange(n)
    selections = {}
    for key in order:
        positives = shown.at[key, "positives"]
        selections[("band", key)] = (keys == key, None if is_withheld(positives) else int(positives))
    for capacity in DEFAULT_CAPACITIES:
        top = rank < top_share(n, capacity)
        selections[("capacity", capacity)] = (top, int(labels[top].sum()))
    total_shown = not is_withheld(shown.at[TOTAL, "positives"])
    withheld = withheld_selections(selections, labels, [("band", key) for key in order], total_shown)
    return {key for section, key in withheld if section == "band"}


def percent(share: float, exact: bool = True) -> str:
    """A rate in words, the project's one rule for a share. Exact figures (the count behind them shown)
    keep a decimal under 10%, so a low band's 0.4% does not read "0%"; figures rounded to protect a
    withheld count are whole percents, and one rounded to nothing reads "near 0%", never a plain 0% that
    the count contradicts."""
    points = 100 * share
    if not exact:
        return "near 0%" if points < 0.5 else f"{points:.0f}%"
    if points == 0:
        return "0%"
    if points < 0.1:
        return "under 0.1%"
    return f"{points:.1f}%" if points < 9.95 else f"{points:.0f}%"


def share_with_interval(share: float, low: float | None, high: float | None, exact: bool = True) -> str:
    """A share with its interval, each by `percent`: "0.8% [0.7%–0.8%]", "32% [31%–34%]" (the share
    alone when it has no interval). One rounding for all three, so the interval holds the share as read."""
    shown = percent(share, exact)
    if low is None or high is None:
        return shown
    return f"{shown} [{percent(low, exact)}–{percent(high, exact)}]"


def precision_entry(precision: dict[str, Any] | None, key: str, label: str) -> dict[str, Any]:
    """One band's "how sure" object (RiskMatrix.to_dict): year, pupils, positives, precision, low,
    high and a sentence; all None but the sentence when the band has no figures."""
    entry = (precision or {}).get("bands", {}).get(key)
    if entry is None:
        return {"year": None, **dict.fromkeys(_FIELDS), "text": NOT_MEASURED}
    year = precision.get("year")
    outcome = OUTCOMES.get(precision.get("label"), OUTCOMES["any"])
    if entry.get("precision") is None and entry.get("positives") == SECONDARY:
        text = (f"Pupils placed {label} in {year}: how many {outcome} is withheld, as beside other "
                "published figures it would give a small number of pupils back.")  # fmt: skip
    elif entry.get("precision") is None:
        text = f"Pupils placed {label} in {year}: too few pupils in the test year to say how many {outcome}."
    else:
        exact = entry.get("positives") != SECONDARY  # else rounded: the count is withheld
        shown = share_with_interval(entry["precision"], entry["low"], entry["high"], exact)
        text = f"Of pupils placed {label} in {year}, {shown} {outcome}."
    return {"year": year, **{f: entry.get(f) for f in _FIELDS}, "text": text}


def csv_values(precision: dict[str, Any] | None, key: str) -> tuple[float, str | None]:
    """scores.csv's band_precision (share to 3 places; NaN, written blank, when not shown) and
    band_precision_ci ("0.312-0.371"; None when not shown)."""
    entry = (precision or {}).get("bands", {}).get(key) or {}
    if entry.get("precision") is None:
        return float("nan"), None
    return round(float(entry["precision"]), 3), f"{entry['low']:.3f}-{entry['high']:.3f}"
