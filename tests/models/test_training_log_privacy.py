"""The run's stored evaluation (evaluation/metrics.json in MLflow) keeps no count evaluate withholds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models.evaluate import GROUP_ATTRIBUTES, evaluate_scores, match
from exclusion_risk.models.metrics import CalibrationCurve, Evaluation, Interval, calibration_bins, top_share
from exclusion_risk.models.metrics import evaluate as measure
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.models.selection_overlaps import tenths
from exclusion_risk.models.stored_curve import ScoredTestYear
from exclusion_risk.models.training_log import _evaluation_json
from exclusion_risk.models.training_log import _test_year as _test_year_of
from exclusion_risk.privacy import SECONDARY, SUPPRESSED, is_withheld

from .disclosure_audit import ranked_counts_pinned


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


PUPILS = 2000


def _test_year(seed: int = 1):
    """(probabilities, outcomes, upns, matrix): 2,000 pupils ranked by probability (0.6 down to 0.001),
    each excluded with 0.8 times it; the bands cut at ranks 100, 300 and 570, so the low band holds
    tenths 4-10 and the last 30 pupils of tenth 3 (as on the demo: the last 165 of its 6,251)."""
    p = np.linspace(0.6, 0.001, PUPILS)
    y = (np.random.default_rng(seed).random(PUPILS) < 0.8 * p).astype(int)
    cuts = {"very_high": p[99], "high": p[299], "medium": p[569], "low": 0.0}
    matrix = load_risk_matrix().with_thresholds(cuts, 0.05, "test")
    return p, y, np.array([f"U{i:04d}" for i in range(PUPILS)]), matrix


def _evaluated(p, y, upns, matrix) -> dict:
    """evaluation.json's document for a scoring of those pupils by that model (need level 0 each)."""
    placed = matrix.place(p, np.zeros(PUPILS, dtype=int))
    pupils = pd.DataFrame({"upn": upns, "school_urn": "A", "probability": p,
                           "likelihood_band": placed["likelihood_band"], "rag": placed["rag"]})  # fmt: skip
    outcomes = pd.DataFrame({"upn": upns, "outcome": y.astype(float), "outcome_school": "A", "need_level": 0})
    for attribute in GROUP_ATTRIBUTES:
        outcomes[attribute] = "all"
    return evaluate_scores(match(pupils, outcomes), [b.label for b in matrix.bands], matrix=matrix)


def _published(document: dict, curve: dict, p, matrix) -> list[tuple[np.ndarray, int | None]]:
    """Each selection evaluation.json and the stored curve publish a count with the outcome of: (pupils,
    the count, None where withheld); the curve's from its rate times its bin's pupils."""
    rank, placed = np.arange(PUPILS), matrix.place(p, np.zeros(PUPILS, dtype=int))

    def count(value):
        return None if is_withheld(value) else int(value)

    out = [(rank < top_share(PUPILS, r["capacity"]), count(r["true_positives"]))
           for r in document["by_capacity"]]
    out += [(placed["likelihood_band"] == r["band"], count(r["true_positives"])) for r in document["by_band"]]
    out += [(placed["rag"] == r["rag"], count(r["true_positives"])) for r in document["by_rag"]]
    out += [(tenths(PUPILS) == r["decile"], count(r["excluded"])) for r in document["calibration"]]
    bins = calibration_bins(p)
    out += [(bins == b, None if rate is None else round(rate * n))
            for b, (rate, n) in enumerate(zip(curve["observed"], curve["count"], strict=True))]  # fmt: skip
    return out


def test_the_stored_curve_withholds_what_evaluate_withholds_for_the_same_pupils():
    # evaluate's tenths: tenth 2 "x", so that tenths 9 and 10 together (the total less tenths 1-8) cannot
    # be read beside the low band's count: the curve's bin 9, the same 200 pupils, had shown it, and with
    # it the 5 excluded among the 30 pupils of tenth 3 in the low band
    p, y, upns, matrix = _test_year()
    document = _evaluated(p, y, upns, matrix)
    excluded = [r["excluded"] for r in document["calibration"]]
    assert excluded[1] == SECONDARY and excluded[8] == SECONDARY and excluded[9] == SUPPRESSED
    evaluation = measure(y, {"model": p}, n_boot=20)["model"]
    assert list(evaluation.calibration.count) == [200] * 10  # the bins are the tenths, lowest first
    test = ScoredTestYear(p, y, upns, np.zeros(PUPILS, dtype=int), matrix, capacities=[0.01, 0.05, 0.1])
    curve = _evaluation_json(evaluation, test)["calibration_curve"]
    assert curve["observed"][8] is None and curve["low"][8] is None and curve["high"][8] is None
    assert ranked_counts_pinned(y, _published(document, curve, p, matrix)) == []
    # as stored before, alone: bin 9 shown, and the 30 pupils' 5 given back
    alone = _evaluation_json(evaluation)["calibration_curve"]
    assert alone["observed"][8] is not None
    assert ranked_counts_pinned(y, _published(document, alone, p, matrix)) == [(30, 5)]


