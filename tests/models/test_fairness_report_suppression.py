"""Issue #12 for the fairness review: no group count can be subtracted out of the page's totals."""

from __future__ import annotations

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.privacy import SUPPRESSED, is_withheld


def _context(training, test_year):
    result, _ = training
    pipeline = result.models["lightgbm"].pipeline
    frame = test_year.copy()
    frame.loc[frame.index[:6], "ethnicity_group"] = "Gypsy/Roma"  # six pupils: "<10" beside 1494 others
    p = pipeline.predict_proba(frame[result.feature_cols])[:, 1]
    review = fairness.review(
        frame["label"].to_numpy(), p, frame, 0.05,
        {"model_type": "lightgbm", "version": "3", "year": "2018/19", "include_protected": False},
        n_boot=20,
    )  # fmt: skip
    return fairness_report.report_context(review)


def test_no_group_count_is_alone_in_its_column_and_no_rate_gives_one_back(training, test_year):
    context = _context(training, test_year)
    totals = {"n": context["pupils"], "positives": context["positives"]}
    for a in context["attributes"]:
        for column, total in totals.items():
            cells = [r[column] for r in a["rows"]] + [total]
            assert sum(is_withheld(v) for v in cells) != 1, (a["name"], column, cells)
        for r in a["rows"]:
            # selection rate * pupils = selected, and so on: no rate beside a withheld count.
            if any(is_withheld(r[c]) for c in ("n", "selected", "positives")):
                assert all(m["rate"] in ("-", SUPPRESSED) and m["ratio"] == "-" for m in r["metrics"]), r
        for c in a["calibration"]:
            row = next(r for r in a["rows"] if r["group"] == c["group"])
            if any(is_withheld(row[k]) for k in ("n", "selected", "positives")):
                assert c["observed"] in ("-", SUPPRESSED), c  # observed rate * pupils = excluded
    ethnic = next(a for a in context["attributes"] if a["name"] == "ethnic group")
    assert next(r for r in ethnic["rows"] if r["group"] == "Gypsy/Roma")["n"] == "<10"


def test_a_groups_true_positives_cannot_be_subtracted_out_of_its_siblings_error_rates(training, test_year):
    # Precision x selected gives a group's true positives back. Girls have 7 (their error rates hidden),
    # boys 40: shown, boys' precision and the sex table's total (every pupil is a boy or a girl) gave
    # the girls' 7 back by subtraction. Boys' error rates must be withheld too.
    import numpy as np
    import pandas as pd

    frame = pd.concat([test_year] * 10, ignore_index=True)
    label = frame["label"].to_numpy()
    boy = (frame["sex"] == "M").to_numpy()
    rng = np.random.default_rng(5)
    p = np.full(len(frame), 0.01)
    chosen = np.concatenate([
        rng.choice(np.flatnonzero(boy & (label == 1)), 40, replace=False),
        rng.choice(np.flatnonzero(~boy & (label == 1)), 7, replace=False),
    ])  # fmt: skip
    p[chosen] = 0.99
    capacity = 0.05
    others = rng.choice(np.flatnonzero(label == 0), int(capacity * len(frame)) - len(chosen), replace=False)
    p[others] = 0.9
    ablated = p.copy()
    ablated[rng.choice(len(p), 50)] = 0.95
    review = fairness.review(label, p, frame, capacity, {"model_type": "x", "year": "x"}, n_boot=20,
                             ablated_probabilities=ablated)  # fmt: skip
    context = fairness_report.report_context(review, figures=False)
    sex = next(a for a in context["attributes"] if a["name"] == "sex")
    at = fairness_report.REPORT_METRICS.index("precision")
    hidden = [r["group"] for r in sex["rows"] if r["metrics"][at]["value"] is None]
    assert len(hidden) != 1, f"only {hidden} hide their precision: subtraction gives it back"
    assert "girls" in hidden and "boys" in hidden
    # Nor does the ablation's table give them back (the model's precision there x boys' selected).
    errors = {fairness.METRIC_LABELS[m] for m in fairness.ERROR_RATES}
    changes = [c for c in context["ablation"]["changes"] if c["attribute"] == "sex"]
    shown = [c for c in changes if c["metric"] in errors and c["model"] not in ("-", "<10")]
    assert shown == [], shown
