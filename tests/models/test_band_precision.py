"""How sure: each likelihood band's precision on the test year, its Wilson interval and its suppression."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.files import csv_text
from exclusion_risk.models.band_precision import NOT_MEASURED, Outcomes, band_precision, precision_entry
from exclusion_risk.models.risk_matrix import ScoringConfig, load_risk_matrix, matrix_for
from exclusion_risk.models.score_report import summary_html
from exclusion_risk.models.score_table import with_officer_columns
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.privacy import SECONDARY, SUPPRESSED

Z95 = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, written out (not scipy's)."""
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def _by_hand(matrix, probabilities, labels) -> dict[str, tuple[int, int]]:
    """(pupils, positives) per band, from the thresholds alone."""
    out, upper = {}, np.inf
    for band in matrix.bands:
        inside = (probabilities >= band.threshold) & (probabilities < upper)
        out[band.key] = (int(inside.sum()), int(labels[inside].sum()))
        upper = band.threshold
    return out


def test_band_precision_matches_an_independent_count(training):
    result, table = training
    model = result.models["lightgbm"]
    stored = model.scoring_config["band_precision"]
    matrix = matrix_for(ScoringConfig.from_dict(model.scoring_config))
    labels = table.loc[table["AcademicYear"] == result.split.test, "label"].to_numpy()
    assert stored["year"] == result.split.test and stored["label"] == "any"
    shown = 0
    for key, (pupils, positives) in _by_hand(matrix, model.test_probability, labels).items():
        entry = stored["bands"][key]
        if entry["precision"] is None:
            continue
        shown += 1
        if entry["positives"] == SECONDARY:  # withheld beside a capacity: the rates rounded, 5 points at most
            assert entry["pupils"] == pupils and abs(entry["precision"] - positives / pupils) <= 0.025 + 1e-9
            continue
        assert (entry["pupils"], entry["positives"]) == (pupils, positives)
        assert entry["precision"] == pytest.approx(positives / pupils, abs=1e-12)
        low, high = wilson(positives, pupils)
        assert (entry["low"], entry["high"]) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
        assert entry["low"] <= entry["precision"] <= entry["high"]
    assert shown >= 2


def _matrix_and_cohort(positives_top: int, pupils_top: int = 40):
    """The default matrix cut so that the top band holds `pupils_top` pupils, `positives_top` of them
    with the outcome; the other bands hold many pupils of both kinds."""
    matrix = load_risk_matrix()
    top = np.linspace(0.9, 0.95, pupils_top)
    rest = np.linspace(0.01, 0.5, 2000)
    probabilities = np.concatenate([top, rest])
    labels = np.concatenate([np.arange(pupils_top) < positives_top, np.arange(2000) % 3 == 0]).astype(float)
    thresholds = {b.key: t for b, t in zip(matrix.bands, (0.9, 0.4, 0.2, 0.0), strict=True)}
    return matrix.with_thresholds(thresholds, 0.05, "test"), probabilities, labels


def test_a_band_with_few_positives_is_suppressed_with_its_neighbour():
    matrix, probabilities, labels = _matrix_and_cohort(positives_top=4)
    precision = band_precision(matrix, Outcomes("2017/18", probabilities, labels))
    top = precision["bands"][matrix.bands[0].key]
    assert top["positives"] == SUPPRESSED and top["precision"] is None
    # the column of positives sums to the test year's total: one more positives count is withheld
    others = [precision["bands"][b.key]["positives"] for b in matrix.bands[1:]]
    assert SECONDARY in others
    shown = [e for e in precision["bands"].values() if e["precision"] is not None]
    assert all(isinstance(e["positives"], int) and e["positives"] >= 10 for e in shown)
    described = matrix.with_precision(precision).to_dict()["likelihood_bands"][0]["precision"]
    assert described["precision"] is None
    assert "too few pupils in the test year to say" in described["text"]


def test_a_shown_band_reads_as_a_sentence_and_fills_the_csv_columns():
    # 400 pupils, so the top 1%, 5% and 10% (24, 120 and 240 of 2,400) leave no small slice beside it
    matrix, probabilities, labels = _matrix_and_cohort(positives_top=140, pupils_top=400)
    precision = band_precision(matrix, Outcomes("2017/18", probabilities, labels))
    matrix = matrix.with_precision(precision)
    band = matrix.bands[0]
    entry = matrix.to_dict()["likelihood_bands"][0]["precision"]
    low, high = wilson(140, 400)
    assert entry["pupils"] == 400 and entry["positives"] == 140 and entry["year"] == "2017/18"
    assert entry["text"] == (
        f"Of pupils placed {band.label} in 2017/18, 35% [{100 * low:.0f}%–{100 * high:.0f}%] "
        "were suspended or excluded that year."
    )
    shares, intervals = matrix.precision_columns([band.label, "no such band"])
    assert shares[0] == 0.35 and intervals[0] == f"{low:.3f}-{high:.3f}"
    assert math.isnan(shares[1]) and intervals[1] is None


