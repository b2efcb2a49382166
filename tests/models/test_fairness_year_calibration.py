"""The fairness review states the model's calibration across the whole reviewed year first, and judges a
group's calibration against it: a model miscalibrated by one factor for every pupil is one model-wide
finding, not one finding per group (models/fairness_calibration.py, models/fairness_summary.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.fairness_run import fairness_json
from exclusion_risk.models.fairness_summary import KINDS

BOYS, GIRLS = 11000, 9000


def _review(true_risk: np.ndarray, predicted: np.ndarray, seed: int = 0):
    n = BOYS + GIRLS
    frame = pd.DataFrame({
        "sex": ["M"] * BOYS + ["F"] * GIRLS, "ethnicity_group": "White British", "sen_provision": "N",
        "fsm": np.arange(n) % 3 == 0,
    }, index=range(n))  # fmt: skip
    y = (np.random.default_rng(seed).random(n) < true_risk).astype(int)
    model = {"model_type": "lightgbm", "year": "x", "include_protected": False}
    return fairness.review(y, predicted, frame, 0.3, model, n_boot=100)


def _by_kind(context: dict, kind: str) -> list[dict]:
    return [f for f in context["findings_all"] if f["kind"] == KINDS[kind]]


def test_one_factor_for_every_pupil_is_one_model_wide_finding_not_one_per_group():
    rng = np.random.default_rng(1)
    # girls excluded twice as often as boys, and every pupil's probability 1 / 1.3 of their true risk
    risk = np.concatenate([rng.uniform(0, 0.2, BOYS), rng.uniform(0, 0.4, GIRLS)])
    context = fairness_report.report_context(_review(risk, risk / 1.3))
    year = _by_kind(context, "year calibration")
    assert len(year) == 1 and year[0]["rank"] == 1
    assert context["findings"][0]["kind"] == KINDS["year calibration"]
    assert year[0]["beyond_chance"] and 1.2 < year[0]["ratio"] < 1.4
    assert year[0]["meaning"].startswith("Across all pupils in the year the model's probabilities ran low")
    assert year[0]["action"].startswith("Recalibrate the model on a recent year (the whole model")
    assert _by_kind(context, "calibration") == []  # boys, girls, FSM... each off by the year's factor only
    # the error-rate gaps follow the base rate: a uniform scale is not a group's miscalibration
    sex = [f for f in context["findings_all"] if f["attribute"] == "sex" and f["kind"].startswith("error")]
    assert sex and all(f["kind"] == KINDS["error, base rate"] for f in sex), sex


def test_a_group_miscalibrated_alone_is_still_a_finding_against_the_year():
    rng = np.random.default_rng(2)
    risk = rng.uniform(0, 0.3, BOYS + GIRLS)
    predicted = risk * np.where(np.arange(risk.size) < BOYS, 1.0, 0.5)  # girls under-predicted twice
    context = fairness_report.report_context(_review(risk, predicted))
    girls = [f for f in _by_kind(context, "calibration") if f["group"] == "girls"]
    assert len(girls) == 1 and girls[0]["beyond_chance"] and girls[0]["low"] > 1.25
    assert "for all pupils" in girls[0]["meaning"] and "times the year's" in girls[0]["meaning"]
    assert girls[0]["metric"] == "observed / predicted against the year's"
    year = context["year_calibration"]
    # the group's ratio relative to the year's: its own divided by the year's
    assert abs(girls[0]["ratio"] - girls[0]["observed_over_predicted"] / year["ratio"]) < 1e-9


def test_the_years_calibration_is_stated_in_the_report_and_fairness_json():
    rng = np.random.default_rng(3)
    risk = rng.uniform(0, 0.3, BOYS + GIRLS)
    review = _review(risk, risk)  # calibrated
    html = " ".join(fairness_report.render_report(review).split()).replace("&#39;", "'")
    data = json.loads(fairness_json(review))
    line = data["summary"]["year_calibration"]["text"]
    assert line.startswith("Across all pupils in the year the model is calibrated: observed / predicted")
    assert line in html and html.index(line) < html.index("Error and selection rates at capacity")
    assert not [f for f in data["summary"]["all"] if f["kind"] == KINDS["year calibration"]]
    review = _review(risk, risk / 1.3)
    html = " ".join(fairness_report.render_report(review).split()).replace("&#39;", "'")
    line = json.loads(fairness_json(review))["summary"]["year_calibration"]["text"]
    assert "ran low" in line and line in html


def test_the_years_calibration_is_withheld_where_its_excluded_are_and_groups_are_judged_on_their_own():
    n = BOYS + GIRLS
    frame = pd.DataFrame({"sex": ["M"] * BOYS + ["F"] * GIRLS, "ethnicity_group": "White British",
                          "sen_provision": "N", "fsm": 0}, index=range(n))  # fmt: skip
    y = np.zeros(n, dtype=int)
    y[[0, 5, 9, BOYS, BOYS + 7]] = 1  # 5 excluded in the year: "<10", so is their rate
    review = fairness.review(y, np.full(n, 0.01), frame, 0.3, {"model_type": "x", "year": "x"}, n_boot=20)
    context = fairness_report.report_context(review, figures=False)
    assert context["pupils"] == n and context["positives"] == "<10"
    assert context["year_calibration"] is None
    assert not _by_kind(context, "year calibration")
    assert all(f["metric"] != "observed / predicted against the year's" for f in context["findings_all"])
    html = " ".join(fairness_report.render_report(review).split()).replace("&#39;", "'")
    assert "All pupils' observed / predicted is not stated" in html
    assert json.loads(fairness_json(review))["summary"]["year_calibration"] is None


def _calibration_table(html: str, attribute: str) -> str:
    start = html.index(f"Calibration by {attribute}:")
    return html[start: html.index("</table>", start)]


def test_the_calibration_tables_show_each_groups_ratio_to_the_years_as_the_findings_judge_it():
    rng = np.random.default_rng(2)
    risk = rng.uniform(0, 0.3, BOYS + GIRLS)
    predicted = risk * np.where(np.arange(risk.size) < BOYS, 1.0, 0.5)  # girls under-predicted twice
    review = _review(risk, predicted)
    context = fairness_report.report_context(review, figures=False)
    girls_finding = next(f for f in _by_kind(context, "calibration") if f["group"] == "girls")
    sex = next(a for a in context["attributes"] if a["name"] == "sex")
    girls = next(c for c in sex["calibration"] if c["group"] == "girls")
    # before: the table showed only the group's own observed / predicted (1.92 for girls here),
    # while the finding judged girls by their ratio to the year's (1.49): the reader could not check it
    low, high = girls_finding["low"], girls_finding["high"]
    assert girls["relative"] == f"{girls_finding['ratio']:.2f} [{low:.2f}, {high:.2f}]"
    assert girls["relative_value"] == girls_finding["ratio"]
    assert (girls["relative_low"], girls["relative_high"]) == (low, high)
    html = " ".join(fairness_report.render_report(review).split())
    table = _calibration_table(html, "sex")
    assert "against the year's" in table and girls["relative"] in table
    data = json.loads(fairness_json(review))
    in_json = next(c for c in data["calibration"]["sex"] if c["group"] == "girls")
    assert in_json["relative"] == girls["relative"]


def test_the_calibration_tables_do_not_state_a_ratio_to_the_year_where_the_years_is_withheld():
    n = BOYS + GIRLS
    frame = pd.DataFrame({"sex": ["M"] * BOYS + ["F"] * GIRLS, "ethnicity_group": "White British",
                          "sen_provision": "N", "fsm": 0}, index=range(n))  # fmt: skip
    y = np.zeros(n, dtype=int)
    y[[0, 5, 9, BOYS, BOYS + 7]] = 1  # 5 excluded in the year: "<10", so the year's line is withheld
    review = fairness.review(y, np.full(n, 0.01), frame, 0.3, {"model_type": "x", "year": "x"}, n_boot=20)
    context = fairness_report.report_context(review, figures=False)
    assert context["year_calibration"] is None
    for a in [*context["attributes"], *context["intersections"]]:
        for c in a["calibration"]:
            assert c["relative"] == "not stated", c
            assert c["relative_value"] is None and c["relative_low"] is None and c["relative_high"] is None
    table = _calibration_table(" ".join(fairness_report.render_report(review).split()), "sex")
    assert "not stated" in table
