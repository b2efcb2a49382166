"""`describe --models`: the study's model and the full model ranked by one measure on the same pupils.

The Walsall study ranked its predictors by random-forest variable importance and found SEN type first.
The `study` preset (models/study.yaml: demographics and needs only, a random forest) is this product's
version of that model; the champion is the full model. Their own logged measures differ (the study run
logs permutation importance, every run logs SHAP), so both are measured here the same way: permutation
importance (the fall in average precision when one input is shuffled among the pupils,
`training_log.permutation_importance_table`) on the same sample of the champion's test year. Ranks, not
raw sizes, are compared: the two models start from different precisions. Aggregates only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models import tracking
from exclusion_risk.models.config import DEFAULT_CONFIG, load_config
from exclusion_risk.models.training_log import permutation_importance_table

STUDY_CONFIG = DEFAULT_CONFIG.with_name("study.yaml")
STUDY_MODEL_TYPE = "random_forest"  # the study's model (the preset disables the others)
SEED = 0
# The study's finding, to say whether this authority's study model agrees: its top-ranked predictor.
STUDY_TOP = "sen_type"


class ModelsUnavailable(LookupError):
    """The champion or a study run is missing, or the champion's test year is not described."""


@dataclass
class RankedModel:
    name: str  # how the report names it
    what: str  # model type and where it came from (version or run), no identifiers
    importance: dict[str, dict[str, float]]  # feature -> {mean, std}, largest first
    pupils: int  # how many pupils it was measured on (a sample of the year, the same for both models)


def _study_pipeline():
    experiment = load_config(STUDY_CONFIG).experiment
    try:
        train_run = tracking.train_runs(experiment)[0]
    except tracking.RegistryError as exc:
        raise ModelsUnavailable(
            f"{exc} (train it with `exclusion-risk train --data DIR --config {STUDY_CONFIG}`)"
        ) from None
    wanted = {"kind": "model", "model_type": STUDY_MODEL_TYPE}
    models = [r for r in tracking.child_runs(train_run) if wanted.items() <= r.data.tags.items()]
    if not models:
        raise ModelsUnavailable(f"the latest {experiment} train run has no {STUDY_MODEL_TYPE} model")
    run_id = models[0].info.run_id
    try:
        pipeline = tracking.load_run_model(run_id)
    except tracking.ModelNotFoundError as exc:  # an earlier release's, or a moved store's
        raise ModelsUnavailable(str(exc)) from None
    return pipeline, f"{STUDY_MODEL_TYPE}, run {run_id[:8]} of {experiment}"


def _champion():
    try:
        loaded = tracking.load_registered(tracking.CHAMPION)
    except tracking.ModelNotFoundError as exc:
        raise ModelsUnavailable(str(exc)) from None
    what = f"{loaded.info.get('model_type')}, version {loaded.version} ({tracking.CHAMPION})"
    return loaded.pipeline, what, loaded.info.get("test_year")


def _measure(pipeline, rows: pd.DataFrame, name: str, what: str) -> RankedModel:
    columns = [str(c) for c in pipeline[0].feature_names_in_]
    found = permutation_importance_table(pipeline, rows[columns], rows["label_any"].to_numpy(), SEED)
    return RankedModel(name, what, found["importance"], found["pupils"])


def _rank(importance: dict[str, dict[str, float]]) -> dict[str, int]:
    return {feature: i + 1 for i, feature in enumerate(importance)}


def importance_comparison(table: pd.DataFrame) -> dict:
    """describe.json's `models` section: both models' permutation importance on the champion's test year
    (rows of `table` with outcomes), ranked side by side, and a sentence on the study's finding."""
    champion, champion_what, year = _champion()
    study, study_what = _study_pipeline()
    rows = table[table["AcademicYear"].eq(year) & table["label_any"].notna()]
    if rows.empty:
        raise ModelsUnavailable(f"the champion's test year ({year}) is not among the described years")
    models = [_measure(study, rows, "study model (demographics and needs only)", study_what),
              _measure(champion, rows, "full model (the champion)", champion_what)]  # fmt: skip
    pupils = models[0].pupils
    study_rank, full_rank = _rank(models[0].importance), _rank(models[1].importance)
    features = sorted(set(study_rank) | set(full_rank),
                      key=lambda f: (study_rank.get(f, 999), full_rank.get(f, 999)))  # fmt: skip
    table_rows = [
        {"feature": f, "label": registry.get(f).label,
         "study_rank": study_rank.get(f), "study_importance": _rounded(models[0].importance.get(f)),
         "full_rank": full_rank.get(f), "full_importance": _rounded(models[1].importance.get(f))}
        for f in features
    ]  # fmt: skip
    return {
        "year": year,
        "pupils": pupils,
        "measure": "permutation importance: the fall in average precision when the input is shuffled "
        "(any suspension or exclusion), on the same sample of pupils for both models",
        "models": [{"name": m.name, "model": m.what} for m in models],
        "rows": table_rows,
        "finding": _finding(models[0].importance, models[1].importance),
    }


def _rounded(value: dict[str, float] | None) -> float | None:
    return None if value is None else round(value["mean"], 5)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _finding(study: dict[str, dict[str, float]], full: dict[str, dict[str, float]]) -> str:
    """One sentence: where SEN primary need ranks in each model, against the study's 'first'."""
    label = registry.get(STUDY_TOP).label
    study_rank, full_rank = _rank(study), _rank(full)
    if STUDY_TOP not in study_rank:
        return f"The study model here does not use {label}, so the study's finding cannot be compared."
    here = study_rank[STUDY_TOP]
    agrees = "as the Walsall study found" if here == 1 else "where the Walsall study found it first"
    sentence = f"In the study model, {label} ranks {_ordinal(here)} ({agrees})"
    if STUDY_TOP not in full_rank:
        return sentence + "; the full model does not take it."
    sentence += f"; in the full model it ranks {_ordinal(full_rank[STUDY_TOP])}"
    ahead = [f for f, r in full_rank.items() if r < full_rank[STUDY_TOP] and f not in study_rank]
    if ahead:
        named = ", ".join(registry.get(f).label for f in ahead[:3]) + (", ..." if len(ahead) > 3 else "")
        sentence += f", behind {len(ahead)} input(s) the study model does not have ({named})"
    if full[STUDY_TOP]["mean"] < study[STUDY_TOP]["mean"]:
        # measured, not assumed: shuffling need costs the full model less than it costs the study model
        sentence += ", and shuffling it costs the full model less: those inputs carry part of its signal"
    return sentence + "."
