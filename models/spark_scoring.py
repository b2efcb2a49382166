"""Cohort scoring on Spark: the champion broadcast to `mapInPandas`, each chunk scored as in process.

`score_spark_frame(scorer, features)` takes a Spark DataFrame of the feature table (the columns
`CohortScorer.score` takes: the model's inputs, `upn`, and `need_level` when known) and returns a Spark
DataFrame of `scoring.SCORED_COLUMNS`, one row per pupil, in no particular order. The `CohortScorer`
itself (the fitted pipeline loaded from the registry, its risk matrix and explainer) is broadcast once,
and every Arrow chunk of every partition goes through `CohortScorer.score_chunk`, the function the
in-process scorer runs on the whole cohort: probabilities, bands, RAG and the SHAP reasons in one pass,
with nothing re-implemented. A pupil's scores depend on their own row alone, so the results equal the
in-process ones (tests/models/test_spark_scoring.py: probabilities to 1e-12, identical reasons).

`score_on_spark(scorer, features)` is `exclusion-risk score --backend spark`'s path: a pandas feature
table into a local Spark session, scored there, collected and ranked by `scoring.rank_scores`, so
what follows (scores.csv, the workbook, the summary) is written by the same writers.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from exclusion_risk import spark_session
from exclusion_risk.models.scoring import (
    N_REASONS,
    SCORED_COLUMNS,
    CohortScorer,
    ScoringInputError,
    rank_scores,
)

# Spark SQL types of the scored columns; every other scored column is text.
_SCORED_TYPES = {"probability": "double", "need_level": "bigint"}
# Columns a chunk needs beside the model's inputs (`need_level` is derived when absent).
_IDENTIFIER = "upn"
_NEED = "need_level"
# The error's class at the start of a worker's last traceback line (`exclusion_risk....RiskMatrixError: `).
_ERROR_CLASS = re.compile(r"^[\w.]+: ")


def scored_schema() -> str:
    """The Spark DDL schema of `score_spark_frame`'s result: SCORED_COLUMNS with their types."""
    return ", ".join(f"`{name}` {_SCORED_TYPES.get(name, 'string')}" for name in SCORED_COLUMNS)


def _chunk_scorer(
    broadcast: Any, reasons: bool, n_reasons: int
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The function each Spark task runs: the broadcast scorer's `score_chunk` on each Arrow chunk."""

    def score_chunks(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scorer = broadcast.value  # unpickled once per Python worker, then reused
        for chunk in chunks:
            yield scorer.score_chunk(chunk.reset_index(drop=True), reasons, n_reasons)

    return score_chunks


def score_spark_frame(
    scorer: CohortScorer, features: Any, reasons: bool = True, n_reasons: int = N_REASONS
) -> Any:
    """A Spark DataFrame of SCORED_COLUMNS for every row of the Spark DataFrame `features`.

    Lazy, as Spark is: nothing is scored until the result is collected or written. `features` must hold
    the model's input columns and `upn` (checked here, on the driver, so a missing column is named
    before any task starts); other columns are dropped before the chunks are sent to Python.
    """
    columns = list(features.columns)
    scorer.check_columns(columns)
    if _IDENTIFIER not in columns:
        raise ScoringInputError(f"features lack `{_IDENTIFIER}`: each pupil scored on Spark needs their id")
    wanted = [*scorer.feature_names, _IDENTIFIER, *([_NEED] if _NEED in columns else [])]
    broadcast = features.sparkSession.sparkContext.broadcast(scorer)
    return features.select(*wanted).mapInPandas(_chunk_scorer(broadcast, reasons, n_reasons), scored_schema())


def collect_scores(scored: Any) -> pd.DataFrame:
    """`score_spark_frame`'s result on the driver, ranked as `CohortScorer.score` ranks (rank_scores).

    A chunk the scorer refused (a probability or need level out of range) stops the job; its one-line
    reason is raised as ScoringInputError, the in-process path's error, not Spark's worker traceback.
    """
    errors = spark_session.pyspark().errors
    try:
        with warnings.catch_warnings():  # pyspark repeats a failed task's worker traceback as a warning
            warnings.simplefilter("ignore", UserWarning)
            frame = scored.toPandas()
    except errors.PythonException as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        last = _ERROR_CLASS.sub("", lines[-1]) if lines else type(exc).__name__  # the error's own words
        raise ScoringInputError(f"Spark scoring stopped: {last}") from None
    return rank_scores(frame[SCORED_COLUMNS])


def score_on_spark(
    scorer: CohortScorer,
    features: pd.DataFrame,
    reasons: bool = True,
    n_reasons: int = N_REASONS,
    cores: int = spark_session.LOCAL_CORES,
) -> pd.DataFrame:
    """`scorer.score(features)`, computed by a local[`cores`] Spark session (the active one, if any)."""
    scorer.check_columns(features.columns)
    session = spark_session.local_session(cores)
    wanted = [c for c in (*scorer.feature_names, _IDENTIFIER, _NEED) if c in features.columns]
    spark_features = session.createDataFrame(features[wanted].reset_index(drop=True))
    return collect_scores(score_spark_frame(scorer, spark_features, reasons, n_reasons))
