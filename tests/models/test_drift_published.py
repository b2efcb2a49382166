"""Drift's published shares beside other reports' group counts: no count of 1-9 follows.

The probe (19,851 pupils, 2019/20): drift.json's cpp_open share, 0.0027706412775175054, was 55 pupils;
evaluate's and the review's "child protection plan" group (a plan, not looked after) was 50, so 5 pupils
on a plan and looked after were given back. A reader takes a published share to stand for every count
that rounds to it at the places it is printed to (an exact float: one count).
"""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.features.need import social_care_status
from exclusion_risk.models.drift import Thresholds, compare, reference_profile
from exclusion_risk.models.drift_cli import write_report
from exclusion_risk.models.drift_data import training_profile
from exclusion_risk.privacy import (
    SUPPRESSION_THRESHOLD,
    rounded_rate,
    rounded_share,
    rounded_shares,
    share_step,
)

FLAGS = ("cin_open", "cpp_open", "cla_open", "cin_ever", "cpp_ever", "cla_ever")


def _cohort(n: int, year: str, plan_and_looked_after: int = 5, plan_only: int = 50,
            looked_after_only: int = 101, seed: int = 1) -> pd.DataFrame:  # fmt: skip
    frame = pd.DataFrame(0.0, index=range(n), columns=list(FLAGS))
    k = 0
    for size, flags in ((plan_and_looked_after, ("cpp_open", "cla_open")), (plan_only, ("cpp_open",)),
                        (looked_after_only, ("cla_open",))):  # fmt: skip
        for flag in flags:
            frame.loc[k : k + size - 1, flag] = 1.0
            frame.loc[k : k + size - 1, flag.replace("open", "ever")] = 1.0
        k += size
    rng = np.random.default_rng(seed)
    frame["fsm"] = (rng.random(n) < 0.26).astype(float)
    return frame.assign(AcademicYear=year)


def _counts(share: float, total: int) -> range:
    """The counts out of `total` a reader takes a printed share for: those within half a unit of its
    last printed place."""
    places = -Decimal(repr(share)).as_tuple().exponent
    half = Decimal(5) / Decimal(10) ** (places + 1)
    low, high = (Decimal(repr(share)) - half) * total, (Decimal(repr(share)) + half) * total
    return range(int(np.ceil(float(low))), int(np.floor(float(high))) + 1)


def _given_back(share: float, total: int, inside: int) -> list[int]:
    """The counts of 1-9 pupils the share less a nested group of `inside` pupils could be, when it could
    be only one."""
    left = sorted({k - inside for k in _counts(share, total) if k - inside >= 0})
    return left if len(left) == 1 and 0 < left[0] < SUPPRESSION_THRESHOLD else []


def test_a_flags_share_less_the_reviews_group_gives_no_count_back(tmp_path):
    n = 19851
    reference, cohort = _cohort(40004, "2017/18", 9, 8, 100, seed=2), _cohort(n, "2019/20")
    plan_not_looked_after = int((social_care_status(cohort) == "CPP").sum())  # the review's, evaluate's
    assert plan_not_looked_after == 50 and int(cohort["cpp_open"].sum()) == 55
    report = compare(reference_profile(reference, ["2017/18"]), cohort, "2019/20", Thresholds())
    rows = {row["feature"]: row for row in report.features}
    assert rows["cpp_open"]["prevalence_current"] is not None
    assert not _given_back(rows["cpp_open"]["prevalence_current"], n, plan_not_looked_after)  # before: [5]
    json_path, html_path = write_report(report, tmp_path)
    published = {r["feature"]: r for r in json.loads(json_path.read_text())["features"]}
    assert published["cpp_open"]["prevalence_current"] == 0.003  # 0.1%: 50 to 69 pupils


def test_the_logged_profile_holds_no_exact_share():
    # The training years' profile, logged to MLflow: 17/20002 on a plan was 17 pupils beside the years'
    # review groups (8 on a plan and not looked after: 9 looked after too).
    reference = _cohort(20002, "2017/18", 9, 8, 100)
    of = {"census": "AUT", "label": "any"}
    logged = training_profile(reference, ["2017/18"], None, [*FLAGS, "fsm"], of)  # as `train` logs it
    for name, feature in logged["features"].items():
        assert "published" not in feature
        for share in [*feature["shares"], feature.get("prevalence"), feature.get("missing")]:
            if share not in (None, 0.0, 1.0):
                assert len(_counts(share, 20002)) >= SUPPRESSION_THRESHOLD, (name, share)


