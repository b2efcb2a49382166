"""Cohort scoring with a registered model: calibrated probability, risk-matrix cell and plain-English reasons.

One object, `CohortScorer`, used by `exclusion-risk score` and by the service:
- `CohortScorer.load(alias="champion")` loads the registered version behind the alias once
  (`tracking.load_registered`), with the risk-matrix thresholds fitted on that model's validation year's
  held-out calibration pupils (`risk_matrix.ScoringConfig`, stored with the version) and what picks those
  pupils again (`models.held_out`), so that `refit_thresholds` re-cuts the bands on them.
- `score(features)` returns the data contract's `scores.csv` columns, sorted by risk, then the reasons
  columns beyond the contract's (`REASON_EXTRA_COLUMNS`: reasons lowering the risk, and context). It is
  `rank_scores(score_chunk(features))`: `score_chunk` scores any slice of a cohort in input order, each
  pupil on their own row, so the Spark backend (`models.spark_scoring`) runs the same function on each
  chunk and ranks what it collects with the same `rank_scores`.
- `explain(features)` returns each pupil's factors raising and lowering the risk (each tagged `context`).
- `score_records(records)` is the service's path for one or a few pupils: records are encoded straight
  to a numpy row (`models.record_encoding`), skipping the DataFrame round trip.

With reasons, the model is evaluated once: the Booster's TreeSHAP contributions sum to the raw score,
and the calibration map turns that raw score into the probability, so reasons cost one `pred_contrib`
call plus a small, measured overhead (bench/scoring.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from exclusion_risk import calendar
from exclusion_risk.contract import SCORE_COLUMNS
from exclusion_risk.features.need import need_level, need_level_of
from exclusion_risk.models import tracking
from exclusion_risk.models.band_precision import Outcomes, band_precision
from exclusion_risk.models.explain import Explainer, Explanation
from exclusion_risk.models.held_out import HeldOut, fallback_words, held_out_source
from exclusion_risk.models.reasons import Describer, reason_columns, top_factors
from exclusion_risk.models.record_encoding import RecordEncoder, ScoringInputError, check_ranges
from exclusion_risk.models.risk_matrix import (
    RiskMatrix,
    ScoringConfig,
    load_risk_matrix,
    matrix_for,
    scoring_config_from_probabilities,
)
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.values import sigmoid

log = logging.getLogger(__name__)

N_REASONS = 3
# What score() gives after the contract's columns (scores.csv's officer columns take them from there).
REASON_EXTRA_COLUMNS = ["reasons_lowering", "context"]
# What score() and score_chunk() give: the contract's columns, then the reasons beyond them.
SCORED_COLUMNS = SCORE_COLUMNS + REASON_EXTRA_COLUMNS
# Rows of every score call re-checked against the full pipeline's predict_proba (guards the fast path).
_GUARD_ROWS = 32
_GUARD_TOLERANCE = 1e-9


def fit_scoring_config(
    pipeline: Pipeline,
    validation_features: pd.DataFrame,
    capacity: float | None = None,
    matrix: RiskMatrix | None = None,
    validation_year: str | None = None,
) -> ScoringConfig:
    """Thresholds for `pipeline` fitted on a validation year's feature rows at `capacity`."""
    columns = list(pipeline[0].feature_names_in_)
    missing = [c for c in columns if c not in validation_features.columns]
    if missing:
        raise ScoringInputError(f"validation features lack columns: {', '.join(missing)}")
    if len(validation_features) == 0:
        raise ScoringInputError("no validation-year pupils to fit the risk-matrix thresholds on")
    probabilities = pipeline.predict_proba(validation_features[columns])[:, 1]
    if validation_year is None and "AcademicYear" in validation_features:
        years = validation_features["AcademicYear"].dropna().unique()
        validation_year = str(years[0]) if len(years) == 1 else None
    return ScoringConfig.from_dict(
        scoring_config_from_probabilities(probabilities, validation_year, capacity, matrix)
    )


