"""`evaluate`'s tables by school and by group: counts withheld as the review's, rates from shown ones.

Each school's (or group's) pupils, excluded, selected at the headline capacity and true positives are
withheld by the fairness review's rule (`group_counts.shown_group_counts`: the same pupils give the
same cells withheld in both outputs), with `small_differences` withheld from the start. Then:

* a rate is shown exactly when the counts it rests on are shown: observed = excluded / pupils, precision
  = true positives / selected (with its Wilson interval), recall = true positives / excluded; a count
  withheld elsewhere in the row (the review withholds a group's four confusion counts together) does not
  hide a rate that does not rest on it;
* true positives that a shown zero implies are shown as 0: none of a school's pupils in the top 5%, or
  none excluded, leaves none who were both. The review's rule withholds them with the row's other
  confusion counts, but a withheld cell whose value the row's shown counts give is not hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.models.band_precision import wilson
from exclusion_risk.models.group_counts import confusion_by_group, shown_group_counts
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, is_withheld


def shown(value: Any) -> bool:
    return not is_withheld(value)


def as_shown(value: Any) -> int | str:
    """A count as published: an int, or the withheld mark ("<10", "x")."""
    return value if is_withheld(value) else int(value)


def rate(numerator: Any, denominator_parts: list[Any]) -> tuple[float | None, float | None, float | None]:
    """numerator / sum(parts) with its Wilson interval, when every count is shown and the sum is > 0."""
    if not all(shown(v) for v in (numerator, *denominator_parts)):
        return None, None, None
    total = sum(int(v) for v in denominator_parts)
    if total == 0:
        return None, None, None
    low, high = wilson(int(numerator), total)
    return int(numerator) / total, low, high


def small_differences(unscored: pd.DataFrame | None, column: str) -> list[tuple[str, str]]:
    """(group, count) to withhold: the groups whose census pupils not scored, or those of them with or
    without the outcome, number 1-9. The census's counts by group are published by the fairness review
    and describe; less these, they would give the unscored pupils' groups back."""
    if unscored is None or unscored.empty:
        return []
    outcome = unscored["outcome"].astype(float).fillna(0)
    counts = outcome.groupby(unscored[column].astype(str).to_numpy()).agg(["size", "sum"])
    small = [g for g, (size, positives) in counts.iterrows()
             if any(0 < c < SUPPRESSION_THRESHOLD for c in (size, positives, size - positives))]  # fmt: skip
    return [(g, c) for g in small for c in ("n", "positives")]


def school(frame: pd.DataFrame | None, column: str) -> pd.DataFrame | None:
    return None if frame is None else frame.assign(school=frame[column].replace("", "unknown"))


def true_positives(counts: dict) -> int | str:
    """The group's true positives as shown: 0 where its selected or excluded is a shown 0 (they can be
    no more), else as `shown_group_counts` has them."""
    implied = any(shown(counts[c]) and int(counts[c]) == 0 for c in ("selected", "positives"))
    if is_withheld(counts["tp"]) and implied:
        return 0
    return as_shown(counts["tp"])


def group_rows(
    frame: pd.DataFrame, column: str, selected: np.ndarray, unscored: pd.DataFrame | None = None,
    suppress: Callable[[pd.DataFrame, list], dict] = shown_group_counts,
) -> list[dict[str, Any]]:
    """Per value of `column`: pupils, excluded, selected at the headline capacity and true positives as
    shown, and the rates those shown counts give (the module text). `suppress(table, withhold)`: the
    counts as shown (the schools' are read beside scores.html's too: `evaluate_schools`)."""
    labels = frame[column].astype(str)
    table = confusion_by_group(frame["outcome"], selected, labels)
    withhold = [(g, c) for g, c in small_differences(unscored, column) if g in table.index]
    shown_counts = suppress(table, withhold)
    predicted = frame["probability"].groupby(labels.to_numpy()).mean()
    rows = []
    for value in sorted(predicted.index):
        counts = shown_counts[value]
        pupils, excluded, chosen = (counts[c] for c in ("n", "positives", "selected"))
        tp = true_positives(counts)
        observed = rate(excluded, [pupils])[0]
        precision, low, high = rate(tp, [chosen])
        recall = rate(tp, [excluded])[0]
        rows.append(
            {
                "group": value,
                "pupils": as_shown(pupils),
                "excluded": as_shown(excluded),
                "observed": observed,
                "mean_predicted": float(predicted[value]) if shown(pupils) else None,
                **selection_cells(as_shown(chosen), tp, precision, recall, low, high),
            }
        )
    return rows


def selection_cells(selected: Any, tp: Any, precision: float | None, recall: float | None,
                    low: float | None, high: float | None) -> dict[str, Any]:
    """A selection's cells as evaluate's tables name them: pupils selected, of them who did, precision
    with its interval, recall."""
    return {"selected": selected, "true_positives": tp, "precision": precision, "recall": recall,
            "ci_low": low, "ci_high": high}  # fmt: skip
