"""Issue #13's fairness review, after a reviewer's findings: no count under 10 comes back from a rate (tp,
fp, fn, tn included), detailed ethnicity cannot be subtracted from the broad groups, selection findings
say widens / narrows, the summary ranks the model's findings first and keeps all of them, intersections
compare within one stratum, "calibrated" needs an interval within 0.8-1.25, groups and outcomes are
named in words, and each option gets a finding."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.config import load_config
from exclusion_risk.models.fairness_options import AS_IS, RECALIBRATED, measure_options
from exclusion_risk.models.fairness_run import calibration_rows, fairness_json
from exclusion_risk.models.fairness_words import group_phrase, outcome_words
from exclusion_risk.models.plots import calibration_by_group_png
from exclusion_risk.models.train import calibration_pupils
from exclusion_risk.privacy import SUPPRESSED, is_withheld

MODEL = {"model_type": "x", "year": "x", "include_protected": False}


def _frame(n: int, **columns) -> pd.DataFrame:
    base = {"sex": "M", "ethnicity_group": "White British", "sen_provision": "N", "fsm": 0}
    return pd.DataFrame({**base, **columns}, index=range(n))


def _number(text: str) -> float | None:
    try:
        return float(str(text).split(" ")[0])
    except ValueError:
        return None


# --- MUST 1: tp, fp, fn, tn are counts -------------------------------------------------------------


def _few_true_positives():
    """Group "Asian": 1,000 pupils, 100 excluded, 50 selected of whom only 3 were excluded."""
    n = 10_000
    asian = np.arange(n) < 1000
    y = np.zeros(n, dtype=int)
    y[np.flatnonzero(asian)[:100]] = 1
    y[np.flatnonzero(~asian)[:1500]] = 1
    p = np.full(n, 0.01)
    p[np.flatnonzero(asian)[:3]] = 0.9  # 3 true positives
    p[np.flatnonzero(asian)[200:247]] = 0.9  # 47 false positives
    p[np.flatnonzero(~asian)[:450]] = 0.9  # the rest of the 5%: excluded White British pupils
    frame = _frame(
        n, ethnicity_group=np.where(asian, "Asian", "White British"), sex=np.where(np.arange(n) % 2, "M", "F")
    )
    return y, p, frame


def test_no_rate_or_ratio_gives_back_a_true_or_false_positive_count_under_10():
    y, p, frame = _few_true_positives()
    review = fairness.review(y, p, frame, 0.05, MODEL, ablated_probabilities=p * 0.5, n_boot=50)
    groups = fairness.review_groups(frame)
    references = {a.attribute: a.reference for a in review.attributes}
    review.options = measure_options(
        y, {AS_IS: p, "other": p[::-1].copy()}, groups, 0.05, references, n_boot=20
    )
    context = fairness_report.report_context(review, figures=False)
    ethnic = next(a for a in context["attributes"] if a["name"] == "ethnic group")
    asian = next(r for r in ethnic["rows"] if r["group"] == "Asian")
    assert (asian["n"], asian["selected"], asian["positives"]) == (1000, 50, 100)  # all shown
    rates = dict(zip(fairness_report.REPORT_METRICS, asian["metrics"], strict=True))
    assert rates["selection_rate"]["rate"].startswith("0.050") and rates["base_rate"]["rate"].startswith(
        "0.100"
    )
    for metric in ("precision", "recall", "fpr", "fnr"):  # precision x 50 selected = 3 true positives
        assert rates[metric]["rate"] == SUPPRESSED and rates[metric]["ratio"] == "-", metric
    # the reviewer's recovery: tp = precision x selected, fp, fn from the published counts
    for a in [*context["attributes"], *context["intersections"]]:
        for r in a["rows"]:
            precision = _number(r["metrics"][2]["rate"])
            if precision is None or not isinstance(r["selected"], int):
                continue
            tp = round(precision * r["selected"])
            for count in (tp, r["selected"] - tp, r["positives"] - tp):
                assert not 0 < count < 10, (a["name"], r["group"], count)
    changes = [
        c for c in context["ablation"]["changes"] if c["group"] == "Asian" and c["metric"] == "precision"
    ]
    assert changes and all(c["model"] == "-" and c["change"] == "-" for c in changes)  # "<10": a count
    assert not [f for f in context["findings_all"] if f["group"] == "Asian" and f["metric"] == "precision"]


def test_an_options_selection_ratio_is_hidden_when_its_selected_pupils_are_under_10():
    y, p, frame = _few_true_positives()
    review = fairness.review(y, p, frame, 0.05, MODEL, n_boot=20)
    references = {a.attribute: a.reference for a in review.attributes}
    other = p.copy()
    asian = np.flatnonzero(frame["ethnicity_group"] == "Asian")
    other[asian[other[asian] < 0.5]] = 0.0
    other[asian[200:245]] = 0.0  # 5 Asian pupils selected
    review.options = measure_options(
        y, {AS_IS: p, "other": other}, fairness.review_groups(frame), 0.05, references
    )
    context = fairness_report.report_context(review, figures=False)
    ethnic = next(a for a in context["options"]["attributes"] if a["name"] == "ethnic group")
    asian = next(g for g in ethnic["groups"] if g["group"] == "Asian")
    assert asian["cells"][0]["selection_ratio"] != SUPPRESSED  # 50 selected as is
    assert asian["cells"][1]["selection_ratio"] == "-"  # hidden: "<10" is a count


# --- MUST 2: detailed ethnicity nests in the broad groups --------------------------------------------


def test_detailed_ethnicity_cannot_be_subtracted_from_its_broad_group():
    counts = {"WBRI": 6000, "WOTH": 900, "WROM": 200, "WIRI": 7, "AIND": 15, "APKN": 600, "ABAN": 400}
    codes = np.repeat(list(counts), list(counts.values()))
    rng = np.random.default_rng(0)
    group = {"WBRI": "White British", "WOTH": "White other", "WROM": "White other", "WIRI": "White other",
             "AIND": "Asian", "APKN": "Asian", "ABAN": "Asian"}  # fmt: skip
    frame = _frame(codes.size, ethnicity_code=codes, ethnicity_group=[group[c] for c in codes])
    y = (rng.random(codes.size) < 0.2).astype(int)
    review = fairness.review(y, rng.random(codes.size), frame, 0.1, MODEL, n_boot=10)
    context = fairness_report.report_context(review, figures=False)
    broad = {
        r["group"]: r for r in next(a for a in context["attributes"] if a["name"] == "ethnic group")["rows"]
    }
    detailed = next(a for a in context["attributes"] if a["name"] == fairness.DETAILED_ETHNICITY)["rows"]
    assert next(r for r in detailed if r["group"] == "White Irish (WIRI)")["n"] == SUPPRESSED
    for name, total in broad.items():
        children = [r for r in detailed if group.get(r["group"][-5:-1]) == name]
        for c in ("n", "selected", "positives"):
            line = [r[c] for r in children] + [total[c]]
            assert sum(map(is_withheld, line)) != 1, (name, c, line)  # White other - WOTH - WROM = WIRI


# --- MUST 3 and 6: widens / narrows; calibrated only within 0.8-1.25 --------------------------------


def _sex_review(true_risk, predicted, girls: int, boys: int, seed: int = 0, capacity: float = 0.3):
    y = (np.random.default_rng(seed).random(true_risk.size) < true_risk).astype(int)
    frame = _frame(girls + boys, sex=["F"] * girls + ["M"] * boys)
    return fairness.review(y, predicted, frame, capacity, MODEL, n_boot=200)


def test_selection_closer_to_equal_than_the_base_rate_narrows_and_is_not_an_outcome_difference():
    rng = np.random.default_rng(2)
    girls, boys = 9000, 11000
    risk = np.concatenate([rng.uniform(0, 0.12, girls), rng.uniform(0, 0.3, boys)])
    predicted = np.concatenate([risk[:girls] + 0.08, risk[girls:]])  # girls' scores pushed up
    review = _sex_review(risk, predicted, girls, boys)
    context = fairness_report.report_context(review, figures=False)
    selection = [
        f for f in context["findings_all"] if f["group"] == "girls" and f["metric"] == "selection rate"
    ]
    base = next(
        f for f in context["findings_all"] if f["group"] == "girls" and f["metric"].startswith("base")
    )
    assert selection and abs(np.log(selection[0]["ratio"])) < abs(np.log(base["ratio"]))
    assert selection[0]["kind"] == "selection that follows the base rate"
    assert "narrows" in selection[0]["meaning"] and "widens" not in selection[0]["meaning"]
    # calibrated, one threshold: selection further from 1 than the base rate, beyond it: it widens
    risk = np.concatenate([rng.uniform(0, 0.2, girls), rng.uniform(0, 0.3, boys)])
    review = _sex_review(risk, risk, girls, boys, seed=3)
    found = fairness_report.report_context(review, figures=False)["findings_all"]
    selection = next(f for f in found if f["group"] == "girls" and f["metric"] == "selection rate")
    assert selection["kind"] == "selection beyond the base rate" and "widens" in selection["meaning"]
    assert all(
        f["kind"] != "difference in outcomes (base rate)" for f in found if f["metric"] == "selection rate"
    )


def test_a_group_is_calibrated_only_when_its_interval_lies_within_the_range():
    rng = np.random.default_rng(1)
    girls, boys = 300, 19700  # girls excluded twice as often; calibrated, but few: a wide interval
    risk = np.concatenate([rng.uniform(0, 0.6, girls), rng.uniform(0, 0.3, boys)])
    review = _sex_review(risk, risk, girls, boys)
    calibration = review.calibration["sex"][0].set_index("group").loc["girls"]
    assert 0.8 < calibration["observed_over_predicted"] < 1.25
    assert calibration["ratio_low"] < 0.8 or calibration["ratio_high"] > 1.25
    found = fairness_report.report_context(review, figures=False)["findings_all"]
    errors = [f for f in found if f["group"] == "girls" and f["kind"].startswith("error rate in the base")]
    assert errors and all(f["kind"].endswith("calibration uncertain") for f in errors)
    assert all("calibration is uncertain" in f["meaning"] for f in errors)
    assert not [
        f for f in found if f["group"] == "girls" and f["kind"] == "error rate that follows the base rate"
    ]


# --- MUST 4: the model's findings first, one base-rate line per group, all kept ----------------------


def test_the_summary_leads_with_the_models_findings_and_keeps_every_finding_in_json():
    rng = np.random.default_rng(1)
    girls, boys = 9000, 11000
    risk = np.concatenate([rng.uniform(0, 0.8, girls), rng.uniform(0, 0.4, boys)])
    predicted = np.concatenate([risk[:girls] * 0.6, risk[girls:]])  # girls under-predicted
    review = _sex_review(risk, predicted, girls, boys)
    data = json.loads(fairness_json(review))["summary"]
    top, every = data["top"], data["all"]
    assert len(every) > len(top) and data["omitted"] == len(every) - len(top)
    # the model's doing, ahead of the larger base-rate ratio: its calibration across the year (girls, most of
    # the excluded, under-predicted pull all pupils' to about 1.3), then the groups' against it
    assert top[0]["kind"] == "the model's calibration across the year"
    assert top[1]["kind"] == "calibration"
    context_lines = [(f["attribute"], f["group"]) for f in top if f["tier"] == 2]
    assert len(context_lines) == len(set(context_lines))
    assert sum(f["tier"] == 2 for f in every) > len(context_lines)
    html = fairness_report.render_report(review)
    assert f"{data['omitted']} further finding(s) are not listed here" in html


# --- MUST 5: intersections within one stratum ----------------------------------------------------------


def test_intersection_cells_are_compared_within_their_stratum():
    rng = np.random.default_rng(5)
    n = 20000
    frame = _frame(n, sex=np.where(np.arange(n) % 2, "M", "F"),
                   ethnicity_group=rng.choice(["White British", "Asian"], n, p=[0.7, 0.3]),
                   sen_provision=rng.choice(["N", "K"], n, p=[0.8, 0.2]))  # fmt: skip
    y = (rng.random(n) < 0.1).astype(int)
    review = fairness.review(y, rng.random(n), frame, 0.1, MODEL, n_boot=10)
    tables = {a.attribute: a.table.set_index("group") for a in review.intersections}
    sex_ethnic = tables["sex × ethnic group"]
    assert sex_ethnic.loc["girls / Asian", "reference"] == "girls / White British"
    assert sex_ethnic.loc["boys / Asian", "reference"] == "boys / White British"
    assert tables["sex × SEN provision"].loc["boys / SEN support", "reference"] == "boys / no SEN"
    expected = (
        sex_ethnic.loc["girls / Asian", "base_rate"] / sex_ethnic.loc["girls / White British", "base_rate"]
    )
    assert sex_ethnic.loc["girls / Asian", "base_rate_ratio"] == pytest.approx(expected)
    context = fairness_report.report_context(review, figures=False)
    row = next(r for a in context["intersections"] for r in a["rows"] if r["group"] == "girls / Asian")
    assert row["compared_with"] == "girls / White British"
    assert "Asian girls with White British girls" in fairness_report.render_report(review)


# --- MUST 7: groups and the outcome in words ----------------------------------------------------------


def test_groups_and_the_runs_outcome_are_named_in_words():
    assert group_phrase("social care", "none") == "pupils not known to social care"
    assert group_phrase("free school meals", "eligible") == "pupils eligible for free school meals"
    assert group_phrase("SEN provision", "EHC plan") == "pupils with an EHC plan"
    assert group_phrase("sex × ethnic group", "girls / Asian") == "Asian girls"
    assert group_phrase("sex × SEN provision", "boys / SEN support") == "boys with SEN support"
    assert group_phrase("sex × SEN provision", "boys / no SEN") == "boys without SEN"
    assert outcome_words("permanent") == "permanently excluded"
    rng = np.random.default_rng(1)
    risk = np.concatenate([rng.uniform(0, 0.8, 9000), rng.uniform(0, 0.4, 11000)])
    y = (rng.random(risk.size) < risk).astype(int)
    frame = _frame(risk.size, sex=["F"] * 9000 + ["M"] * 11000)
    review = fairness.review(y, risk, frame, 0.3, {**MODEL, "label": "permanent"}, n_boot=50)
    html = " ".join(fairness_report.render_report(review).split())
    assert "permanently excluded after census day" in html and "excluded or suspended" not in html
    meanings = " ".join(
        f["meaning"] for f in fairness_report.report_context(review, figures=False)["findings_all"]
    )
    assert "Girls were permanently excluded" in meanings and "suspended" not in meanings


# --- MUST 9: one finding per option ---------------------------------------------------------------------


def test_each_option_gets_a_finding_with_its_precision_and_largest_group_changes():
    rng = np.random.default_rng(0)
    n = 12000
    frame = _frame(n, sex=np.where(np.arange(n) < n // 2, "M", "F"))
    risk = rng.uniform(0.01, 0.3, n)
    y = (rng.random(n) < risk).astype(int)
    p = risk * np.where(frame["sex"] == "F", 2.0, 1.0)  # girls over-predicted twice
    review = fairness.review(y, p, frame, 0.3, MODEL, n_boot=50)
    references = {a.attribute: a.reference for a in review.attributes}
    options = {AS_IS: p, RECALIBRATED: risk, "retrained with protected characteristics": risk * 1.1}
    review.options = measure_options(y, options, fairness.review_groups(frame), 0.3, references, n_boot=50)
    context = fairness_report.report_context(review, figures=False)
    found = {
        f["group"]: f for f in context["findings_all"] if f["kind"] == "trade-off measured by the options"
    }
    assert set(found) == {RECALIBRATED, "retrained with protected characteristics"}
    girls = review.options[0].groups.set_index(["attribute", "group"]).loc[("sex", "girls")]
    recalibrated = review.options[1].groups.set_index(["attribute", "group"]).loc[("sex", "girls")]
    meaning = found[RECALIBRATED]["meaning"]
    assert "precision at capacity changes by" in meaning
    assert (
        f"girls {girls['observed_over_predicted']:.2f} → {recalibrated['observed_over_predicted']:.2f}"
        in meaning
    )
    assert f"girls {girls['selection_ratio']:.2f} → {recalibrated['selection_ratio']:.2f}" in meaning
    html = fairness_report.render_report(review)
    assert f"Options: {AS_IS}; {RECALIBRATED}" in html  # the heading names every option measured


def test_an_options_finding_names_the_groups_it_leaves_worse_calibrated():
    """The demo's per-group recalibration named "largest of all Indian 0.31 → 0.76" (mended) and not
    Pakistani 0.72 → 1.56 or any other Asian 0.93 → 2.20 (broken), which its own table showed."""
    rng = np.random.default_rng(0)
    n = 12000
    frame = _frame(n, sex=np.where(np.arange(n) < n // 2, "M", "F"))
    risk = rng.uniform(0.01, 0.3, n)
    y = (rng.random(n) < risk).astype(int)
    p = risk * np.where(frame["sex"] == "F", 2.0, 1.0)  # girls over-predicted twice, boys right
    review = fairness.review(y, p, frame, 0.3, MODEL, n_boot=50)
    references = {a.attribute: a.reference for a in review.attributes}
    breaks_boys = risk * np.where(frame["sex"] == "M", 1.8, 1.0)  # mends girls, over-predicts boys
    options = {AS_IS: p, RECALIBRATED: breaks_boys}
    review.options = measure_options(y, options, fairness.review_groups(frame), 0.3, references, n_boot=50)
    (finding,) = [f for f in fairness_report.report_context(review, figures=False)["findings_all"]
                  if f["kind"] == "trade-off measured by the options"]  # fmt: skip
    boys = [o.groups.set_index(["attribute", "group"]).loc[("sex", "boys"), "observed_over_predicted"]
            for o in review.options]  # fmt: skip
    assert boys[1] < 0.8 < boys[0]
    assert f"left outside 0.8-1.25 and further from 1 than as is: boys {boys[0]:.2f} → {boys[1]:.2f}" in (
        finding["meaning"])
    assert "girls" not in finding["meaning"].split("further from 1 than as is:")[1]  # mended, not broken


# --- NICE: the plot draws nothing the tables withhold; fairness.json strict -----------------------------


def test_the_calibration_plot_skips_withheld_groups_and_bins_with_few_positives():
    bins = pd.DataFrame({"group": ["a", "a", "b", "b"], "bin": [0, 1, 0, 1], "n": [500, 500, 400, 400],
                         "predicted": [0.05, 0.3, 0.05, 0.3], "observed": [0.01, 0.3, 0.1, 0.3]})  # fmt: skip
    only_a_high = bins[(bins["group"] == "a") & (bins["bin"] == 1)]
    # a's first bin has 5 positives; b is withheld by its table
    assert calibration_by_group_png(bins, "x", ["b"]) == calibration_by_group_png(only_a_high, "x")
    assert calibration_by_group_png(bins, "x") != calibration_by_group_png(only_a_high, "x")


def test_fairness_json_is_strict_json_with_null_for_undefined_numbers(training, test_year):
    result, _ = training
    p = result.models["lightgbm"].pipeline.predict_proba(test_year[result.feature_cols])[:, 1]
    review = fairness.review(test_year["label"], p, test_year, 0.05, MODEL, n_boot=20)
    review.attributes[0].table.loc[0, "base_rate_ratio_low"] = np.nan
    text = fairness_json(review)

    def refuse(constant):
        raise AssertionError(f"{constant} in fairness.json")

    data = json.loads(text, parse_constant=refuse)
    assert all(f["low"] is None or isinstance(f["low"], float) for f in data["summary"]["all"])


def test_per_group_recalibration_is_fitted_on_calibration_pupils_only(training):
    """Never on pupils the model was trained on: the validation year less the calibration hold-out is in
    the refit's training rows (models.train)."""
    result, table = training
    config = load_config(None)
    validation = table[table["AcademicYear"] == result.split.validation]
    rows = calibration_rows(validation, config)
    held = calibration_pupils(validation["upn"], config.calibration.holdout, config.seed)
    assert 0 < len(rows) < len(validation)
    assert set(rows["upn"]) == set(validation.loc[held, "upn"])
    assert not set(rows["upn"]) & set(validation.loc[~held, "upn"])


