"""Training: temporal search, refit, calibration on held-out pupils, test-year evaluation.

`train_models(table, config, feature_cols, make_preprocessor)` works on a feature table (one row per
pupil per year, `features.build`'s columns) and knows nothing of MLflow; `models.training_log` records
what it returns. The scheme (see `models.config` for the settings):

1. split by year: train years / validation year / test year (only labelled rows);
2. search: every grid point of every enabled model is fitted on the train years and scored on the
   validation year (`selection_metric`); LightGBM early-stops on the validation year;
3. calibration pupils: a seeded random `calibration.holdout` share of pupils (by UPN) is set aside
   (`models.held_out`; the rule, share and seed are stored with each model's thresholds, so that
   `score --capacity` re-cuts the bands on the same pupils);
4. refit (default): the chosen settings are fitted again on train + validation years without those
   pupils; the calibration map is fitted on the held-out pupils' validation-year rows;
5. test: the calibrated pipeline and the checklist baseline score the test year once; every metric
   gets a bootstrap interval, and each model's gain over the checklist a paired interval.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.features.build import build_feature_table, prepare
from exclusion_risk.features.home_area import home_area_lines
from exclusion_risk.features.labels import complete_through
from exclusion_risk.features.need import need_levels
from exclusion_risk.features.registry import FEATURES, feature_names
from exclusion_risk.linkage.history import load_linked
from exclusion_risk.models import estimators
from exclusion_risk.models.band_precision import Outcomes
from exclusion_risk.models.calibration import CalibratedClassifier
from exclusion_risk.models.checklist import ChecklistBaseline
from exclusion_risk.models.config import ExperimentConfig
from exclusion_risk.models.drift_data import DriftContext, context_of, training_profile
from exclusion_risk.models.held_out import HeldOut, calibration_pupils, pupil_keys
from exclusion_risk.models.metrics import (
    Evaluation,
    Interval,
    capacity_name,
    evaluate,
    point_metrics,
    top_share,
    withheld_point_selections,
)
from exclusion_risk.models.risk_matrix import scoring_config_from_probabilities

CHECKLIST = "checklist"


class TrainingError(ValueError):
    """The data cannot support the configured run (missing years, one class only...)."""


@dataclass(frozen=True)
class YearSplit:
    train: tuple[str, ...]
    validation: str
    test: str

    def describe(self) -> str:
        return f"train {', '.join(self.train)}; validation {self.validation}; test {self.test}"


@dataclass
class SearchPoint:
    params: dict[str, Any]
    score: float  # the selection metric on the validation year
    validation: dict[str, float]
    fit_seconds: float
    facts: dict[str, Any]


@dataclass
class ModelResult:
    model_type: str
    params: dict[str, Any]  # the settings of the fitted (refit) estimator
    search: list[SearchPoint]
    pipeline: Any  # sklearn Pipeline: preprocess [+ scale] + calibrated classifier
    train_seconds: float  # search + refit + calibration, this model only (wall clock)
    cpu_seconds: float  # the same in process CPU time: robust to other load on the machine
    test_probability: np.ndarray = field(repr=False)
    capacity_thresholds: dict[str, float]  # calibrated probability at the top k% of calibration pupils
    # risk-matrix thresholds fitted on the calibration pupils, with each band's test-year precision
    # (risk_matrix.ScoringConfig), logged with it
    scoring_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainingResult:
    config: ExperimentConfig
    split: YearSplit
    feature_cols: list[str]
    models: dict[str, ModelResult]
    evaluations: dict[str, Evaluation]  # test year, models + checklist
    gains: dict[str, dict[str, Interval]]  # model -> metric -> (model - checklist) paired interval
    counts: dict[str, dict[str, int]]  # rows and positives per role (train, validation, test, ...)
    seconds: dict[str, float]
    # In memory only, for plots and benches; never logged (they are per-pupil).
    test_labels: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    test_scores: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    test_frame: pd.DataFrame | None = field(repr=False, default=None)
    # each test pupil's upn and need level, in test_labels' order: what `evaluate` ranks and places them by
    test_pupils: pd.DataFrame | None = field(repr=False, default=None)
    # The training years' reference profile for drift checks (aggregates only: models.drift), logged.
    drift_profile: dict[str, Any] | None = None

    def best(self, metric: str) -> str:
        lower_better = metric in {"brier", "calibration_error"}
        values = {m: self.evaluations[m].metrics[metric].estimate for m in self.models}
        return (min if lower_better else max)(values, key=values.get)


def labelled_years(table: pd.DataFrame) -> list[str]:
    return sorted(table.loc[table["label"].notna(), "AcademicYear"].unique())


def resolve_split(table: pd.DataFrame, config: ExperimentConfig) -> YearSplit:
    """The configured years, checked against the labelled years in the table (or derived: `auto`)."""
    years = labelled_years(table)
    s = config.splits
    if s.train == "auto":
        if len(years) < 3:
            have = f"{len(years)}: {', '.join(years)}" if years else "none"
            need = "need at least three labelled years (train, validation, test)"
            raise TrainingError(f"{need}; the data have {have}")
        return YearSplit(tuple(years[:-2]), years[-2], years[-1])
    wanted = [*s.train, s.validation, s.test]
    missing = [y for y in wanted if y not in years]
    if missing:
        raise TrainingError(
            f"config asks for year(s) {', '.join(missing)} but the labelled years in the data are "
            f"{', '.join(years) or 'none'}"
        )
    return YearSplit(tuple(s.train), s.validation, s.test)


def _xy(frame: pd.DataFrame, feature_cols: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    return frame[feature_cols], frame["label"].to_numpy(dtype=np.int64)


def _selection_score(metric: str, values: dict[str, float]) -> float:
    return -values["brier"] if metric == "neg_brier" else values[metric]


def published_score(point: SearchPoint, metric: str) -> float:
    """The point's selection score as it may be logged: NaN where its validation-year value is withheld
    (`metrics.withheld_point_selections`: a precision at 5% whose top holds 1-9 pupils)."""
    withheld = metric != "neg_brier" and math.isnan(point.validation.get(metric, 0.0))
    return math.nan if withheld else point.score


def shown_score(point: SearchPoint, metric: str) -> str:
    score = published_score(point, metric)
    return "withheld (1-9 pupils)" if math.isnan(score) else f"{score:.4f}"


def _check_classes(name: str, y: np.ndarray) -> None:
    if y.size == 0:
        raise TrainingError(f"the {name} rows are empty")
    if y.min() == y.max():
        raise TrainingError(f"the {name} rows have only one outcome ({int(y[0])}); cannot train or evaluate")


@dataclass
class _Prepared:
    """One preprocessor setting fitted on the search and fitting sets, with its transformed matrices."""

    pre_search: Any
    train: Any
    validation: Any
    pre_fit: Any
    fit: Any
    calibration: Any


def _short(params: dict[str, Any], spec) -> dict[str, Any]:
    """The searched settings of a grid point (fixed ones are in the config)."""
    return {k: params[k] for k in spec.grid} or params


def _transformed_mean(X) -> np.ndarray:
    return np.asarray(X.mean(axis=0), dtype=np.float64).ravel()


def _thresholds(p: np.ndarray, capacities: list[float]) -> dict[str, float]:
    ordered = np.sort(p)[::-1]
    return {capacity_name(k): float(ordered[top_share(p.size, k) - 1]) for k in capacities}


def train_models(
    table: pd.DataFrame,
    config: ExperimentConfig,
    feature_cols: list[str],
    make_preprocessor: Callable[[list[str]], Any],
    log: Callable[[str], None] = lambda _msg: None,
    drift_context: DriftContext | None = None,
) -> TrainingResult:
    """Search, refit, calibrate and evaluate every enabled model (see module docstring)."""
    started = time.perf_counter()
    missing = [c for c in [*feature_cols, "upn", "AcademicYear", "label"] if c not in table.columns]
    if missing:
        raise TrainingError(f"feature table lacks column(s): {', '.join(missing)}")
    split = resolve_split(table, config)
    labelled = table[table["label"].notna()]
    train = labelled[labelled["AcademicYear"].isin(split.train)]
    validation = labelled[labelled["AcademicYear"] == split.validation]
    test = labelled[labelled["AcademicYear"] == split.test]
    held_out = HeldOut(config.calibration.holdout, config.seed)  # recorded with each model's thresholds
    held = calibration_pupils(pupil_keys(labelled), held_out.share, held_out.seed)
    held = pd.Series(held, index=labelled.index)
    calib = validation[held.loc[validation.index].to_numpy()]
    if config.splits.refit:
        fit_rows = labelled[labelled["AcademicYear"].isin([*split.train, split.validation]) & ~held]
    else:
        fit_rows = train
    X_train, y_train = _xy(train, feature_cols)
    X_val, y_val = _xy(validation, feature_cols)
    X_fit, y_fit = _xy(fit_rows, feature_cols)
    X_cal, y_cal = _xy(calib, feature_cols)
    X_test, y_test = _xy(test, feature_cols)
    for name, y in [("train", y_train), ("validation", y_val), ("calibration", y_cal), ("test", y_test)]:
        _check_classes(name, y)
    counts = {
        name: {"rows": int(y.size), "positives": int(y.sum())}
        for name, y in [("train", y_train), ("validation", y_val), ("refit", y_fit),
                        ("calibration", y_cal), ("test", y_test)]
    }  # fmt: skip
    sizes = ", ".join(f"{name} {c['rows']:,}" for name, c in counts.items())
    log(f"years: {split.describe()}; rows: {sizes}")

    # Preprocessors are fitted once per (options, fitting set) and shared by models that ask alike.
    prepared: dict[tuple, _Prepared] = {}

    def prepare(model_type: str) -> _Prepared:
        options = estimators.preprocess_options(model_type)
        key = tuple(sorted(options.items()))
        if key not in prepared:
            pre_search = make_preprocessor(feature_cols, **options).fit(X_train, y_train)
            pre_fit = make_preprocessor(feature_cols, **options).fit(X_fit, y_fit) if refit else pre_search
            prepared[key] = _Prepared(
                pre_search=pre_search,
                train=pre_search.transform(X_train),
                validation=pre_search.transform(X_val),
                pre_fit=pre_fit,
                fit=pre_fit.transform(X_fit) if refit else None,
                calibration=pre_fit.transform(X_cal),
            )
        return prepared[key]

    refit = config.splits.refit
    capacities = list(config.metrics.capacities)
    search_capacities = sorted({*capacities, 0.05})
    results: dict[str, ModelResult] = {}
    for model_type, spec in config.enabled_models().items():
        t0, cpu0 = time.perf_counter(), time.process_time()
        data = prepare(model_type)
        search: list[SearchPoint] = []
        best: tuple[float, SearchPoint, Any] | None = None
        for point_params in spec.grid_points():
            t1 = time.perf_counter()
            params = estimators.sized_params(model_type, spec, point_params, len(y_train))
            est = estimators.make_estimator(model_type, spec, params, config.seed, config.n_jobs)
            est, facts = estimators.fit_estimator(
                model_type, est, data.train, y_train, spec, (data.validation, y_val)
            )
            p_val = est.predict_proba(data.validation)[:, 1]
            values = point_metrics(y_val, p_val, search_capacities)
            point = SearchPoint(
                params,
                _selection_score(config.selection_metric, values),  # chooses in memory; never shown withheld
                withheld_point_selections(values, y_val.size, search_capacities, int(y_val.sum())),
                time.perf_counter() - t1,
                facts,
            )
            search.append(point)
            log(
                f"  {model_type} {_short(params, spec)}: {config.selection_metric} "
                f"{shown_score(point, config.selection_metric)} ({point.fit_seconds:.1f}s)"
            )
            if best is None or point.score > best[0]:
                best = (point.score, point, est)
        assert best is not None  # grid_points always yields at least one point
        _, chosen, est = best
        params = dict(chosen.params)
        if refit:
            params = estimators.refit_params(model_type, chosen.params, chosen.facts)  # leaf size as searched
            est = estimators.make_estimator(model_type, spec, params, config.seed, config.n_jobs)
            est, _ = estimators.fit_estimator(model_type, est, data.fit, y_fit, spec, eval_set=None)
        calibrated = CalibratedClassifier(est, method=config.calibration.method).fit(data.calibration, y_cal)
        # The calibration pupils' mean model input: the logistic explanation's reference point.
        calibrated.background_mean_ = _transformed_mean(data.calibration)
        pipeline = estimators.assemble(copy.deepcopy(data.pre_fit), calibrated)
        train_seconds = time.perf_counter() - t0
        p_cal = calibrated.predict_proba(data.calibration)[:, 1]
        p_test = pipeline.predict_proba(X_test)[:, 1]
        results[model_type] = ModelResult(
            model_type=model_type,
            params=params,
            search=search,
            pipeline=pipeline,
            train_seconds=train_seconds,
            cpu_seconds=time.process_time() - cpu0,
            test_probability=p_test,
            capacity_thresholds=_thresholds(p_cal, capacities),
            # thresholds fitted on the validation year's calibration pupils, with what picks them again
            # (`score --capacity` re-cuts on them); each band's precision measured on the test year
            scoring_config=scoring_config_from_probabilities(
                p_cal, split.validation, test=Outcomes(split.test, p_test, y_test, config.label),
                cut_on=held_out.to_dict(),
            ),
        )
        log(
            f"{model_type}: chosen {_short(chosen.params, spec)}, trained in {train_seconds:.1f}s "
            f"({results[model_type].cpu_seconds:.1f}s CPU)"
        )

    t0 = time.perf_counter()
    checklist = ChecklistBaseline().fit(calib, y_cal)
    scores = {name: r.test_probability for name, r in results.items()}
    scores[CHECKLIST] = checklist.predict_proba(test)
    evaluations = evaluate(
        y_test,
        scores,
        capacities,
        n_boot=config.metrics.bootstrap,
        seed=config.seed,
        level=config.metrics.level,
    )
    gains = {name: evaluations[name].gain_over(evaluations[CHECKLIST]) for name in results}
    seconds = {
        **{f"train_{name}": r.train_seconds for name, r in results.items()},
        "evaluate": time.perf_counter() - t0,
        "total": time.perf_counter() - started,
    }
    return TrainingResult(
        config,
        split,
        list(feature_cols),
        results,
        evaluations,
        gains,
        counts,
        seconds,
        test_labels=y_test,
        test_scores=scores,
        test_frame=X_test,
        test_pupils=pd.DataFrame({"upn": test["upn"].astype(str).to_numpy(),
                                  "need_level": need_levels(test)}),
        drift_profile=training_profile(
            table, fitted_years(split, config), drift_context, feature_cols,
            {"census": config.census_term, "label": config.label},
        ),
    )


# ---------------------------------------------------------------------------------------------
# From extracts to the training table: link (or read earlier links) -> pupil history -> features
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainingData:
    table: pd.DataFrame  # the feature table (pupil rows: memory only, never logged)
    feature_cols: list[str]
    files: list  # extract files read (hashed into the fingerprint)
    counts: dict[str, Any]  # rows per extract, links per source, pupils per year
    seconds: dict[str, float]
    drift_context: DriftContext | None = None  # link and exclusion rates per year, for the drift profile
    # named splits only: later years with the reference census and complete outcomes, left out
    later_complete_years: list[str] = field(default_factory=list)
    data_warnings: list[str] = field(default_factory=list)  # what the links do not match in the extracts


def fitted_years(split: YearSplit, config: ExperimentConfig) -> list[str]:
    """The years the final models were fitted on: train years, and the validation year when refit."""
    return [*split.train, split.validation] if config.splits.refit else list(split.train)


def model_features(config: ExperimentConfig) -> list[str]:
    """Registry features the models take, per the config's feature set and those that can have a value at
    its census (an autumn model does not take this year's attendance so far, missing by definition)."""
    names = feature_names(include_protected=config.features.include_protected, census=config.census_term)
    known = {f.name for f in FEATURES}
    unknown = [n for n in config.features.exclude if n not in known]
    if unknown:
        raise TrainingError(f"features.exclude names unknown features: {', '.join(unknown)}")
    cols = [n for n in names if n not in set(config.features.exclude)]
    if not cols:
        raise TrainingError("the feature set is empty")
    return cols


def _needed_years(config: ExperimentConfig, census_years: list[str]) -> list[str]:
    s = config.splits
    if s.train != "auto":
        return sorted({*s.train, s.validation, s.test})
    # The first census year has no earlier year to describe, so it only feeds later years' features.
    return census_years[1:]


def complete_years(history, years: list[str]) -> list[str]:
    """The years of `years` whose outcomes are complete in the linked history: those a feature table
    labels (`features.labels.complete_through`, the rule `evaluate` and `describe` apply)."""
    through = complete_through(prepare(history))
    return [] if through is None else [y for y in years if calendar.start_year(y) <= through]


def later_complete_years(history, config: ExperimentConfig, census_years: list[str]) -> list[str]:
    """With named splits, the years after the named test year that have the reference census and
    complete outcomes: the run leaves them out (`auto` splits would test on the latest of them)."""
    test = config.splits.test
    if test == "auto":
        return []
    later = [y for y in census_years if calendar.start_year(y) > calendar.start_year(test)]
    return complete_years(history, later) if later else []


def split_tags(config: ExperimentConfig, later: list[str], data_warnings: int = 0) -> dict[str, str]:
    """Tags of a train run and its versions saying how the years were chosen: `splits` (`auto`: they
    follow the data; `named`: the config's), and `later_complete_years` where named years leave some out;
    `data_warnings`, the number of warnings the read gave on the links and extracts (`promote` says so:
    a retrain on last year's links, promoted over a newer champion, carried no trace of them)."""
    tags = {"splits": "auto" if config.splits.test == "auto" else "named"}
    if later:
        tags["later_complete_years"] = ",".join(later)
    if data_warnings:
        tags["data_warnings"] = str(data_warnings)
    return tags


def later_years_warning(split: YearSplit, later: list[str]) -> str | None:
    """What `train` says when named years leave later complete years out; None when none are."""
    if not later:
        return None
    years = ", ".join(later)
    return (
        f"warning: the config names the years ({split.describe()}), but the extracts also hold "
        f"{years} with complete outcomes, which this run leaves out: these models are not tested on the "
        f"latest year. To train on it, set `splits` to auto (the default, which follows the data: test "
        f"year {later[-1]}); name years only to repeat an earlier run or back-test a scoring. Recorded on "
        f"the run and its versions (tag later_complete_years={','.join(later)})."
    )


def load_training_data(
    data_dir, config: ExperimentConfig, links_dir=None, log: Callable[[str], None] = lambda _m: None,
    warn: Callable[[str], None] | None = None,
) -> TrainingData:
    """Read the extracts, link them (or read `links_dir/links.csv`), and build the feature table.
    Warnings go to `warn` (default: `log`): `train --quiet` silences its progress, never a warning."""
    data_dir = Path(data_dir)
    linked = load_linked(data_dir, links_dir)
    extracts, links, history = linked.extracts, linked.links, linked.history
    seconds = dict(linked.seconds)
    log(f"linked in {seconds['link']:.1f}s: {len(links):,} links")
    for warning in linked.warnings:
        (warn or log)(f"warning: {warning}")
    term = config.census_term
    available = calendar.census_years(history.census, term)
    years = _needed_years(config, available)
    missing = [y for y in years if y not in available]
    if missing:
        raise TrainingError(
            f"config needs year(s) {', '.join(missing)} but the census has a {config.census} census for "
            f"{', '.join(available) or 'none'}"
        )
    if not years:
        raise TrainingError(f"the census has too few years with a {config.census} census to train on "
                            f"({', '.join(available) or 'none'})")  # fmt: skip
    t0 = time.perf_counter()
    table = build_feature_table(history, years, label=config.label, census=term)
    seconds["features"] = time.perf_counter() - t0
    log(f"features in {seconds['features']:.1f}s: {len(table):,} pupil-years")
    counts = {
        "census_rows": int(len(extracts.census)),
        "exclusion_rows": int(len(extracts.exclusions)),
        "social_care_rows": int(len(extracts.social_care)),
        "rejected_rows": int(len(extracts.rejects)) if getattr(extracts, "rejects", None) is not None else 0,
        "links": {str(k): int(v) for k, v in links["source"].value_counts().sort_index().items()},
        "linked_exclusion_rows": int(len(history.exclusions)),
        "linked_social_care_rows": int(len(history.social_care)),
    }
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))
    later = later_complete_years(history, config, available)
    features = model_features(config)
    area = home_area_lines(table, history.census) if "idaci_decile" in features else []  # blank deciles
    for warning in area:
        (warn or log)(f"warning: {warning}")
    return TrainingData(table, features, files, counts, seconds, context_of(linked), later,
                        [*linked.warnings, *area])  # fmt: skip
