"""`exclusion-risk review RUN`: the fairness review of a tracked model run on its test year.

The run's registered pipeline scores the test year's pupils, rebuilt from the linked history; the
ablation retrains the same model type with the run's own config, with protected characteristics
toggled (added when the model leaves them out, removed when it uses them), and the per-group
recalibration is fitted on the validation year's calibration pupils (the hold-out the model's own
calibration was fitted on, never trained on). The red list is placed on the risk matrix with the
version's stored thresholds, as `score` places it (`models.fairness_red_list`). The report and
`fairness.json` are logged back to the run (fairness/), unless the extracts are not the run's (its
data fingerprint's validation and test years): then they go to --out alone, or are refused without it.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OrdinalEncoder

from exclusion_risk import calendar
from exclusion_risk.features import registry
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.features.preprocess import make_preprocessor
from exclusion_risk.linkage.history import PupilHistory
from exclusion_risk.models import tracking
from exclusion_risk.models.config import ExperimentConfig, load_config
from exclusion_risk.models.explain import Explainer
from exclusion_risk.models.fairness import FAIRNESS_JSON, FairnessReview, review, review_groups
from exclusion_risk.models.fairness_linkage import link_rates_by_group
from exclusion_risk.models.fairness_options import AS_IS, RECALIBRATED, measure_options, recalibrate_by_group
from exclusion_risk.models.fairness_red_list import review_red_list
from exclusion_risk.models.fairness_report import render_report, report_context, summary_json
from exclusion_risk.models.fingerprint import data_differs, kept_years
from exclusion_risk.models.held_out import calibration_pupils, pupil_keys
from exclusion_risk.models.risk_matrix import ScoringConfig, load_risk_matrix, matrix_for
from exclusion_risk.models.train import train_models

# Bootstrap replicates of the ablation's retraining: its own intervals are not reported.
_ABLATION_BOOTSTRAP = 50


class OtherData(ValueError):
    """The extracts given are not those the run was trained on, and the review has nowhere but the run to
    go (no --out): another authority's review logged onto the run was read by every later scoring."""


@dataclass
class RunTarget:
    run_id: str
    version: str | None  # None for a model run that was never registered
    tags: dict


def resolve_run(text: str) -> RunTarget:
    """A model run from anything naming a registered version (`tracking.resolve_version`: alias, version
    number, run id or its first 8+ characters) or the exact id of an unregistered model run."""
    uri = tracking.setup_read()
    version = tracking.resolve_version(text)
    if version is not None:
        return RunTarget(version.run_id, str(version.version), dict(version.tags))
    run = tracking.get_run(text)
    if run is None:
        raise LookupError(f"no model run or registry version matches {text!r} in {uri}")
    if run.data.tags.get("kind") != "model":
        raise LookupError(f"run {text[:8]} is not a model run (kind={run.data.tags.get('kind')!r})")
    return RunTarget(run.info.run_id, None, dict(run.data.tags))


def _preprocessor_factory(fitted_preprocessor: ColumnTransformer) -> Callable[..., ColumnTransformer]:
    """make_preprocessor with the settings the fitted one was built with, for other feature lists."""
    steps = {}
    for name, transformer, _ in fitted_preprocessor.transformers:
        if hasattr(transformer, "named_steps"):
            steps[name] = transformer.named_steps
    numeric = steps.get("numeric", {})
    categorical = steps.get("categorical", {})
    encoding = "ordinal" if isinstance(categorical.get("encode"), OrdinalEncoder) else "onehot"
    return functools.partial(
        make_preprocessor, missing="impute" if "impute" in numeric else "keep", scale="scale" in numeric,
        encoding=encoding,
    )  # fmt: skip


def _stored_config(train_id: str) -> ExperimentConfig:
    """The run's resolved experiment config as its training run stored it."""
    with tempfile.TemporaryDirectory() as folder:
        return load_config(tracking.download_artifact(train_id, "config/experiment.yaml", folder))


def _run_config(train_id: str, model_type: str, include_protected: bool) -> ExperimentConfig:
    """The run's resolved experiment config, narrowed to one model type, protected inputs toggled."""
    config = _stored_config(train_id)
    models = {
        name: spec.model_copy(update={"enabled": name == model_type}) for name, spec in config.models.items()
    }
    return config.model_copy(update={
        "models": models,
        "features": config.features.model_copy(update={"include_protected": include_protected}),
        "metrics": config.metrics.model_copy(update={"bootstrap": _ABLATION_BOOTSTRAP}),
    })  # fmt: skip


def calibration_rows(validation: pd.DataFrame, config: ExperimentConfig) -> pd.DataFrame:
    """The validation year's calibration pupils (`models.train.calibration_pupils` with the run's holdout
    and seed): held out of training, so the per-group recalibration is fitted on pupils the model never
    saw, as its own calibration was."""
    return validation[calibration_pupils(pupil_keys(validation), config.calibration.holdout, config.seed)]


