"""MLflow for the models stage: store set-up, run logging, data fingerprint, plots, registry, privacy guard.

Store
  Tracking URI: `MLFLOW_TRACKING_URI`, else `sqlite:///<cwd>/mlruns/mlflow.db` (MLflow's own convention:
  `./mlruns` under the folder the command runs in; never inside the installed package). For a SQLite or file
  store the experiment is created with its artifacts beside the database (`<dir>/artifacts`); a
  tracking server decides its own artifact location.

One `exclusion-risk train` = one parent run plus one nested run per model and one for the checklist:
  parent run (tag `kind=train`, `train_id` = its run id)
    params     label, years, feature set, calibration, selection metric, seed, config hash, data hash
    artifacts  config/experiment.yaml (the resolved config), data/fingerprint.json (file hashes, row
               counts per extract, year and label counts: never rows), search/search.csv (every grid
               point's validation metrics), comparison/metrics.csv + comparison.md,
               plots/evaluation.png (calibration curve with 95% CIs, precision at k, ROC: all models
               and the checklist on the test year); metrics `checklist_<metric>`
  model run (tag `kind=model`, `model_type`, `train_id`), one per model type
    params     the fitted estimator's settings; metrics on the test year: `roc_auc`, `average_precision`,
               `brier`, `calibration_error`, `precision_at_{k}pct`, `recall_at_{k}pct`, each with
               `<metric>_ci_low` / `_ci_high`, and `gain_<metric>` (+ CI) over the checklist;
               `validation_score`, `train_seconds`, `threshold_at_{k}pct` (calibrated probability at
               the top k% of the held-out calibration pupils)
    artifacts  evaluation/metrics.json (metrics + calibration curve), plots/evaluation.png,
               scoring/scoring_config.json (risk-matrix thresholds, `models.scoring`) and the model
               `model/`: one sklearn Pipeline, steps `preprocess` (features.preprocess, categories fixed
               at fit) and `model` (`CalibratedClassifier`: `.estimator` the raw fitted classifier,
               `.slope_`/`.intercept_` the log-odds map, `.background_mean_` the calibration pupils'
               mean transformed input), skops format with `TRUSTED_TYPES`, signature (registry
               feature columns -> probabilities), explicit pip requirements, no input example
  checklist run (tag `kind=baseline`): the same metrics for the points checklist, no model
Registry
  `exclusion-risk`: one version per model type per train run, tagged `model_type`, `train_id`, `run_id`,
  `label`, `train_years`, `validation_year`, `test_year`, `features` (comma list), `include_protected`,
  `calibration`, `config_hash`, `data_hash`, `metric.<name>` (estimate) and `metric.<name>.ci`
  ("low-high"), `threshold.<k>pct`. `promote` sets alias `champion` and tags the version
  `promoted_reason`. The pyfunc flavour returns `predict_proba` (n x 2).
Privacy
  Pupil rows, UPNs and names are never logged: no input example, the fingerprint holds hashes and
  counts, and every text artifact, param and tag passes `check_no_identifiers` (a UPN-shaped token
  stops the run). `predict_frame` wraps pyfunc prediction so schema errors, which MLflow writes with
  the offending rows, reach callers as column + reason only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.privacy import check_no_identifiers

REGISTERED_MODEL = "exclusion-risk"
CHAMPION = "champion"
HEADLINE = ("roc_auc", "average_precision", "precision_at_5pct", "brier")
# Types beyond skops' defaults that a registered pipeline holds, named exactly (skops trusts by exact
# name). Listing them up front saves serialising every model twice; a pipeline holding anything else
# fails at log time with skops' "untrusted types" error rather than loading something unvetted later.
TRUSTED_TYPES = [
    "collections.OrderedDict",
    "exclusion_risk.features.preprocess.to_category_frame",
    "exclusion_risk.features.preprocess.to_float_frame",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "exclusion_risk.models.calibration.CalibratedClassifier",
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
]


class ModelInputError(ValueError):
    """A frame does not fit the model's input schema; the message names columns, never values."""


