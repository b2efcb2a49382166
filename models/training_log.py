"""What one `exclusion-risk train` records in MLflow (through `models.tracking`), and the registered versions.

One train = one parent run plus one nested run per model and one for the checklist:
  parent run (tag `kind=train`, `train_id` = its run id)
    params     label, census (the reference census), years, feature set, calibration, selection metric,
               seed, config hash, data hash
    artifacts  config/experiment.yaml (the resolved config), data/fingerprint.json (`models.fingerprint`:
               file hashes, row counts per extract, year and label counts: never rows),
               data/split_counts.json, search/search.csv (every grid point's validation metrics),
               comparison/metrics.csv + comparison.md, comparison/differences.csv (paired test-year
               differences: each pair of models and each model vs the checklist), plots/evaluation.png
               (calibration curve with 95% CIs, precision at k, ROC: all models and the checklist on the
               test year);
               metrics `checklist_<metric>`
  model run (tag `kind=model`, `model_type`, `train_id`), one per model type
    params     the fitted estimator's settings; metrics on the test year: `roc_auc`, `average_precision`,
               `brier`, `calibration_error`, `precision_at_{k}pct`, `recall_at_{k}pct`, each with
               `<metric>_ci_low` / `_ci_high`, and `gain_<metric>` (+ CI) over the checklist;
               `validation_score`, `validation_<metric>` (the chosen setting on the validation year:
               what `promote --best` chooses by), `train_seconds`, `threshold_at_{k}pct` (calibrated
               probability at the top k% of the held-out calibration pupils)
    artifacts  evaluation/metrics.json (metrics + calibration curve: a bin's rate withheld where evaluate's
               tables for the test year withhold its count or, beside them, it gives 1-9 back:
               `models.stored_curve`), plots/evaluation.png,
               scoring/scoring_config.json (risk-matrix thresholds, `models.risk_matrix.ScoringConfig`,
               cut on the calibration pupils, with `cut_on`: the rule, share and seed that pick them
               again, `models.held_out`; no identifiers),
               drift/reference_profile.json (the training years' feature cells and shares, link and
               exclusion rates: `models.drift`, aggregates only),
               shap/ (beeswarm, mean |SHAP| bar chart and table on up to 2,000 test-year pupils),
               importance/permutation.json (only with `permutation_importance: true`, as the `study`
               preset sets: the fall in test-year average precision when each input is shuffled),
               model_card.md (`models.model_card`) and the model `model/`: one sklearn Pipeline, steps
               `preprocess` (features.preprocess, categories fixed at fit) and `model`
               (`CalibratedClassifier`: `.estimator` the raw fitted classifier, `.slope_`/`.intercept_`
               the log-odds map, `.background_mean_` the calibration pupils' mean transformed input),
               logged as `tracking.log_model` describes
  checklist run (tag `kind=baseline`): the same metrics for the points checklist, no model
Registry
  `exclusion-risk`: one version per model type per train run, tagged `model_type`, `train_id`, `run_id`,
  `label`, `census` (the reference census: autumn, spring or summer; versions registered before it
  was recorded have none and were trained at autumn), `train_years` (the search's train years),
  `validation_year` (settings chosen; calibration and band thresholds on its held-out calibration
  pupils), `fitted_years` (the years the final model was fitted on: train + validation year less the
  calibration pupils when refit; versions registered before it have none: `models.fitting_words`),
  `test_year`, `splits` (`auto`: the years followed the data; `named`: the config's), `later_complete_years`
  (named years only: later years with complete outcomes the run left out, which `train` warned of),
  `features` (comma list), `include_protected`,
  `calibration`, `config_hash`, `data_hash`, `metric.<name>` (estimate) and `metric.<name>.ci`
  ("low-high"), `threshold.<k>pct`. `promote` (`models.promotion`) sets alias `champion`.
Only aggregates leave the process: per-pupil rows stay in memory (see `tracking`'s privacy guard).
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import yaml

from exclusion_risk.files import csv_text
from exclusion_risk.models import plots, tracking
from exclusion_risk.models.checklist import ChecklistBaseline
from exclusion_risk.models.comparison import (
    DIFFERENCES_ARTIFACT,
    comparison_frame,
    difference_frame,
    format_comparison,
    search_table,
    verdict,
)
from exclusion_risk.models.drift import PROFILE_ARTIFACT
from exclusion_risk.models.evaluate import shown_positives
from exclusion_risk.models.explain import Explainer
from exclusion_risk.models.metrics import Evaluation, Interval
from exclusion_risk.models.model_card import model_card
from exclusion_risk.models.risk_matrix import ScoringConfig, matrix_for
from exclusion_risk.models.stored_curve import ScoredTestYear, withheld_bins
from exclusion_risk.models.train import CHECKLIST, TrainingResult, fitted_years, published_score
from exclusion_risk.privacy import TOTAL, is_withheld, suppress_table

# Test-year pupils the SHAP summaries of each model are drawn from.
SHAP_SAMPLE = 2000
# Permutation importance (only when the experiment config asks: the `study` preset does): its artifact
# and the shuffles per input.
PERMUTATION_ARTIFACT = "importance/permutation.json"
PERMUTATION_REPEATS = 5


@dataclass
class TrainRecord:
    train_id: str  # the parent run id
    experiment_id: str
    runs: dict[str, str]  # model type (and "checklist") -> run id
    versions: dict[str, str]  # model type -> registered version


def metric_values(evaluation: Evaluation, gains: dict[str, Interval] | None = None) -> dict[str, float]:
    """Flat MLflow metrics: each metric, its interval, and its gain over the checklist."""
    out: dict[str, float] = {}
    for name, iv in evaluation.metrics.items():
        out[name] = iv.estimate
        out[f"{name}_ci_low"] = iv.low
        out[f"{name}_ci_high"] = iv.high
    for name, iv in (gains or {}).items():
        out[f"gain_{name}"] = iv.estimate
        out[f"gain_{name}_ci_low"] = iv.low
        out[f"gain_{name}_ci_high"] = iv.high
    return {k: float(v) for k, v in out.items() if np.isfinite(v)}


def _shown_bins(evaluation: Evaluation, test: ScoredTestYear | None = None) -> np.ndarray:
    """Which of the calibration curve's bins may be published, stored or drawn: those whose count with
    the outcome `evaluate`'s tenths table would show (shown_positives), as a rate times its bin's pupils
    gives the count back (a count of 1-9 withheld on the page had been exact in the stored curve); and,
    given the `test` year's pupils as the model scored them, none where evaluate's tables for that year
    withhold the same pupils' count or, beside them, it would pin a count of 1-9
    (`stored_curve.withheld_bins`: on the demo bin 9's 281 was evaluate's withheld tenth 2, and gave
    back 4 excluded among 165 pupils)."""
    c = evaluation.calibration
    count = np.asarray(c.count, dtype=int)
    positives = np.rint(np.asarray(c.observed, dtype=float) * count).astype(int)
    shown = shown_positives(pd.DataFrame({"positives": positives, "others": count - positives})).to_numpy()
    kept = np.array([not is_withheld(v) for v in shown], dtype=bool)
    if test is not None:
        kept[sorted(withheld_bins(test, kept.tolist()))] = False
    return kept


def _evaluation_json(evaluation: Evaluation, test: ScoredTestYear | None = None,
                     kept: np.ndarray | None = None) -> dict[str, Any]:
    """The run's evaluation as stored: the calibration curve's observed rate and interval only in the
    bins `kept`, by default those `_shown_bins` allows given the `test` year."""
    kept = _shown_bins(evaluation, test) if kept is None else kept
    c = evaluation.calibration
    count = np.asarray(c.count, dtype=int)

    def where_shown(values) -> list[float | None]:
        return [float(v) if k else None for v, k in zip(np.asarray(values, dtype=float), kept, strict=True)]

    return {
        "metrics": {
            k: {"estimate": v.estimate, "low": v.low, "high": v.high} for k, v in evaluation.metrics.items()
        },
        "calibration_curve": {
            "predicted": np.asarray(c.predicted, dtype=float).tolist(),
            "observed": where_shown(c.observed),
            "low": where_shown(c.low),
            "high": where_shown(c.high),
            # as evaluate's tenths sizes: the bins' total is known, so one withheld size has a partner
            "count": suppress_table(pd.DataFrame({"pupils": count}), row_totals=False)["pupils"]
            .drop(index=TOTAL).tolist(),
        },
        "level": evaluation.level,
    }


def _test_year(result: TrainingResult, model_type: str) -> ScoredTestYear | None:
    """The test year's pupils as `model_type` scored them (None where the result kept none): what
    `evaluate` back-tests for that year, placed with the version's stored thresholds."""
    pupils, model = result.test_pupils, result.models[model_type]
    if pupils is None or model_type not in result.test_scores or not len(result.test_labels):
        return None
    stored = model.scoring_config
    return ScoredTestYear(
        probabilities=result.test_scores[model_type], labels=result.test_labels,
        upns=pupils["upn"].to_numpy(), need_levels=pupils["need_level"].to_numpy(),
        matrix=matrix_for(ScoringConfig.from_dict(stored) if stored else None),
        capacities=list(result.config.metrics.capacities),
        band_precision=(stored or {}).get("band_precision"),
    )  # fmt: skip


