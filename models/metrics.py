"""Evaluation metrics an inclusion team acts on, with bootstrap 95% intervals, fully vectorised.

Metrics (names as logged to MLflow):
  `precision_at_{k}pct`, `recall_at_{k}pct` — of the top k% of the cohort by score (a team's capacity),
  `roc_auc`, `average_precision`, `brier`, `calibration_error` (mean |observed - predicted| over
  ten equal-count bins, weighted by bin size; its estimate rounded and its interval widened so that it
  cannot pin a withheld bin's count, and withheld under 100 pupils, `coarse_calibration_error`), plus a
  calibration curve with intervals.

Tied scores are handled exactly rather than by an arbitrary sort: a points checklist gives thousands
of pupils the same score, so precision in the top k% is the *expected* precision when a team breaks
ties at random (the boundary tie group counts pro rata) among the `top_share` pupils it selects
(ceil(k x n), in each bootstrap replicate of its weighted n), ROC-AUC counts ties as one half, and average
precision uses one threshold per distinct score (as scikit-learn does).

Intervals come from a Poisson bootstrap (each pupil's weight ~ Poisson(1), the standard large-n
approximation of resampling with replacement) so a whole block of replicates is one matrix product.
All models scored in one `evaluate` call share the same replicate weights, so the difference between
two models (`Evaluation.gain_over`) is a paired bootstrap interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from exclusion_risk.privacy import SECONDARY, SUPPRESSION_THRESHOLD, is_withheld, share_step, suppress_nested

DEFAULT_CAPACITIES = (0.01, 0.05, 0.10)
CALIBRATION_BINS = 10
_CHUNK = 100  # bootstrap replicates per block: 100 x 62,536 float32 weights = 25 MB


def top_share(n: int, capacity: float) -> int:
    """How many pupils a capacity of `capacity` selects from `n`: ceil(capacity x n), at least one.

    The 1e-9 keeps float products such as 0.07 x 100 = 7.000000000000001 at 7. Every count of "the top
    k%" (thresholds, bands, the fairness review, the back-test, each bootstrap replicate's: `top_shares`)
    is taken here, so they agree.
    """
    return int(top_shares(np.asarray(n), capacity))


def top_shares(n: np.ndarray, capacity: float) -> np.ndarray:
    """`top_share` of each of `n` (the bootstrap replicates' weighted cohort sizes), as floats."""
    n = np.asarray(n, dtype=np.float64)
    return np.minimum(n, np.maximum(1.0, np.ceil(capacity * n - 1e-9)))


def capacity_name(k: float) -> str:
    """'1pct' for 0.01, '5pct' for 0.05, '0.5pct' for 0.005."""
    return f"{round(k * 100, 4):g}pct"


def metric_names(capacities: Sequence[float] = DEFAULT_CAPACITIES) -> list[str]:
    names = []
    for k in capacities:
        names += [f"precision_at_{capacity_name(k)}", f"recall_at_{capacity_name(k)}"]
    return names + ["roc_auc", "average_precision", "brier", "calibration_error"]


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        if math.isnan(self.estimate):  # withheld (withhold_small_selections): not "nan [nan, nan]"
            return "withheld"
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class CalibrationCurve:
    """Per equal-count bin of predicted probability: mean prediction, observed rate and its interval."""

    predicted: np.ndarray
    observed: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray


@dataclass
class Evaluation:
    metrics: dict[str, Interval]
    calibration: CalibrationCurve
    replicates: dict[str, np.ndarray] = field(repr=False)
    level: float = 0.95

    def gain_over(self, other: Evaluation) -> dict[str, Interval]:
        """Paired bootstrap interval of (this - other) per metric; both from the same `evaluate` call."""
        out = {}
        for name, est in self.metrics.items():
            diff = self.replicates[name] - other.replicates[name]
            low, high = _percentile_interval(diff, self.level)
            gain = est.estimate - other.metrics[name].estimate
            if np.isnan(gain):  # an estimate withheld (`coarse_calibration_error`): so is its gain's interval
                out[name] = Interval(gain, gain, gain)
                continue
            # the estimates may be published rounded (`coarse_calibration_error`): their difference can be
            # a place off the exact one the paired interval is drawn around, so the interval holds it (an
            # interval that is not a number stays so: min and max keep their first argument, NaN)
            out[name] = Interval(gain, min(low, gain), max(high, gain))
        return out

    def point(self) -> dict[str, float]:
        return {name: iv.estimate for name, iv in self.metrics.items()}


def _percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return float(low), float(high)


def _check_inputs(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.size}) and scores ({p.size}) differ in length")
    if y.size == 0:
        raise ValueError("no rows to evaluate")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(p).all():
        raise ValueError("scores must be finite numbers")
    return y, p