def test_other_thresholds_never_keep_the_figures():
    matrix, probabilities, labels = _matrix_and_cohort(positives_top=14)
    measured = matrix.with_precision(band_precision(matrix, Outcomes("2017/18", probabilities, labels)))
    assert measured.fit_thresholds(probabilities, 0.1).precision is None
    assert measured.with_thresholds(measured.thresholds, 0.05, "again").precision is None


def test_a_model_stored_before_band_precision_still_scores_with_blank_columns(training, test_year):
    result, _ = training
    model = result.models["lightgbm"]
    old = {k: v for k, v in model.scoring_config.items() if k != "band_precision"}
    matrix = matrix_for(ScoringConfig.from_dict(old))
    assert matrix.precision is None
    assert all(b["precision"]["text"] == NOT_MEASURED for b in matrix.to_dict()["likelihood_bands"])
    scorer = CohortScorer(model.pipeline, "1", matrix)
    scores = with_officer_columns(scorer.score(test_year, reasons=False), test_year, matrix)
    assert scores["band_precision"].isna().all() and scores["band_precision_ci"].isna().all()
    text = csv_text(scores, float_format="%.6f")  # as scores.csv and the service's CSV write it
    rows = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert (rows["band_precision"] == "").all() and (rows["school_name"] == "").all()


def test_scores_carry_their_band_s_precision_and_the_summary_says_it(training, test_year):
    result, _ = training
    model = result.models["lightgbm"]
    matrix = matrix_for(ScoringConfig.from_dict(model.scoring_config))
    scorer = CohortScorer(model.pipeline, "1", matrix)
    scores = with_officer_columns(scorer.score(test_year, reasons=False), test_year, matrix)
    for band in matrix.bands:
        entry = matrix.precision["bands"][band.key]
        rows = scores[scores["likelihood_band"] == band.label]
        if entry["precision"] is None:
            assert rows["band_precision"].isna().all()
        else:
            assert (rows["band_precision"] == round(entry["precision"], 3)).all()
            assert (rows["band_precision_ci"] == f"{entry['low']:.3f}-{entry['high']:.3f}").all()
    html = summary_html(scores, test_year, scorer, "2018/19")
    for band in matrix.to_dict()["likelihood_bands"]:
        assert band["precision"]["text"] in html


def test_refit_thresholds_recomputes_precision_on_the_test_year_or_blanks_it(training):
    result, table = training
    model = result.models["lightgbm"]
    matrix = matrix_for(ScoringConfig.from_dict(model.scoring_config))
    validation = table[table["AcademicYear"] == result.split.validation]
    test = table[table["AcademicYear"] == result.split.test]
    scorer = CohortScorer(model.pipeline, "1", matrix)
    assert scorer.precision_year() == (result.split.test, "any")
    scorer.refit_thresholds(validation, 0.10, result.split.validation, test_features=test)
    refitted = scorer.matrix
    assert refitted.capacity == 0.10 and refitted.precision["year"] == result.split.test
    expected = band_precision(refitted, Outcomes(result.split.test, model.test_probability,
                                                 test["label"].to_numpy()))  # fmt: skip
    assert refitted.precision == expected
    assert refitted.precision != matrix.precision  # other thresholds, other figures
    blank = CohortScorer(model.pipeline, "1", matrix)
    blank.refit_thresholds(validation, 0.10, result.split.validation)  # no test year at hand
    assert blank.matrix.precision is None


def test_a_band_beside_the_top_5pct_does_not_give_the_pupils_between_back():
    """The demo's very high band (3,137 pupils, 1,014 with the outcome) held the top 5% (3,126; 1,013 from
    the model's stated precision): the 11 between had 1. Here 60 pupils hold the top 53 (5% of 1,060),
    and the 7 between have one pupil with the outcome: the band's count and precision are withheld."""
    matrix = load_risk_matrix()
    top = np.linspace(0.95, 0.9, 60)
    rest = np.linspace(0.5, 0.01, 1000)
    probabilities = np.concatenate([top, rest])
    top_labels = (np.arange(60) % 2 == 0) & (np.arange(60) < 53)
    top_labels[55] = True  # the one between
    labels = np.concatenate([top_labels, np.arange(1000) % 3 == 0]).astype(float)
    thresholds = {b.key: t for b, t in zip(matrix.bands, (0.9, 0.4, 0.2, 0.0), strict=True)}
    matrix = matrix.with_thresholds(thresholds, 0.05, "test")
    precision = band_precision(matrix, Outcomes("2017/18", probabilities, labels))
    band = precision["bands"][matrix.bands[0].key]
    assert band["pupils"] == 60  # sizes are the thresholds' own: only the count with the outcome is hidden
    # 28 of 60, withheld with the high band (one alone is the total less the rest): the rates are given
    # only at a rounding (5 points, the interval outwards) that leaves the count unknown (the next test
    # reads the two bands together)
    assert band["positives"] == SECONDARY
    assert len([k for k in range(61) if _figures(k, 60, band)]) > 1
    described = matrix.with_precision(precision).to_dict()["likelihood_bands"][0]["precision"]
    assert "45% [30%–60%]" in described["text"]


