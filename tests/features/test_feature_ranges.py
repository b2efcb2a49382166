"""Every numeric and binary feature has a valid range in the registry (issue #11, finding 6); the feature
builder never leaves it, and the record encoder refuses records that do."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from exclusion_risk.features import registry
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.models.record_encoding import ScoringInputError, check_ranges
from exclusion_risk.synth.truth import truth_links

YEARS = ["2015/16", "2016/17", "2017/18", "2018/19"]


def test_every_numeric_and_binary_feature_declares_its_range():
    for feature in registry.FEATURES:
        bounds = feature.valid_range
        assert (bounds is None) == (feature.kind == "categorical"), feature.name
        if bounds is not None:
            assert bounds.low < bounds.high and math.isfinite(bounds.high)
    get = registry.get
    assert all(get(f).valid_range == registry.FLAG for f in registry.feature_names(True, ("binary",)))
    assert (get("idaci_decile").valid_range.low, get("idaci_decile").valid_range.high) == (1, 10)
    assert (get("nc_year").valid_range.low, get("nc_year").valid_range.high) == (-2, 14)  # N1 .. Year 14
    for rate in ("absence_rate_last_year", "school_permanent_rate"):
        assert get(rate).valid_range == registry.RATE
    assert get("suspensions_last_year").valid_range.low == 0


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("nc_year", -2, True), ("nc_year", 14.0, True), ("nc_year", 15, False), ("nc_year", 8.5, False),
        ("idaci_decile", 0, False), ("idaci_decile", "10", True),
        ("absence_rate_last_year", -5, False), ("absence_rate_last_year", 1.0, True),
        ("suspensions_last_year", 1e300, False), ("suspensions_last_year", "1e300", False),
        ("suspensions_last_year", math.inf, False), ("suspensions_last_year", 3, True),
        ("cla_open", True, True), ("cla_open", 2, False),
        ("suspensions_last_year", None, True), ("suspensions_last_year", math.nan, True),  # missing
    ],
)
def test_range_problem_states_the_range_never_the_value(name, value, allowed):
    problem = registry.range_problem(name, value)
    assert (problem is None) is allowed
    if problem is not None:
        assert problem.startswith("must be ") and " from " in problem
        assert "300" not in problem and "inf" not in problem  # the value is never repeated


def test_the_record_encoder_refuses_out_of_range_records_and_names_them():
    fine = {"upn": "x", "nc_year": 8, "idaci_decile": 2, "cla_open": True, "sex": "M"}
    bad = {"upn": "y", "nc_year": 1000, "idaci_decile": -40, "absence_rate_last_year": -5,
           "suspensions_last_year": 1e300, "cla_open": 2.0}
    columns = list(dict.fromkeys([*fine, *bad]))
    check_ranges([fine, {"upn": "z", "nc_year": None, "idaci_decile": math.nan}], columns)  # no error
    with pytest.raises(ScoringInputError) as refused:
        check_ranges([fine, bad], columns)
    message = str(refused.value)
    assert message.startswith("5 value(s) out of range: record 2, nc_year: must be a whole number")
    assert "and 0 more" not in message and "1000" not in message and "e+300" not in message


@pytest.fixture(scope="module")
def synthetic_table(small_authority) -> pd.DataFrame:
    from exclusion_risk.linkage.history import pupil_history
    from exclusion_risk.linkage.readers import read_extracts

    history = pupil_history(read_extracts(small_authority), truth_links(small_authority))
    # autumn and spring: this year's attendance so far is missing at autumn by definition (no term of
    # the year has ended) and is read from the termly attendance files at spring
    tables = [build_feature_table(history, YEARS, census=census) for census in ("AUT", "SPR")]
    return pd.concat(tables, ignore_index=True)


def test_the_builder_output_on_the_synthetic_authority_sits_within_the_declared_ranges(synthetic_table):
    ranged = registry.feature_names(include_protected=True, kinds=("numeric", "binary"))
    assert len(synthetic_table) > 1000 and set(ranged) <= set(synthetic_table.columns)
    for name in ranged:
        values = synthetic_table[name].dropna().astype("float64")
        assert len(values), name
        problems = values.map(lambda v, n=name: registry.range_problem(n, v)).dropna()
        assert problems.empty, f"{name}: {len(problems)} value(s) {problems.iloc[0]}"
