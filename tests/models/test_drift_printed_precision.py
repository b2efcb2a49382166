"""Drift prints each share at the precision it was published to, and no share rounded to nothing as none.

A tester's 8,000-pupil year is published to whole percents (0.1% would be 8 pupils), its 16,000-pupil
reference years to 0.1%; printed alike with one decimal, earlier permanent exclusions read "0.1% -> 0.0%"
for 0.14% -> 0.28%, and a warning "above zero for 0.0% ... (0% of it: halved or worse)" with 20 pupils
behind it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.models.drift import Thresholds, compare, reference_profile
from exclusion_risk.models.drift_cli import write_report


def _year(year: str, n: int, plan: int, looked_after: int) -> pd.DataFrame:
    i = np.arange(n)  # the two flags' pupils apart: neither is nested in the other
    return pd.DataFrame({"AcademicYear": year, "cpp_open": (i < plan).astype(float),
                         "cla_open": ((i >= plan) & (i < plan + looked_after)).astype(float)})  # fmt: skip


def test_a_share_rounded_to_nothing_is_not_printed_as_none(tmp_path):
    reference = pd.concat([_year("2016/17", 8000, 11, 48), _year("2017/18", 8000, 11, 48)])
    cohort = _year("2018/19", 8000, 23, 20)  # a plan 0.14% -> 0.29%; looked after 0.6% -> 0.25%
    report = compare(reference_profile(reference, ["2016/17", "2017/18"]), cohort, "2018/19", Thresholds())
    rows = {row["feature"]: row for row in report.features}
    assert rows["cpp_open"]["prevalence_current"] == 0.0  # whole percents: published as before
    warning = next(w for w in report.warnings if "(cla_open)" in w)
    assert "above zero for under 0.5% in 2018/19 against 0.6% of pupils" in warning
    assert "(halved or worse)" in warning and "0% of it" not in warning
    assert rows["cpp_open"]["printed"]["prevalence_reference"] == "0.1%"
    assert rows["cpp_open"]["printed"]["prevalence_current"] == "under 0.5%"
    html = write_report(report, tmp_path)[1].read_text()
    assert "<td>0.0%</td>" not in html and "<td>under 0.5%</td>" in html


def test_a_share_is_printed_to_its_own_place():
    reference = pd.concat([_year("2016/17", 8000, 100, 48), _year("2017/18", 8000, 100, 48)])
    cohort = _year("2018/19", 8000, 110, 0)  # a plan 1.25% -> 1.38%, published 1%; none looked after
    report = compare(reference_profile(reference, ["2016/17", "2017/18"]), cohort, "2018/19", Thresholds())
    rows = {row["feature"]: row["printed"] for row in report.features}
    assert rows["cpp_open"]["prevalence_reference"] == "1.2%"
    assert rows["cpp_open"]["prevalence_current"] == "1%"
    assert rows["cla_open"]["prevalence_current"] == "0%"  # none at all: no secret, and said so
    assert rows["cla_open"]["missing_current"] == "0%"
