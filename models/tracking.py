"""MLflow for the models stage: the one module that talks to MLflow's tracking store and model registry.

Everything else in `models/` asks this module: what a train run records is `models.training_log`'s business,
what `compare` prints is `models.comparison`'s and how a champion is chosen is `models.promotion`'s; here are
only the calls into MLflow. MLflow takes about a second to import, so it is imported on first use (`_mlflow`):
commands and the service that never touch the store never load it.

Store: Tracking URI: `MLFLOW_TRACKING_URI`, else `sqlite:///<cwd>/mlruns/mlflow.db` (MLflow's own convention:
  `./mlruns` under the folder the command runs in; never inside the installed package). For a SQLite or file
  store the experiment is created with its artifacts beside the database (`<dir>/artifacts`); a tracking
  server decides its own artifact location.
Registry: One registered model, `exclusion-risk`. A version is named one way everywhere (`resolve_version`):
  an alias (`champion`), a version number, or its model run's id or the id's first 8+ characters.
Privacy: Pupil rows, UPNs and names are never logged: every text artifact, param and tag passes
  `check_no_identifiers` on its way in (a UPN-shaped token stops the run), and models are logged with no input
  example.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.files import private_dir, process_scratch
from exclusion_risk.models import store_files
from exclusion_risk.models.evaluate_compare import as_recorded
from exclusion_risk.models.fitting_words import fitting_words
from exclusion_risk.models.store_files import artifact_location, local_store
from exclusion_risk.privacy import check_no_identifiers
from exclusion_risk.values import and_join

REGISTERED_MODEL = "exclusion-risk"
CHAMPION = "champion"
# Test-year metrics copied onto each registered version's tags, so `info()` needs no run lookup.
HEADLINE = ("roc_auc", "average_precision", "precision_at_5pct", "brier")
# The version tag `exclusion-risk evaluate` writes: a short JSON of the latest back-test (date, year,
# census, realised precision at 5% and its interval, run ids); no identifiers.
LAST_CHECKED = "last_checked"
# The risk-matrix thresholds fitted on a model's validation year, with each band's precision on its
# test year (aggregates, suppressed as privacy.py says: models.band_precision), stored with its run.
SCORING_ARTIFACT = "scoring/scoring_config.json"
# A model run's validation-year metrics withheld, not logged (`metrics.withheld_point_selections`),
# comma-separated: `promote --best` says why it cannot choose by one of them.
VALIDATION_WITHHELD_TAG = "validation_withheld"
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


class RegistryError(LookupError):
    """A run, version, metric or alias asked for is not in the store."""


class ModelNotFoundError(LookupError):
    """No loadable registered model behind the alias; the message says how to make one."""


class StoreUnavailable(RegistryError, ModelNotFoundError):
    """The store cannot be made, or its model files are not where it records them (a moved store); the
    message names the store and what to do. Caught where either parent is, and by the CLI's app."""


class StoreAbsent(StoreUnavailable):
    """The default store (./mlruns) is not there for a command that only reads it: not made afresh."""


# Module names a pipeline registered before the stages became sub-packages of `exclusion_risk`
# refers to (e.g. `models.calibration.CalibratedClassifier`); this code cannot load such a version.
EARLIER_LAYOUT_MODULES = frozenset({"features", "linkage", "models", "serving", "synth"})


def _mlflow():
    """The mlflow module, imported on first use (see the module docstring)."""
    import mlflow

    return mlflow


def _client():
    return _mlflow().MlflowClient()


