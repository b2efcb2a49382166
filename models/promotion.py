"""`promote`: which registered version becomes the champion, and a reason a person can read.

With `--best` the candidates are the versions of the latest train run, chosen by a rule fixed before
the test year is seen (`RULE`): the highest validation-year metric (`validation_<metric>`, logged by
each model run: the chosen search setting fitted on the train years, scored on the validation year),
lowest for `brier` / `calibration_error`; ties go to the simpler model (`SIMPLICITY`). The test year's
value is reported beside the choice but never read to make it. Otherwise the version is named by hand
(any way `tracking.resolve_version` accepts). The rule and the reason are stored on the version and
printed.

A version trained for another reference census than the champion's is refused unless asked for
(`change_census`, `promote --change-census`): the champion is what `score` and the service use, and
a spring-census champion makes `score` refuse the autumn census (and the service autumn uploads) that
the teams were scoring, a change of what everyone downstream can do that a version number typed by
hand should not make unannounced. `models.promotion_report` prints the outgoing champion beside the
incoming version.
"""

from __future__ import annotations

from dataclasses import dataclass

from exclusion_risk.models import tracking
from exclusion_risk.models.tracking import RegistryError

# Simplest first: the tie-break of `--best` (fewer moving parts, easier to explain and to audit).
SIMPLICITY = ("logistic", "lightgbm", "random_forest")
# Validation values equal to this many decimals are a tie (float noise is not a difference).
TIE_DECIMALS = 6
RULE = (
    "best validation-year {metric} among the latest train run's models (highest; lowest for brier and "
    f"calibration_error); ties to the simpler model ({' < '.join(SIMPLICITY)}); the test year "
    "is reported, never used to choose"
)


class ProtectedInputsRefused(RegistryError):
    """A version that takes sex and ethnicity as inputs (the study model) is never made champion."""


class CensusChangeRefused(RegistryError):
    """The version chosen was trained for another reference census than the champion's."""


@dataclass
class Promotion:
    version: str
    model_type: str
    run_id: str
    metric: str
    value: float | None  # the metric the choice was made on (validation year for --best)
    previous: str | None
    reason: str
    rule: str  # the rule applied ("chosen by hand" for a named version)
    incoming: object = None  # the registered version now champion (its tags as promoted)
    outgoing: object = None  # the version that was champion before, or None


def census_change(outgoing, incoming) -> tuple[str, str] | None:
    """(the champion's census, the incoming version's) where they differ; None where they agree."""
    if outgoing is None or str(outgoing.version) == str(incoming.version):
        return None
    before, after = tracking.census_of(outgoing.tags), tracking.census_of(incoming.tags)
    return None if before == after else (before, after)


def census_change_words(outgoing, incoming) -> str:
    """What a change of the champion's census does downstream, naming both censuses."""
    before, after = census_change(outgoing, incoming)
    return (
        f"version {incoming.version} was trained for the {after} census, the champion (version "
        f"{outgoing.version}) for the {before} census: as champion it scores {after} censuses only "
        f"(`score --year YEAR --census {after}`, on a year whose extracts hold that census); "
        f"`score` then refuses the {before} census, and the service {before} uploads (422)"
    )


def _lower_is_better(metric: str) -> bool:
    return metric.startswith(("brier", "calibration_error"))


def _simplicity(model_type: str | None) -> int:
    return SIMPLICITY.index(model_type) if model_type in SIMPLICITY else len(SIMPLICITY)


def _validation_value(run, metric: str, selection_metric: str | None) -> float:
    """The run's validation-year `metric`: `validation_<metric>`, or for runs logged before those were,
    `validation_score` when `metric` is the run's selection metric."""
    m = run.data.metrics
    if f"validation_{metric}" in m:
        return m[f"validation_{metric}"]
    if metric == selection_metric and "validation_score" in m:
        return m["validation_score"]
    if metric in run.data.tags.get(tracking.VALIDATION_WITHHELD_TAG, "").split(","):
        raise RegistryError(
            f"the latest train run's {run.data.tags.get('model_type', 'model')} has no validation-year "
            f"{metric}: its top of the validation year holds 1-9 pupils with or without the outcome, so "
            "it was withheld, not logged; choose by average_precision, roc_auc or a larger capacity"
        )
    # what --best can rank by: each metric measured on the validation year (none on runs trained before)
    ranked = sorted(k.removeprefix("validation_") for k in m if k.startswith("validation_")
                    and k != "validation_score" and not k.endswith(("_ci_low", "_ci_high")))
    if metric not in m:
        known = ranked or sorted(k for k in m if not k.endswith(("_ci_low", "_ci_high"))
                                 and not k.startswith("gain_"))
        raise RegistryError(f"runs have no metric {metric!r}; known: {', '.join(known)}")
    if ranked:  # logged, but of the test year or the fit (train_seconds): no model can be chosen by it
        raise RegistryError(f"{metric!r} is not measured on the validation year, so --best cannot choose by "
                            f"it; choose by one that is: {', '.join(ranked)}")
    raise RegistryError(
        f"the latest train run logged no validation-year {metric!r} (runs trained before validation "
        f"metrics were logged); train again, or choose by its selection metric ({selection_metric})"
    )