def _log_figure(figure, path: str) -> None:
    tracking.log_figure(figure, path)
    plots.close(figure)


def log_training(
    result: TrainingResult,
    fingerprint: dict[str, Any],
    extra_tags: dict[str, str] | None = None,
) -> TrainRecord:
    """Record a training result as described in the module docstring; returns the ids."""
    config = result.config
    experiment_id = tracking.setup(config.experiment)
    split = result.split
    run_tags = {
        "label": config.label,
        "census": config.census,
        "train_years": ",".join(split.train),
        "validation_year": split.validation,
        "test_year": split.test,
        "fitted_years": ",".join(fitted_years(split, config)),
        "config_hash": config.fingerprint(),
        "data_hash": fingerprint["data_hash"],
        **(extra_tags or {}),
    }
    runs: dict[str, str] = {}
    versions: dict[str, str] = {}
    with tracking.start_run(experiment_id, f"train {split.test}") as parent:
        train_id = parent.info.run_id
        tracking.set_tags({"kind": "train", "train_id": train_id, **run_tags})
        # each curve's publishable bins once: the stored curve and both figures withhold the same
        shown_bins = {name: _shown_bins(evaluation, _test_year(result, name) if name != CHECKLIST else None)
                      for name, evaluation in result.evaluations.items()}  # fmt: skip
        _log_train_run(result, fingerprint, shown_bins)
        for model_type in result.models:
            with tracking.start_run(experiment_id, model_type, nested=True) as run:
                run_id = runs[model_type] = run.info.run_id
                tracking.set_tags(
                    {"kind": "model", "model_type": model_type, "train_id": train_id, **run_tags}
                )
                versions[model_type] = _log_model_run(result, model_type, train_id, run_id, run_tags,
                                                      shown_bins[model_type])  # fmt: skip
        with tracking.start_run(experiment_id, CHECKLIST, nested=True) as run:
            runs[CHECKLIST] = run.info.run_id
            tracking.set_tags({"kind": "baseline", "model_type": CHECKLIST, "train_id": train_id, **run_tags})
            tracking.log_text("\n".join(ChecklistBaseline.describe()) + "\n", "checklist/points.txt")
            tracking.log_metrics(metric_values(result.evaluations[CHECKLIST]))
            tracking.log_json(_evaluation_json(result.evaluations[CHECKLIST], kept=shown_bins[CHECKLIST]),
                              "evaluation/metrics.json")  # fmt: skip
    return TrainRecord(train_id, experiment_id, runs, versions)


