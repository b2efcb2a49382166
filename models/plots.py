"""Every figure the models stage draws: test-year evaluation, SHAP summaries, calibration by group.

Figures show aggregates only (curves, bins, mean contributions), never a pupil's row. matplotlib (and
shap's plotting) take a while to import, so they are imported on first use (`_pyplot`), never with the
module; the Agg backend draws without a display.
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models.explain import Explanation
from exclusion_risk.models.metrics import Evaluation, precision_curve, roc_points, top_share
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


def _precision_at_k(ax, y: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    ks = [round(k, 4) for k in np.arange(0.005, 0.3001, 0.005)]
    y = np.asarray(y, dtype=float)
    selected = np.array([top_share(y.size, k) for k in ks], dtype=float)
    totals = (float(y.sum()), float(y.size - y.sum()))
    for name, p in scores.items():
        curve = precision_curve(y, p, ks)
        precision = np.array([curve[k] for k in ks])
        hits = precision * selected
        shown = curve_points_shown(hits, selected - hits, totals)  # a point is its top's counts
        ax.plot(np.array(ks)[shown] * 100, precision[shown], marker=".", ms=3, label=name)
    ax.axhline(float(np.mean(y)), color="k", ls="--", lw=0.8, label="base rate")
    ax.set(xlabel="top k% of pupils by score (capacity)", ylabel="precision (share excluded)",
           title="Precision at capacity")  # fmt: skip
    ax.legend(fontsize=7)


def _roc(ax, y: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    y = np.asarray(y, dtype=float)
    totals = (float(y.sum()), float(y.size - y.sum()))
    for name, p in scores.items():
        fpr, tpr = roc_points(y, p)
        # Each point is a top of the ranking: its excluded and others, withheld as the tables' top k% are.
        shown = curve_points_shown(tpr * totals[0], fpr * totals[1], totals)
        shown[[0, -1]] = True  # (0, 0) and (1, 1): no pupils, and every pupil
        ax.plot(fpr[shown], tpr[shown], label=name)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(fontsize=7)


def evaluation_figure(
    evaluations: dict[str, Evaluation], y: np.ndarray, scores: dict[str, np.ndarray], title: str,
    shown_bins: dict[str, np.ndarray] | None = None,
):
    """Calibration, precision-at-k and ROC side by side (one image: each PNG costs ~0.3 s to render).

    Published figures withhold what the tables do: a calibration bin not in `shown_bins` (a model name to
    the bins the stored curve shows) and any point of the precision or ROC curve whose top of the ranking
    holds, or differs from another point drawn by, 1-9 pupils with or without the outcome
    (`privacy.curve_points_shown`) is not drawn: a point times its pupils is a count."""
    fig, axes = _pyplot().subplots(1, 3, figsize=(5.2 * 3, 4.4), dpi=90)
    a, b, c = np.atleast_1d(axes)
    _calibration(a, evaluations, shown_bins or {})
    _precision_at_k(b, y, scores)
    _roc(c, y, scores)
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
        shap.plots.beeswarm(shap_exp, max_display=max_display, show=False, plot_size=None)
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