def test_fairness_json_gives_shown_rates_as_numbers_with_their_intervals(training, test_year):
    result, _ = training
    frame = test_year.copy()
    frame.loc[frame.index[:6], "ethnicity_group"] = "Gypsy/Roma"  # six pupils: nothing shown
    p = result.models["lightgbm"].pipeline.predict_proba(frame[result.feature_cols])[:, 1]
    review = fairness.review(frame["label"], p, frame, 0.05, MODEL, n_boot=20)
    data = json.loads(fairness_json(review))
    numbers = hidden = 0
    for a in [*data["groups"], *data["intersections"]]:
        for r in a["rows"]:
            for m in r["metrics"]:
                if m["rate"] in ("<10", "-"):
                    assert m["value"] is None and m["low"] is None and m["high"] is None
                    hidden += 1
                else:
                    assert m["rate"] == f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"
                    numbers += 1
                if m["ratio"] == "-":
                    assert m["ratio_value"] is None
                else:
                    assert m["ratio"].startswith(f"{m['ratio_value']:.2f}")
    for rows in data["calibration"].values():
        for c in rows:
            assert (c["observed_value"] is None) == (c["observed"] in ("<10", "-"))
    assert numbers > 10 and hidden > 0


# --- the top list holds distinct findings ---------------------------------------------------------------