def _log_train_run(result: TrainingResult, fingerprint: dict[str, Any],
                   shown_bins: dict[str, np.ndarray]) -> None:
    """The parent run's params, artifacts and checklist metrics."""
    config, split = result.config, result.split
    tracking.log_params({
        "label": config.label, "census": config.census, "train_years": ",".join(split.train),
        "validation_year": split.validation, "test_year": split.test, "refit": config.splits.refit,
        "include_protected": config.features.include_protected, "n_features": len(result.feature_cols),
        "calibration": config.calibration.method, "calibration_holdout": config.calibration.holdout,
        "selection_metric": config.selection_metric, "bootstrap": config.metrics.bootstrap,
        "seed": config.seed, "models": ",".join(result.models), "config_hash": config.fingerprint(),
        "data_hash": fingerprint["data_hash"],
    })  # fmt: skip
    tracking.log_text(yaml.safe_dump(config.as_dict(), sort_keys=False), "config/experiment.yaml")
    tracking.log_json(fingerprint, "data/fingerprint.json")
    tracking.log_json({"rows": result.counts, "seconds": result.seconds}, "data/split_counts.json")
    tracking.log_text(csv_text(search_table(result)), "search/search.csv")
    table = comparison_frame(result)
    tracking.log_text(csv_text(table), "comparison/metrics.csv")
    differences = difference_frame(result)
    comparison = format_comparison(table) + "\n" + verdict(table, differences)
    tracking.log_text(comparison, "comparison/comparison.md")
    tracking.log_text(csv_text(differences), DIFFERENCES_ARTIFACT)
    title = f"Test year {split.test}: models and checklist"
    _log_figure(plots.evaluation_figure(result.evaluations, result.test_labels, result.test_scores, title,
                                        shown_bins), "plots/evaluation.png")  # fmt: skip
    tracking.log_metrics(
        {f"{CHECKLIST}_{k}": v for k, v in metric_values(result.evaluations[CHECKLIST]).items()}
    )


