"""`promote`: which registered version becomes the champion, and a reason a person can read.

With `--best` the candidates are the versions of the latest train run, ranked on one test-year metric
(ties go to the higher average precision); otherwise the version is named by hand (any way
`tracking.resolve_version` accepts). The reason is stored on the version and printed.
"""

from __future__ import annotations

from dataclasses import dataclass

from exclusion_risk.models import tracking
from exclusion_risk.models.tracking import RegistryError


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


def _best_of_latest(experiment: str, versions: list, metric: str) -> tuple:
    """(chosen version, its metric value, reason) among the latest train run's versions."""
    latest = tracking.train_runs(experiment, 1)[0]
    candidates = [v for v in versions if v.tags.get("train_id") == latest.info.run_id]
    if not candidates:
        raise RegistryError("the latest train run registered no models")
    scored = []
    for v in candidates:
        run = tracking.get_run(v.run_id)
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
    return chosen, value, reason


def promote(experiment: str, target: str | None, metric: str) -> Promotion:
    """Set alias `champion` on `target` (a version number, a run id or its first 8+ characters), or
    with `target=None` on the version of the latest train run that is best on `metric`."""
    versions = tracking.registered_versions()
    if not versions:
        raise RegistryError(f"no registered versions of {tracking.REGISTERED_MODEL!r}; run `train` first")
    previous = tracking.champion_version()
    if target is None:
        chosen, value, reason = _best_of_latest(experiment, versions, metric)
    else:
        chosen = tracking.resolve_version(target)
        if chosen is None:
            raise RegistryError(f"no registered version or model run matches {target!r}")
        value = tracking.get_run(chosen.run_id).data.metrics.get(metric)
        shown = f"{value:.4f}" if value is not None else "n/a"
        reason = f"chosen by hand (run {chosen.run_id[:8]}); its {metric} on the test year is {shown}"
    version = str(chosen.version)
    tracking.set_champion(version, reason)
    return Promotion(
        version, chosen.tags.get("model_type", "?"), chosen.run_id, metric, value, previous, reason
    )