def test_a_subgroup_restating_its_groups_finding_is_named_within_it_not_listed_again():
    rng = np.random.default_rng(7)
    n = 40000
    asian = rng.random(n) < 0.3
    frame = _frame(n, sex=np.where(np.arange(n) % 2, "M", "F"),
                   ethnicity_group=np.where(asian, "Asian", "White British"))  # fmt: skip
    risk = rng.uniform(0, 0.3, n)
    y = (rng.random(n) < risk).astype(int)
    predicted = np.where(asian, risk * 2.0, risk).clip(0, 1)  # every Asian pupil over-predicted
    review = fairness.review(y, predicted, frame, 0.1, MODEL, n_boot=50)
    summary = json.loads(fairness_json(review))["summary"]
    asian_cells = [f for f in summary["all"] if f["kind"] == "calibration" and "Asian" in f["group"]]
    assert {f["group"] for f in asian_cells} >= {"Asian", "girls / Asian", "boys / Asian"}
    top = [f for f in summary["top"] if f["kind"] == "calibration"]
    assert [f["group"] for f in top if "Asian" in f["group"]] == ["Asian"]
    within = [w for f in summary["top"] for w in f.get("within", [])]
    assert any(w.startswith("Asian girls") for w in within), within
    assert any(w.startswith("Asian boys") for w in within), within
    html = fairness_report.render_report(review)
    assert "within the group: Asian" in html
