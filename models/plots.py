"""Every figure the models stage draws: test-year evaluation, SHAP summaries, calibration by group.

Figures show aggregates only (curves, bins, mean contributions), never a pupil's row. matplotlib (and
shap's plotting) take a while to import, so they are imported on first use (`_pyplot`), never with the
module; the Agg backend draws without a display.
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models.explain import Explanation
from exclusion_risk.models.metrics import Evaluation, capacity_name, precision_curve, top_share
from exclusion_risk.models.reasons import REGISTRY_NAMES, feature_label
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, curve_points_shown


def _pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def close(*figures) -> None:
    """Free figures once they are saved (pyplot keeps every open figure alive)."""
    plt = _pyplot()
    for figure in figures:
        plt.close(figure)


# ---------------------------------------------------------------------------------------------
# Test-year evaluation: calibration, precision at capacity, ROC
# ---------------------------------------------------------------------------------------------


def _calibration(ax, evaluations: dict[str, Evaluation], shown_bins: dict[str, np.ndarray]) -> None:
    top = 0.0
    for name, ev in evaluations.items():
        c = ev.calibration
        kept = shown_bins.get(name, np.ones(len(c.observed), dtype=bool))
        observed, low, high = (np.where(kept, np.asarray(v, dtype=float), np.nan)
                               for v in (c.observed, c.low, c.high))  # fmt: skip
        yerr = np.vstack([observed - low, high - observed]).clip(min=0)
        ax.errorbar(c.predicted, observed, yerr=np.nan_to_num(yerr), marker="o", ms=3, capsize=2, label=name)
        top = max(top, float(np.nanmax(np.r_[high, 0.0])), float(np.nanmax(c.predicted)))
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="perfect")
    ax.set(xlabel="predicted probability (bin mean)", ylabel="observed exclusion rate",
           title="Calibration (10 equal-count bins, 95% CI)")  # fmt: skip
    ax.legend(fontsize=7)


# The tops of the ranking both curves are drawn at: every half percent, to all pupils.
TOPS = [round(k, 4) for k in np.arange(0.005, 1.0001, 0.005)]
PRECISION_TOPS = 0.30  # the precision panel's right edge


@dataclass(frozen=True)
class _Tops:
    """One model's ranking at TOPS: precision, false- and true-positive rates, and which may be drawn."""

    precision: np.ndarray
    fpr: np.ndarray
    tpr: np.ndarray
    shown: np.ndarray


def _ranking_tops(y: np.ndarray, p: np.ndarray, evaluation: Evaluation | None,
                  bins_shown: np.ndarray | None) -> _Tops:
    """The ranking's tops for both curves from one `curve_points_shown`, so no point of one panel and one
    of the other differ by a slice of 1-9 pupils (the diff reviewer: a 3,000-pupil year's precision point
    at the top 60 and ROC point at the top 50 gave 2 excluded among 10 pupils). Read against as published:
    the logged top k% (`evaluation`'s precision at a capacity not withheld) and the tenths the stored
    calibration curve gives by its shown bins from the top or from the bottom."""
    n, positives = y.size, float(y.sum())
    totals = (positives, float(n) - positives)
    selected = np.array([top_share(n, k) for k in TOPS], dtype=float)
    curve = precision_curve(y, p, TOPS)
    precision = np.array([curve[k] for k in TOPS])
    hits = precision * selected
    logged = evaluation.metrics if evaluation is not None else {}
    fixed = np.array([np.isfinite(getattr(logged.get(f"precision_at_{capacity_name(k)}"), "estimate", np.nan))
                      for k in TOPS])  # fmt: skip
    if bins_shown is not None and len(bins_shown) == 10:  # bins lowest first: top j tenths = the last j
        for j in range(1, 10):
            if bins_shown[10 - j:].all() or bins_shown[:10 - j].all():
                fixed[TOPS.index(round(j / 10, 4))] = True
    shown = curve_points_shown(hits, selected - hits, totals, fixed=fixed)
    return _Tops(precision, (selected - hits) / max(totals[1], 1.0), hits / max(positives, 1.0), shown)


def _precision_at_k(ax, y: np.ndarray, tops: dict[str, _Tops]) -> None:
    ks = np.array(TOPS)
    for name, t in tops.items():
        drawn = t.shown & (ks <= PRECISION_TOPS + 1e-9)
        ax.plot(ks[drawn] * 100, t.precision[drawn], marker=".", ms=3, label=name)
    ax.axhline(float(np.mean(y)), color="k", ls="--", lw=0.8, label="base rate")
    ax.set(xlabel="top k% of pupils by score (capacity)", ylabel="precision (share excluded)",
           title="Precision at capacity")  # fmt: skip
    ax.legend(fontsize=7)


def _roc(ax, tops: dict[str, _Tops]) -> None:
    for name, t in tops.items():  # (0, 0) and (1, 1): no pupils, and every pupil
        ax.plot(np.r_[0.0, t.fpr[t.shown], 1.0], np.r_[0.0, t.tpr[t.shown], 1.0], label=name)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (at each half percent)")
    ax.legend(fontsize=7)