class _Ranked:
    """Rows sorted by descending score and cut into tie groups (one group per distinct score)."""

    def __init__(self, y: np.ndarray, p: np.ndarray):
        self.order = np.argsort(-p, kind="stable")
        p_sorted = p[self.order]
        self.y_sorted = y[self.order]
        self.starts = np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1]])
        self.tied = self.starts.size < p.size
        self.sq_err = (p - y) ** 2

    def groups(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted positives and totals per tie group for each replicate column of `w` (n x B)."""
        ws = w[self.order]
        pos = ws * self.y_sorted.astype(ws.dtype)[:, None]
        if not self.tied:  # every score distinct: each row is its own group
            return pos, ws
        return np.add.reduceat(pos, self.starts, axis=0), np.add.reduceat(ws, self.starts, axis=0)


def _ranking_metrics(pos: np.ndarray, tot: np.ndarray, capacities: Sequence[float]) -> dict[str, np.ndarray]:
    """Ranking metrics from per-group weighted counts (G x B: groups by descending score, replicates).

    Replicates are columns so every reduction runs down contiguous rows. Bootstrap blocks arrive as
    float32 (exact for integer counts below 2**24); sums over 62,536 pupils then carry ~1e-7 relative
    error, far below any interval width.
    """
    neg = tot - pos
    n_pos = pos.sum(axis=0)
    n_tot = tot.sum(axis=0)
    n_neg = n_tot - n_pos
    cum_pos = np.cumsum(pos, axis=0)
    cum_tot = np.cumsum(tot, axis=0)
    cols = np.arange(pos.shape[1])
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        # A positive outranks every negative in later groups and ties (half) with its own group's:
        # negatives below group g = n_neg - (cum_tot - cum_pos)_g.
        auc_num = (pos * (n_neg + cum_pos - cum_tot + 0.5 * neg)).sum(axis=0)
        out["roc_auc"] = auc_num / (n_pos * n_neg)
        out["average_precision"] = (pos * (cum_pos / np.maximum(cum_tot, 1e-12))).sum(axis=0) / n_pos
        for k in capacities:
            # pupils a team can see: the top k of the cohort as `top_share` counts them (ceil(k x n)),
            # so the stated precision is the count the back-test and the fairness review see (1,013 of
            # 3,126), not that count over a fractional k x n (1,013 / 3,125.45)
            want = top_shares(n_tot, k)
            # first group whose cumulative count reaches `want`
            boundary = np.minimum((cum_tot < want).sum(axis=0), tot.shape[0] - 1)
            before = boundary - 1
            has_before = before >= 0
            before_tot = np.where(has_before, cum_tot[before, cols], 0.0)
            before_pos = np.where(has_before, cum_pos[before, cols], 0.0)
            group_tot = tot[boundary, cols]
            group_pos = pos[boundary, cols]
            share = np.clip((want - before_tot) / np.where(group_tot > 0, group_tot, 1), 0.0, 1.0)
            hits = before_pos + share * group_pos
            out[f"precision_at_{capacity_name(k)}"] = hits / want
            out[f"recall_at_{capacity_name(k)}"] = hits / n_pos
    return out


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    """Equal-count bins of predicted probability (ties kept together, so bins may be fewer)."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)[1:-1]))
    raw = np.searchsorted(edges, p, side="right")
    return np.unique(raw, return_inverse=True)[1]  # drop empty bins: consecutive indices


def calibration_bins(p: np.ndarray) -> np.ndarray:
    """Each pupil's bin of the calibration curve `evaluate` measures (0 = lowest probabilities)."""
    return _bin_index(np.asarray(p, dtype=np.float64), CALIBRATION_BINS)


def _calibration_counts(w, y, p, bin_idx, n_bins):
    """Per replicate and bin: weighted count, positives and sum of predictions (each B x bins).

    Rows are grouped by bin and summed block by block (a matrix product here hit BLAS threading
    stalls on a loaded machine; contiguous row sums do not).
    """
    order = np.argsort(bin_idx, kind="stable")
    starts = np.searchsorted(bin_idx[order], np.arange(n_bins))
    ws = w[order]
    count = np.add.reduceat(ws, starts, axis=0).T
    positives = np.add.reduceat(ws * y[order].astype(ws.dtype)[:, None], starts, axis=0).T
    predicted = np.add.reduceat(ws * p[order].astype(ws.dtype)[:, None], starts, axis=0).T
    return count, positives, predicted


# Poisson(1) drawn by inverting its CDF on float32 uniforms: several times faster than rng.poisson.
_POISSON_CDF = np.cumsum([np.exp(-1.0) / np.prod(np.arange(1, j + 1, dtype=float)) for j in range(12)])


def _weights(n: int, n_boot: int, seed: int):
    """Replicate weights in (n x block) blocks; the same (n, n_boot, seed) always yields the same."""
    rng = np.random.default_rng(seed)
    cdf = _POISSON_CDF.astype(np.float32)
    done = 0
    while done < n_boot:
        size = min(_CHUNK, n_boot - done)
        u = rng.random(size=(n, size), dtype=np.float32)  # replicates in columns
        yield np.searchsorted(cdf, u, side="right").astype(np.float32)
        done += size


def point_metrics(y, p, capacities: Sequence[float] = DEFAULT_CAPACITIES) -> dict[str, float]:
    """All metrics on the data as given (no intervals): used inside the hyper-parameter search."""
    y, p = _check_inputs(y, p)
    ranked = _Ranked(y, p)
    pos, tot = ranked.groups(np.ones((y.size, 1)))
    out = {name: float(v[0]) for name, v in _ranking_metrics(pos, tot, capacities).items()}
    out["brier"] = float(ranked.sq_err.mean())
    bin_idx = _bin_index(p, CALIBRATION_BINS)
    n_bins = int(bin_idx.max()) + 1
    count, positives, predicted = _calibration_counts(np.ones((y.size, 1), np.float32), y, p, bin_idx, n_bins)
    out["calibration_error"] = float((np.abs(positives - predicted)).sum() / count.sum())
    return out


# The calibration error, times the pupils, is the sum of each bin's |excluded - predicted|: published
# exactly beside the stored curve (each bin's predicted rate and size, the bins' observed rates where
# shown) and the total excluded (precision and recall at a capacity), it is one more equation in the
# withheld bins' counts, which pinned two of them on a 2,000-pupil cohort (6 and 26 excluded). Rounded
# so that its last place is worth at least this many pupils, it pins none.
CALIBRATION_ERROR_PUPILS = 20


def calibration_error_places(n: int) -> int:
    """The decimal places (of the error as a share) `coarse_calibration_error` keeps over `n` pupils."""
    return max(1, int(np.floor(np.log10(max(n, 1) / CALIBRATION_ERROR_PUPILS))))


def coarse_calibration_error(value: float, low: float, high: float, n: int) -> tuple[float, float, float]:
    """(estimate, low, high) of a calibration error over `n` pupils to the decimals whose last place is
    worth at least CALIBRATION_ERROR_PUPILS pupils (3 on the demo's 62,509, 2 on 2,000; 1 at least): the
    estimate rounded, the interval widened outwards, so it still holds the estimate. Withheld (all three
    NaN: not logged, "withheld" on the card) where not even one decimal place is worth 10 pupils (under
    100), as drift's shares are (`privacy.share_step`): 0.1 of 60 pupils was 6 of them."""
    if share_step(n) >= 1.0:
        return math.nan, math.nan, math.nan
    scale = 10.0 ** calibration_error_places(n)
    if not np.isfinite([low, high]).all():
        return float(np.round(value * scale) / scale), low, high
    estimate = float(np.round(value * scale) / scale)
    return (estimate, min(estimate, float(np.floor(low * scale) / scale)),
            max(estimate, float(np.ceil(high * scale) / scale)))


def withhold_small_selections(metrics: dict[str, Interval], n: int, capacities: Sequence[float],
                              positives: int | None = None) -> None:
    """Withhold (NaN, as `coarse_calibration_error`'s: not logged, "withheld" on the card) the precision
    and recall at each capacity whose top k% of `n` pupils `evaluate` would withhold: those with the
    outcome, or without it, 1-9, or a slice between two nested tops of 1-9 (`privacy.suppress_nested`).
    Precision times the top's size gives the count back: a reviewer's card gave the top 1% (31 pupils) as
    precision 0.290 and recall 0.110, 9 / 31 and 9 / 82. Tied scores make the count an expectation: it is
    read to the nearest pupil."""
    nested = sorted(capacities, key=lambda k: top_share(n, k))
    selected = np.array([top_share(n, k) for k in nested])
    hits = np.array([round(metrics[f"precision_at_{capacity_name(k)}"].estimate * s)
                     for k, s in zip(nested, selected, strict=True)])  # fmt: skip
    shown = suppress_nested(pd.DataFrame({"tp": hits, "fp": selected - hits}, index=nested))
    if positives is not None:  # the year's excluded are published (the base rate): so is what a top leaves
        totals = (positives, n - positives)
        for k, s_, h in reversed(list(zip(nested, selected, hits, strict=True))):
            if any(is_withheld(value) for value in shown.loc[k]):
                continue
            outside = [total - count for total, count in zip(totals, (h, s_ - h), strict=True)]
            if not any(0 < left < SUPPRESSION_THRESHOLD for left in outside):
                break  # the largest top shown leaves 0 or 10+ of each kind outside it
            shown.loc[k] = SECONDARY  # a top 5 short of the year's 40 excluded gave the 5 outside it back
    for k in nested:
        if any(is_withheld(value) for value in shown.loc[k]):
            for name in (f"precision_at_{capacity_name(k)}", f"recall_at_{capacity_name(k)}"):
                metrics[name] = Interval(math.nan, math.nan, math.nan)


def withheld_point_selections(
    values: dict[str, float], n: int, capacities: Sequence[float], positives: int | None = None
) -> dict[str, float]:
    """`values` (`point_metrics` over `n` pupils) as they may be logged or printed: the precision and
    recall at each capacity that `withhold_small_selections` withholds set to NaN. The validation year's
    were logged and printed exactly (`validation_<metric>` in MLflow, search.csv, `promote`'s reason),
    so a top k% of 1-9 pupils with or without the outcome came back as a count."""
    intervals = {name: Interval(v, v, v) for name, v in values.items()}
    withhold_small_selections(intervals, n, capacities, positives)
    return {name: iv.estimate for name, iv in intervals.items()}


def evaluate(
    y,
    scores: Mapping[str, np.ndarray],
    capacities: Sequence[float] = DEFAULT_CAPACITIES,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Evaluation]:
    """Every metric for every named score vector with bootstrap intervals (shared, paired replicates).

    `scores` maps a model name to probabilities for the same rows as `y`.
    """
    if n_boot < 2:
        raise ValueError("n_boot must be at least 2")
    checked = {name: _check_inputs(y, p)[1] for name, p in scores.items()}
    y_arr = _check_inputs(y, next(iter(checked.values())))[0]
    if y_arr.min() == y_arr.max():
        raise ValueError("labels are all one class: ranking metrics are undefined")
    n = y_arr.size
    prepared = {}
    for name, p in checked.items():
        bin_idx = _bin_index(p, CALIBRATION_BINS)
        prepared[name] = (_Ranked(y_arr, p), bin_idx, int(bin_idx.max()) + 1)
    reps: dict[str, dict[str, list[np.ndarray]]] = {name: {} for name in scores}
    cal_reps: dict[str, list[np.ndarray]] = {name: [] for name in scores}
    for w in _weights(n, n_boot, seed):
        for name, (ranked, bin_idx, n_bins) in prepared.items():
            pos, tot = ranked.groups(w)
            block = _ranking_metrics(pos, tot, capacities)
            block["brier"] = (ranked.sq_err.astype(np.float32) @ w) / w.sum(axis=0)
            count, positives, predicted = _calibration_counts(w, y_arr, checked[name], bin_idx, n_bins)
            block["calibration_error"] = np.abs(positives - predicted).sum(axis=1) / count.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                cal_reps[name].append(positives / count)
            for metric, values in block.items():
                reps[name].setdefault(metric, []).append(np.asarray(values, dtype=np.float64))
    out = {}
    for name, p in checked.items():
        point = point_metrics(y_arr, p, capacities)
        replicates = {metric: np.concatenate(chunks) for metric, chunks in reps[name].items()}
        metrics = {}
        for metric in metric_names(capacities):
            low, high = _percentile_interval(replicates[metric], level)
            metrics[metric] = Interval(point[metric], low, high)
        withhold_small_selections(metrics, n, capacities, int(y_arr.sum()))
        error = metrics["calibration_error"]
        metrics["calibration_error"] = Interval(
            *coarse_calibration_error(error.estimate, error.low, error.high, n)
        )
        _, bin_idx, n_bins = prepared[name]
        ones = np.ones((n, 1), np.float32)
        count, positives, predicted = _calibration_counts(ones, y_arr, p, bin_idx, n_bins)
        observed_reps = np.concatenate(cal_reps[name])
        bounds = np.array([_percentile_interval(observed_reps[:, b], level) for b in range(n_bins)])
        curve = CalibrationCurve(
            predicted=(predicted / count)[0].astype(np.float64),
            observed=(positives / count)[0].astype(np.float64),
            low=bounds[:, 0],
            high=bounds[:, 1],
            count=count[0].astype(np.int64),
        )
        out[name] = Evaluation(metrics=metrics, calibration=curve, replicates=replicates, level=level)
    return out


def precision_curve(y, p, capacities: Sequence[float]) -> dict[float, float]:
    """Point precision at many capacities (for the precision-at-k plot)."""
    y, p = _check_inputs(y, p)
    ranked = _Ranked(y, p)
    pos, tot = ranked.groups(np.ones((y.size, 1)))
    values = _ranking_metrics(pos, tot, capacities)
    return {k: float(values[f"precision_at_{capacity_name(k)}"][0]) for k in capacities}
