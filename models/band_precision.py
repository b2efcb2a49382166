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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.privacy import TOTAL, is_withheld, suppress_table

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
    """The Wilson score interval of successes / trials at CONFIDENCE (band precision, `evaluate`)."""
    from scipy.stats import binomtest  # scipy.stats takes a while to import; only these figures need it

    interval = binomtest(successes, trials).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return float(interval.low), float(interval.high)


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
    bands = {}
    for key in order:
        positives, others = shown.at[key, "positives"], shown.at[key, "others"]
        entry = dict.fromkeys(_FIELDS)
        entry.update(pupils=_count(shown.at[key, TOTAL]), positives=_count(positives))
        if not is_withheld(positives) and not is_withheld(others) and positives + others > 0:
            pupils = int(positives) + int(others)
            low, high = wilson(int(positives), pupils)
            entry.update(precision=int(positives) / pupils, low=low, high=high)
        bands[key] = entry
    return {"year": test.year, "label": test.label, "confidence": CONFIDENCE, "bands": bands}


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def precision_entry(precision: dict[str, Any] | None, key: str, label: str) -> dict[str, Any]:
    """One band's "how sure" object (RiskMatrix.to_dict): year, pupils, positives, precision, low,
    high and a sentence; all None but the sentence when the band has no figures."""
    entry = (precision or {}).get("bands", {}).get(key)
    if entry is None:
        return {"year": None, **dict.fromkeys(_FIELDS), "text": NOT_MEASURED}
    year = precision.get("year")
    outcome = OUTCOMES.get(precision.get("label"), OUTCOMES["any"])
    if entry.get("precision") is None:
        text = f"Pupils placed {label} in {year}: too few pupils in the test year to say how many {outcome}."
    else:
        shown = f"{_percent(entry['precision'])} [{_percent(entry['low'])}–{_percent(entry['high'])}]"
        text = f"Of pupils placed {label} in {year}, {shown} {outcome}."
    return {"year": year, **{f: entry.get(f) for f in _FIELDS}, "text": text}


def csv_values(precision: dict[str, Any] | None, key: str) -> tuple[float, str | None]:
    """scores.csv's band_precision (share to 3 places; NaN, written blank, when not shown) and
    band_precision_ci ("0.312-0.371"; None when not shown)."""
    entry = (precision or {}).get("bands", {}).get(key) or {}
    if entry.get("precision") is None:
        return float("nan"), None
    return round(float(entry["precision"]), 3), f"{entry['low']:.3f}-{entry['high']:.3f}"