def release_store_connections() -> None:
    """Close MLflow's pooled SQLite connections (one engine a URI for the process's life), so the next read
    opens the store's file anew (`store_files.store_replaced` says when)."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking

    for engine in [*Tracking._engine_map.values(), *Registry._engine_map.values()]:
        engine.dispose()  # checked-in connections closed; one in use is dropped when returned


# --- Store set-up ---------------------------------------------------------------------------------


def tracking_uri(create: bool = True) -> str:
    """The store's URI; a local store's folder is created private (0700) if missing, before MLflow
    writes into it: runs hold metrics about children and models trained on their records. `create`
    False (a reader): the default store (./mlruns/mlflow.db, no MLFLOW_TRACKING_URI) missing is refused."""
    default = Path.cwd() / "mlruns" / "mlflow.db"
    given = os.environ.get("MLFLOW_TRACKING_URI")
    uri = given or f"sqlite:///{default}"
    if not (given or create or default.exists()):
        raise StoreAbsent(store_files.absent_store(uri))
    store = local_store(uri)
    if store is not None:
        try:
            private_dir(store)  # a folder that exists keeps its mode: it may be shared on purpose
        except OSError as exc:
            raise StoreUnavailable(
                f"the MLflow store {uri} cannot be used: its folder {store} cannot be made "
                f"({exc.strerror or exc}); set MLFLOW_TRACKING_URI to a store in a folder you can write "
                "(unset, the store is ./mlruns)"
            ) from None
    return uri


def setup_read(create: bool = False) -> str:
    """Point MLflow at the store (for reading: creates nothing, and refuses a default store not there)."""
    uri = tracking_uri(create)
    _mlflow().set_tracking_uri(uri)
    return uri


def setup(experiment: str) -> str:
    """Point MLflow at the store and return the experiment id (created on first use)."""
    mlflow = _mlflow()
    uri = setup_read(create=True)
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(experiment, artifact_location=artifact_location(uri))


# --- Logging to the active run (every text, param and tag checked for identifiers on the way in) ---


def start_run(experiment_id: str, run_name: str, nested: bool = False):
    """`with start_run(...) as run:` a run of the experiment (nested inside the active one when asked)."""
    return _mlflow().start_run(experiment_id=experiment_id, run_name=run_name, nested=nested)


def set_tags(tags: dict[str, Any]) -> None:
    _mlflow().set_tags(_checked_tags(tags))


def log_params(params: dict[str, Any]) -> None:
    out = {k: str(v)[:500] for k, v in params.items()}
    for key, value in out.items():
        check_no_identifiers(value, f"param {key}")
    _mlflow().log_params(out)


def log_metrics(metrics: dict[str, float]) -> None:
    _mlflow().log_metrics(metrics)


def log_text(text: str, path: str) -> None:
    _mlflow().log_text(check_no_identifiers(text, path), path)


def log_json(data: Any, path: str) -> None:
    log_text(json.dumps(data, indent=2, sort_keys=True, default=jsonable), path)


def log_dict(data: dict[str, Any], path: str) -> None:
    """`data` as MLflow writes a dict (keys in their own order), checked like every text."""
    check_no_identifiers(json.dumps(data), path)
    _mlflow().log_dict(data, path)


def log_figure(figure, path: str) -> None:
    _mlflow().log_figure(figure, path)


def jsonable(value: Any) -> Any:
    """`json.dumps` default for the numbers and arrays a training result holds."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _checked_tags(tags: dict[str, Any]) -> dict[str, str]:
    out = {k: str(v) for k, v in tags.items()}
    for key, value in out.items():
        check_no_identifiers(value, f"tag {key}")
    return out


def _signature(frame: pd.DataFrame):
    """Input schema from the feature columns' types (never their values); output: probabilities (n x 2)."""
    types = _mlflow().types
    cols = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
            cols.append(types.ColSpec("double", name, required=True))
        else:
            cols.append(types.ColSpec("string", name, required=True))
    outputs = types.Schema([types.TensorSpec(np.dtype("float64"), (-1, 2))])
    return _mlflow().models.ModelSignature(inputs=types.Schema(cols), outputs=outputs)


def _pip_requirements() -> list[str]:
    """Pinned requirements of the logged model (explicit: MLflow's inference of them is slow)."""
    names = ("scikit-learn", "lightgbm", "skops", "numpy", "pandas", "scipy")
    return [f"{n}=={installed_version(n)}" for n in names]


def log_model(pipeline, input_frame: pd.DataFrame) -> str:
    """The fitted pipeline as the active run's `model/` (skops, signature from `input_frame`'s column
    types, pinned requirements, no input example); the pyfunc flavour returns `predict_proba` (n x 2).
    Returns the model's URI."""
    info = _mlflow().sklearn.log_model(
        pipeline,
        name="model",
        signature=_signature(input_frame),
        pip_requirements=_pip_requirements(),
        serialization_format="skops",
        skops_trusted_types=TRUSTED_TYPES,
        pyfunc_predict_fn="predict_proba",
    )
    return info.model_uri


def register_version(model_uri: str, tags: dict[str, Any], description: str) -> str:
    """A new version of the registered model from a logged model; returns its number."""
    # Tags go in with the version (one transaction); setting them one by one costs ~0.1 s each.
    registered = _mlflow().register_model(
        model_uri, REGISTERED_MODEL, tags=_checked_tags(tags), await_registration_for=60
    )
    version = str(registered.version)
    _client().update_model_version(REGISTERED_MODEL, version, description=description)
    return version


def log_run_text(run_id: str, text: str, path: str, what: str) -> None:
    """A text artifact added to a finished run (`what` names it in a privacy refusal)."""
    _client().log_text(run_id, check_no_identifiers(text, what), path)


# --- Reading runs and versions --------------------------------------------------------------------