def _test_year_text(run, metric: str) -> str:
    """The test year's value with its interval, for the report only."""
    m = run.data.metrics
    if metric not in m:
        return "n/a"
    if f"{metric}_ci_low" in m and f"{metric}_ci_high" in m:
        return f"{m[metric]:.4f} [{m[f'{metric}_ci_low']:.4f}, {m[f'{metric}_ci_high']:.4f}]"
    return f"{m[metric]:.4f}"


def _best_of_latest(experiment: str, versions: list, metric: str) -> tuple:
    """(chosen version, its validation value, reason, rule) among the latest train run's versions."""
    latest = tracking.train_runs(experiment, 1)[0]
    selection_metric = latest.data.params.get("selection_metric")
    candidates = [v for v in versions if v.tags.get("train_id") == latest.info.run_id]
    if not candidates:
        raise RegistryError("the latest train run registered no models")
    scored = []
    for v in candidates:
        run = tracking.get_run(v.run_id)
        scored.append((_validation_value(run, metric, selection_metric), v, run))
    sign = 1 if _lower_is_better(metric) else -1
    scored.sort(key=lambda t: (sign * round(t[0], TIE_DECIMALS), _simplicity(t[1].tags.get("model_type"))))
    value, chosen, _ = scored[0]
    rule = RULE.format(metric=metric)
    validation_year = chosen.tags.get("validation_year", "?")
    test_year = chosen.tags.get("test_year", "?")
    listed = "; ".join(
        f"{v.tags.get('model_type')} {val:.4f} (test {_test_year_text(run, metric)})"
        for val, v, run in scored
    )
    reason = (
        f"{chosen.tags.get('model_type')} has the best validation-year {metric} ({validation_year}); "
        f"validation-year values (test year {test_year} with 95% intervals, reported only): {listed}"
    )
    return chosen, value, reason, rule


def promote(experiment: str, target: str | None, metric: str, change_census: bool = False) -> Promotion:
    """Set alias `champion` on `target` (a version number, a run id or its first 8+ characters), or
    with `target=None` on the version of the latest train run that `RULE` picks on `metric`. A version of
    another reference census than the champion's raises CensusChangeRefused unless `change_census`."""
    versions = tracking.registered_versions()
    if not versions:
        raise RegistryError(f"no registered versions of {tracking.REGISTERED_MODEL!r}; run `train` first")
    outgoing = tracking.resolve_version(tracking.CHAMPION)
    previous = None if outgoing is None else str(outgoing.version)
    if target is None:
        chosen, value, reason, rule = _best_of_latest(experiment, versions, metric)
    else:
        chosen = tracking.resolve_version(target)
        if chosen is None:
            raise RegistryError(f"no registered version or model run matches {target!r}")
        value = tracking.get_run(chosen.run_id).data.metrics.get(metric)
        shown = f"{value:.4f}" if value is not None else "n/a"
        rule = "chosen by hand"
        reason = f"chosen by hand (run {chosen.run_id[:8]}); its {metric} on the test year is {shown}"
    if str(chosen.tags.get("include_protected", "")).strip().lower() == "true":
        # the study model (models/study.yaml) is registered beside the others to be compared with in
        # `describe`: one `promote N` of its number made it champion, ranking children by sex and ethnicity
        raise ProtectedInputsRefused(
            f"version {chosen.version} takes sex and ethnicity as inputs (trained with include_protected, as "
            "models/study.yaml does, to compare the full model against): it is never promoted to score "
            "children. Promote a version trained without them"
        )
    if census_change(outgoing, chosen) and not change_census:
        raise CensusChangeRefused(
            f"{census_change_words(outgoing, chosen)}. Give --change-census to promote it all the same, "
            f"or promote a version trained for the {tracking.census_of(outgoing.tags)} census"
        )
    version = str(chosen.version)
    if version != previous:  # promoting the champion again changes nothing: its tags keep why it was chosen
        tags = {"promoted_rule": rule, "promoted_metric": metric, "promoted_over": previous or "none"}
        tracking.set_champion(version, reason, tags)
    return Promotion(
        version, chosen.tags.get("model_type", "?"), chosen.run_id, metric, value, previous, reason, rule,
        incoming=chosen, outgoing=outgoing,
    )
