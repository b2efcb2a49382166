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

from exclusion_risk.contract import LINKS_COLUMNS
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
    # the leaf size as configured (100): the tests reading these models were written against them; the
    # leaf size that follows the rows fitted on has its own (test_leaf_size)
    models = {**config.models, "lightgbm": config.models["lightgbm"].model_copy(update={"leaf_share": None})}
    config = config.model_copy(update={"metrics": config.metrics.model_copy(update={"bootstrap": 50}),
                                       "models": models})  # fmt: skip
    table, _ = synthetic_feature_table(PUPILS)
    result = train_models(table, config, FEATURES, functools.partial(make_preprocessor, missing="impute"))
    return result, table


@pytest.fixture(scope="session")
def evaluated(small_authority, tmp_path_factory):
    """`exclusion-risk` train, promote, score 2018/19 and evaluate on the small authority, in a store of
    its own (tests/models/test_evaluate.py's `build_evaluated`): built once per session for
    test_evaluate and test_evaluate_beside_scores, which read it and write only into folders of their own
    (a refused evaluate, a re-cut scoring elsewhere, `evaluate --no-log`)."""
    from tests.models.test_evaluate import build_evaluated

    return build_evaluated(small_authority, tmp_path_factory.mktemp("evaluate"))


@pytest.fixture(scope="session")
def tracking_store(small_authority, tmp_path_factory):
    """One `exclusion-risk train` on the small authority in a store of its own (test_tracking's
    `build_store`): trained once per session for test_tracking and test_validation_withheld, whose
    `store` fixture is test_tracking's. test_validation_withheld only reads its runs (its one promote is
    refused), so test_tracking's promotions and its reads of the store are as they were."""
    from tests.models.test_tracking import build_store

    return build_store(small_authority, tmp_path_factory.mktemp("models_store"))


@pytest.fixture(scope="session")
def test_year(training):
    """The trained models' test year of the feature table."""
    result, table = training
    return table[table["AcademicYear"] == result.split.test].reset_index(drop=True)


def _write_small_extracts(folder, census: pd.DataFrame, exclusion_school: str):
    """`folder` with `census` (the rows given: Okafor pupils born 2008-03-01), one suspension of its
    second pupil at `exclusion_school`, one child-in-need episode of its third, and their links.csv
    beside it (in `folder/../links`); returns (extracts folder, links folder)."""
    folder.mkdir(parents=True)
    census.to_csv(folder / "census.csv", index=False)
    exclusion = {"UPN": census["UPN"].iloc[1], "Surname": "Okafor", "Forename": "Chidib",
                 "DOB": "2008-03-01", "Sex": "M", "SchoolURN": exclusion_school, "Category": "SUSP",
                 "StartDate": "2018-01-10", "Sessions": "2", "Reason": "PD"}  # fmt: skip
    pd.DataFrame([exclusion]).to_csv(folder / "exclusions.csv", index=False)
    child = {"LAchildID": "C1", "Surname": "Okafor", "Forename": "Chidic", "DOB": "2008-03-01", "Sex": "1",
             "Status": "CIN", "StartDate": "2017-06-01", "EndDate": "", "PrimaryNeed": "N1"}  # fmt: skip
    pd.DataFrame([child]).to_csv(folder / "social_care.csv", index=False)
    links = folder.parent / "links"
    links.mkdir()
    # the suspension to its pupil by UPN, the child in need (Chidic Okafor) to the census's third pupil
    linked = [("exclusions", "1", census["UPN"].iloc[1], "upn"), ("social_care", "C1", census["UPN"].iloc[2],
              "name_dob")]  # fmt: skip
    rows = [dict(zip(LINKS_COLUMNS, (*link, 1.0), strict=True)) for link in linked]
    pd.DataFrame(rows, columns=LINKS_COLUMNS).to_csv(links / "links.csv", index=False)
    return folder, links


@pytest.fixture(scope="session")
def write_small_extracts() -> Callable[..., tuple]:
    """`write_small_extracts(folder, census, exclusion_school)`: a tiny authority for `score` runs."""
    return _write_small_extracts