def train_runs(experiment: str, limit: int = 1) -> list:
    """The latest `limit` train (parent) runs of the experiment, newest first."""
    mlflow = _mlflow()
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


def child_runs(train_run) -> list:
    """The model and checklist runs of one train run."""
    query = f"tags.train_id = '{train_run.info.run_id}' and tags.kind != 'train'"
    return _mlflow().search_runs([train_run.info.experiment_id], filter_string=query, output_format="list")


def get_run(run_id: str):
    """The run with this exact id, or None."""
    try:
        return _client().get_run(run_id)
    except _mlflow().MlflowException:
        return None


def train_params(run_id: str | None) -> dict[str, str] | None:
    """The params of the train run a model run belongs to (its `train_id` tag); None when either run is
    not in the store."""
    run = get_run(run_id) if run_id else None
    train_id = run.data.tags.get("train_id") if run is not None else None
    train = get_run(train_id) if train_id else None
    return None if train is None else dict(train.data.params)


def registered_versions() -> list:
    """Every version of the registered model (none before the first `train`)."""
    try:
        return list(_client().search_model_versions(f"name = '{REGISTERED_MODEL}'"))
    except _mlflow().MlflowException:
        return []


def resolve_version(text: str):
    """The registered version `text` names: an alias, a version number, or its model run's id (or the
    id's first 8+ characters, when only one run starts so). None when nothing matches."""
    if not text.isdigit() and len(text) < 32:
        try:
            return _client().get_model_version_by_alias(REGISTERED_MODEL, text)
        except _mlflow().MlflowException:
            pass
    versions = registered_versions()
    for v in versions:
        if text == str(v.version):
            return v
    matches = [v for v in versions if len(text) >= 8 and v.run_id.startswith(text)]
    return matches[0] if len(matches) == 1 else None


def champion_version() -> str | None:
    found = resolve_version(CHAMPION)
    return None if found is None else str(found.version)


def set_champion(version: str, reason: str, tags: dict[str, str] | None = None) -> None:
    """Point the alias `champion` at `version` and record why on the version (`promoted_reason`, and
    `tags` such as the rule applied)."""
    client = _client()
    client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, version)
    client.set_model_version_tag(
        REGISTERED_MODEL, version, "promoted_reason", check_no_identifiers(reason, "reason")
    )
    for key, value in _checked_tags(tags or {}).items():
        client.set_model_version_tag(REGISTERED_MODEL, version, key, value)


def set_version_tag(version: str, key: str, value: str) -> None:
    """One tag on a registered version (checked for identifiers, as every tag is)."""
    _client().set_model_version_tag(REGISTERED_MODEL, version, key, check_no_identifiers(value, f"tag {key}"))


def last_checked(tags: dict[str, str]) -> dict[str, Any] | None:
    """A version's LAST_CHECKED tag (`exclusion-risk evaluate`'s short JSON); None when never checked
    or unreadable. A tag recorded before `out_of_sample` was, of a year at or before the version's test
    year, reads as the in-sample check it was (`evaluate_compare.as_recorded`), never "consistent"."""
    try:
        found = json.loads(tags[LAST_CHECKED])
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(found, dict):
        return None
    return as_recorded(found, tags.get("test_year"), tags.get("train_years"))


def read_last_checked(version: str) -> dict[str, Any] | None:
    """The LAST_CHECKED tag of a registered version as the store holds it now (None: never checked)."""
    try:
        return last_checked(_client().get_model_version(REGISTERED_MODEL, str(version)).tags)
    except _mlflow().MlflowException:
        return None


def census_of(tags: dict[str, str]) -> str:
    """The reference census a version or run was trained at (its `census` tag); those registered before
    it was recorded were trained at autumn's."""
    return tags.get("census") or calendar.census_name(calendar.AUTUMN)


def read_model_info(version) -> dict[str, Any]:
    """Training period, label, headline metrics and last check of a registered version (from its tags)."""
    tags = version.tags
    return {
        "version": str(version.version),
        "model_type": tags.get("model_type"),
        "label": tags.get("label"),
        "census": census_of(tags),  # the reference census it was trained at
        "last_checked": last_checked(tags),
        "train_years": tags.get("train_years"),  # the search's train years
        "validation_year": tags.get("validation_year"),
        "test_year": tags.get("test_year"),
        "fitted_years": tags.get("fitted_years"),  # None: registered before it was recorded
        "fitting": fitting_words(tags),
        "metrics": {
            name: {"estimate": float(tags[f"metric.{name}"]), "interval": tags.get(f"metric.{name}.ci")}
            for name in HEADLINE
            if f"metric.{name}" in tags
        },
    }