def _log_model_run(
    result: TrainingResult, model_type: str, train_id: str, run_id: str, run_tags: dict[str, Any],
    kept: np.ndarray,
) -> str:
    """The active model run's params, metrics, artifacts and model; registers it and returns the version."""
    config, split = result.config, result.split
    model, evaluation = result.models[model_type], result.evaluations[model_type]
    spec_weight = {"class_weight": config.models[model_type].class_weight}
    tracking.log_params({**spec_weight, **model.params, "calibration": config.calibration.method})
    metrics = metric_values(evaluation, result.gains[model_type])
    best_point = max(model.search, key=lambda p: p.score)
    metrics["validation_score"] = published_score(best_point, config.selection_metric)
    # The chosen setting's validation-year metrics: what `promote --best` chooses by (never the test year).
    # A withheld one (NaN: its top k% holds 1-9 pupils) is not logged; promote says why it cannot use it.
    metrics.update({f"validation_{k}": v for k, v in best_point.validation.items()})
    withheld = [k for k, v in best_point.validation.items() if isinstance(v, float) and math.isnan(v)]
    if withheld:
        tracking.set_tags({tracking.VALIDATION_WITHHELD_TAG: ",".join(withheld)})
    metrics = {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}
    metrics["train_seconds"] = model.train_seconds
    metrics.update({f"threshold_at_{k}": v for k, v in model.capacity_thresholds.items()})
    tracking.log_metrics(metrics)
    tracking.log_json(_evaluation_json(evaluation, kept=kept), "evaluation/metrics.json")
    if model.scoring_config:  # risk-matrix thresholds, read back by the scorer and the fairness review
        tracking.log_json(model.scoring_config, tracking.SCORING_ARTIFACT)
    if result.drift_profile:  # the training years' aggregates that `score` checks a cohort's drift against
        tracking.log_json(result.drift_profile, PROFILE_ARTIFACT)
    own = {model_type: result.test_scores[model_type]}
    title = f"{model_type}, test year {split.test}"
    _log_figure(plots.evaluation_figure({model_type: evaluation}, result.test_labels, own, title,
                                        {model_type: kept}),
                "plots/evaluation.png")  # fmt: skip
    model_uri = tracking.log_model(model.pipeline, result.test_frame)
    if result.test_frame is not None:
        explainer = Explainer(model.pipeline)
        importance = log_global_explanations(
            explainer, result.test_frame[result.feature_cols], model_type, SHAP_SAMPLE
        )
        tracking.log_text(model_card(model_type, result, importance, explainer.scale), "model_card.md")
        if config.permutation_importance:
            tracking.log_dict(
                permutation_importance_table(
                    model.pipeline, result.test_frame[result.feature_cols], result.test_labels, config.seed
                ),
                PERMUTATION_ARTIFACT,
            )
    version_tags = {
        "model_type": model_type, "train_id": train_id, "run_id": run_id,
        "features": ",".join(result.feature_cols), "include_protected": config.features.include_protected,
        "calibration": config.calibration.method, **run_tags,
    }  # fmt: skip
    for name in tracking.HEADLINE:
        iv = evaluation.metrics[name]
        if not np.isfinite(iv.estimate):  # withheld (metrics.withhold_small_selections): not stated either
            continue
        version_tags[f"metric.{name}"] = f"{iv.estimate:.6g}"
        version_tags[f"metric.{name}.ci"] = f"{iv.low:.6g}-{iv.high:.6g}"
    for k, v in model.capacity_thresholds.items():
        version_tags[f"threshold.{k}"] = f"{v:.6g}"
    description = f"{model_type}, {split.describe()}, label '{config.label}'"
    return registered_quietly(model_uri, version_tags, description)