def test_drift_checks_the_exact_shares_and_prints_the_published_ones():
    reference = _cohort(20000, "2017/18", 0, 40, 100)
    cohort = _cohort(20000, "2019/20", 0, 97, 100)  # a plan: 40 to 97 pupils, 2.4 times
    report = compare(reference_profile(reference, ["2017/18"]), cohort, "2019/20", Thresholds())
    warning = next(w for w in report.warnings if "(cpp_open)" in w)
    # 0.002 and 0.005 as published (0.1% of 20,000 is 20 pupils); the ratio of those, not 97/40
    assert "0.5% in 2019/20 against 0.2% of pupils" in warning and "(2.5 times: doubled or more)" in warning
    quiet = compare(reference_profile(reference, ["2017/18"]), _cohort(20000, "2019/20", 0, 79, 100),
                    "2019/20", Thresholds())  # fmt: skip
    assert not any("(cpp_open)" in w for w in quiet.warnings)  # 79/40: under double, though 0.4/0.2 is 2


@pytest.mark.parametrize("total", [613, 1000, 999, 19851, 40004, 200000])
def test_a_rounded_share_stands_for_10_counts_or_more(total):
    step = share_step(total)
    assert step * total >= SUPPRESSION_THRESHOLD
    for part in range(SUPPRESSION_THRESHOLD, total - SUPPRESSION_THRESHOLD + 1, max(1, total // 97)):
        share = rounded_rate(part, total)
        assert part in _counts(share, total) and len(_counts(share, total)) >= SUPPRESSION_THRESHOLD
    assert rounded_rate(5, total) is None and rounded_rate(total - 5, total) is None


def test_shares_whose_sum_would_pin_a_count_are_rounded_coarser():
    # 1,000 pupils in three cells of 10, 195 and 795 at 0.01 print 0.01, 0.2, 0.8: 10-15, 195-205 and
    # 795-805 pupils (a shown cell holds 10 or more), whose sum, 1,000, only their lowest counts make.
    assert [rounded_share(n, 1000, 0.01) for n in (10, 195, 795)] == [0.01, 0.2, 0.8]
    assert rounded_shares([10, 195, 795], 1000, small=True) == [0.0, 0.2, 0.8]  # to 0.1: 0-50, 150-250, ...


def test_under_100_pupils_a_share_between_none_and_all_is_withheld():
    # No decimal place of a share of 80 pupils stands for 10 of them: 30 of 80 printed 0.0, 50 of 80 1.0.
    assert rounded_shares([30, 50], 80, small=True) == [None, None]
    assert rounded_shares([0, 80], 80, small=True) == [0.0, 1.0]  # none, or all of them, is no secret
    assert rounded_rate(30, 80) is None  # as a rate of the same pupils already was


def test_a_small_reference_prints_no_share_rounded_to_none_or_all():
    # 60 reference pupils, 20 on a plan: drift printed the plan's share as 0.0% and said 10.0% now was
    # "30% of it: halved or worse"; the profile logged to MLflow held shares of 1.0 and 0.0, and a
    # scoring's check read back gave FSM a PSI of 2.08 (0.02 on the exact shares) and warned.
    reference, cohort = _cohort(60, "2017/18", 0, 20, 20), _cohort(2000, "2019/20", 0, 200, 300)
    report = compare(reference_profile(reference, ["2017/18"]), cohort, "2019/20", Thresholds())
    rows = {row["feature"]: row for row in report.features}
    assert rows["cpp_open"]["prevalence_reference"] is None and rows["fsm"]["prevalence_reference"] is None
    warning = next(w for w in report.warnings if "(cpp_open) is above zero" in w)
    assert "against a share (withheld to protect small numbers) of pupils" in warning
    assert "(halved or worse)" in warning and "against 0.0%" not in warning and "30%" not in warning
    of = {"census": "AUT", "label": "any"}
    logged = training_profile(reference, ["2017/18"], None, [*FLAGS, "fsm"], of)
    assert logged["features"]["fsm"]["shares"] == [None, None]
    assert logged["features"]["cpp_open"]["prevalence"] is None
    read_back = compare(json.loads(json.dumps(logged)), cohort, "2019/20", Thresholds())
    rows = {row["feature"]: row for row in read_back.features}
    assert rows["fsm"]["psi"] is None and not rows["fsm"]["warning"]  # not checked on shares withheld
    assert not read_back.warnings


def test_a_logged_profile_of_a_normal_reference_is_still_checked():
    reference, cohort = _cohort(20000, "2017/18", 0, 40, 100), _cohort(20000, "2019/20", 0, 97, 100)
    of = {"census": "AUT", "label": "any"}
    logged = json.loads(json.dumps(training_profile(reference, ["2017/18"], None, [*FLAGS, "fsm"], of)))
    assert None not in logged["features"]["fsm"]["shares"]
    report = compare(logged, cohort, "2019/20", Thresholds())
    rows = {row["feature"]: row for row in report.features}
    assert rows["fsm"]["psi"] is not None and rows["cpp_open"]["prevalence_reference"] == 0.002
    assert any("(cpp_open) is above zero" in w for w in report.warnings)