def test_a_large_band_withheld_beside_a_capacity_keeps_its_rates_in_whole_percents():
    from exclusion_risk.models.band_precision import _rounded, wilson

    shown, same = _rounded(1014, 3137, 0.01)  # the demo's very high band, in whole percents
    assert (shown["precision"], shown["low"], shown["high"]) == (0.32, 0.30, 0.34)
    assert len(same) >= 2 and 1014 in same  # the count is not given back
    assert all(_rounded(k, 3137, 0.01)[0] == shown for k in same)
    assert wilson(1014, 3137)[0] != 0.31  # rounded, not the exact bound


def test_a_rounded_interval_is_rounded_outwards():
    """Rounded to the nearest step, an interval was narrower than the truth and its point sat on its
    edge: a tester's high band, 68 of 988 (6.9% [5.5%, 8.6%]), read "6% [6%-8%]". Rounded outwards it
    holds the exact interval at every step (the point is rounded to the nearest)."""
    from exclusion_risk.models.band_precision import _STEPS, _rounded, wilson

    for positives, pupils in ((68, 988), (1014, 3137), (3, 500), (500, 500)):
        low, high = wilson(positives, pupils)
        for step in _STEPS:
            shown, same = _rounded(positives, pupils, step)
            assert shown["low"] <= low + 1e-12 and shown["high"] >= high - 1e-12, (positives, step, shown)
            assert shown["low"] <= shown["precision"] <= shown["high"]
            assert positives in same
    assert _rounded(68, 988, 0.02)[0] == {"precision": 0.06, "low": 0.04, "high": 0.1}


def test_two_bands_withheld_beside_a_capacity_are_not_pinned_by_their_sum():
    """Two bands' counts withheld (one alone would be the total less the rest): each rounded rate leaves
    two counts, but their sum is the total less the shown bands, which may leave one pair only. The
    rates are given only at a rounding where both stay unknown, read together."""
    matrix = load_risk_matrix()
    top = np.linspace(0.95, 0.9, 60)
    rest = np.linspace(0.5, 0.01, 1000)
    top_labels = (np.arange(60) % 2 == 0) & (np.arange(60) < 53)
    top_labels[55] = True
    labels = np.concatenate([top_labels, np.arange(1000) % 3 == 0]).astype(float)
    thresholds = {b.key: t for b, t in zip(matrix.bands, (0.9, 0.4, 0.2, 0.0), strict=True)}
    matrix = matrix.with_thresholds(thresholds, 0.05, "test")
    bands = band_precision(matrix, Outcomes("2017/18", np.concatenate([top, rest]), labels))["bands"]
    withheld = [key for key, entry in bands.items() if entry["positives"] == SECONDARY]
    assert len(withheld) == 2
    total = int(labels.sum()) - sum(e["positives"] for e in bands.values() if isinstance(e["positives"], int))
    pupils = [bands[key]["pupils"] for key in withheld]

    def counts(key, n):
        shown = bands[key]
        if shown["precision"] is None:
            return range(n + 1)
        return [k for k in range(n + 1) if _figures(k, n, shown)]

    first, second = counts(withheld[0], pupils[0]), counts(withheld[1], pupils[1])  # each searched once
    options = [(a, b) for a in first for b in second if a + b == total]
    assert len({a for a, _ in options}) > 1 and len({b for _, b in options}) > 1, options


def _figures(k: int, n: int, shown: dict) -> bool:
    """Whether k of n give the shown rounded precision and interval at some rounding step."""
    from exclusion_risk.models.band_precision import _STEPS, _rounded

    return any(_rounded(k, n, step)[0] == {f: shown[f] for f in ("precision", "low", "high")}
               for step in _STEPS)  # fmt: skip


def test_a_low_band_is_not_read_as_none():
    """A low band with about 1 pupil in 250 excluded read "0% [0%–0%]" (whole percents): the decimal is
    kept under 10% where the count is shown; where it is withheld and rounded to nothing, "near 0%"."""
    entry = {"pupils": 25_688, "positives": 103, "precision": 0.004, "low": 0.0033, "high": 0.0049}
    text = precision_entry({"year": "2017/18", "bands": {"low": entry}}, "low", "low")["text"]
    assert text == "Of pupils placed low in 2017/18, 0.4% [0.3%–0.5%] were suspended or excluded that year."
    withheld = entry | {"positives": SECONDARY, "precision": 0.0, "low": 0.0, "high": 0.01}
    text = precision_entry({"year": "2017/18", "bands": {"low": withheld}}, "low", "low")["text"]
    assert text.startswith("Of pupils placed low in 2017/18, near 0% [near 0%–1%]")