# MLflow prints its own "Created version '2' of model ..." lines (eprint, not a logger its level
# governs): `train` says which versions it registered once, in its own words, so only these are dropped
MLFLOW_REGISTRY_LINE = re.compile(r"(Successfully registered model |Registered model .* already exists\. |"
                                  r"Created version )")  # fmt: skip


def registered_quietly(model_uri: str, tags: dict[str, Any], description: str) -> str:
    """`tracking.register_version`, without MLflow's own registry lines on the console (every other line
    it writes there, a warning say, still shown)."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return tracking.register_version(model_uri, tags, description)
    finally:
        for line in said.getvalue().splitlines():
            if line.strip() and not MLFLOW_REGISTRY_LINE.match(line):
                print(line, file=sys.stderr)


def permutation_importance_table(
    pipeline, features: pd.DataFrame, labels: np.ndarray, seed: int, sample_size: int = 5000
) -> dict[str, Any]:
    """Each input's permutation importance on the test year: the fall in average precision when its
    values are shuffled among the pupils (mean and standard deviation over PERMUTATION_REPEATS
    shuffles), on up to `sample_size` pupils. Aggregates only."""
    from sklearn.inspection import permutation_importance

    labels = np.asarray(labels)
    if len(features) > sample_size:
        rows = np.random.default_rng(seed).choice(len(features), sample_size, replace=False)
        features, labels = features.iloc[np.sort(rows)], labels[np.sort(rows)]
    found = permutation_importance(
        pipeline, features, labels, scoring="average_precision", n_repeats=PERMUTATION_REPEATS,
        random_state=seed, n_jobs=1,
    )  # fmt: skip
    order = np.argsort(-found.importances_mean, kind="stable")
    return {
        "scoring": "average_precision (fall when the input is shuffled)",
        "repeats": PERMUTATION_REPEATS,
        "pupils": int(len(features)),
        "importance": {
            str(features.columns[i]): {"mean": float(found.importances_mean[i]),
                                       "std": float(found.importances_std[i])}  # fmt: skip
            for i in order
        },
    }


def log_global_explanations(
    explainer: Explainer, features: pd.DataFrame, title: str, sample_size: int = 5000, seed: int = 0
) -> dict[str, float]:
    """Beeswarm + bar chart + mean |SHAP| table to the active run. Returns mean |SHAP| per feature.

    Only aggregates and plots are logged; no pupil row leaves the process.
    """
    sample = features if len(features) <= sample_size else features.sample(sample_size, random_state=seed)
    explanation = explainer.explain(sample)
    beeswarm, bar = plots.shap_figures(explanation, sample, title)
    tracking.log_figure(beeswarm, "shap/summary_beeswarm.png")
    tracking.log_figure(bar, "shap/mean_abs_shap.png")
    plots.close(beeswarm, bar)
    importance = explanation.mean_abs()
    tracking.log_dict(
        {
            "scale": explanation.scale,
            "explained": "raw model score (calibration maps it monotonically to the probability)",
            "pupils": int(len(sample)),
            "mean_abs_shap": {k: float(v) for k, v in importance.items()},
        },
        "shap/mean_abs_shap.json",
    )
    return {k: float(v) for k, v in importance.items()}
