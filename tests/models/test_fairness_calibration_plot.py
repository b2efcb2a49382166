"""The fairness review's calibration-by-group figure tells every group apart and keeps its legend off the
data: detailed ethnicity drew 11 groups with matplotlib's 10-colour cycle, so two shared a colour (and
marker), and the legend sat over the upper right of the curves."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from exclusion_risk.models.plots import calibration_by_group_png  # noqa: E402


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot closes, kept open for the test to read."""
    figures, close = [], plt.close
    monkeypatch.setattr(plt, "close", figures.append)
    yield figures
    for figure in figures:
        close(figure)


def _bins(groups: int) -> pd.DataFrame:
    rows = [{"group": f"group {g:02d}", "bin": b, "n": 400, "predicted": 0.1 + 0.2 * b,
             "observed": 0.1 + 0.2 * b + 0.01 * g} for g in range(groups) for b in range(4)]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("groups", [11, 23])
def test_every_group_has_its_own_colour_and_marker(drawn, groups):
    calibration_by_group_png(_bins(groups), "ethnicity (detailed)")
    (figure,) = drawn
    (ax,) = figure.axes
    series = [line for line in ax.get_lines() if line.get_label().startswith("group ")]
    assert len(series) == groups
    colours = [matplotlib.colors.to_hex(line.get_color()) for line in series]
    styles = {(c, line.get_marker()) for c, line in zip(colours, series, strict=True)}
    assert len(styles) == groups  # no two groups drawn alike
    if groups <= 20:
        assert len(set(colours)) == groups  # and by colour alone, up to 20 groups


def test_the_legend_is_outside_the_axes(drawn):
    calibration_by_group_png(_bins(11), "ethnicity (detailed)")
    (figure,) = drawn
    (ax,) = figure.axes
    renderer = figure.canvas.get_renderer()
    legend, axes = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
    assert legend.x0 >= axes.x1 or legend.y1 <= axes.y0 or legend.y0 >= axes.y1
    assert np.isfinite(legend.x1)
