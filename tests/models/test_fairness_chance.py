"""The review compares many ratios at once (56 calibration ratios on the demo: groups, detailed
ethnicity and three intersection tables), and a 95% interval excludes 1 once in 20 by chance alone. A
finding was called certain on its own interval (24 calibration findings on the demo, "not eligible /
Black 1.44 [1.07, 1.91]" third of the top list, advised to act on). A finding now holds only once the
number compared is allowed for (Holm within each measure, `models/fairness_chance.py`), and
the page says how many were compared and how many chance alone would give."""

from __future__ import annotations

from html import unescape

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness, fairness_chance, fairness_report

MODEL = {"model_type": "lightgbm", "year": "x", "include_protected": False}


@pytest.fixture(scope="module")
def calibrated_but_one():
    """A model calibrated for every group but one (group 00, its probabilities halved): 16 small ethnic
    groups beside a large one, crossed with sex and free school meals."""
    rng = np.random.default_rng(4)
    ethnicity = ["White British"] * 4000 + [f"group {g:02d}" for g in range(16) for _ in range(120)]
    n = len(ethnicity)
    frame = pd.DataFrame({"sex": rng.choice(["M", "F"], n), "ethnicity_group": ethnicity,
                          "sen_provision": "N", "fsm": rng.integers(0, 2, n)})  # fmt: skip
    risk = rng.uniform(0.05, 0.4, n)
    y = (rng.random(n) < risk).astype(int)
    predicted = risk * np.where(frame["ethnicity_group"] == "group 00", 0.5, 1.0)
    review = fairness.review(y, predicted, frame, 0.1, MODEL, n_boot=200)
    return review, fairness_report.report_context(review, figures=False)


def test_a_chance_calibration_finding_is_not_called_certain_nor_ranked_first(calibrated_but_one):
    _, context = calibrated_but_one
    calibration = [f for f in context["findings_all"] if f["kind"] == "calibration"]
    real = [f for f in calibration if f["group"] == "group 00" and f["attribute"] == "ethnic group"]
    chance = [f for f in calibration if "group 00" not in f["group"]]
    assert len(real) == 1 and real[0]["ratio"] > 1.6
    # their own intervals exclude 1 (the old "certain"), though the model is calibrated for them
    assert chance and all(f["low"] > 1 or f["high"] < 1 for f in chance)
    assert not any(f.get("certain") for f in chance)  # "certain" said what the interval alone does not
    assert all(f["excludes_1"] and not f["beyond_chance"] for f in chance)
    assert all(f["action"].startswith("May be chance") for f in chance)
    assert all("would exclude 1 by chance alone" in f["action"] for f in chance)
    assert real[0]["beyond_chance"] and not real[0]["action"].startswith("May be chance")
    # what holds comes first: the real finding ranks above every chance one
    assert all(real[0]["rank"] < f["rank"] for f in chance)
    every = context["findings_all"]
    keys = [(not f["beyond_chance"], f["tier"], not f["excludes_1"], -f["size"]) for f in every]
    assert keys == sorted(keys)


def test_the_page_says_how_many_ratios_were_compared(calibrated_but_one):
    review, context = calibrated_but_one
    (calibration,) = [c for c in context["comparisons"] if c["family"] == "calibration"]
    # every shown group's calibration: 17 ethnic groups, 2 sexes, 2 FSM, intersections
    assert calibration["compared"] >= 40
    assert calibration["expected_by_chance"] == pytest.approx(0.05 * calibration["compared"], abs=0.05)
    assert calibration["excluding_1"] > calibration["beyond_chance"] >= 1
    html = unescape(fairness_report.render_report(review, context))
    assert f"calibration: {calibration['compared']} compared" in html
    assert "would by chance alone" in html


def test_the_adjustment_is_holms():
    # p-values 0.01, 0.04, 0.03, 0.5 of 4: 0.01 x 4, 0.03 x 3, 0.04 x 2 (raised to 0.09: never below the
    # one before), 0.5 x 1
    q = fairness_chance.adjusted([0.01, 0.04, 0.03, 0.5])
    assert q == pytest.approx([0.04, 0.09, 0.09, 0.5])
    # the interval gives the p-value back: 1.44 [1.07, 1.91] on the log scale, z about 2.45
    assert fairness_chance.p_value(1.44, 1.07, 1.91) == pytest.approx(0.0143, abs=0.001)
    assert np.isnan(fairness_chance.p_value(0.0, 0.0, 0.0))


def test_a_finding_that_cites_a_calibration_finding_says_when_that_may_be_chance():
    """A statistician's authority: Asian pupils' precision finding said "the model is not calibrated for
    the group against the year's (0.73 [0.53, 0.93]), so part of it may be the model's", and advised
    recalibrating, beside Asian pupils' own calibration finding marked "may be chance"."""
    def finding(kind, group, meaning, holds):
        return {"kind": kind, "attribute": "ethnic group", "group": group, "meaning": meaning,
                "beyond_chance": holds}  # fmt: skip

    mixed = "error rate in the base rate's direction, with miscalibration"
    cites = "The precision of Asian pupils is 0.52 times …: the model is not calibrated for the group (0.73)."
    findings = [finding("calibration", "Asian", "Asian pupils …", False),
                finding(mixed, "Asian", cites, True), finding("calibration", "Black", "Black pupils …", True),
                finding(mixed, "Black", cites, True)]
    fairness_chance.qualify_cited_calibration(findings, "calibration", {mixed})
    said = "That calibration finding may itself be chance"
    assert said in findings[1]["meaning"] and said not in findings[3]["meaning"]
    assert said not in findings[0]["meaning"]
