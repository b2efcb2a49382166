"""The versioned risk matrix: likelihood bands (calibrated probability) x need levels 0-3 -> RAG + response.

The matrix's shape and wording live in `risk_matrix.yaml`; the probability thresholds that cut the
likelihood bands are fitted on a model's validation year (its held-out calibration pupils, as
`models.held_out` picks them) so that the bands match a team's capacity, and are stored with the model
version (`ScoringConfig`, logged by `models.training_log`), so that every scorer of that version places
pupils the same way. Stored beside them: each band's realised precision on the test year with those
thresholds (`models.band_precision`), which `to_dict` and scores.csv give as "how sure"; thresholds cut
any other way carry none until it is recomputed for them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from exclusion_risk.models.band_precision import Outcomes, band_precision, csv_values, precision_entry
from exclusion_risk.models.held_out import CUT_ON, held_out_source
from exclusion_risk.models.metrics import top_share
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).with_name("risk_matrix.yaml")
RAG_VALUES = ("red", "amber", "green")
NEED_LEVELS = (0, 1, 2, 3)

# A threshold is a pupil's probability on the validation year, and pupils with the same inputs share
# it; the same probability worked out another way (raw score from TreeSHAP's sum vs the booster's own)
# differs in the 16th digit. Within this much of a threshold counts as reaching it, so a pupil's band
# does not depend on whether reasons were asked for (34 pupils of a spring cohort moved band before).
THRESHOLD_TOLERANCE = 1e-9


class RiskMatrixError(ValueError):
    """The risk-matrix file or the values placed on it are not usable; the message says why."""


@dataclass(frozen=True)
class Band:
    key: str
    code: str
    label: str
    capacity_multiple: float | None  # share of the validation year at or above = multiple x capacity
    threshold: float  # lowest calibrated probability in this band


@dataclass(frozen=True)
class RiskMatrix:
    version: str
    bands: tuple[Band, ...]  # highest first; the last band's threshold is 0
    need_levels: tuple[dict, ...]
    responses: dict[str, str]
    cells: dict[tuple[str, int], tuple[str, str]]  # (band key, need level) -> (rag, response tier)
    capacity: float
    thresholds_source: str = "default"  # "default" (from the file) or where fitted thresholds came from
    extra: dict = field(default_factory=dict)
    # Test-year precision of these thresholds' bands (models.band_precision); None when not measured.
    precision: dict | None = None

    # ---- thresholds -------------------------------------------------------------------------
    def fit_thresholds(
        self, validation_probabilities, capacity: float | None = None, source: str = "validation year"
    ) -> RiskMatrix:
        """Thresholds such that `capacity_multiple x capacity` of the validation pupils reach each band."""
        capacity = self.capacity if capacity is None else float(capacity)
        check_capacity(capacity)
        probs = np.sort(np.asarray(validation_probabilities, dtype=float))[::-1]
        if probs.size == 0 or not np.isfinite(probs).all():
            raise RiskMatrixError("validation probabilities must be a non-empty set of finite numbers")
        bands = []
        previous = math.inf
        for band in self.bands:
            if band.capacity_multiple is None:
                threshold = 0.0
            else:
                share = min(1.0, band.capacity_multiple * capacity)
                # The pupil at rank top_share(n, share) is the last one inside the band.
                rank = top_share(probs.size, share)
                threshold = float(probs[rank - 1])
            # Bands must not overlap even when many pupils share a probability.
            threshold = min(threshold, previous)
            previous = threshold
            bands.append(replace(band, threshold=threshold))
        return replace(self, bands=tuple(bands), capacity=capacity, thresholds_source=source, precision=None)

    def with_thresholds(self, thresholds: dict[str, float], capacity: float, source: str) -> RiskMatrix:
        """The matrix with stored thresholds (band key -> probability), as read back from a model version."""
        missing = [b.key for b in self.bands if b.key not in thresholds]
        if missing:
            raise RiskMatrixError(f"stored thresholds lack band(s) {', '.join(missing)}")
        values = [float(thresholds[b.key]) for b in self.bands]
        if any(later > earlier for earlier, later in zip(values, values[1:], strict=False)):
            raise RiskMatrixError(f"stored thresholds must fall from band to band, got {values}")
        bands = tuple(replace(b, threshold=v) for b, v in zip(self.bands, values, strict=True))
        return replace(self, bands=bands, capacity=float(capacity), thresholds_source=source, precision=None)

    def with_precision(self, precision: dict | None) -> RiskMatrix:
        """The matrix with its bands' test-year precision (measured with exactly these thresholds)."""
        return replace(self, precision=precision)

    @property
    def thresholds(self) -> dict[str, float]:
        return {b.key: b.threshold for b in self.bands}

    def precision_columns(self, likelihood_bands) -> tuple[np.ndarray, np.ndarray]:
        """scores.csv's band_precision (NaN when not shown) and band_precision_ci (None when not shown)
        for each pupil's likelihood band (its label, as `place` gives it)."""
        by_label = {b.label: csv_values(self.precision, b.key) for b in self.bands}
        pairs = [by_label.get(label, (float("nan"), None)) for label in likelihood_bands]
        shares = np.array([p[0] for p in pairs], dtype=float)
        return shares, np.array([p[1] for p in pairs], dtype=object)

    # ---- placing pupils ---------------------------------------------------------------------
    def place(self, probabilities, need_levels) -> dict[str, np.ndarray]:
        """Vectorised placement: likelihood band, cell, RAG and response tier for each pupil."""
        probs = np.asarray(probabilities, dtype=float)
        needs = np.asarray(need_levels)
        if probs.shape != needs.shape:
            raise RiskMatrixError("probabilities and need levels must have the same length")
        if probs.size and (not np.isfinite(probs).all() or probs.min() < 0 or probs.max() > 1):
            raise RiskMatrixError("probabilities must lie between 0 and 1")
        try:
            needs = needs.astype(int)
        except (TypeError, ValueError) as exc:
            raise RiskMatrixError("need levels must be whole numbers 0-3") from exc
        if needs.size and (needs.min() < 0 or needs.max() > 3):
            bad = sorted(set(needs[(needs < 0) | (needs > 3)].tolist()))
            raise RiskMatrixError(f"need levels must be 0-3, got {bad}")
        # thresholds are highest first; count how many band thresholds each probability reaches.
        descending = np.array([b.threshold for b in self.bands])
        reached = np.searchsorted(descending[::-1], probs + THRESHOLD_TOLERANCE, side="right")
        band_index = len(self.bands) - reached
        band_index = np.clip(band_index, 0, len(self.bands) - 1)
        keys = np.array([b.key for b in self.bands], dtype=object)
        labels = np.array([b.label for b in self.bands], dtype=object)
        codes = np.array([b.code for b in self.bands], dtype=object)
        rag_table = np.array(
            [[self.cells[(b.key, n)][0] for n in NEED_LEVELS] for b in self.bands], dtype=object
        )
        tier_table = np.array(
            [[self.cells[(b.key, n)][1] for n in NEED_LEVELS] for b in self.bands], dtype=object
        )
        cell = np.char.add(np.char.add(codes[band_index].astype(str), "-N"), needs.astype(str))
        return {
            "band_key": keys[band_index],
            "likelihood_band": labels[band_index],
            "matrix_cell": cell.astype(object),
            "rag": rag_table[band_index, needs],
            "response": tier_table[band_index, needs],
        }

    # ---- presentation -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready description, as returned by the service and printed in reports."""
        return {
            "version": self.version,
            "capacity": self.capacity,
            "thresholds_source": self.thresholds_source,
            "likelihood_bands": [
                {
                    "key": b.key,
                    "code": b.code,
                    "label": b.label,
                    "min_probability": round(b.threshold, 6),
                    "capacity_multiple": b.capacity_multiple,
                    "precision": precision_entry(self.precision, b.key, b.label),
                }
                for b in self.bands
            ],
            "need_levels": [dict(level) for level in self.need_levels],
            "responses": dict(self.responses),
            "cells": [
                {
                    "likelihood_band": b.label,
                    "need_level": n,
                    "matrix_cell": f"{b.code}-N{n}",
                    "rag": self.cells[(b.key, n)][0],
                    "response": self.cells[(b.key, n)][1],
                }
                for b in self.bands
                for n in NEED_LEVELS
            ],
            "notice": DECISION_SUPPORT_NOTICE,
        }

    def grid(self) -> list[dict]:
        """Rows (one per band, highest first) of cells by need level, for HTML tables."""
        return [
            {
                "band": b,
                "cells": [
                    {"need_level": n, "rag": self.cells[(b.key, n)][0], "response": self.cells[(b.key, n)][1]}
                    for n in NEED_LEVELS
                ],
            }
            for b in self.bands
        ]


