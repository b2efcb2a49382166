"""The experiment config: one YAML file describes a training run (like triage's experiment config).

It fixes the reference census (`census`: autumn, spring or summer; features as known on that census
day of each year, the label after it), the time splits, the label, the feature set (and whether
protected characteristics are model inputs), class-imbalance handling, calibration, the model grid and
the metrics. `load_config(None)` reads
the default `models/experiment.yaml`; a user file replaces whole top-level sections it names, except
`models`, where each named model's settings replace that model's defaults and models not named keep
theirs (set `enabled: false` to drop one). An enabled model's `params` and `grid` are checked against
its estimator when `train` starts, before any data is read (`estimators.check_model_settings`).

Temporal scheme (never a random split across years):
  search      fit each grid point on the `train` years, score the `validation` year, pick the best
              by `selection_metric` (LightGBM also early-stops on the validation year).
  refit       with `refit: true` (the default, as triage does) the chosen settings are refitted on
              the train + validation years, less a random `calibration.holdout` share of *pupils*
              whose validation-year rows (never seen in fitting, all of their years held out) fit
              the calibration map. With `refit: false` the search model is kept and calibrated on
              that same share of the validation year.
  test        the calibrated pipeline is scored once on the `test` year; nothing is tuned on it.
`auto` splits (the default) follow the data: the labelled years are those with the reference census
and complete outcomes (`features.labels.complete_through`, as `evaluate` and `describe` count them);
test = the latest, validation = the one before, train = every earlier year. Feature rows need a prior
year of history, so the first census year is never used. Named years (all three) are kept as named:
for repeating an earlier run or back-testing a scoring; where the extracts hold later years with
complete outcomes, `train` warns that the run leaves them out and records them on the run and its
versions (tag `later_complete_years`) rather than refusing, since holding a year back is then the point.
Every year named must have a census of the reference term (`exclusion-risk train --census` overrides
the setting); the trained models record it, and `score` refuses a census they were not trained for.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exclusion_risk import calendar

DEFAULT_CONFIG = Path(__file__).with_name("experiment.yaml")
# The MLflow experiment runs are grouped under (the registered model's name is `tracking.REGISTERED_MODEL`).
DEFAULT_EXPERIMENT = "exclusion-risk"
MODEL_TYPES = ("random_forest", "lightgbm", "logistic")
SELECTION_METRICS = ("average_precision", "roc_auc", "precision_at_5pct", "neg_brier")
CENSUS_CHOICES = tuple(calendar.CENSUS_NAMES)  # the reference census as the config names it


class ConfigError(ValueError):
    """An experiment config that cannot be used; the message names the file and the setting."""


_CONFIG_YEAR = re.compile(r"^\d{4}/\d+$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _year(value: str) -> str:
    """A year of the config, written the one way the config accepts (2016/17): others are refused."""
    text = str(value).strip()
    if not _CONFIG_YEAR.match(text):
        raise ValueError(f"academic years are written like 2016/17, not {value!r}")
    expected = calendar.format_year(int(text[:4]))
    if text != expected:  # 2016/18, and 2016/2017 too: the config holds years in one spelling only
        raise ValueError(f"{value!r} is not one academic year (expected {expected})")
    return expected


class Splits(_Section):
    train: list[str] | Literal["auto"] = "auto"
    validation: str = "auto"
    test: str = "auto"
    refit: bool = Field(True, description="refit the chosen settings on train + validation years")

    @field_validator("train", mode="before")
    @classmethod
    def _train_years(cls, value: Any) -> Any:
        if value == "auto":
            return value
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise ValueError("train must be 'auto' or a list of academic years")
        return [_year(v) for v in value]

    @field_validator("validation", "test")
    @classmethod
    def _one_year(cls, value: str) -> str:
        return value if value == "auto" else _year(value)

    @model_validator(mode="after")
    def _ordered(self) -> Splits:
        explicit = [self.train != "auto", self.validation != "auto", self.test != "auto"]
        if any(explicit) and not all(explicit):
            raise ValueError("give all of train, validation and test years, or leave all three 'auto'")
        if all(explicit):
            if max(self.train) >= self.validation or self.validation >= self.test:
                raise ValueError(
                    "years must run train < validation < test (fit on the past, test on the latest)"
                )
        return self


class FeatureSet(_Section):
    include_protected: bool = Field(False, description="sex and ethnicity as model inputs")
    exclude: list[str] = Field(default_factory=list, description="registry features left out")


class Calibration(_Section):
    method: Literal["sigmoid", "isotonic"] = "sigmoid"
    holdout: float = Field(0.3, gt=0.05, lt=0.8, description="share of pupils held out to calibrate")


class ModelSpec(_Section):
    enabled: bool = True
    # "balanced" / "balanced_subsample" reweight classes in fitting; null fits the data as it is.
    class_weight: Literal["balanced", "balanced_subsample"] | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="fixed estimator parameters")
    grid: dict[str, list[Any]] = Field(default_factory=dict, description="searched on the validation year")
    early_stopping_rounds: int | None = Field(None, ge=1, description="LightGBM only")
    # A leaf of `min_child_samples` (LightGBM) or `min_samples_leaf` (forest) pupils is at most this share
    # of the rows fitted on, and never under LEAF_FLOOR (`estimators.sized_params`): a small authority's
    # ~70 pupils suspended before census day could not fill a leaf of 100, so its model never used them.
    leaf_share: float | None = Field(None, gt=0, lt=0.1, description="leaf size at most this share of rows")

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        empty = [k for k, v in grid.items() if not isinstance(v, list) or not v]
        if empty:
            raise ValueError(f"grid values must be non-empty lists: {empty}")
        return grid

    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of the grid (fixed params underneath), in a stable order."""
        points: list[dict[str, Any]] = [dict(self.params)]
        for key in sorted(self.grid):
            points = [{**p, key: v} for p in points for v in self.grid[key]]
        return points