class CohortScorer:
    """A registered pipeline ready to score cohorts: probabilities, risk matrix, reasons."""

    def __init__(
        self,
        pipeline: Pipeline,
        model_version: str,
        risk_matrix: RiskMatrix | None = None,
        info: dict[str, Any] | None = None,
        name: str = tracking.REGISTERED_MODEL,
        alias: str | None = None,
        held_out: HeldOut | None = None,
    ):
        self.pipeline = pipeline
        # the validation-year pupils the stored thresholds were cut on (None: the version records no way
        # to find them again; `refit_thresholds` then cuts on every pupil, and says so)
        self.held_out = held_out
        self.model_version = str(model_version)
        self.matrix = risk_matrix or load_risk_matrix()
        self.name = name
        self.alias = alias
        self._info = dict(info or {})
        self.explainer = Explainer(pipeline)
        self.feature_names = list(self.explainer.features)
        final = pipeline.steps[-1][1]
        # The project's CalibratedClassifier maps the base model's probability; without one we fall
        # back to the pipeline's own predict_proba (slower, but still exact).
        self._calibrate = getattr(final, "calibrate", None)
        self._describer = Describer()
        self._encoder: RecordEncoder | None = None  # built on the first score_records call

    # ---- loading ----------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        alias: str = tracking.CHAMPION,
        capacity: float | None = None,
        matrix_path: str | Path | None = None,
    ) -> CohortScorer:
        """Load the registered version `alias` names (`champion`, or anything `tracking.resolve_version`
        accepts) with its stored risk-matrix thresholds.

        `capacity`, when given and different from the stored one, is applied to the stored thresholds'
        band only if they were fitted for it; otherwise the stored thresholds are used and the capacity
        is reported (refitting needs the validation year, see `exclusion-risk score`).

        The calibration pupils are found again from the stored config's `cut_on`, or, for a version stored
        before it was recorded, from its train run's `calibration_holdout` and `seed` params.
        """
        loaded = tracking.load_registered(alias)
        config = None
        if loaded.scoring_config is not None:
            config = ScoringConfig.from_dict(loaded.scoring_config)
        held_out = HeldOut.from_dict(config.cut_on) if config is not None else None
        if held_out is None:
            held_out = HeldOut.from_params(tracking.train_params(loaded.info.get("run_id")))
        matrix = matrix_for(config, load_risk_matrix(matrix_path))
        if config is None:
            log.warning(
                "model %s version %s has no stored risk-matrix thresholds; using the file's defaults",
                tracking.REGISTERED_MODEL,
                loaded.version,
            )
        if capacity is not None and config is not None and abs(capacity - config.capacity) > 1e-12:
            log.warning(
                "stored thresholds were fitted for capacity %.3g, not %.3g", config.capacity, capacity
            )
        return cls(loaded.pipeline, loaded.version, matrix, loaded.info, alias=alias, held_out=held_out)

    def precision_year(self) -> tuple[str, str] | None:
        """(test year, label) the bands' precision was measured on, as stored with the model; None when
        none is stored (a version trained before it was measured, or thresholds re-cut without it)."""
        precision = self.matrix.precision
        if not precision or not precision.get("year"):
            return None
        return str(precision["year"]), str(precision.get("label") or "any")

    def refit_thresholds(
        self,
        validation_features: pd.DataFrame,
        capacity: float,
        validation_year: str,
        test_features: pd.DataFrame | None = None,
    ) -> str | None:
        """Re-cut the likelihood bands for another capacity on the validation year's held-out calibration
        pupils (`held_out`, picked from `validation_features`): the pupils training cut the stored
        thresholds on, out of the refit, so a re-cut is training's cut at another capacity (at the stored
        one, the stored thresholds).

        A version that records no way to find them is re-cut on every validation-year pupil, as before:
        the returned caveat (also logged as a warning) says so, and that the cut is partly in sample when
        the model was refit on that year; None otherwise.

        The bands' precision is recomputed for the new thresholds on `test_features` (the model's test
        year, `precision_year()`, with its `label` column) when given and labelled; otherwise it is left
        blank: figures measured with other thresholds are never kept.
        """
        measured = self.precision_year()
        caveat = None
        if self.held_out is not None:
            rows, source = self.held_out.rows(validation_features), held_out_source(validation_year)
        else:
            rows = validation_features
            source, caveat = fallback_words(validation_year, capacity, self._refit_on(validation_year))
            log.warning("%s", caveat)
        config = fit_scoring_config(self.pipeline, rows, capacity, self.matrix, validation_year)
        self.matrix = self.matrix.with_thresholds(config.thresholds, config.capacity, source)
        if measured is None or test_features is None or "label" not in test_features:
            return caveat
        test = self._frame(test_features[test_features["label"].notna()])
        if len(test):
            probabilities, _ = self._predict(test, with_contributions=False)
            labels = test["label"].to_numpy(dtype=float)
            self.matrix = self.matrix.with_precision(
                band_precision(self.matrix, Outcomes(measured[0], probabilities, labels, measured[1]))
            )
        return caveat

    def _refit_on(self, validation_year: str) -> bool | None:
        """Whether the model was fitted on `validation_year` (its `fitted_years`; None: not recorded)."""
        fitted = self._info.get("fitted_years")
        return None if not fitted else validation_year in str(fitted).split(",")

    # ---- descriptions -----------------------------------------------------------------------
    @property
    def census(self) -> str:
        """The reference census the model was trained at, as people name it (`autumn`, `spring`,
        `summer`); a model registered before the census was recorded was trained at autumn."""
        return calendar.census_name(self._info.get("census") or calendar.AUTUMN)

    @property
    def risk_matrix(self) -> dict[str, Any]:
        """The risk matrix in use (bands with this model's thresholds), ready for JSON."""
        return self.matrix.to_dict()

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.model_version,
            "alias": self.alias,
            "model_type": self.explainer.kind,
            "features": list(self.feature_names),
            "explained_scale": self.explainer.scale,
            "risk_matrix_version": self.matrix.version,
            "notice": DECISION_SUPPORT_NOTICE,
            **self._info,
        }

    # ---- scoring ----------------------------------------------------------------------------
    def check_columns(self, columns) -> None:
        """ScoringInputError naming the model's input columns that `columns` lacks, if any."""
        missing = [c for c in self.feature_names if c not in columns]
        if missing:
            raise ScoringInputError(f"features lack model input column(s): {', '.join(missing)}")

    def _frame(self, features: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(features, pd.DataFrame):
            raise ScoringInputError("features must be a table (DataFrame) of registry feature columns")
        self.check_columns(features.columns)
        if "need_level" not in features.columns:
            features = features.assign(need_level=need_level(features))
        if "upn" not in features.columns:
            features = features.assign(upn=[str(i) for i in range(len(features))])
        return features

    def probabilities_from_raw(self, raw: np.ndarray) -> np.ndarray:
        base = raw if self.explainer.scale == "probability" else sigmoid(raw)
        return np.asarray(self._calibrate(base), dtype=np.float64)

    def _predict(
        self, features: pd.DataFrame, with_contributions: bool
    ) -> tuple[np.ndarray, Explanation | None]:
        """Probabilities (and contributions when asked) for the model's input columns of `features`."""
        X = self.explainer.matrix(features)
        explanation = None
        if self._calibrate is None:
            probabilities = self.pipeline.predict_proba(features[self.feature_names])[:, 1]
            if with_contributions:
                explanation = self.explainer.explain_matrix(X)
            return probabilities, explanation
        if with_contributions:
            explanation = self.explainer.explain_matrix(X)
            raw = explanation.raw_score
        else:
            raw = self.explainer.raw_score(X)
        probabilities = self.probabilities_from_raw(raw)
        self._guard(features, probabilities)
        return probabilities, explanation

    def _guard(self, features: pd.DataFrame, probabilities: np.ndarray) -> None:
        """The decomposed path must give the pipeline's own probabilities (checked on a few rows)."""
        if not len(features):
            return
        rows = np.linspace(0, len(features) - 1, min(len(features), _GUARD_ROWS)).astype(int)
        expected = self.pipeline.predict_proba(features[self.feature_names].iloc[rows])[:, 1]
        error = float(np.max(np.abs(expected - probabilities[rows])))
        if error > _GUARD_TOLERANCE:
            raise RuntimeError(
                f"scoring fast path differs from the pipeline by {error:.3g}; refusing to score"
            )

    def _score_frame(self, features: pd.DataFrame, reasons: bool, n_reasons: int) -> pd.DataFrame:
        """Scores in input order, with the response tier (score() and score_records() share it)."""
        features = self._frame(features)
        probabilities, explanation = self._predict(features, with_contributions=reasons)
        needs = features["need_level"].to_numpy()
        columns = self._assemble(
            features["upn"].astype(str).to_numpy(),
            probabilities,
            needs,
            explanation,
            features,
            reasons,
            n_reasons,
        )
        return pd.DataFrame(columns)

    def _assemble(
        self,
        upns: np.ndarray,
        probabilities: np.ndarray,
        needs: np.ndarray,
        explanation: Explanation | None,
        values: pd.DataFrame | list[dict[str, Any]],
        reasons: bool,
        n_reasons: int,
    ) -> dict[str, Any]:
        """Output columns (contract order, then the reasons beyond the contract's, `response` and the
        band's precision) as arrays, input order."""
        placed = self.matrix.place(probabilities, needs)
        if reasons:
            texts = reason_columns(explanation, values, n=n_reasons, describer=self._describer)
        else:
            texts = dict.fromkeys(("reasons", *REASON_EXTRA_COLUMNS), [""] * len(probabilities))
        precision, interval = self.matrix.precision_columns(placed["likelihood_band"])
        return {
            "upn": upns,
            "probability": probabilities,
            "likelihood_band": placed["likelihood_band"],
            "need_level": np.asarray(needs).astype(int),
            "rag": placed["rag"],
            "matrix_cell": placed["matrix_cell"],
            "reasons": texts["reasons"],
            "model_version": [self.model_version] * len(probabilities),
            **{column: texts[column] for column in REASON_EXTRA_COLUMNS},
            "response": placed["response"],
            "band_precision": precision,
            "band_precision_ci": interval,
        }

    def score_chunk(
        self, features: pd.DataFrame, reasons: bool = True, n_reasons: int = N_REASONS
    ) -> pd.DataFrame:
        """SCORED_COLUMNS for every row of `features`, in input order: each pupil's scores depend on
        their own row alone, so a cohort scored in chunks (a Spark task per chunk) gives what it gives
        whole."""
        return self._score_frame(features, reasons, n_reasons)[SCORED_COLUMNS]

    def score(self, features: pd.DataFrame, reasons: bool = True, n_reasons: int = N_REASONS) -> pd.DataFrame:
        """The contract's scores.csv columns for every row of `features`, highest probability first, then
        REASON_EXTRA_COLUMNS (`score_table.with_officer_columns` adds the rest of scores.csv's)."""
        return rank_scores(self.score_chunk(features, reasons, n_reasons))

    def explain(
        self, features: pd.DataFrame, n: int = 5, include_protected: bool = True
    ) -> list[dict[str, Any]]:
        """Per pupil (input order): probability, cell, and the top `n` factors raising and lowering risk.

        Protected characteristics are included here (this is the audit view); `score`'s reasons leave
        them out. Each factor says whether it is `context` (year group, school, home area) rather than
        about the child. Contributions are on the raw model scale (`scale`), measured from
        `expected_value`.
        """
        features = self._frame(features)
        probabilities, explanation = self._predict(features, with_contributions=True)
        placed = self.matrix.place(probabilities, features["need_level"].to_numpy())
        kwargs = {
            "n": n,
            "include_protected": include_protected,
            "describer": self._describer,
            "min_contribution": 1e-12,
        }
        raising = top_factors(explanation, features, direction="raising", **kwargs)
        lowering = top_factors(explanation, features, direction="lowering", **kwargs)
        upns = features["upn"].astype(str).to_numpy()
        return [
            {
                "upn": upns[i],
                "probability": float(probabilities[i]),
                "likelihood_band": placed["likelihood_band"][i],
                "need_level": int(features["need_level"].iloc[i]),
                "rag": placed["rag"][i],
                "matrix_cell": placed["matrix_cell"][i],
                "response": placed["response"][i],
                "raw_score": float(explanation.raw_score[i]),
                "expected_value": explanation.expected_value,
                "scale": explanation.scale,
                "raising": raising[i],
                "lowering": lowering[i],
                "model_version": self.model_version,
            }
            for i in range(len(features))
        ]

    # ---- one pupil, no DataFrame ------------------------------------------------------------
    def score_records(
        self, records: list[dict[str, Any]], reasons: bool = True, n_reasons: int = N_REASONS
    ) -> list[dict[str, Any]]:
        """Score a few pupils given as dicts (feature name -> value); results in input order.

        Each result has the scores.csv fields but the school's (`serving.scoring` adds those from the
        record). Records are encoded straight to a numpy
        matrix when the preprocessor is one `RecordEncoder` can mirror (checked against the fitted
        preprocessor when the encoder is built); otherwise they take the DataFrame path.
        """
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ScoringInputError("records must be a list of objects (feature name -> value)")
        if not records:
            return []
        for i, record in enumerate(records):
            missing = [c for c in self.feature_names if c not in record]
            if missing:
                raise ScoringInputError(f"record {i + 1} lacks feature(s): {', '.join(missing)}")
        check_ranges(records, self.feature_names)  # both paths below: no out-of-range value is scored
        if self._encoder is None:
            self._encoder = RecordEncoder.build(self.explainer.parts)
        upns = np.array([str(r.get("upn", i)) for i, r in enumerate(records)], dtype=object)
        if not self._encoder.usable or self._calibrate is None:
            frame = pd.DataFrame.from_records(records).assign(upn=upns)
            rows = self._score_frame(frame, reasons, n_reasons).to_dict("records")
            return [{name: _plain(value) for name, value in row.items()} for row in rows]
        X = self._encoder.encode(records)
        explanation = self.explainer.explain_matrix(X, check=False) if reasons else None
        raw = explanation.raw_score if reasons else self.explainer.raw_score(X)
        needs = np.array([_need_level(r) for r in records])
        columns = self._assemble(
            upns, self.probabilities_from_raw(raw), needs, explanation, records, reasons, n_reasons
        )
        return [{name: _plain(values[i]) for name, values in columns.items()} for i in range(len(records))]


def rank_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Scored pupils highest probability first, ties by UPN, renumbered from 0: the one ranking of a
    scored cohort, whichever backend scored it."""
    order = np.lexsort((scores["upn"].to_numpy(), -scores["probability"].to_numpy()))
    return scores.iloc[order].reset_index(drop=True)


def _plain(value):
    """numpy scalars -> Python scalars, NaN (a band precision not shown) -> None: JSON-ready."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and value != value else value


def _need_level(record: dict[str, Any]) -> int:
    value = record.get("need_level")
    if value is not None and not pd.isna(value):
        return int(value)
    return need_level_of(record)