def _every(k: int):
    """(probabilities, outcomes, upns, matrix): `_test_year`'s pupils, every `k`th excluded."""
    p, _, upns, matrix = _test_year()
    return p, (np.arange(PUPILS) % k == 0).astype(int), upns, matrix


def test_every_bin_that_is_a_tenth_evaluate_withholds_is_withheld():
    # every 4th pupil excluded: evaluate withholds tenths 2 and 4; the curve had shown both (bins 9 and 7),
    # and with them the 7 excluded among the 30 pupils of tenth 3 in the low band
    p, y, upns, matrix = _every(4)
    document = _evaluated(p, y, upns, matrix)
    withheld = [r["decile"] for r in document["calibration"] if is_withheld(r["excluded"])]
    assert withheld == [2, 4]
    evaluation = measure(y, {"model": p}, n_boot=20)["model"]
    test = ScoredTestYear(p, y, upns, np.zeros(PUPILS, dtype=int), matrix, capacities=[0.01, 0.05, 0.1])
    curve = _evaluation_json(evaluation, test)["calibration_curve"]
    bins = [b for b, rate in enumerate(curve["observed"]) if rate is None]  # lowest first: tenth t is 10 - t
    assert bins == [10 - t for t in reversed(withheld)]
    assert ranked_counts_pinned(y, _published(document, curve, p, matrix)) == []
    alone = _evaluation_json(evaluation)["calibration_curve"]
    assert ranked_counts_pinned(y, _published(document, alone, p, matrix)) == [(30, 7)]


def test_a_curve_evaluate_withholds_nothing_of_is_stored_as_before():
    p, y, upns, matrix = _every(2)  # half of every slice: nothing small anywhere
    assert not any(is_withheld(r["excluded"]) for r in _evaluated(p, y, upns, matrix)["calibration"])
    evaluation = measure(y, {"model": p}, n_boot=20)["model"]
    test = ScoredTestYear(p, y, upns, np.zeros(PUPILS, dtype=int), matrix, capacities=[0.01, 0.05, 0.1])
    assert _evaluation_json(evaluation, test) == _evaluation_json(evaluation)
    assert None not in _evaluation_json(evaluation, test)["calibration_curve"]["observed"]


def test_each_model_run_stores_its_curve_beside_its_own_test_year(training):
    result, _ = training
    for model_type in result.models:
        test = _test_year_of(result, model_type)
        assert len(test.upns) == len(test.labels) == len(result.test_labels)
        assert test.matrix.thresholds == result.models[model_type].scoring_config["thresholds"]
        stored = _evaluation_json(result.evaluations[model_type], test)["calibration_curve"]
        assert len(stored["observed"]) == len(result.evaluations[model_type].calibration.count)


def test_the_calibration_error_does_not_pin_the_withheld_bins():
    # The calibration error times the pupils is the sum over bins of |excluded - predicted|; published
    # exactly beside the stored curve and the total excluded (precision and recall at 5%), it left two
    # integer pairs for the two withheld bins of this 2,000-pupil cohort, the truth (6, 26) by a residual of
    # 8e-6 against 0.028. Rounded (metrics.coarse_calibration_error), many pairs fit.
    import itertools
    import math

    p = np.linspace(0.6, 0.001, PUPILS)
    y = (np.random.default_rng(3).random(PUPILS) < p).astype(int)
    matrix = load_risk_matrix().with_thresholds(
        {"very_high": p[99], "high": p[299], "medium": p[569], "low": 0.0}, 0.05, "t")
    ev = measure(y, {"model": p}, n_boot=20)["model"]
    test = ScoredTestYear(p, y, np.array([f"U{i:04d}" for i in range(PUPILS)]), np.zeros(PUPILS, dtype=int),
                          matrix, capacities=[0.01, 0.05, 0.1])  # fmt: skip
    doc = _evaluation_json(ev, test)
    m, c = doc["metrics"], doc["calibration_curve"]
    n = sum(c["count"])
    total = round(m["precision_at_5pct"]["estimate"] * math.ceil(0.05 * n) / m["recall_at_5pct"]["estimate"])
    withheld = [i for i, o in enumerate(c["observed"]) if o is None]
    assert len(withheld) == 2
    expected = [pr * k for pr, k in zip(c["predicted"], c["count"], strict=True)]
    shown = [(round(o * k), e) for o, k, e in zip(c["observed"], c["count"], expected, strict=True)
             if o is not None]
    gap = m["calibration_error"]["estimate"] * n - sum(abs(x - e) for x, e in shown)
    rest = total - sum(x for x, _ in shown)
    # the reader allows for the estimate's rounding: half its last place, in pupils
    places = len(repr(m["calibration_error"]["estimate"]).split(".")[1])
    slack = 0.5 * 10 ** -places * n + 0.05
    fits = [a for a in itertools.product(range(rest + 1), repeat=2) if sum(a) == rest
            and abs(sum(abs(x - expected[i]) for x, i in zip(a, withheld, strict=True)) - gap) <= slack]
    # evaluate's page says the lowest tenth's count is under 10: the reader keeps those fits
    lowest = {a[0] for a in fits if 0 < a[0] < 10} if withheld[0] == 0 else {a[1] for a in fits}
    assert len(lowest) > 1, fits