class Metrics(_Section):
    capacities: list[float] = Field([0.01, 0.05, 0.10], description="top-k shares a team can act on")
    bootstrap: int = Field(1000, ge=50, le=20000)
    level: float = Field(0.95, gt=0.5, lt=1)

    @field_validator("capacities")
    @classmethod
    def _shares(cls, values: list[float]) -> list[float]:
        if not values or not all(0 < v < 1 for v in values):
            raise ValueError("capacities are shares of the cohort between 0 and 1, e.g. 0.05")
        return sorted(set(values))


class ExperimentConfig(_Section):
    experiment: str = Field(DEFAULT_EXPERIMENT, min_length=1, description="MLflow experiment name")
    label: Literal["any", "permanent", "repeat"] = "any"
    census: Literal[CENSUS_CHOICES] = Field(  # type: ignore[valid-type]
        "autumn", description="reference census: features as known on its day, the label after it"
    )
    splits: Splits = Field(default_factory=Splits)
    features: FeatureSet = Field(default_factory=FeatureSet)
    calibration: Calibration = Field(default_factory=Calibration)
    selection_metric: Literal[SELECTION_METRICS] = "average_precision"  # type: ignore[valid-type]
    metrics: Metrics = Field(default_factory=Metrics)
    seed: int = 7
    n_jobs: int = Field(2, ge=1, description="CPU threads per model fit")
    # The Walsall study ranked its predictors by random-forest variable importance; SHAP summaries are
    # always logged, permutation importance (a refit-free, model-agnostic measure) only when asked for.
    permutation_importance: bool = Field(
        False, description="also log each model's permutation importance on the test year (slower)"
    )
    models: dict[str, ModelSpec] = Field(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _known_models(cls, models: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        unknown = [m for m in models if m not in MODEL_TYPES]
        if unknown:
            raise ValueError(f"unknown model types {unknown}; choose from {list(MODEL_TYPES)}")
        if not any(spec.enabled for spec in models.values()):
            raise ValueError("at least one model must be enabled")
        return models

    def enabled_models(self) -> dict[str, ModelSpec]:
        return {name: spec for name, spec in self.models.items() if spec.enabled}

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @property
    def census_term(self) -> str:
        """The reference census's CensusTerm code (AUT, SPR, SUM)."""
        return calendar.CENSUS_NAMES[self.census]

    def fingerprint(self) -> str:
        """Short hash of the resolved config: two runs with the same value used the same settings."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{line}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of settings")
    return data


def _merge(default: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    merged = {**default, **{k: v for k, v in user.items() if k != "models"}}
    models = dict(default.get("models") or {})
    for name, spec in (user.get("models") or {}).items():
        models[name] = spec
    merged["models"] = models
    return merged


def load_config(path: str | Path | None = None) -> ExperimentConfig:
    """The default experiment, with the sections `path` names replaced. Raises ConfigError."""
    data = _read_yaml(DEFAULT_CONFIG)
    source = DEFAULT_CONFIG
    if path is not None:
        source = Path(path)
        data = _merge(data, _read_yaml(source))
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"config file {source}: {problems}") from None
