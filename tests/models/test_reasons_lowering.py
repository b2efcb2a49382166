"""An adverse factor the child has (a safeguarding record, a suspension, persistent absence) is never
listed as lowering the risk: a negative contribution of it is the effect of the factors it overlaps with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models.explain import Explanation
from exclusion_risk.models.reasons import reason_columns, top_factors

FEATURES = ["cpp_ever", "sc_substance_misuse", "suspension_sessions_earlier", "absence_rate_last_year", "fsm",
            "suspensions_last_year"]  # fmt: skip


def _explanation(contributions: list[list[float]]) -> Explanation:
    values = np.array(contributions, dtype=float)
    return Explanation(values, -3.0, values.sum(axis=1) - 3.0, FEATURES, "log-odds", "logistic")


# pupil 0 has a protection plan, drug misuse in an assessment, 4 sessions lost to suspension and 15%
# absence, each weighed as lowering the score (a logistic model whose CPP and CIN overlap); pupil 1 has
# none of them, and their absence lowers the score the same way
VALUES = pd.DataFrame(
    {
        "cpp_ever": [1, 0],
        "sc_substance_misuse": [1, 0],
        "suspension_sessions_earlier": [4, 0],
        "absence_rate_last_year": [0.15, 0.02],
        "fsm": [0, 0],
        "suspensions_last_year": [2, 0],
    }
)
CONTRIBUTIONS = [[-0.6, -0.5, -0.4, -0.3, -0.2, 0.9], [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]]
ADVERSE = [
    "has been on a child protection plan",
    "alcohol or drug misuse by the child, a parent or carer, or another person in the household, identified "
    "in a social-care assessment",
    "4 half-day sessions lost to suspension in the years before last",
    "15% absence last year",
]


def test_an_adverse_factor_the_child_has_is_never_given_as_lowering_the_risk():
    columns = reason_columns(_explanation(CONTRIBUTIONS), VALUES, n=3)
    lowering = columns["reasons_lowering"][0].split("; ")
    assert not set(lowering) & set(ADVERSE)
    assert lowering == ["not eligible for free school meals"]
    assert columns["reasons"][0] == "2 suspensions last year"  # raising reasons are untouched
    # a factor the child does not have may lower the risk as before
    assert columns["reasons_lowering"][1].split("; ") == [
        "never on a child protection plan",
        "no alcohol or drug misuse identified in social-care assessments",
        "no half-day sessions lost to suspension in the years before last",
    ]


def test_the_service_factors_leave_them_out_too():
    records = VALUES.astype(object).to_dict("records")
    records[0]["cpp_ever"] = "yes"  # a value as a record may carry it
    factors = top_factors(_explanation(CONTRIBUTIONS), records, n=5, direction="lowering")
    assert [f["feature"] for f in factors[0]] == ["fsm"]
    assert [f["feature"] for f in factors[1]][:4] == FEATURES[:4]
    raising = top_factors(_explanation(CONTRIBUTIONS), records, n=5, direction="raising")
    assert [f["feature"] for f in raising[0]] == ["suspensions_last_year"]


def test_a_factor_whose_value_is_not_known_is_never_given_as_lowering_the_risk():
    """A pupil scored without the history their UPN names (a date of birth it does not hold) had "free
    school meals in the last six years: not known" among the reasons lowering the risk: how the model
    treats a missing value, offered to an officer as reassurance."""
    values = VALUES.astype(object)
    values.loc[1, ["cpp_ever", "sc_substance_misuse"]] = [np.nan, None]
    contributions = [CONTRIBUTIONS[0], [-0.6, -0.5, -0.4, -0.3, -0.2, 0.7]]
    columns = reason_columns(_explanation(contributions), values, n=3)
    lowering = columns["reasons_lowering"][1].split("; ")
    assert not any("not known" in phrase for phrase in lowering), lowering
    assert lowering == ["no half-day sessions lost to suspension in the years before last",
                        "2% absence last year", "not eligible for free school meals"]  # fmt: skip
    records = values.to_dict("records")
    records[1]["cpp_ever"] = pd.NA  # as the service's records may carry it
    factors = top_factors(_explanation(contributions), records, n=5, direction="lowering")
    assert [f["feature"] for f in factors[1]] == FEATURES[2:5]
    # raising: a value not known may still be given (the model's treatment of it raises the score)
    raising = top_factors(_explanation([[0.0] * 6, [0.6, 0, 0, 0, 0, 0]]), records, n=5, direction="raising")
    assert [f["feature"] for f in raising[1]] == ["cpp_ever"]


def test_the_registry_says_which_factors_are_adverse():
    for feature in registry.FEATURES:
        if feature.source in ("exclusions", "social_care"):
            assert feature.adverse_from == 1, feature.name
        if feature.context or feature.protected:
            assert feature.adverse_from is None, feature.name
    absence, cpp = registry.get("absence_rate_last_year"), registry.get("cpp_open")
    assert absence.adverse(0.10) and not absence.adverse(0.09)  # persistent absence: 10% or more
    assert cpp.adverse("1") and cpp.adverse(1.0) and not cpp.adverse(0) and not cpp.adverse("no")
    assert not registry.get("suspensions_last_year").adverse(None)
    assert not registry.get("sen_provision").adverse("E")  # a need, not a risk factor by definition


def test_the_page_and_scores_html_say_so():
    root = Path(__file__).resolve().parents[2]
    for path in ("serving/index.html", "models/templates/score_summary.html.j2", "README.md"):
        text = " ".join((root / path).read_text(encoding="utf-8").split())
        assert "is never listed as lowering the risk" in text or "never lists a safeguarding" in text, path