def review_run(
    target: RunTarget,
    history: PupilHistory,
    capacity: float | None,
    ablation: bool = True,
    n_boot: int = 500,
    linkage_report: dict | None = None,
    other_data: bool = False,
) -> tuple[FairnessReview, str, str]:
    """Review a model run on its test year: (the review, the report's HTML, `fairness.json`'s text), the
    two logged to the run.
    `linkage_report`: the `link` run's report.json, for each group's link rate (none: not reviewed).
    Extracts whose validation or test year is not the one the run was trained on (another authority's,
    a later export) are refused (OtherData) before the review's work, unless `other_data`: then the
    review says so (`model["other_data"]`) and is not logged to the run, whose review later scorings read."""
    tags = target.tags
    test_year = tags.get("test_year")
    train_years = [y for y in tags.get("train_years", "").split(",") if y]
    validation_year = tags.get("validation_year")
    if not test_year or not validation_year:
        raise LookupError(f"run {target.run_id[:8]} has no test_year/validation_year tags")
    pipeline = tracking.load_run_model(target.run_id)
    features = list(pipeline[0].feature_names_in_)
    label = tags.get("label", "any")
    # reviewed at the census it was trained for (a run from before the census was recorded: autumn)
    census = calendar.parse_census(tags.get("census") or calendar.AUTUMN)
    years = [*train_years, validation_year, test_year] if ablation else [validation_year, test_year]
    table = build_feature_table(history, years, label=label, census=census)
    test = table[(table["AcademicYear"] == test_year) & table["label"].notna()].reset_index(drop=True)
    if test.empty:
        raise ValueError(f"no labelled pupils for the test year {test_year} in the data")
    differs = data_differs(kept_years(tags.get("train_id")), table, [validation_year, test_year])
    if differs and not other_data:
        raise OtherData(
            f"these extracts are not the ones run {target.run_id[:8]} was trained on ({differs}): a review "
            "of them is not the model's own, and is not logged to the run, where later scorings read its "
            "findings. Give --out to write it there alone, or the run's own extracts and links"
        )
    y = test["label"].to_numpy()
    p = pipeline.predict_proba(test[features])[:, 1]
    explanation = Explainer(pipeline).explain(test)
    contributions = explanation.frame()
    protected_used = [f for f in registry.protected_names() if f in features]
    matrix = load_risk_matrix()
    capacity = capacity or matrix.capacity

    ablated = None
    direction = "without protected characteristics" if protected_used else "with protected characteristics"
    if ablation:
        toggled = not protected_used
        config = _run_config(tags["train_id"], tags["model_type"], include_protected=toggled)
        if toggled:
            columns = [*features, *[f for f in registry.protected_names() if f not in features]]
        else:
            columns = [f for f in features if f not in protected_used]
        retrained = train_models(table, config, columns, _preprocessor_factory(pipeline[0]))
        ablated = retrained.models[tags["model_type"]].pipeline.predict_proba(test[columns])[:, 1]

    # Per-group recalibration, fitted on the validation year's calibration pupils (held out of training).
    validation = table[(table["AcademicYear"] == validation_year) & table["label"].notna()]
    stored_config = _stored_config(tags["train_id"])
    validation = calibration_rows(validation, stored_config)
    recalibrated = None
    if validation["label"].nunique() == 2:
        recalibrated = recalibrate_by_group(
            pipeline.predict_proba(validation[features])[:, 1], validation["label"].to_numpy(),
            review_groups(validation), p, review_groups(test),
        )  # fmt: skip

    # Runs logged before thresholds were stored show the risk-matrix file's defaults.
    stored = tracking.load_scoring_config(target.run_id)
    try:
        scoring_config = None if stored is None else ScoringConfig.from_dict(stored)
    except (KeyError, TypeError, ValueError, AttributeError):  # not the shape this release writes
        scoring_config = None  # as for runs without them: the file's thresholds (thresholds_source "default")
    scored = matrix_for(scoring_config, matrix)  # the matrix `score` places this version's pupils on
    model = {"model_type": tags.get("model_type"), "version": target.version, "run_id": target.run_id,
             "year": test_year, "include_protected": bool(protected_used), "label": label,
             "other_data": differs or ""}  # fmt: skip
    result = review(
        y, p, test, capacity, model, contributions=contributions, protected_used=protected_used,
        ablated_probabilities=ablated, ablation_direction=direction,
        risk_matrix=scored.to_dict(), n_boot=n_boot, shap_scale=explanation.scale, seed=stored_config.seed,
    )  # fmt: skip
    options = {AS_IS: p, f"retrained {direction}": ablated, RECALIBRATED: recalibrated}
    options = {name: q for name, q in options.items() if q is not None}
    references = {a.attribute: a.reference for a in result.attributes}
    # The run's own bootstrap seed: with its replicate count (--bootstrap, default the experiment's 500) the
    # model as is has the interval the train run stated for its test-year precision, not a second one.
    result.options = measure_options(
        y, options, review_groups(test), capacity, references, n_boot=n_boot, seed=stored_config.seed
    )
    result.linkage = link_rates_by_group(linkage_report)
    result.red_list = review_red_list(y, p, test, scored, capacity, references, n_boot=n_boot,
                                      seed=stored_config.seed)
    context = report_context(result)  # the report's numbers, built once for the page and fairness.json
    html, summary = render_report(result, context), fairness_json(result, context)
    if not differs:  # another data's review is the --out file's alone
        tracking.log_run_text(target.run_id, html, "fairness/fairness_report.html", "fairness report")
        tracking.log_run_text(target.run_id, summary, f"fairness/{FAIRNESS_JSON}", "fairness summary")
    return result, html, summary


def fairness_json(result: FairnessReview, context: dict | None = None) -> str:
    """`fairness.json`'s text: the report's numbers as published (`summary_json`, from `context` where
    given); numpy numbers as JSON numbers, undefined numbers (NaN, infinite) as null, anything else
    unexpected as text."""
    return json.dumps(_plain(summary_json(result, context)), indent=2, allow_nan=False)


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    return value if value is None or isinstance(value, str | int | bool) else str(value)