def check_capacity(capacity: float) -> None:
    if not (0 < capacity < 1):
        raise RiskMatrixError(f"capacity must be a share between 0 and 1 (e.g. 0.05 for 5%), got {capacity}")


def parse_capacity(text: str) -> float:
    """'5%', '0.5%' or '5' (a bare number of 1 or more is a percentage) -> 0.05, 0.005, 0.05. A bare
    number below 1 is refused: 0.5 read as a fraction is half the cohort, and someone meaning half a
    percent writes the same; the message gives both readings, to be written with %."""
    raw = str(text).strip()
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError as exc:
        raise RiskMatrixError(f"capacity {text!r} is not a percentage such as 5%") from exc
    if not raw.endswith("%") and 0 < value < 1:
        raise RiskMatrixError(
            f"capacity {raw} is ambiguous: write {value * 100:g}% if you mean {value:g} of all pupils, or "
            f"{value:g}% if you mean {value:g} percent"
        )
    try:  # the matrix's own bound (`check_capacity`), said of the capacity as typed
        check_capacity(value / 100)
    except RiskMatrixError:
        raise RiskMatrixError(f"capacity must be between 0% and 100% (e.g. 5%), got {raw}") from None
    return value / 100


def need_labels(levels: Iterable[dict] | None) -> dict[int, str] | None:
    """Need level -> its label, from a matrix's `need_levels` (the level itself where a file gives no
    label); None without them."""
    if not levels:
        return None
    return {int(level["level"]): str(level.get("label", level["level"])) for level in levels}