def evaluation_figure(
    evaluations: dict[str, Evaluation], y: np.ndarray, scores: dict[str, np.ndarray], title: str,
    shown_bins: dict[str, np.ndarray] | None = None,
):
    """Calibration, precision-at-k and ROC side by side (one image: each PNG costs ~0.3 s to render).

    Published figures withhold what the tables do: a calibration bin not in `shown_bins` (a model name to
    the bins the stored curve shows) and any point of the precision or ROC curve whose top of the ranking
    holds, or differs from another point drawn (of either curve) or a top the run logs by, 1-9 pupils with
    or without the outcome (`privacy.curve_points_shown`, `_ranking_tops`) is not drawn: a point times its
    pupils is a count. Both curves are drawn at the same tops of the ranking, every half percent."""
    fig, axes = _pyplot().subplots(1, 3, figsize=(5.2 * 3, 4.4), dpi=90)
    a, b, c = np.atleast_1d(axes)
    _calibration(a, evaluations, shown_bins or {})
    y = np.asarray(y, dtype=float)
    bins = shown_bins or {}
    tops = {name: _ranking_tops(y, np.asarray(p, dtype=float), evaluations.get(name), bins.get(name))
            for name, p in scores.items()}  # fmt: skip
    _precision_at_k(b, y, tops)
    _roc(c, tops)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# SHAP summaries
# ---------------------------------------------------------------------------------------------


def _colour_values(values: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Numbers to colour a beeswarm by: numeric/binary as they are, categories as NaN (grey)."""
    out = np.full((len(values), len(features)), np.nan)
    for j, name in enumerate(features):
        kind = registry.get(name).kind if name in REGISTRY_NAMES else "numeric"
        if kind in ("numeric", "binary"):
            out[:, j] = pd.to_numeric(values[name], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
    return out


BEESWARM_SEED = 0


def shap_figures(explanation: Explanation, values: pd.DataFrame, title: str, max_display: int = 15):
    """(beeswarm figure, mean |SHAP| bar figure) labelled with registry labels."""
    plt = _pyplot()
    import shap

    labels = [feature_label(f) for f in explanation.features]
    shap_exp = shap.Explanation(
        values=explanation.contributions,
        base_values=np.full(len(explanation.contributions), explanation.expected_value),
        data=_colour_values(values, explanation.features),
        feature_names=labels,
    )
    beeswarm = plt.figure(figsize=(9, 6))
    with warnings.catch_warnings():
        # A categorical feature has no colour value (NaN: drawn grey); shap's colour scale takes
        # percentiles of those NaNs and numpy would print a warning on every `train`.
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        # shap jitters the dots with NumPy's global generator: seeded for this plot alone (and put back
        # after), so two identical runs log the same picture (an auditor's two runs differed in it)
        state = np.random.get_state()
        np.random.seed(BEESWARM_SEED)
        try:
            shap.plots.beeswarm(shap_exp, max_display=max_display, show=False, plot_size=None)
        finally:
            np.random.set_state(state)
    beeswarm.axes[0].set_title(f"{title}: SHAP values ({explanation.scale}); grey = category")
    beeswarm.axes[0].set_xlabel(f"SHAP value ({explanation.scale} of the raw model score)")
    beeswarm.tight_layout()

    importance = explanation.mean_abs().head(max_display)[::-1]
    bar, ax = plt.subplots(figsize=(9, 6))
    ax.barh([labels[explanation.features.index(f)] for f in importance.index], importance.to_numpy())
    ax.set_xlabel(f"mean |SHAP value| ({explanation.scale} of the raw model score)")
    ax.set_title(f"{title}: average impact on the raw model score")
    bar.tight_layout()
    return beeswarm, bar


# ---------------------------------------------------------------------------------------------
# The fairness review's calibration by group
# ---------------------------------------------------------------------------------------------


_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _group_styles(count: int) -> list[tuple[str, str]]:
    """A colour and marker per group, no two alike: matplotlib's 10-colour cycle gave the 11th detailed
    ethnicity the first's colour. tab10 up to 10 groups, else tab20 (its dark shades first, then the
    light), with a marker cycle of 7 beside the colours' 20, so no pair repeats before 140 groups."""
    from matplotlib import colormaps

    if count <= 10:
        colours = list(colormaps["tab10"].colors)
    else:
        shades = list(colormaps["tab20"].colors)
        colours = shades[0::2] + shades[1::2]
    return [(colours[i % len(colours)], _MARKERS[i % len(_MARKERS)]) for i in range(count)]


def calibration_by_group_png(bins: pd.DataFrame, attribute: str, withheld=()) -> str:
    """Calibration by group as a base64 PNG. Not drawn: the `withheld` groups (whose tables withhold their
    counts) and bins with fewer than 10 pupils, fewer than 10 positives or 1-9 negatives (an observed rate
    times the bin's pupils would give those counts back)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4), dpi=90)
    drawn = {}
    for group, part in bins.groupby("group"):
        positives = (part["observed"] * part["n"]).round()
        negatives = part["n"] - positives
        few = (negatives > 0) & (negatives < SUPPRESSION_THRESHOLD)
        enough = (positives >= SUPPRESSION_THRESHOLD) & ~few
        part = part[(part["n"] >= SUPPRESSION_THRESHOLD) & enough]
        if group not in set(withheld) and not part.empty:
            drawn[group] = part
    top = 0.0
    for (group, part), (colour, marker) in zip(drawn.items(), _group_styles(len(drawn)), strict=True):
        ax.plot(part["predicted"], part["observed"], marker=marker, ms=4, color=colour, label=str(group))
        top = max(top, float(part["predicted"].max()), float(part["observed"].max()))
    ax.plot([0, top or 1], [0, top or 1], "k--", lw=0.8, label="calibrated")
    ax.set(
        xlabel="predicted probability (bin mean)", ylabel="observed rate", title=f"Calibration by {attribute}"
    )
    # beside the axes, not over them: inside, it covered the highest bins' points
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
