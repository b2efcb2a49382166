"""The calibration curve a training run stores, read beside what `evaluate` publishes for the same year.

Each model run stores its test-year calibration curve in MLflow (`evaluation/metrics.json`): ten
equal-count bins of predicted probability, each bin's observed rate beside its pupils, so its count with
the outcome. Scored with that model, the same pupils are what `evaluate` back-tests for that year, and it
publishes their tenths (the same bins, highest first), bands, ratings and top k%, withholding what their
overlaps would give back (`selection_overlaps`). Suppressed on its own (`evaluate.shown_positives` over
the bins), the curve showed what evaluate withheld: on the demo evaluate's tenths table withheld tenth 2
("x") so that tenths 9 and 10 together (the total less tenths 1-8) could not be read beside the low
band's 333 excluded (tenths 4-10 and the last 165 pupils of tenth 3); the curve's bin 9, the same 6,251
pupils, showed 0.0449528, so 281, and tenths 9 and 10 were 28 and the 165 pupils' excluded 4.

`withheld_bins` builds evaluate's tables for the test year with evaluate's own function
(`evaluate.ranked_sections`: the model's probabilities ranked as `score` ranks them, placed on the risk
matrix with the version's stored thresholds and each pupil's need level), withholds every bin that is the
same pupils as a selection evaluate withholds, and then any further bin that, read with evaluate's shown
figures, the bands' test-year precision stored with the thresholds and the run's precision at each
capacity, would pin a count of 1-9 (`selection_overlaps.withheld_selections`). Aggregates only leave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.models.evaluate import HEADLINE_CAPACITY, ranked_sections
from exclusion_risk.models.metrics import calibration_bins, top_share
from exclusion_risk.models.risk_matrix import RiskMatrix
from exclusion_risk.models.selection_overlaps import published_selections, withheld_selections


@dataclass(frozen=True)
class ScoredTestYear:
    """The test year's pupils as a model scored them: in memory only, never logged."""

    probabilities: np.ndarray
    labels: np.ndarray  # 0/1
    upns: np.ndarray  # the ranking's tie-break, as `scoring.rank_scores`
    need_levels: np.ndarray  # 0-3, as `score` places pupils
    matrix: RiskMatrix  # with the model version's stored thresholds
    capacities: Sequence[float]  # the run's precision at each is logged exactly
    band_precision: dict | None = None  # stored with the thresholds (`band_precision.band_precision`)


def _stored_bands(test: ScoredTestYear, band_keys: np.ndarray) -> dict:
    """The bands' counts with the outcome that the stored band precision shows, as selections."""
    bands = (test.band_precision or {}).get("bands") or {}
    return {("stored band", key): (band_keys == key, int(entry["positives"]))
            for key, entry in bands.items() if type(entry.get("positives")) is int}  # fmt: skip


def withheld_bins(test: ScoredTestYear, shown: Sequence[bool]) -> set[int]:
    """The curve's bins (0 = lowest probabilities, as `metrics.calibration_bins`) whose count with the
    outcome, and so whose rate, the stored curve must withhold: those not `shown` (`shown_positives`),
    every bin that is the same pupils as a selection evaluate's tables for this year withhold, and then
    those that beside evaluate's shown figures would pin a count of 1-9 (see the module text)."""
    probabilities = np.asarray(test.probabilities, dtype=float)
    order = np.lexsort((np.asarray(test.upns).astype(str), -probabilities))
    p, y = probabilities[order], np.asarray(test.labels, dtype=int)[order]
    placed = test.matrix.place(p, np.asarray(test.need_levels)[order])
    frame = pd.DataFrame({"probability": p, "outcome": y, "likelihood_band": placed["likelihood_band"],
                          "rag": placed["rag"]})  # fmt: skip
    sections, _ = ranked_sections(frame, [band.label for band in test.matrix.bands])
    selections, _ = published_selections(frame, sections, HEADLINE_CAPACITY)
    rank = np.arange(len(frame))
    for capacity in test.capacities:  # the run's precision at k times the top k%'s size
        top = rank < top_share(len(frame), capacity)
        selections[("run capacity", capacity)] = (top, int(y[top].sum()))
    selections.update(_stored_bands(test, placed["band_key"]))
    bins = calibration_bins(probabilities)[order]
    hidden = [mask for mask, count in selections.values() if count is None]
    withheld = {b for b, kept in enumerate(shown)
                if not kept or any(np.array_equal(bins == b, mask) for mask in hidden)}  # fmt: skip
    for b in range(len(shown)):
        selections[("curve", b)] = (bins == b, None if b in withheld else int(y[bins == b].sum()))
    choices = [("curve", b) for b in range(len(shown)) if b not in withheld]
    return withheld | {b for _, b in withheld_selections(selections, y, choices, total_shown=True)}