class RegistryError(LookupError):
    """A run, version, metric or alias asked for is not in the store."""


# ---------------------------------------------------------------------------------------------
# Store set-up
# ---------------------------------------------------------------------------------------------


def tracking_uri() -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    store = Path.cwd() / "mlruns"
    store.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store / 'mlflow.db'}"


def artifact_location(uri: str) -> str | None:
    """`<dir>/artifacts` beside a SQLite database or inside a file store; None for a server."""
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///") :]).parent / "artifacts").resolve().as_uri()
    if uri.startswith("file:"):
        from urllib.parse import urlparse

        return (Path(urlparse(uri).path) / "artifacts").resolve().as_uri()
    if "://" not in uri:
        return (Path(uri) / "artifacts").resolve().as_uri()
    return None


def setup_read() -> str:
    """Point MLflow at the store (for reading: creates nothing but the store itself)."""
    import logging

    import mlflow

    # Alembic's migration chatter on a new SQLite store is noise on the command line.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    return uri


def setup(experiment: str) -> str:
    """Point MLflow at the store and return the experiment id (created on first use)."""
    import mlflow

    uri = setup_read()
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(experiment, artifact_location=artifact_location(uri))


# ---------------------------------------------------------------------------------------------
# Privacy guard and data fingerprint
# ---------------------------------------------------------------------------------------------


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_fingerprint(
    files: Iterable[Path],
    table: pd.DataFrame,
    feature_cols: list[str],
    counts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Hashes and counts that identify the data a run used; no row, UPN or name is included."""
    file_facts = {
        p.name: {"sha256": _file_sha256(p), "bytes": p.stat().st_size}
        for p in sorted(files, key=lambda p: p.name)
    }
    per_year = table.groupby("AcademicYear", sort=True)["label"].agg(["size", "count", "sum"])
    years = {
        str(year): {"pupils": int(r["size"]), "labelled": int(r["count"]), "positives": int(r["sum"])}
        for year, r in per_year.iterrows()
    }
    content = pd.util.hash_pandas_object(table[[*feature_cols, "label"]], index=False).to_numpy()
    table_hash = hashlib.sha256(content.tobytes()).hexdigest()
    features_hash = hashlib.sha256(",".join(feature_cols).encode()).hexdigest()
    whole = json.dumps({"files": file_facts, "table": table_hash, "features": features_hash}, sort_keys=True)
    return {
        "data_hash": hashlib.sha256(whole.encode()).hexdigest()[:16],
        "files": file_facts,
        "row_counts": counts or {},
        "feature_table": {"rows": int(len(table)), "sha256": table_hash, "years": years},
        "features": {"names": list(feature_cols), "sha256": features_hash},
    }


# ---------------------------------------------------------------------------------------------
# Plots (aggregates only: curves over the test year)
# ---------------------------------------------------------------------------------------------


def _axes(n: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.4), dpi=90)
    return fig, np.atleast_1d(axes)


def plot_calibration(ax, evaluations: dict) -> None:
    top = 0.0
    for name, ev in evaluations.items():
        c = ev.calibration
        yerr = np.vstack([c.observed - c.low, c.high - c.observed]).clip(min=0)
        ax.errorbar(c.predicted, c.observed, yerr=yerr, marker="o", ms=3, capsize=2, label=name)
        top = max(top, float(np.nanmax(c.high)), float(np.nanmax(c.predicted)))
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="perfect")
    ax.set(xlabel="predicted probability (bin mean)", ylabel="observed exclusion rate",
           title="Calibration (10 equal-count bins, 95% CI)")  # fmt: skip
    ax.legend(fontsize=7)


def plot_precision_at_k(ax, y: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    from exclusion_risk.models.metrics import precision_curve

    ks = [round(k, 4) for k in np.arange(0.005, 0.3001, 0.005)]
    for name, p in scores.items():
        curve = precision_curve(y, p, ks)
        ax.plot(np.array(ks) * 100, [curve[k] for k in ks], label=name)
    ax.axhline(float(np.mean(y)), color="k", ls="--", lw=0.8, label="base rate")
    ax.set(xlabel="top k% of pupils by score (capacity)", ylabel="precision (share excluded)",
           title="Precision at capacity")  # fmt: skip
    ax.legend(fontsize=7)


def plot_roc(ax, y: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    from exclusion_risk.models.metrics import roc_points

    for name, p in scores.items():
        fpr, tpr = roc_points(y, p)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.legend(fontsize=7)


def evaluation_figure(evaluations: dict, y: np.ndarray, scores: dict[str, np.ndarray], title: str):
    """Calibration, precision-at-k and ROC side by side (one image: each PNG costs ~0.3 s to render)."""
    fig, (a, b, c) = _axes(3)
    plot_calibration(a, evaluations)
    plot_precision_at_k(b, y, scores)
    plot_roc(c, y, scores)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _log_figure(fig, path: str) -> None:
    import matplotlib.pyplot as plt
    import mlflow

    mlflow.log_figure(fig, path)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# Logging a training result
# ---------------------------------------------------------------------------------------------


def _log_text(text: str, path: str) -> None:
    import mlflow

    mlflow.log_text(check_no_identifiers(text, path), path)


def _log_json(data: Any, path: str) -> None:
    _log_text(json.dumps(data, indent=2, sort_keys=True, default=_jsonable), path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _params(params: dict[str, Any]) -> dict[str, str]:
    out = {k: str(v)[:500] for k, v in params.items()}
    for key, value in out.items():
        check_no_identifiers(value, f"param {key}")
    return out


def _tags(tags: dict[str, Any]) -> dict[str, str]:
    out = {k: str(v) for k, v in tags.items()}
    for key, value in out.items():
        check_no_identifiers(value, f"tag {key}")
    return out


def metric_values(evaluation, gains=None) -> dict[str, float]:
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


def _evaluation_json(evaluation) -> dict[str, Any]:
    c = evaluation.calibration
    return {
        "metrics": {
            k: {"estimate": v.estimate, "low": v.low, "high": v.high} for k, v in evaluation.metrics.items()
        },
        "calibration_curve": {
            "predicted": c.predicted,
            "observed": c.observed,
            "low": c.low,
            "high": c.high,
            "count": c.count,
        },
        "level": evaluation.level,
    }


def signature_for(frame: pd.DataFrame):
    """Input schema from the feature columns' types (never their values); output: probabilities (n x 2)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    cols = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            cols.append(ColSpec("double", name, required=True))
        else:
            cols.append(ColSpec("string", name, required=True))
    return ModelSignature(inputs=Schema(cols), outputs=Schema([TensorSpec(np.dtype("float64"), (-1, 2))]))


def pip_requirements() -> list[str]:
    """Pinned requirements of the logged model (explicit: MLflow's inference of them is slow)."""
    from importlib.metadata import version

    names = ("scikit-learn", "lightgbm", "skops", "numpy", "pandas", "scipy")
    return [f"{n}=={version(n)}" for n in names]


@dataclass
class TrainRecord:
    train_id: str  # the parent run id
    experiment_id: str
    runs: dict[str, str]  # model type (and "checklist") -> run id
    versions: dict[str, str]  # model type -> registered version


def log_training(
    result,
    fingerprint: dict[str, Any],
    extra_tags: dict[str, str] | None = None,
) -> TrainRecord:
    """Record a `train.TrainingResult` as described in the module docstring; returns the ids."""
    import mlflow
    import yaml
    from mlflow import MlflowClient

    from exclusion_risk.models.train import CHECKLIST

    config = result.config
    experiment_id = setup(config.experiment)
    client = MlflowClient()
    split = result.split
    run_tags = {
        "label": config.label,
        "train_years": ",".join(split.train),
        "validation_year": split.validation,
        "test_year": split.test,
        "config_hash": config.fingerprint(),
        "data_hash": fingerprint["data_hash"],
        **(extra_tags or {}),
    }
    runs: dict[str, str] = {}
    versions: dict[str, str] = {}
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train {split.test}") as parent:
        train_id = parent.info.run_id
        mlflow.set_tags(_tags({"kind": "train", "train_id": train_id, **run_tags}))
        mlflow.log_params(_params({
            "label": config.label, "train_years": ",".join(split.train), "validation_year": split.validation,
            "test_year": split.test, "refit": config.splits.refit,
            "include_protected": config.features.include_protected, "n_features": len(result.feature_cols),
            "calibration": config.calibration.method, "calibration_holdout": config.calibration.holdout,
            "selection_metric": config.selection_metric, "bootstrap": config.metrics.bootstrap,
            "seed": config.seed, "models": ",".join(result.models), "config_hash": config.fingerprint(),
            "data_hash": fingerprint["data_hash"],
        }))  # fmt: skip
        _log_text(yaml.safe_dump(config.as_dict(), sort_keys=False), "config/experiment.yaml")
        _log_json(fingerprint, "data/fingerprint.json")
        _log_json({"rows": result.counts, "seconds": result.seconds}, "data/split_counts.json")
        _log_text(search_table(result).to_csv(index=False), "search/search.csv")
        table = comparison_frame(result)
        _log_text(table.to_csv(index=False), "comparison/metrics.csv")
        _log_text(format_comparison(table), "comparison/comparison.md")
        title = f"Test year {split.test}: models and checklist"
        figure = evaluation_figure(result.evaluations, result.test_labels, result.test_scores, title)
        _log_figure(figure, "plots/evaluation.png")
        mlflow.log_metrics(
            {f"{CHECKLIST}_{k}": v for k, v in metric_values(result.evaluations[CHECKLIST]).items()}
        )

        for model_type, model in result.models.items():
            evaluation = result.evaluations[model_type]
            with mlflow.start_run(experiment_id=experiment_id, run_name=model_type, nested=True) as run:
                runs[model_type] = run.info.run_id
                mlflow.set_tags(
                    _tags({"kind": "model", "model_type": model_type, "train_id": train_id, **run_tags})
                )
                spec_weight = {"class_weight": config.models[model_type].class_weight}
                mlflow.log_params(
                    _params({**spec_weight, **model.params, "calibration": config.calibration.method})
                )
                metrics = metric_values(evaluation, result.gains[model_type])
                best_point = max(model.search, key=lambda p: p.score)
                metrics["validation_score"] = best_point.score
                metrics["train_seconds"] = model.train_seconds
                metrics.update({f"threshold_at_{k}": v for k, v in model.capacity_thresholds.items()})
                mlflow.log_metrics(metrics)
                _log_json(_evaluation_json(evaluation), "evaluation/metrics.json")
                if model.scoring_config:  # risk-matrix thresholds read back by models.scoring
                    from exclusion_risk.models.scoring import SCORING_ARTIFACT

                    _log_json(model.scoring_config, SCORING_ARTIFACT)
                own = {model_type: result.test_scores[model_type]}
                title = f"{model_type}, test year {split.test}"
                figure = evaluation_figure({model_type: evaluation}, result.test_labels, own, title)
                _log_figure(figure, "plots/evaluation.png")
                info = mlflow.sklearn.log_model(
                    model.pipeline,
                    name="model",
                    signature=signature_for(result.test_frame),
                    pip_requirements=pip_requirements(),
                    serialization_format="skops",
                    skops_trusted_types=TRUSTED_TYPES,
                    pyfunc_predict_fn="predict_proba",
                )
                if result.test_frame is not None:
                    _log_explanations_and_card(model_type, model, evaluation, result, config)
                version_tags = {
                    "model_type": model_type, "train_id": train_id, "run_id": run.info.run_id,
                    "features": ",".join(result.feature_cols),
                    "include_protected": config.features.include_protected,
                    "calibration": config.calibration.method, **run_tags,
                }  # fmt: skip
                for name in HEADLINE:
                    iv = evaluation.metrics[name]
                    version_tags[f"metric.{name}"] = f"{iv.estimate:.6g}"
                    version_tags[f"metric.{name}.ci"] = f"{iv.low:.6g}-{iv.high:.6g}"
                for k, v in model.capacity_thresholds.items():
                    version_tags[f"threshold.{k}"] = f"{v:.6g}"
                # Tags go in with the version (one transaction); setting them one by one costs ~0.1 s each.
                registered = mlflow.register_model(
                    info.model_uri, REGISTERED_MODEL, tags=_tags(version_tags), await_registration_for=60
                )
                version = str(registered.version)
                versions[model_type] = version
                client.update_model_version(
                    REGISTERED_MODEL,
                    version,
                    description=f"{model_type}, {split.describe()}, label '{config.label}'",
                )

        with mlflow.start_run(experiment_id=experiment_id, run_name=CHECKLIST, nested=True) as run:
            runs[CHECKLIST] = run.info.run_id
            mlflow.set_tags(
                _tags({"kind": "baseline", "model_type": CHECKLIST, "train_id": train_id, **run_tags})
            )
            from exclusion_risk.models.checklist import ChecklistBaseline

            _log_text("\n".join(ChecklistBaseline.describe()) + "\n", "checklist/points.txt")
            mlflow.log_metrics(metric_values(result.evaluations[CHECKLIST]))
            _log_json(_evaluation_json(result.evaluations[CHECKLIST]), "evaluation/metrics.json")
    return TrainRecord(train_id, experiment_id, runs, versions)


def _log_explanations_and_card(model_type: str, model, evaluation, result, config) -> None:
    """Global SHAP plots (on a sample of test-year pupils; only aggregates leave the process) and the
    model card, to the active model run."""
    from exclusion_risk.models.explain import Explainer, log_global_explanations
    from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

    importance = log_global_explanations(
        Explainer(model.pipeline), result.test_frame[result.feature_cols], model_type, sample_size=2000
    )
    _log_text(model_card(model_type, model, evaluation, result, config, importance, DECISION_SUPPORT_NOTICE),
              "model_card.md")  # fmt: skip


def model_card(model_type, model, evaluation, result, config, importance, notice) -> str:
    """A short, plain model card: what the model is for, how it was built and tested, its limits."""
    from exclusion_risk.features import registry

    def label(name: str) -> str:
        try:
            return registry.get(name).label
        except KeyError:
            return name

    split = result.split
    lines = [
        f"# Model card: {REGISTERED_MODEL} ({model_type})",
        "",
        f"> {notice}",
        "",
        "## Intended use",
        "Ranks pupils on an authority's autumn census by their calibrated probability of a suspension or",
        f"permanent exclusion later in the same academic year (label '{config.label}'), so that an",
        "inclusion team can offer early help to the pupils it has capacity for. It is not for deciding",
        "admissions, sanctions or any other action about a child.",
        "",
        "## Training",
        f"- Years: trained on {', '.join(split.train)}; validated and calibrated on {split.validation};"
        f" tested once on {split.test} ({split.describe()}).",
        f"- Model: {model_type} with {json.dumps(model.params, sort_keys=True, default=_jsonable)};"
        f" calibration: {config.calibration.method}.",
        f"- Protected characteristics (sex, ethnicity) as inputs: {config.features.include_protected}.",
        f"- Features ({len(result.feature_cols)}): "
        + "; ".join(label(f) for f in result.feature_cols)
        + ".",
        "",
        f"## Test-year performance ({split.test}, 95% bootstrap intervals)",
        "| metric | estimate | interval |",
        "|---|---|---|",
    ]
    for name, iv in evaluation.metrics.items():
        lines.append(f"| {name} | {iv.estimate:.3f} | {iv.low:.3f} to {iv.high:.3f} |")
    top = sorted(importance.items(), key=lambda kv: -kv[1])[:8]
    lines += [
        "",
        "## What drives the score (mean |SHAP| on test-year pupils)",
        *[f"- {label(name)}: {value:.3f}" for name, value in top],
        "",
        "## Limits",
        "- Trained on one authority's linked records: missed links (more common for some communities)"
        " hide exclusions and social-care history; see the linkage report's link rates by group.",
        "- A school's own exclusion practice shapes the label; the model learns it as school context.",
        "- Group error and selection rates: run `exclusion-risk review` and read the fairness report.",
        "- Probabilities are calibrated on the validation year; recalibrate when practice changes.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Tables for people: search results and the side-by-side comparison
# ---------------------------------------------------------------------------------------------


def search_table(result) -> pd.DataFrame:
    rows = []
    for model_type, model in result.models.items():
        for point in model.search:
            rows.append({
                "model_type": model_type,
                "params": json.dumps(point.params, sort_keys=True, default=_jsonable),
                "selection_score": point.score,
                **{f"validation_{k}": v for k, v in point.validation.items()},
                "fit_seconds": point.fit_seconds,
                **{k: v for k, v in point.facts.items()},
            })  # fmt: skip
    return pd.DataFrame(rows)


def comparison_frame(result) -> pd.DataFrame:
    rows = []
    for name, evaluation in result.evaluations.items():
        row: dict[str, Any] = {"model": name}
        for metric, iv in evaluation.metrics.items():
            row[metric] = iv.estimate
            row[f"{metric}_low"] = iv.low
            row[f"{metric}_high"] = iv.high
        row["train_seconds"] = result.models[name].train_seconds if name in result.models else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


COMPARE_COLUMNS = ("roc_auc", "average_precision", "precision_at_1pct", "precision_at_5pct",
                   "precision_at_10pct", "recall_at_5pct", "brier")  # fmt: skip


def format_comparison(table: pd.DataFrame, columns: Iterable[str] = COMPARE_COLUMNS) -> str:
    """A markdown table: one row per model, `estimate [low, high]` per metric."""
    columns = [c for c in columns if c in table.columns]
    lead = [c for c in ("model", "version", "run_id", "champion") if c in table.columns]
    head = "| " + " | ".join([*lead, *columns]) + " |"
    rule = "|" + "|".join("---" for _ in [*lead, *columns]) + "|"
    lines = [head, rule]
    for _, row in table.iterrows():
        cells = [str(row[c]) for c in lead]
        for c in columns:
            value, low, high = row[c], row.get(f"{c}_low", np.nan), row.get(f"{c}_high", np.nan)
            if pd.isna(value):
                cells.append("")
            elif pd.isna(low) or pd.isna(high):
                cells.append(f"{value:.3f}")
            else:
                cells.append(f"{value:.3f} [{low:.3f}, {high:.3f}]")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Reading back: runs, versions, comparison, promotion
# ---------------------------------------------------------------------------------------------


def train_runs(experiment: str, limit: int = 1) -> list:
    """The latest `limit` train (parent) runs of the experiment, newest first."""
    import mlflow

    exp = mlflow.get_experiment_by_name(experiment)
    if exp is None:
        raise RegistryError(f"no experiment {experiment!r} in the store {tracking_uri()}; run `train` first")
    runs = mlflow.search_runs(
        [exp.experiment_id], filter_string="tags.kind = 'train' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=limit, output_format="list",
    )  # fmt: skip
    if not runs:
        raise RegistryError(f"experiment {experiment!r} has no finished train runs; run `train` first")
    return runs


def _versions_by_run() -> dict[str, Any]:
    from mlflow import MlflowClient

    client = MlflowClient()
    try:
        found = client.search_model_versions(f"name = '{REGISTERED_MODEL}'")
    except Exception:  # noqa: BLE001 - no registered model yet: nothing registered
        return {}
    return {v.run_id: v for v in found}


def champion_version() -> str | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient().get_model_version_by_alias(REGISTERED_MODEL, CHAMPION).version)
    except MlflowException:
        return None


def compare_frame(experiment: str, limit: int = 1) -> pd.DataFrame:
    """Side-by-side test-year metrics of the models (and checklist) of the latest `limit` train runs."""
    import mlflow

    exp = mlflow.get_experiment_by_name(experiment)
    parents = train_runs(experiment, limit)
    versions = _versions_by_run()
    champion = champion_version()
    rows = []
    for parent in parents:
        query = f"tags.train_id = '{parent.info.run_id}' and tags.kind != 'train'"
        children = mlflow.search_runs([exp.experiment_id], filter_string=query, output_format="list")
        for run in sorted(children, key=lambda r: (r.data.tags.get("kind") == "baseline", r.info.run_name)):
            m = run.data.metrics
            version = versions.get(run.info.run_id)
            row: dict[str, Any] = {
                "model": run.data.tags.get("model_type", run.info.run_name),
                "version": version.version if version else "-",
                "run_id": run.info.run_id[:8],
                "champion": "*" if version is not None and str(version.version) == champion else "",
                "train_id": parent.info.run_id[:8],
                "test_year": run.data.tags.get("test_year", ""),
            }
            for metric in COMPARE_COLUMNS:
                row[metric] = m.get(metric, np.nan)
                row[f"{metric}_low"] = m.get(f"{metric}_ci_low", np.nan)
                row[f"{metric}_high"] = m.get(f"{metric}_ci_high", np.nan)
            row["train_seconds"] = m.get("train_seconds", np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class Promotion:
    version: str
    model_type: str
    run_id: str
    metric: str
    value: float | None
    previous: str | None
    reason: str


def _lower_is_better(metric: str) -> bool:
    return metric.startswith(("brier", "calibration_error"))


def promote(experiment: str, target: str | None, metric: str) -> Promotion:
    """Set alias `champion` on `target` (a run id, its prefix, or a version number), or with
    `target=None` on the version of the latest train run that is best on `metric`."""
    from mlflow import MlflowClient

    client = MlflowClient()
    versions = _versions_by_run()
    if not versions:
        raise RegistryError(f"no registered versions of {REGISTERED_MODEL!r}; run `train` first")
    previous = champion_version()
    if target is None:
        latest = train_runs(experiment, 1)[0]
        candidates = [v for v in versions.values() if v.tags.get("train_id") == latest.info.run_id]
        if not candidates:
            raise RegistryError("the latest train run registered no models")
        scored = []
        for v in candidates:
            run = client.get_run(v.run_id)
            if metric not in run.data.metrics:
                known = sorted(k for k in run.data.metrics if not k.endswith(("_ci_low", "_ci_high")))
                raise RegistryError(f"runs have no metric {metric!r}; known: {', '.join(known)}")
            scored.append((run.data.metrics[metric], v, run))
        # Ties (common for precision at a small capacity) go to the higher average precision.
        sign = 1 if _lower_is_better(metric) else -1
        scored.sort(key=lambda t: (sign * t[0], -t[2].data.metrics.get("average_precision", 0.0)))
        value, chosen, run = scored[0]
        others = ", ".join(f"{v.tags.get('model_type')} {val:.4f}" for val, v, _ in scored[1:])
        m = run.data.metrics
        interval = (f" [{m[f'{metric}_ci_low']:.4f}, {m[f'{metric}_ci_high']:.4f}]"
                    if f"{metric}_ci_low" in m else "")  # fmt: skip
        direction = "lowest" if _lower_is_better(metric) else "highest"
        reason = (
            f"{direction} {metric} on test year {chosen.tags.get('test_year', '?')}: "
            f"{chosen.tags.get('model_type')} {value:.4f}{interval}" + (f" vs {others}" if others else "")
        )
    else:
        chosen = None
        for v in versions.values():
            if target == str(v.version) or (len(target) >= 6 and v.run_id.startswith(target)):
                chosen = v
                break
        if chosen is None:
            raise RegistryError(f"no registered version or model run matches {target!r}")
        run = client.get_run(chosen.run_id)
        value = run.data.metrics.get(metric)
        shown = f"{value:.4f}" if value is not None else "n/a"
        reason = f"chosen by hand (run {chosen.run_id[:8]}); its {metric} on the test year is {shown}"
    version = str(chosen.version)
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, version)
    client.set_model_version_tag(
        REGISTERED_MODEL, version, "promoted_reason", check_no_identifiers(reason, "reason")
    )
    return Promotion(
        version, chosen.tags.get("model_type", "?"), chosen.run_id, metric, value, previous, reason
    )


# ---------------------------------------------------------------------------------------------
# Loading and predicting safely
# ---------------------------------------------------------------------------------------------


def load_pipeline(alias: str = CHAMPION):
    """The registered sklearn Pipeline behind `models:/exclusion-risk@<alias>`."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    return mlflow.sklearn.load_model(f"models:/{REGISTERED_MODEL}@{alias}")


def _schema_problems(frame: pd.DataFrame, schema) -> list[str]:
    problems = []
    for spec in schema.inputs:
        name = spec.name
        if name not in frame.columns:
            problems.append(f"column {name!r} is missing")
            continue
        column = frame[name]
        kind = spec.type.name if hasattr(spec.type, "name") else str(spec.type)
        if kind == "double":
            if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
                converted = pd.to_numeric(column, errors="coerce")
                if (converted.isna() & column.notna()).any():
                    problems.append(f"column {name!r} must be numeric")
    return problems


def predict_frame(pyfunc_model, frame: pd.DataFrame) -> np.ndarray:
    """Probabilities from a pyfunc model; schema problems raise ModelInputError naming columns only.

    Category columns become strings and numbers become floats first (pyfunc's schema enforcement
    rejects pandas `category` and integer-for-double), so a well-formed frame always passes.
    """
    from mlflow.exceptions import MlflowException

    schema = pyfunc_model.metadata.get_input_schema()
    frame = frame.copy()
    if schema is not None:
        problems = _schema_problems(frame, schema)
        if problems:
            raise ModelInputError("; ".join(problems))
        for spec in schema.inputs:
            kind = spec.type.name if hasattr(spec.type, "name") else str(spec.type)
            column = frame[spec.name]
            if kind == "double":
                frame[spec.name] = pd.to_numeric(column, errors="coerce").astype("float64")
            elif kind == "string":
                frame[spec.name] = column.astype("object").where(column.notna(), None)
                frame[spec.name] = frame[spec.name].map(lambda v: v if v is None else str(v))
        frame = frame[[spec.name for spec in schema.inputs]]
    try:
        out = pyfunc_model.predict(frame)
    except MlflowException as exc:
        # MLflow's own message embeds the rows it rejected: report only which columns it named.
        message = str(exc)
        named = [c for c in frame.columns if re.search(rf"\b{re.escape(str(c))}\b", message)]
        detail = f"columns {', '.join(named)}" if named else "the input"
        raise ModelInputError(f"{detail} do not match the model's input schema") from None
    return np.asarray(out)[:, 1]


def read_model_info(version) -> dict[str, Any]:
    """Training period and headline metrics of a registered version (for `compare` and the scorer)."""
    tags = version.tags
    return {
        "version": str(version.version),
        "model_type": tags.get("model_type"),
        "train_years": tags.get("train_years"),
        "validation_year": tags.get("validation_year"),
        "test_year": tags.get("test_year"),
        "metrics": {
            name: {"estimate": float(tags[f"metric.{name}"]), "interval": tags.get(f"metric.{name}.ci")}
            for name in HEADLINE
            if f"metric.{name}" in tags
        },
    }
