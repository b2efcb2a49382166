"""Small trained pipelines (all three model types) on models_support's feature table, for the explain,
fairness and scoring tests. Trained once per test session (about 10 s)."""

from __future__ import annotations

import functools

import pytest
from models_support import FEATURES, feature_table

PUPILS = 1500


@functools.cache
def trained():
    """(TrainingResult, feature table): random forest, LightGBM and logistic, protected inputs included."""
    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.train import train_models

    config = load_config(None)
    config = config.model_copy(update={"metrics": config.metrics.model_copy(update={"bootstrap": 50})})
    table, _ = feature_table(PUPILS)
    result = train_models(table, config, FEATURES, functools.partial(make_preprocessor, missing="impute"))
    return result, table


@pytest.fixture(scope="session")
def training():
    return trained()


@pytest.fixture(scope="session")
def test_year(training):
    result, table = training
    return table[table["AcademicYear"] == result.split.test].reset_index(drop=True)
