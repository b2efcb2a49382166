"""Response bodies of the model routes: the served model version (`GET /model`) and the risk matrix
(`GET /risk-matrix`), as the registry and the matrix record them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.serving.model_state import LastChecked
from exclusion_risk.serving.schemas import HistoryInfo


class MetricInterval(BaseModel):
    estimate: float | None
    low: float | None = None
    high: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_interval(cls, data: Any) -> Any:
        # The registry stores an interval as one tag, "low-high"; clients get numbers.
        if isinstance(data, dict) and isinstance(data.get("interval"), str) and "low" not in data:
            low, sep, high = data["interval"].partition("-")
            try:
                return {**data, "low": float(low), "high": float(high)} if sep else data
            except ValueError:
                return data
        return data


class TrainingPeriod(BaseModel):
    train_years: str | None = Field(
        None, description="Academic years the settings were searched on (fitted on: fitted_years)."
    )
    validation_year: str | None = Field(
        None, description="Year the settings were chosen on; calibration and likelihood-band thresholds are "
        "fitted on its held-out calibration pupils' rows.",
    )
    fitted_years: str | None = Field(
        None, description="Academic years the final model was fitted on (less the calibration pupils when "
        "they include the validation year); null: registered before it was recorded.",
    )
    test_year: str | None = Field(None, description="Year the headline metrics were measured on.")


class ModelInfo(BaseModel):
    """What the registry says about the served model version. Fields beyond these (e.g. the model type,
    features, risk-matrix version) are passed through as the models stage records them."""

    model_config = ConfigDict(extra="allow")

    name: str
    version: str
    alias: str | None = None
    training_period: TrainingPeriod = Field(default_factory=TrainingPeriod)
    metrics: dict[str, MetricInterval] = Field(
        default_factory=dict, description="Headline metrics on the test year with 95% bootstrap intervals."
    )
    history: HistoryInfo | None = Field(
        None, description="The linked history census uploads are scored with."
    )
    last_checked: LastChecked | None = Field(None, description="Latest back-test on outcomes; null: never.")
    notice: str = DECISION_SUPPORT_NOTICE

    @model_validator(mode="before")
    @classmethod
    def _period(cls, data: Any) -> Any:
        if isinstance(data, dict) and "training_period" not in data:
            keys = ("train_years", "validation_year", "fitted_years", "test_year")
            return {**data, "training_period": {k: data.get(k) for k in keys}}
        return data


class BandPrecision(BaseModel):
    """How sure: the band's realised precision on the model's test year, in words and as a share with its
    interval. Not its counts: an auditor subtracted a band's test-year pupils (545 very high) from the
    red count `scores.html` prints for that year (554) and had back a cell it withholds (9 pupils on a
    protection plan or in care, high likelihood), with any key, a school's too."""

    year: str | None
    precision: float | None
    low: float | None
    high: float | None
    text: str = Field(description="In words, e.g. 'Of pupils placed very high in 2018/19, 34% [31%-37%] "
                      "were suspended or excluded that year.'")


class LikelihoodBand(BaseModel):
    key: str
    code: str
    label: str
    min_probability: float
    capacity_multiple: float | None
    precision: BandPrecision | None = None


class NeedLevel(BaseModel):
    model_config = ConfigDict(extra="allow")

    level: int
    label: str
    definition: str | None = None


class MatrixCell(BaseModel):
    likelihood_band: str
    need_level: int
    matrix_cell: str
    rag: Literal["red", "amber", "green"]
    response: str


class RiskMatrixResponse(BaseModel):
    version: str
    capacity: float
    thresholds_source: str
    likelihood_bands: list[LikelihoodBand]
    need_levels: list[NeedLevel]
    responses: dict[str, str]
    cells: list[MatrixCell]
    notice: str = DECISION_SUPPORT_NOTICE