def load_risk_matrix(path: str | Path | None = None) -> RiskMatrix:
    """Read and validate a risk-matrix file (the packaged default when `path` is None)."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RiskMatrixError(f"risk-matrix file {path} not found") from exc
    except yaml.YAMLError as exc:
        raise RiskMatrixError(f"risk-matrix file {path} is not valid YAML: {exc}") from exc
    return risk_matrix_from_dict(raw, where=str(path))


def risk_matrix_from_dict(raw: dict, where: str = "risk matrix") -> RiskMatrix:
    def need(mapping, key, what):
        if not isinstance(mapping, dict) or key not in mapping:
            raise RiskMatrixError(f"{where}: {what} lacks `{key}`")
        return mapping[key]

    version = str(need(raw, "version", "the file"))
    likelihood = need(raw, "likelihood", "the file")
    capacity = float(need(likelihood, "default_capacity", "likelihood"))
    check_capacity(capacity)
    bands = []
    for i, entry in enumerate(need(likelihood, "bands", "likelihood")):
        multiple = entry.get("capacity_multiple")
        bands.append(
            Band(
                key=str(need(entry, "key", f"band {i + 1}")),
                code=str(need(entry, "code", f"band {i + 1}")),
                label=str(need(entry, "label", f"band {i + 1}")),
                capacity_multiple=None if multiple is None else float(multiple),
                threshold=float(need(entry, "default_threshold", f"band {i + 1}")),
            )
        )
    if len(bands) < 2:
        raise RiskMatrixError(f"{where}: at least two likelihood bands are needed")
    if bands[-1].capacity_multiple is not None or bands[-1].threshold != 0:
        raise RiskMatrixError(
            f"{where}: the last band must catch everyone (no capacity_multiple, threshold 0)"
        )
    multiples = [b.capacity_multiple for b in bands[:-1]]
    if any(m is None or m <= 0 for m in multiples) or multiples != sorted(multiples):
        raise RiskMatrixError(f"{where}: capacity multiples must be positive and rise from band to band")
    defaults = [b.threshold for b in bands]
    if defaults != sorted(defaults, reverse=True):
        raise RiskMatrixError(f"{where}: default thresholds must fall from band to band")

    levels = tuple(need(raw, "need_levels", "the file"))
    if [lvl.get("level") for lvl in levels] != list(NEED_LEVELS):
        raise RiskMatrixError(f"{where}: need levels must be 0, 1, 2, 3 in order")
    responses = {str(k): str(v).strip() for k, v in need(raw, "responses", "the file").items()}
    cells = {}
    table = need(raw, "cells", "the file")
    for band in bands:
        row = need(table, band.key, "cells")
        for level in NEED_LEVELS:
            rag, tier = need(row, level, f"cells.{band.key}")
            if rag not in RAG_VALUES:
                raise RiskMatrixError(
                    f"{where}: cells.{band.key}.{level} has RAG {rag!r}, not one of {RAG_VALUES}"
                )
            if tier not in responses:
                raise RiskMatrixError(f"{where}: cells.{band.key}.{level} names unknown response {tier!r}")
            cells[(band.key, level)] = (rag, tier)
    return RiskMatrix(
        version=version,
        bands=tuple(bands),
        need_levels=levels,
        responses=responses,
        cells=cells,
        capacity=capacity,
    )


# ---------------------------------------------------------------------------------------------
# Thresholds stored with a model version
# ---------------------------------------------------------------------------------------------


@dataclass
class ScoringConfig:
    """What is stored with a model version so that every scorer of it places pupils the same way."""

    risk_matrix_version: str
    capacity: float
    thresholds: dict[str, float]
    validation_year: str | None
    validation_pupils: int
    extra: dict[str, Any] = field(default_factory=dict)
    # Each band's precision on the test year with these thresholds (models.band_precision); None in
    # versions stored before it was measured.
    band_precision: dict[str, Any] | None = None
    # Which validation-year pupils the thresholds were cut on (`models.held_out.HeldOut.to_dict`: the
    # calibration pupils' rule, share and seed, no identifiers); None in versions stored before it was.
    cut_on: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "risk_matrix_version": self.risk_matrix_version,
            "capacity": self.capacity,
            "thresholds": self.thresholds,
            "validation_year": self.validation_year,
            "validation_pupils": self.validation_pupils,
            **({"band_precision": self.band_precision} if self.band_precision is not None else {}),
            **({CUT_ON: self.cut_on} if self.cut_on is not None else {}),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoringConfig:
        known = {
            "risk_matrix_version", "capacity", "thresholds", "validation_year", "validation_pupils",
            "band_precision", CUT_ON,
        }  # fmt: skip
        return cls(
            risk_matrix_version=str(data["risk_matrix_version"]),
            capacity=float(data["capacity"]),
            thresholds={k: float(v) for k, v in data["thresholds"].items()},
            validation_year=data.get("validation_year"),
            validation_pupils=int(data.get("validation_pupils", 0)),
            extra={k: v for k, v in data.items() if k not in known},
            band_precision=data.get("band_precision"),
            cut_on=data.get(CUT_ON),
        )


def scoring_config_from_probabilities(
    probabilities,
    validation_year: str | None,
    capacity: float | None = None,
    matrix: RiskMatrix | None = None,
    test: Outcomes | None = None,
    cut_on: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Risk-matrix thresholds fitted on validation-year probabilities (no labels needed), as a plain dict,
    with each band's precision on `test` (the test year's pupils and labels) when given.

    Called by models.train on the calibration pupils' validation-year rows, with `cut_on` saying what picks
    them (`models.held_out`); only thresholds, (suppressed) counts and that rule are kept, so the result
    may be logged to MLflow.
    """
    matrix = matrix or load_risk_matrix()
    fitted = matrix.fit_thresholds(probabilities, capacity, source=f"validation year {validation_year}")
    return ScoringConfig(
        risk_matrix_version=matrix.version,
        capacity=fitted.capacity,
        thresholds=fitted.thresholds,
        validation_year=validation_year,
        validation_pupils=int(np.size(probabilities)),
        band_precision=None if test is None else band_precision(fitted, test),
        cut_on=cut_on,
    ).to_dict()


def matrix_for(config: ScoringConfig | None, matrix: RiskMatrix | None = None) -> RiskMatrix:
    """The risk matrix with a model version's stored thresholds (file defaults when none are stored)."""
    matrix = matrix or load_risk_matrix()
    if config is None:
        return matrix
    if config.risk_matrix_version != matrix.version:
        log.warning(
            "thresholds were fitted for risk matrix %s; the file is version %s",
            config.risk_matrix_version,
            matrix.version,
        )
    # training cuts every version's stored thresholds on its validation year's calibration pupils
    source = held_out_source(config.validation_year)
    return matrix.with_thresholds(config.thresholds, config.capacity, source).with_precision(
        config.band_precision
    )
