"""Fixtures for the models stage's tests, which need no linkage or synthetic authority.

`feature_table(pupils=1500, years=..., seed=0)`: (table, true probability) — a small feature table
with a known logit (`exclusion_risk.synth.feature_table`, which bench/scoring.py uses too).
`model_features`: the columns a model takes (protected ones left out).

`training`: (TrainingResult, table) — small trained pipelines of all three model types on that table,
for the explain, fairness and scoring tests; `test_year`: the rows of its test year. Trained once per
test session and xdist worker (about 10 s).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.synth.feature_table import FEATURES, MODEL_FEATURES
from exclusion_risk.synth.feature_table import feature_table as synthetic_feature_table


@pytest.fixture(scope="session")
def feature_table() -> Callable[..., tuple[pd.DataFrame, np.ndarray]]:
    """`exclusion_risk.synth.feature_table.feature_table`: the same arguments give the same table."""
    return synthetic_feature_table


@pytest.fixture(scope="session")
def model_features() -> list[str]:
    return list(MODEL_FEATURES)


# --- small trained pipelines ----------------------------------------------------------------------

PUPILS = 1500


@pytest.fixture(scope="session")
def training():
    """(TrainingResult, feature table): random forest, LightGBM and logistic, protected inputs included."""
    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.train import train_models

    config = load_config(None)
    config = config.model_copy(update={"metrics": config.metrics.model_copy(update={"bootstrap": 50})})
    table, _ = synthetic_feature_table(PUPILS)
    result = train_models(table, config, FEATURES, functools.partial(make_preprocessor, missing="impute"))
    return result, table


@pytest.fixture(scope="session")
def test_year(training):
    """The trained models' test year of the feature table."""
    result, table = training
    return table[table["AcademicYear"] == result.split.test].reset_index(drop=True)
