"""One stated figure per quantity, said as it was made: the years fitted on, an in-sample back-test, the
card's and the comparison's conclusions, and precision at k over the pupils `top_share` selects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import tracking
from exclusion_risk.models.comparison import format_differences, signed_interval, verdict
from exclusion_risk.models.evaluate_compare import compare_with_stated, scored_in_sample
from exclusion_risk.models.evaluate_log import checked_tag
from exclusion_risk.models.fairness import select_top
from exclusion_risk.models.fitting_words import fitting_words
from exclusion_risk.models.metrics import evaluate, point_metrics, top_share
from exclusion_risk.models.model_card import conclusions
from exclusion_risk.models.rendering import render

# --- precision at k: the count over the pupils selected, as the back-test and the review count it ------


def test_precision_at_k_is_the_count_over_the_top_share_selected():
    # 62,509 pupils at 5%: 3,126 selected (ceil 3,125.45). The stated precision was hits / 3,125.45
    # (0.324113 on the demo: not 1,013 / 3,126); it is now the count over the pupils selected.
    rng = np.random.default_rng(3)
    n = 62_509
    p = rng.random(n)
    y = (rng.random(n) < p**6).astype(int)
    selected = select_top(p, 0.05)
    assert selected.sum() == top_share(n, 0.05) == 3126
    stated = point_metrics(y, p, [0.05])["precision_at_5pct"]
    assert stated == y[selected].sum() / 3126
    interval = evaluate(y, {"m": p}, [0.05], n_boot=50, seed=7)["m"].metrics["precision_at_5pct"]
    assert interval.estimate == stated and interval.low <= stated <= interval.high


def test_a_small_cohort_counts_whole_pupils():
    y = np.array([1, 1, 1, 0, 0, 0, 1] + [0] * 94)  # 101 pupils, in rank order
    p = np.linspace(1, 0, 101)
    # top 5% of 101 = 6 pupils (3 with the outcome), not 5.05 of them
    assert point_metrics(y, p, [0.05])["precision_at_5pct"] == pytest.approx(3 / 6)


# --- the years a model was fitted on ----------------------------------------------------------------


def test_the_fitting_is_said_as_refit_does_it():
    info = {"train_years": "2016/17", "validation_year": "2017/18", "test_year": "2018/19",
            "fitted_years": "2016/17,2017/18"}  # fmt: skip
    words = fitting_words(info)
    assert "searched on 2016/17 and chosen on 2017/18" in words
    assert "fitted on 2016/17 + 2017/18 less the calibration pupils" in words
    assert "calibrated on the held-out calibration pupils' 2017/18 rows" in words
    assert "tested on 2018/19" in words and "trained on" not in words
    assert "fitted on 2016/17;" in fitting_words({**info, "fitted_years": "2016/17"})  # refit: false


def test_a_version_without_the_tag_says_it_was_not_recorded():
    words = fitting_words({"train_years": "2016/17", "validation_year": "2017/18", "test_year": "2018/19"})
    assert "not recorded" in words and "fitted on 2016/17;" not in words


# --- an in-sample back-test is recorded and read as such --------------------------------------------

_STATED = {"estimate": 0.324113, "interval": "0.307013-0.341353"}
_INFO = {"test_year": "2018/19", "metrics": {"precision_at_5pct": _STATED}}
_REALISED = {"precision": 1013 / 3126, "ci_low": 0.3079, "ci_high": 0.3407}


def _document(comparison):
    return {"run": {"year": "2018/19", "census": "autumn", "run_id": "r"}, "label": "any",
            "comparison": comparison}  # fmt: skip


def test_an_in_sample_check_gets_no_verdict_and_its_tag_says_so():
    out = compare_with_stated(_REALISED, _INFO, out_of_sample=False)
    assert out["consistent_with_stated"] is None and out["out_of_sample"] is False
    assert out["verdict"].startswith("not compared: an in-sample check")
    tag = checked_tag(_document(out), "m")
    assert tag["out_of_sample"] is False and tag["consistent_with_stated"] is None
    judged = compare_with_stated(_REALISED, _INFO)
    assert judged["consistent_with_stated"] is True and judged["out_of_sample"] is True


def test_an_earlier_in_sample_tag_is_read_as_in_sample():
    # as `evaluate` tagged the demo's version 2 before: its own test year, "consistent"
    old = {"date": "2026-12-05", "year": "2018/19", "census": "autumn", "precision_at_5pct": 0.3241,
           "consistent_with_stated": True,
           "verdict": "consistent with the model's stated precision"}  # fmt: skip
    read = tracking.last_checked({tracking.LAST_CHECKED: json.dumps(old), "test_year": "2018/19"})
    assert read["out_of_sample"] is False and read["consistent_with_stated"] is None
    assert "in-sample" in read["verdict"]
    later = tracking.last_checked({tracking.LAST_CHECKED: json.dumps({**old, "year": "2019/20"}),
                                   "test_year": "2018/19"})  # fmt: skip
    assert later["consistent_with_stated"] is True and later["out_of_sample"] is True
    # a year before the first train year: the model never saw its outcomes, so out of sample
    before = tracking.last_checked({tracking.LAST_CHECKED: json.dumps({**old, "year": "2015/16"}),
                                    "test_year": "2018/19", "train_years": "2016/17"})  # fmt: skip
    assert before["consistent_with_stated"] is True and before["out_of_sample"] is True
    assert scored_in_sample("2016/17", "2018/19", "2016/17") and not scored_in_sample("2015/16", "2018/19",
                                                                                       "2016/17")


def test_the_service_shows_the_flag():
    from exclusion_risk.serving.model_schemas import ModelInfo

    checked = tracking.last_checked({tracking.LAST_CHECKED: json.dumps({"year": "2018/19"}),
                                     "test_year": "2018/19"})  # fmt: skip
    body = ModelInfo.model_validate({"name": "exclusion-risk", "version": "2", "last_checked": checked,
                                     "fitted_years": "2016/17,2017/18"}).model_dump()  # fmt: skip
    assert body["last_checked"]["out_of_sample"] is False
    assert body["training_period"]["fitted_years"] == "2016/17,2017/18"


# --- conclusions in words ---------------------------------------------------------------------------


def _differences(rows):
    return pd.DataFrame(rows, columns=["model", "versus", "metric", "difference", "low", "high"])


def test_the_comparison_ends_with_a_verdict():
    table = pd.DataFrame({"model": ["random_forest", "lightgbm", "checklist"],
                          "precision_at_5pct": [0.323, 0.324, 0.310]})  # fmt: skip
    differences = _differences([
        ["random_forest", "lightgbm", "precision_at_5pct", -0.001, -0.010, 0.008],
        ["lightgbm", "checklist", "precision_at_5pct", 0.014, 0.005, 0.023],
    ])  # fmt: skip
    line = verdict(table, differences)
    assert line.startswith("Verdict on precision_at_5pct: lightgbm (highest on the test year)")
    assert "ahead of random_forest by +0.001 [-0.008, +0.010], within the interval (not significant)" in line
    assert "ahead of checklist by +0.014 [+0.005, +0.023], its 95% interval excluding 0" in line
    marked = table.assign(champion=["*", "", ""])
    behind = verdict(marked, differences)
    assert "random_forest (the champion) is behind lightgbm by 0.001 (-0.001 [-0.010, +0.008])" in behind


def test_a_tie_is_said_level_not_ahead():
    # Two models with the same 53 of 153 in the top 5% read "lightgbm ... is ahead of logistic by +0.000"
    table = pd.DataFrame({"model": ["lightgbm", "logistic", "checklist"],
                          "precision_at_5pct": [0.346, 0.346, 0.310]})  # fmt: skip
    differences = _differences([
        ["lightgbm", "logistic", "precision_at_5pct", 0.0, -0.020, 0.020],
        ["lightgbm", "checklist", "precision_at_5pct", 0.036, 0.005, 0.060],
    ])  # fmt: skip
    line = verdict(table, differences)
    assert "level with logistic at +0.000 [-0.020, +0.020], within the interval (not significant)" in line
    assert "ahead of logistic" not in line
    assert "ahead of checklist by +0.036" in line


def test_a_significant_interval_never_prints_a_bound_of_zero():
    # the demo's "+0.007 [+0.000, +0.013], significantly ahead": its low bound was +0.00032
    table = pd.DataFrame({"model": ["lightgbm", "random_forest", "checklist"],
                          "precision_at_5pct": [0.327, 0.320, 0.300]})  # fmt: skip
    differences = _differences([
        ["random_forest", "lightgbm", "precision_at_5pct", -0.0067, -0.0131, -0.00032],
        ["lightgbm", "checklist", "precision_at_5pct", 0.027, 0.012, 0.041],
    ])  # fmt: skip
    line = verdict(table, differences)
    assert "ahead of random_forest by +0.0067 [+0.0003, +0.0131], its 95% interval excluding 0" in line
    # a statistician's finding: "significantly ahead" read as settled; the intervals are unadjusted
    assert "Each interval is unadjusted for the 2 comparisons here" in line
    assert "ahead of checklist by +0.027 [+0.012, +0.041]" in line  # three places where they serve
    assert signed_interval(0.00048, 0.00030, 0.00065) == "+0.0005 [+0.0003, +0.0006]"
    assert signed_interval(0.0, -0.02, 0.02) == "+0.000 [-0.020, +0.020]"
    assert signed_interval(1e-9, 1e-9, 2e-9) == "+0.000000 [+0.000000, +0.000000]"  # stops at 6 places
    table_text = format_differences(differences)
    assert "-0.0067 [-0.0131, -0.0003]" in table_text


def test_the_model_card_draws_conclusions_from_its_numbers(training):
    result, _ = training
    lines = conclusions("lightgbm", result)
    gain = result.gains["lightgbm"]["precision_at_5pct"]
    shown = f"{gain.estimate:+.3f} [{gain.low:+.3f}, {gain.high:+.3f}]"
    first = next(line for line in lines if "points checklist" in line)
    assert shown in first
    assert ("not significant" in first) == (gain.low <= 0 <= gain.high)
    assert any("fairness review" in line for line in lines)
    assert any("never a decision" in line for line in lines)


def test_a_withheld_calibration_error_reads_withheld_on_the_card():
    # A test year of 60 pupils: the calibration error is withheld (metrics.coarse_calibration_error), and
    # the card said "off the predicted by nan percentage points on average [nan, nan]".
    from types import SimpleNamespace

    rng = np.random.default_rng(4)
    p = rng.beta(2, 5, 60)
    y = (rng.random(p.size) < p).astype(int)
    ev = evaluate(y, {"lightgbm": p, "checklist": np.round(p, 1)}, n_boot=20)
    split = SimpleNamespace(test="2018/19", validation="2017/18")
    result = SimpleNamespace(split=split, evaluations=ev, models={"lightgbm": None},
                             gains={"lightgbm": ev["lightgbm"].gain_over(ev["checklist"])})  # fmt: skip
    lines = conclusions("lightgbm", result)
    line = next(line for line in lines if line.startswith("Calibration on 2018/19"))
    assert "nan" not in line and "withheld" in line
    card = render("model_card.md.j2", split=split, metrics=ev["lightgbm"].metrics, conclusions=lines)
    row = next(r for r in card.splitlines() if r.startswith("| calibration_error |"))
    assert row == "| calibration_error | withheld | withheld |"


def test_a_withheld_difference_is_said_withheld_not_nan():
    """A precision at 5% resting on 1-9 pupils is withheld (NaN) since 2ea31f0; the verdict and promote's
    paired difference printed "behind logistic by nan (+nan [+nan, +nan])" (the diff reviewer's find)."""
    from exclusion_risk.models.promotion_report import _paired

    nan = float("nan")
    table = pd.DataFrame({"model": ["lightgbm", "logistic", "checklist"],
                          "precision_at_5pct": [nan, 0.346, 0.310]})  # fmt: skip
    differences = _differences([
        ["lightgbm", "logistic", "precision_at_5pct", nan, nan, nan],
        ["lightgbm", "checklist", "precision_at_5pct", nan, nan, nan],
    ])  # fmt: skip
    line = verdict(table.assign(champion=["*", "", ""]), differences)
    assert "nan" not in line and "over logistic: withheld" in line and "over checklist: withheld" in line
    paired = _paired(differences, "lightgbm", "logistic")
    assert "nan" not in paired and "withheld" in paired


@pytest.mark.parametrize(("n", "decimals"), [(2000, 0), (20000, 1)])
def test_the_calibration_error_is_written_at_the_precision_it_is_rounded_to(n, decimals):
    # On 2,000 to 19,999 pupils the error is rounded to whole points (metrics.coarse_calibration_error, so
    # that it pins no withheld bin): the card wrote "1.0 percentage points [0.0, 1.0]", a spurious decimal.
    from types import SimpleNamespace

    rng = np.random.default_rng(5)
    p = rng.beta(2, 5, n)
    y = (rng.random(p.size) < p).astype(int)
    ev = evaluate(y, {"lightgbm": p, "checklist": np.round(p, 1)}, n_boot=20)
    split = SimpleNamespace(test="2018/19", validation="2017/18")
    result = SimpleNamespace(split=split, evaluations=ev, models={"lightgbm": None},
                             gains={"lightgbm": ev["lightgbm"].gain_over(ev["checklist"])})  # fmt: skip
    line = next(line for line in conclusions("lightgbm", result) if line.startswith("Calibration on"))
    cal = ev["lightgbm"].metrics["calibration_error"]
    figures = [f"{100 * v:.{decimals}f}" for v in (cal.estimate, cal.low, cal.high)]
    assert f"by {figures[0]} percentage point" in line and f"[{figures[1]}, {figures[2]}]" in line, line
    assert ("to whole points" in line) == (decimals == 0)
    # the card's table too: "0.010 0.000 to 0.010" on 2,000 pupils read a place the error does not have
    card = model_card_table(result, ev["lightgbm"].metrics)
    row = next(r for r in card.splitlines() if r.startswith("| calibration_error |"))
    places = decimals + 2
    assert row == (f"| calibration_error | {cal.estimate:.{places}f} | {cal.low:.{places}f} to "
                   f"{cal.high:.{places}f} |")
    brier = ev["lightgbm"].metrics["brier"]
    assert f"| brier | {brier.estimate:.3f} |" in card  # the others as before


def model_card_table(result, metrics) -> str:
    """The model card's test-year table as model_card renders it, from `metrics`."""
    from exclusion_risk.models.model_card import metric_places

    return render("model_card.md.j2", split=result.split, metrics=metrics, conclusions=[],
                  places=metric_places(result.evaluations["lightgbm"]))  # fmt: skip


def test_the_verdicts_caveat_counts_the_comparisons_made():
    # with one paired interval not logged it said "unadjusted for the 2 comparisons here"
    table = pd.DataFrame({"model": ["lightgbm", "random_forest", "checklist"],
                          "precision_at_5pct": [0.327, 0.320, 0.300]})  # fmt: skip
    differences = _differences([["lightgbm", "checklist", "precision_at_5pct", 0.027, 0.012, 0.041]])
    line = verdict(table, differences)
    assert "over random_forest: no paired interval logged" in line
    assert "Each interval is unadjusted for the 1 comparison here" in line
