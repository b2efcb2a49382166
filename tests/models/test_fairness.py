"""Fairness review: group metrics agree with fairlearn, disparity flags, suppression, the HTML report."""

from __future__ import annotations

from html import unescape

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate
from sklearn.metrics import precision_score, recall_score

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.explain import Explainer
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE


def test_group_metrics_agree_with_fairlearn(training, test_year):
    result, _ = training
    pipeline = result.models["lightgbm"].pipeline
    p = pipeline.predict_proba(test_year[result.feature_cols])[:, 1]
    y = test_year["label"].to_numpy().astype(int)
    groups = fairness.review_groups(test_year)
    selected = fairness.select_top(p, 0.05)
    assert selected.sum() == int(np.ceil(0.05 * len(p)))
    reviews = fairness.group_metrics(y, p, groups, 0.05, n_boot=100)
    metrics = {
        "selection_rate": selection_rate,
        "precision": lambda t, s: precision_score(t, s, zero_division=np.nan),
        "recall": recall_score,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
    }
    for review in reviews:
        frame = MetricFrame(
            metrics=metrics,
            y_true=y,
            y_pred=selected.astype(int),
            sensitive_features=groups[review.attribute],
        )
        ours = review.table.set_index("group").loc[frame.by_group.index, list(fairness.METRICS)]
        assert np.allclose(ours.to_numpy(float), frame.by_group.to_numpy(float), equal_nan=True)
        reference = review.table[review.table["is_reference"]].iloc[0]
        assert reference["group"] == groups[review.attribute].value_counts().idxmax()
        for metric in fairness.METRICS:
            ratio = review.table[f"{metric}_ratio"].to_numpy(float)
            reference_value = frame.by_group.loc[reference["group"], metric]
            ordered = (
                review.table.set_index("group").loc[frame.by_group.index, f"{metric}_ratio"].to_numpy(float)
            )
            if reference_value == 0:  # a ratio to a zero reference rate is undefined: shown as such
                assert np.isnan(ratio).all()
                continue
            expected = frame.by_group[metric].to_numpy(float) / reference_value
            assert np.allclose(ordered, expected, equal_nan=True)
            assert np.isfinite(ratio).any()


def test_disparity_flags_and_intervals():
    rng = np.random.default_rng(0)
    n = 4000
    group = pd.Series(np.where(np.arange(n) < 3000, "big", "small"))
    y = (rng.random(n) < 0.1).astype(int)
    p = rng.random(n) + np.where(
        group == "small", 0.1, 0.0
    )  # the small group is selected about twice as often
    review = fairness.group_metrics(y, p, {"g": group}, 0.1, n_boot=200)[0]
    rows = review.table.set_index("group")
    assert review.reference == "big"
    assert rows.loc["small", "selection_rate_flagged"]
    assert not rows.loc["big", "selection_rate_flagged"]
    assert rows.loc["small", "selection_rate_ratio_low"] > 1.25
    low, high = rows.loc["small", "selection_rate_low"], rows.loc["small", "selection_rate_high"]
    assert low < rows.loc["small", "selection_rate"] < high


def _small_group_frame(test_year):
    frame = test_year.copy()
    frame.loc[frame.index[:6], "ethnicity_group"] = "Gypsy/Roma"  # a group of six pupils
    return frame


def test_report_suppresses_small_groups_and_says_what_a_flag_means(training, test_year):
    result, _ = training
    pipeline = result.models["lightgbm"].pipeline
    frame = _small_group_frame(test_year)
    p = pipeline.predict_proba(frame[result.feature_cols])[:, 1]
    y = frame["label"].to_numpy()
    contributions = Explainer(pipeline).explain(frame).frame()
    ablated = result.models["logistic"].pipeline.predict_proba(frame[result.feature_cols])[:, 1]
    review = fairness.review(
        y,
        p,
        frame,
        0.05,
        {"model_type": "lightgbm", "version": "3", "year": "2018/19", "include_protected": True},
        contributions=contributions,
        protected_used=["sex", "ethnicity_group"],
        ablated_probabilities=ablated,
        n_boot=100,
    )
    context = fairness_report.report_context(review)
    ethnic = next(a for a in context["attributes"] if a["name"] == "ethnic group")
    small = next(r for r in ethnic["rows"] if r["group"] == "Gypsy/Roma")
    assert small["n"] == "<10"
    assert all(m["rate"] in ("<10", "-") and m["ratio"] == "-" and not m["flagged"] for m in small["metrics"])
    calibration = next(c for c in ethnic["calibration"] if c["group"] == "Gypsy/Roma")
    assert calibration["n"] == "<10" and calibration["observed"] == "<10"
    attribution = [r for r in context["attribution"] if r["group"] == "Gypsy/Roma"]
    assert attribution and attribution[0]["n"] == "<10"
    # a hidden rate in the ablation table reads "-": "<10" is a count
    assert all(r["change"] == "-" for r in context["ablation"]["changes"] if r["group"] == "Gypsy/Roma")
    html = fairness_report.render_report(review)
    assert DECISION_SUPPORT_NOTICE in unescape(html)
    assert "not a finding of unfairness" in html
    assert "Gypsy/Roma" in html and "&lt;10" in html
    assert "calibration curves by sex" in html
    overall = review.attribution[review.attribution["attribute"] == "all pupils"].iloc[0]
    assert overall["sex"] > 0 and 0 < overall["protected_share"] < 1


def test_ablation_reports_precision_change(training, test_year):
    result, _ = training
    p = result.models["lightgbm"].pipeline.predict_proba(test_year[result.feature_cols])[:, 1]
    review = fairness.review(
        test_year["label"],
        p,
        test_year,
        0.05,
        {"model_type": "lightgbm", "year": "x"},
        ablated_probabilities=p,
        n_boot=100,
    )
    change = review.ablation.precision["change"]
    assert change.estimate == pytest.approx(0.0) and change.low == pytest.approx(0.0)
    assert (review.ablation.groups["change"].fillna(0) == 0).all()