# --- Loading models and artifacts -----------------------------------------------------------------


@dataclass
class LoadedModel:
    pipeline: Any  # the registered sklearn Pipeline
    version: str
    info: dict[str, Any]
    scoring_config: dict[str, Any] | None


def load_registered(alias: str = CHAMPION) -> LoadedModel:
    """The pipeline, version, training facts and stored scoring config of the version behind `alias`."""
    uri = setup_read()
    version = resolve_version(alias)
    # trained but not promoted (promote sets the champion alias only: another names nothing it could fix)
    versions = [] if version is not None or alias != CHAMPION else sorted(
        int(v.version) for v in registered_versions())
    if versions:
        listed = and_join([str(v) for v in versions[-5:]])
        held = f"versions {listed} are registered, none of them {alias}"
        if len(versions) == 1:
            held = f"version {listed} is registered but is not {alias}"
        elif versions[5:]:
            held = f"{len(versions):,} versions (the latest {listed}) are registered, none of them {alias}"
        raise ModelNotFoundError(
            f"no model {REGISTERED_MODEL}@{alias} in the MLflow store {uri}: {held}; choose one with "
            "`exclusion-risk promote --best` (or `exclusion-risk promote VERSION`)"
        )
    if version is None:
        raise ModelNotFoundError(
            f"no model {REGISTERED_MODEL}@{alias} in the MLflow store {uri}; "
            "run `exclusion-risk train` and `exclusion-risk promote` first"
        )
    pipeline = _load_pipeline(
        f"models:/{REGISTERED_MODEL}/{version.version}", f"version {version.version}", version.run_id
    )
    info = {**read_model_info(version), "alias": alias, "run_id": version.run_id}
    return LoadedModel(pipeline, str(version.version), info, load_scoring_config(version.run_id))


def load_run_model(run_id: str):
    """The sklearn Pipeline logged by a model run."""
    return _load_pipeline(f"runs:/{run_id}/model", f"run {run_id[:8]}", run_id)


def _load_pipeline(uri: str, what: str, run_id: str):
    mlflow = _mlflow()
    # Into a copy of the call's own, removed once loaded (the skops file is read whole): with none, a
    # local store's model folder is the "download", and MLflow writes registered_model_meta into it.
    try:
        with process_scratch("exclusion-risk-model-") as folder:
            return mlflow.sklearn.load_model(uri, dst_path=folder)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in EARLIER_LAYOUT_MODULES:
            raise
        raise ModelNotFoundError(
            f"{REGISTERED_MODEL} {what} was registered by an earlier release of exclusion-risk (its "
            f"pipeline refers to the module {exc.name!r}, now exclusion_risk.{exc.name}) and cannot be "
            "loaded: run `exclusion-risk train` and `exclusion-risk promote` to register one this "
            "release can serve (the earlier runs and their metrics stay in the store)"
        ) from None
    except (mlflow.MlflowException, OSError) as exc:
        missing = store_files.missing_files(exc, f"{REGISTERED_MODEL} {what}", *_files_where(run_id))
        if missing is None:
            raise
        raise StoreUnavailable(missing) from None


def _files_where(run_id: str) -> tuple[str, str]:
    """(the files' location the store records for `run_id`'s experiment, "" for none; the store's URI)."""
    run = get_run(run_id)
    try:
        experiment = None if run is None else _client().get_experiment(run.info.experiment_id)
    except _mlflow().MlflowException:
        experiment = None
    return ("" if experiment is None else experiment.artifact_location), _mlflow().get_tracking_uri()


def download_artifact(run_id: str, path: str, destination: str | None = None) -> str:
    """A run's artifact as a local file; returns its path."""
    return _mlflow().artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=destination)


def read_artifact_text(run_id: str, path: str) -> str | None:
    """A run's text artifact; None when the run has none at `path` (e.g. logged by an earlier release)."""
    # Into a folder of the call's own, removed once read: with no destination MLflow makes a new
    # temporary folder per download and leaves it (three per `score`, and per model the service loads).
    with process_scratch("exclusion-risk-artifact-") as folder:
        try:
            with open(download_artifact(run_id, path, folder), encoding="utf-8") as handle:
                return handle.read()
        except (_mlflow().MlflowException, OSError):
            moved = store_files.moved_store(*_files_where(run_id))  # not "logged by an earlier release"
            if moved is not None:
                raise StoreUnavailable(moved) from None
            return None


def load_scoring_config(run_id: str) -> dict[str, Any] | None:
    """The risk-matrix thresholds stored with a model run; None for runs logged before they were."""
    text = read_artifact_text(run_id, SCORING_ARTIFACT)
    return None if text is None else json.loads(text)
