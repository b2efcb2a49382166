"""A group with no pupil excluded (or every pupil) has a rate of 0 (or 1) that the percentile bootstrap
cannot give an interval to: every replicate is 0 too, so it read 0.000 [0.000, 0.000] (detailed ethnicity
NOBT on the demo, 0 excluded of 67). Such a rate gets its Wilson interval instead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness
from exclusion_risk.models.band_precision import wilson


def _review():
    rng = np.random.default_rng(3)
    n_big, n_none, n_all = 600, 67, 15
    y = np.concatenate([rng.random(n_big) < 0.2, np.zeros(n_none, bool), np.ones(n_all, bool)]).astype(float)
    p = np.concatenate([np.clip(0.2 + 0.1 * rng.standard_normal(n_big), 0.01, 0.99),
                        np.full(n_none, 0.05), np.full(n_all, 0.3)])  # fmt: skip
    labels = ["White British"] * n_big + ["Traveller"] * n_none + ["Roma"] * n_all
    groups = {"ethnic group": pd.Series(labels)}
    (review,) = fairness.group_metrics(y, p, groups, 0.1, n_boot=100)
    return review.table.set_index("group")


def test_a_rate_of_no_events_gets_its_wilson_interval_not_a_zero_width_one():
    none = _review().loc["Traveller"]
    assert none["positives"] == 0 and none["n"] == 67
    low, high = wilson(0, 67)
    assert (none["base_rate_low"], none["base_rate_high"]) == pytest.approx((low, high))
    assert none["base_rate_high"] == pytest.approx(0.054, abs=0.001)
    # recall and the false-negative rate have no excluded pupils to rest on: no interval at all
    assert np.isnan(none["recall"]) and np.isnan(none["recall_low"])


def test_a_rate_of_every_pupil_gets_its_wilson_interval():
    table = _review()
    every = table.loc["Roma"]
    assert every["positives"] == every["n"] == 15
    assert (every["base_rate_low"], every["base_rate_high"]) == pytest.approx(wilson(15, 15))
    assert every["base_rate_low"] == pytest.approx(0.796, abs=0.001) and every["base_rate_high"] == 1
    # every rate of every group whose events are none or all of its pupils: selection, precision, ...
    checked = 0
    for group, row in table.iterrows():
        for metric, (num, den) in fairness._RATIO_PARTS.items():
            k, n = int(row[num]), int(row[den])
            if n and k in (0, n):
                expected = pytest.approx(wilson(k, n))
                assert (row[f"{metric}_low"], row[f"{metric}_high"]) == expected, (group, metric)
                checked += 1
    assert checked >= 4
