"""The test-year evaluation figure (plots/evaluation.png in MLflow) draws no count the tables withhold."""

from __future__ import annotations

import numpy as np

from exclusion_risk.models import plots
from exclusion_risk.models.metrics import evaluate, top_share


def _test_year(seed: int = 3, n: int = 1000, positives: int = 40):
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=int)
    y[rng.choice(n, positives, replace=False)] = 1
    p = np.clip(0.04 + 0.3 * y * rng.random(n) + 0.05 * rng.random(n), 0, 1)
    return y, p


def _drawn_counts(y, p, xs, ys_, kind):
    """Each drawn point's excluded and others, as a reader gets them back."""
    n, pos = y.size, int(y.sum())
    if kind == "precision":
        selected = np.array([top_share(n, k / 100) for k in xs])
        hits = np.round(np.asarray(ys_) * selected)
        return hits, selected - hits
    return np.round(np.asarray(ys_) * pos), np.round(np.asarray(xs) * (n - pos))


def test_precision_and_roc_curves_draw_no_top_of_1_to_9_pupils():
    y, p = _test_year()
    evaluations = evaluate(y, {"model": p}, n_boot=2)
    fig = plots.evaluation_figure(evaluations, y, {"model": p}, "t")
    try:
        _, precision_ax, roc_ax = fig.axes
        for ax, kind in ((precision_ax, "precision"), (roc_ax, "roc")):
            xs, ys_ = ax.lines[0].get_data()
            excluded, others = _drawn_counts(y, p, xs, ys_, kind)
            points = [(0, 0), *zip(excluded, others, strict=True), (y.sum(), y.size - y.sum())]
            assert len(points) > 3, kind
            for a, b in zip(points, points[1:], strict=False):
                for count_a, count_b in zip(a, b, strict=True):
                    assert not 0 < count_b - count_a < 10, (kind, a, b)
            assert not any(0 < c < 10 for c in np.r_[excluded, others]), kind
    finally:
        plots.close(fig)


def test_no_point_of_one_panel_and_one_of_the_other_give_a_slice_of_1_to_9_back():
    # the diff reviewer: a 3,000-pupil year's precision point at the top 60 (12 excluded) and ROC point
    # at the top 50 (10) were each fine on their own curve, and gave 2 excluded among 10 pupils together
    y, p = _test_year(seed=0, n=3000, positives=150)
    evaluations = evaluate(y, {"model": p}, n_boot=2)
    fig = plots.evaluation_figure(evaluations, y, {"model": p}, "t")
    try:
        _, precision_ax, roc_ax = fig.axes
        points = set()
        for ax, kind in ((precision_ax, "precision"), (roc_ax, "roc")):
            xs, ys_ = ax.lines[0].get_data()
            points |= set(zip(*_drawn_counts(y, p, xs, ys_, kind), strict=True))
        for metric in ("precision_at_1pct", "precision_at_5pct", "precision_at_10pct"):
            estimate = evaluations["model"].metrics[metric].estimate  # the logged tops are read too
            if np.isfinite(estimate):
                k = float(metric.removeprefix("precision_at_").removesuffix("pct")) / 100
                top = top_share(y.size, k)
                points.add((round(estimate * top), top - round(estimate * top)))
        ordered = sorted(points, key=sum)
        assert len(ordered) > 10
        for i, (e1, o1) in enumerate(ordered):
            for e2, o2 in ordered[i + 1:]:
                assert not 0 < abs(e2 - e1) < 10 and not 0 < abs(o2 - o1) < 10, ((e1, o1), (e2, o2))
    finally:
        plots.close(fig)


def test_calibration_bins_the_stored_curve_withholds_are_not_drawn():
    y, p = _test_year()
    evaluations = evaluate(y, {"model": p}, n_boot=2)
    bins = len(evaluations["model"].calibration.observed)
    kept = np.ones(bins, dtype=bool)
    kept[[2, 5]] = False
    fig = plots.evaluation_figure(evaluations, y, {"model": p}, "t", shown_bins={"model": kept})
    try:
        observed = fig.axes[0].lines[0].get_ydata()
        assert np.isnan(observed[[2, 5]]).all()
        assert np.isfinite(np.asarray(observed)[kept]).all()
    finally:
        plots.close(fig)
