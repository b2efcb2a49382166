"""The feature registry's contract with the models and scoring stages."""

from __future__ import annotations

import numpy as np
import pytest

from exclusion_risk.features import registry


def test_registry_fields_and_protected_selection():
    names = [f.name for f in registry.FEATURES]
    assert len(names) == len(set(names))
    for f in registry.FEATURES:
        assert f.kind in ("numeric", "binary", "categorical")
        assert f.source in ("census", "exclusions", "social_care", "school", "reference")
        assert f.label and f.label[0].isupper()
    assert registry.protected_names() == ["sex", "ethnicity_group", "ethnicity_code"]
    without = registry.feature_names(include_protected=False)
    with_protected = registry.feature_names(include_protected=True)
    assert not set(registry.protected_names()) & set(without)
    assert set(with_protected) - set(without) == set(registry.protected_names())
    assert registry.get("school_suspension_rate").source == "school"
    assert registry.get("idaci_decile").source == "reference"
    with pytest.raises(KeyError, match="unknown feature"):
        registry.get("surname")


@pytest.mark.parametrize(
    "name, value, phrase",
    [
        ("suspensions_last_year", 3, "3 suspensions last year"),
        ("suspensions_last_year", 1.0, "1 suspension last year"),
        ("suspensions_last_year", 0, "no suspensions last year"),
        ("sen_type", "SEMH", "SEMH needs (social, emotional and mental health)"),
        ("absence_rate_last_year", 0.08, "8% absence last year"),
        ("absence_rate_last_year", 0.004, "under 1% absence last year"),
        ("cpp_open", 1.0, "on a child protection plan"),
        ("cpp_open", 0.0, "not on a child protection plan"),
        ("cla_open", True, "looked after (in care)"),
        ("sen_provision", "E", "has an education, health and care (EHC) plan"),
        ("nc_year", 0, "in Reception"),
        ("nc_year", 9.0, "in Year 9"),
        ("idaci_decile", 1,
         "lives in one of England's 10% most income-deprived areas for children (IDACI decile 1)"),
        ("school_suspension_rate", 0.124, "school's suspensions: 12 per 100 pupils in earlier years"),
        ("sex", "M", "boy"),
        ("ethnicity_code", "APKN", "ethnicity Pakistani (APKN)"),
        ("suspensions_last_year", np.nan, "suspensions last year: not known"),
        ("sen_type", None, "SEN primary need: not known"),
        ("nc_year", None, "National Curriculum year: not known"),  # a name keeps its capitals
        ("need_level", 3, "need level 3: child protection plan or looked after"),
        # whose concern it is: the feature reads 4A, 4B and 4C, and a parent's (4B) read as the child's own
        ("sc_mental_health", 1, "mental health concerns about the child, a parent or carer, or another "
                                "person in the household, identified in a social-care assessment"),
    ],
)
def test_describe_renders_plain_english(name, value, phrase):
    assert registry.describe(name, value) == phrase


def test_every_feature_describes_a_typical_value_without_error():
    samples = {"numeric": 2.0, "binary": 1.0, "categorical": "unknown"}
    for f in registry.FEATURES:
        text = registry.describe(f.name, samples[f.kind])
        assert isinstance(text, str) and text and ": not known" not in text


def test_the_registry_marks_context_by_one_rule():
    context = set(registry.context_names())
    assert context == {"nc_year", "idaci_decile", "school_suspension_rate", "school_permanent_rate"}
    assert all(registry.get(n).source in registry.CONTEXT_SOURCES or n == "nc_year" for n in context)
    assert not any(registry.get(n).protected for n in context)
    assert not registry.get("cla_open").context and not registry.get("suspensions_last_year").context
