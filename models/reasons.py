"""Reasons in plain English: each pupil's largest contributions, as the feature registry words them.

`reason_texts` gives the `reasons` column of scores.csv (the top raising factors, "; "-joined);
`top_factors` gives the factors with their contributions, raising or lowering, for the audit view
(`CohortScorer.explain`). Protected characteristics are never offered as reasons about a child: they
are reported in the fairness review instead. A contribution below `MIN_REASON_CONTRIBUTION` (on the
explained scale, see `models.explain`) is too small to be worth a practitioner's attention.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models.explain import Explanation

# A factor is given as a reason only when it moves the raw score by at least this much.
MIN_REASON_CONTRIBUTION = {"log-odds": 0.05, "probability": 0.002}
# Columns the registry describes; any other column (a model trained on extra inputs) keeps its own name.
REGISTRY_NAMES = frozenset(f.name for f in registry.FEATURES)


def feature_label(name: str) -> str:
    """The registry's plain-English label of a feature ("Suspensions last year")."""
    return registry.get(name).label if name in REGISTRY_NAMES else name


class Describer:
    """registry.describe with a cache: a cohort repeats the same (feature, value) pairs many times."""

    def __init__(self):
        self._cache: dict[tuple[str, object], str] = {}

    def __call__(self, name: str, value) -> str:
        key = (name, _cache_key(value))
        phrase = self._cache.get(key)
        if phrase is None:
            phrase = registry.describe(name, value)
            if len(self._cache) < 200_000:
                self._cache[key] = phrase
        return phrase


def _cache_key(value):
    if registry.is_missing(value):
        return None
    if isinstance(value, (float, np.floating)):
        return round(float(value), 6)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def _select_top(
    explanation: Explanation,
    n: int,
    direction: str,
    include_protected: bool,
    min_contribution: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per pupil, the column indices of the `n` largest qualifying contributions (largest first) and
    their values on the signed scale; places with no qualifying factor hold -inf."""
    if direction not in ("raising", "lowering"):
        raise ValueError("direction must be 'raising' or 'lowering'")
    floor = MIN_REASON_CONTRIBUTION[explanation.scale] if min_contribution is None else min_contribution
    contributions = explanation.contributions if direction == "raising" else -explanation.contributions
    usable = np.array(
        [
            include_protected or not registry.get(f).protected if f in REGISTRY_NAMES else True
            for f in explanation.features
        ]
    )
    masked = np.where(usable[None, :] & (contributions >= floor), contributions, -np.inf)
    k = min(n, masked.shape[1])
    if k == 0 or masked.shape[0] == 0:
        empty = np.empty((masked.shape[0], 0))
        return empty.astype(int), empty
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(masked, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    return top, np.take_along_axis(masked, top, axis=1)


def _value_columns(explanation: Explanation, values: pd.DataFrame | list[dict]) -> dict[str, np.ndarray]:
    if isinstance(values, pd.DataFrame):
        return {f: values[f].to_numpy(dtype=object) for f in explanation.features}
    # a list of records (feature name -> value), the service's one-pupil path
    return {f: np.array([record.get(f) for record in values], dtype=object) for f in explanation.features}


def top_factors(
    explanation: Explanation,
    values: pd.DataFrame | list[dict],
    n: int = 3,
    direction: str = "raising",
    include_protected: bool = False,
    describer: Describer | None = None,
    min_contribution: float | None = None,
) -> list[list[dict]]:
    """For each pupil, up to `n` factors raising (or lowering) the raw score, largest first.

    Each factor: feature, label, value phrase (plain English), contribution (raw scale).
    Protected characteristics are left out unless asked for: they are reported in the fairness review,
    not offered to a practitioner as reasons about a child.
    """
    describer = describer or Describer()
    top, chosen = _select_top(explanation, n, direction, include_protected, min_contribution)
    if top.shape[1] == 0:
        return [[] for _ in range(top.shape[0])]
    value_columns = _value_columns(explanation, values)
    sign = 1.0 if direction == "raising" else -1.0
    out = []
    for row in range(top.shape[0]):
        factors = []
        for j, c in zip(top[row], chosen[row], strict=True):
            if not np.isfinite(c):
                break
            name = explanation.features[j]
            factors.append(
                {
                    "feature": name,
                    "label": feature_label(name),
                    "value": describer(name, value_columns[name][row]),
                    "contribution": float(sign * c),
                }
            )
        out.append(factors)
    return out


def reason_texts(
    explanation: Explanation,
    values: pd.DataFrame | list[dict],
    n: int = 3,
    describer: Describer | None = None,
) -> list[str]:
    """Each pupil's top raising factors as one "; "-joined phrase string (scores.csv `reasons`).

    The same text as joining `top_factors(...)` values, without building a dict per factor: a cohort's
    reasons repeat the same few (feature, value) phrases, so each feature's phrases are
    rendered once per distinct value and placed with array indexing: on 100,000 pupils the per-factor
    dicts cost as much as the TreeSHAP call itself.
    """
    describer = describer or Describer()
    top, chosen = _select_top(explanation, n, "raising", False, None)
    rows_total, k = top.shape
    if k == 0:
        return [""] * rows_total
    value_columns = _value_columns(explanation, values)
    phrases = np.full((rows_total, k), None, dtype=object)
    present = np.isfinite(chosen)
    for j, name in enumerate(explanation.features):
        rows, ranks = np.nonzero((top == j) & present)
        if rows.size == 0:
            continue
        column = pd.Series(value_columns[name][rows], dtype=object)
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        words = np.array([describer(name, value) for value in uniques], dtype=object)
        phrases[rows, ranks] = words[codes]
    return ["; ".join(p for p in row if p is not None) for row in phrases.tolist()]
