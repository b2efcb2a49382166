"""Fellegi-Sunter parameters in numpy, for engines that compute comparison levels outside SQL.

m[c][k]: P(level k of comparison c | match); u[c][k]: P(level k | non-match). A pair's match weight
is log2(prior odds) + sum over non-missing comparisons of log2(m/u); missing levels (-1) add 0.
Estimation follows Splink's recipe so the two engines are comparable: u from random pairs, m by
expectation maximisation on blocked pairs (a session never estimates the comparisons its blocking
rule selected on), then m replaced by counts over the earlier stages' links wherever those links
were not selected on that comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.linkage.settings import COMPARISON_LEVELS

_FLOOR = 1e-6  # keeps log2(m/u) finite for levels never seen in a sample


def level_frequencies(
    gammas: pd.DataFrame,
    comparisons: list[str],
    weights: np.ndarray | None = None,
    pseudo: float = 0.0,
    levels: dict[str, int] | None = None,
) -> dict[str, list[float] | None]:
    """Share of each level among non-missing values, optionally weighted; None when nothing observed.

    `levels`: number of levels per comparison (settings.comparison_levels), for extra comparisons.
    """
    levels = COMPARISON_LEVELS | (levels or {})
    out: dict[str, list[float] | None] = {}
    for c in comparisons:
        g = gammas[f"gamma_{c}"].to_numpy()
        w = np.ones(len(g)) if weights is None else weights
        seen = g >= 0
        counts = np.bincount(g[seen], weights=w[seen], minlength=levels[c]).astype(float)
        counts = counts + pseudo
        total = counts.sum()
        out[c] = (
            None if total <= pseudo * len(counts) else [float(x) for x in np.maximum(counts / total, _FLOOR)]
        )
    return out


def log2_bayes_factors(gammas: pd.DataFrame, comparisons: list[str], m: dict, u: dict) -> np.ndarray:
    """Sum over comparisons of log2(m/u) at each pair's level (0 for missing)."""
    total = np.zeros(len(gammas))
    for c in comparisons:
        g = gammas[f"gamma_{c}"].to_numpy()
        table = np.log2(np.asarray(m[c]) / np.asarray(u[c]))
        seen = g >= 0
        total[seen] += table[g[seen]]
    return total


def default_m(comparisons: list[str], levels: dict[str, int] | None = None) -> dict[str, list[float]]:
    """Starting m values: most matches agree exactly, a few are near, fewer disagree."""
    levels = COMPARISON_LEVELS | (levels or {})
    start = {2: [0.05, 0.95], 4: [0.02, 0.03, 0.10, 0.85], 5: [0.01, 0.02, 0.03, 0.04, 0.90]}
    return {c: start[levels[c]] for c in comparisons}


def expectation_maximisation(
    gammas: pd.DataFrame,
    estimate: list[str],
    m: dict,
    u: dict,
    iterations: int,
    tolerance: float = 1e-4,
    levels: dict[str, int] | None = None,
) -> dict[str, list[float]]:
    """m for the comparisons in `estimate` by EM on blocked pairs with u fixed (Splink's procedure)."""
    if not estimate or gammas.empty:
        return {}
    m = {c: list(m[c]) for c in estimate}
    lam = 0.1
    for _ in range(iterations):
        lbf = log2_bayes_factors(gammas, estimate, m, u)
        odds = np.exp2(np.clip(lbf, -60, 60)) * lam / (1 - lam)
        post = odds / (1 + odds)
        new = level_frequencies(gammas, estimate, weights=post, levels=levels)
        lam = float(np.clip(post.mean(), 1e-6, 1 - 1e-6))
        change = max(
            (
                max(abs(a - b) for a, b in zip(new[c], m[c], strict=True))
                for c in estimate
                if new[c] is not None
            ),
            default=0.0,
        )
        m = {c: (new[c] if new[c] is not None else m[c]) for c in estimate}
        if change < tolerance:
            break
    return m


def probability(weight: np.ndarray) -> np.ndarray:
    """Match probability of a match weight. Splink's weights are log2 Bayes factors, so this is the
    logistic function in base 2 (not `values.sigmoid`, which is base e); clipped as Splink clips."""
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))
