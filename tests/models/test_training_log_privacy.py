"""The run's stored evaluation (evaluation/metrics.json in MLflow) keeps no count evaluate withholds."""

from __future__ import annotations

import numpy as np

from exclusion_risk.models.metrics import CalibrationCurve, Evaluation, Interval
from exclusion_risk.models.training_log import _evaluation_json


def _evaluation(positives: list[int], pupils: list[int]) -> Evaluation:
    observed = np.array(positives, dtype=float) / np.array(pupils, dtype=float)
    curve = CalibrationCurve(
        predicted=observed * 1.1,
        observed=observed,
        low=observed * 0.9,
        high=observed * 1.1 + 0.001,
        count=np.array(pupils),
    )
    return Evaluation({"auc": Interval(0.8, 0.78, 0.82)}, curve, replicates={})


def test_a_bin_whose_count_is_withheld_keeps_no_rate_that_gives_it_back():
    # bin 3 has 7 pupils with the outcome: observed x pupils gave back 7 exactly; bin 1 is its partner,
    # as evaluate's tenths table withholds one cell of a column in at least two rows or none
    positives, pupils = [300, 120, 7, 40], [1000, 1000, 1000, 1000]
    stored = _evaluation_json(_evaluation(positives, pupils))["calibration_curve"]
    for name in ("observed", "low", "high"):
        kept = stored[name]
        assert kept[2] is None
        assert sum(v is None for v in kept) >= 2, "one withheld rate is the total less the rest"
    pairs = zip(stored["observed"], stored["count"], strict=True)
    recovered = [round(o * n) for o, n in pairs if o is not None]
    assert all(r >= 10 for r in recovered)
    assert stored["count"] == pupils
    assert len(stored["predicted"]) == 4


def test_bins_with_no_small_count_are_stored_whole():
    positives, pupils = [300, 120, 70, 40], [1000, 1000, 1000, 1000]
    stored = _evaluation_json(_evaluation(positives, pupils))["calibration_curve"]
    assert stored["observed"] == [0.3, 0.12, 0.07, 0.04]
    assert None not in stored["low"] and None not in stored["high"]


def test_a_small_bin_size_is_not_the_total_less_the_others():
    # each size was withheld on its own ("<10") while the bins' total is known: 7 = 2,007 - 2,000
    positives, pupils = [300, 120, 2, 1], [1000, 1000, 7, 50]
    stored = _evaluation_json(_evaluation(positives, pupils))["calibration_curve"]
    assert len(stored["count"]) == 4
    assert sum(not isinstance(n, int) for n in stored["count"]) >= 2
