"""Issue #13: options measured in the same report: as is, retrained (the ablation), recalibrated per group."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from exclusion_risk.models import fairness, fairness_report
from exclusion_risk.models.fairness_options import AS_IS, RECALIBRATED, measure_options, recalibrate_by_group

N = 12000


def _year(seed: int):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "sex": np.where(np.arange(N) < N // 2, "M", "F"),
        "ethnicity_group": rng.choice(["White British", "Asian"], N), "sen_provision": "N", "fsm": 0,
    })  # fmt: skip
    risk = rng.uniform(0.01, 0.3, N)
    y = (rng.random(N) < risk).astype(int)
    predicted = risk * np.where(frame["sex"] == "F", 2.0, 1.0)  # girls over-predicted twice
    return frame, y, predicted


def _girls_calibration(y, p, frame) -> float:
    summary = fairness.calibration_summary(y, p, fairness.review_groups(frame)["sex"]).set_index("group")
    return float(summary.loc["girls", "observed_over_predicted"])


def test_recalibration_per_group_fitted_on_another_year_fixes_a_groups_calibration():
    fit_frame, fit_y, fit_p = _year(0)
    frame, y, p = _year(1)
    assert _girls_calibration(y, p, frame) < 0.6
    recalibrated = recalibrate_by_group(
        fit_p, fit_y, fairness.review_groups(fit_frame), p, fairness.review_groups(frame)
    )
    assert 0.9 < _girls_calibration(y, recalibrated, frame) < 1.1
    # the order within a group is kept: recalibration moves groups, not pupils within them
    cell = ((frame["sex"] == "F") & (frame["ethnicity_group"] == "Asian")).to_numpy()
    assert (np.diff(recalibrated[cell][np.argsort(p[cell])]) >= -1e-12).all()


def test_options_are_reported_side_by_side_and_in_fairness_json():
    fit_frame, fit_y, fit_p = _year(0)
    frame, y, p = _year(1)
    groups = fairness.review_groups(frame)
    recalibrated = recalibrate_by_group(fit_p, fit_y, fairness.review_groups(fit_frame), p, groups)
    review = fairness.review(y, p, frame, 0.3, {"model_type": "x", "year": "x"}, n_boot=50)
    references = {a.attribute: a.reference for a in review.attributes}
    review.options = measure_options(
        y, {AS_IS: p, RECALIBRATED: recalibrated}, groups, 0.3, references, n_boot=50
    )
    assert review.options[0].change is None and review.options[1].change is not None
    context = fairness_report.report_context(review)
    assert context["options"]["names"] == [AS_IS, RECALIBRATED]
    sex = next(a for a in context["options"]["attributes"] if a["name"] == "sex")
    girls = next(g for g in sex["groups"] if g["group"] == "girls")
    as_is, recal = (float(c["calibration"]) for c in girls["cells"])
    assert as_is < 0.6 and 0.9 < recal < 1.1
    assert float(girls["cells"][0]["selection_ratio"]) > float(girls["cells"][1]["selection_ratio"])
    data = json.loads(json.dumps(fairness_report.summary_json(review), default=str))
    assert data["options"]["measured"] == json.loads(json.dumps(context["options"], default=str))
    assert RECALIBRATED in fairness_report.render_report(review)


def test_recalibration_also_fixes_a_free_school_meals_groups_calibration():
    """The summary advises recalibration for any miscalibrated group it reports, FSM included."""
    def year(seed):
        frame, y, _ = _year(seed)
        rng = np.random.default_rng(seed + 10)
        frame["fsm"] = rng.integers(0, 2, N)
        risk = rng.uniform(0.02, 0.3, N)  # the same spread in both groups: no global map can fix it
        y = (rng.random(N) < risk).astype(int)
        return frame, y, risk * np.where(frame["fsm"] == 1, 0.5, 1.0)  # eligible pupils under-predicted

    def eligible(y, p, frame):
        groups = fairness.review_groups(frame)["free school meals"]
        return float(fairness.calibration_summary(y, p, groups).set_index("group").loc["eligible",
                                                                                      "observed_over_predicted"])

    fit_frame, fit_y, fit_p = year(0)
    frame, y, p = year(1)
    assert eligible(y, p, frame) > 1.6
    recalibrated = recalibrate_by_group(
        fit_p, fit_y, fairness.review_groups(fit_frame), p, fairness.review_groups(frame)
    )
    assert 0.9 < eligible(y, recalibrated, frame) < 1.1
