"""What one `exclusion-risk evaluate` records in MLflow (through `models.tracking`): aggregates only.

A run in the model version's own experiment, named `evaluate <year> <census>`, tagged `kind=evaluate`,
`model_version`, `scoring_run` (the scoring's run id), `year`, `census`, `label`; metrics
`realised_precision_at_{k}pct` (+ `_ci_low`, `_ci_high`) and `realised_recall_at_{k}pct` for each
capacity whose counts are shown, `out_of_sample` (1/0) and, only when out of sample,
`consistent_with_stated` (1/0: the realised precision at 5% is not significantly different from the
model's stated test-year precision; `models.evaluate_compare`'s COMPARISON_METHOD); artifact
`evaluation/evaluation.json` (the suppressed document). The version gets the tag `last_checked`
(`tracking.LAST_CHECKED`): a short JSON of the date, year, census, realised precision at 5% and its
interval, `out_of_sample` (false when the scored year is at or before the model's test year: an
in-sample check, recorded with no verdict, `consistent_with_stated` null), `consistent_with_stated`
with the verdict in words, and the run ids, which `/model` shows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from exclusion_risk.models import tracking
from exclusion_risk.models.evaluate import outcome_words
from exclusion_risk.models.metrics import capacity_name

KIND = "evaluate"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def checked_tag(document: dict[str, Any], mlflow_run_id: str) -> dict[str, Any]:
    """The LAST_CHECKED tag's content: the headline only, no identifiers."""
    run, comparison = document["run"], document["comparison"]
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "year": run["year"],
        "census": run["census"],
        "precision_at_5pct": _rounded(comparison["realised"]),
        "ci_low": _rounded(comparison["realised_ci_low"]),
        "ci_high": _rounded(comparison["realised_ci_high"]),
        # False: the scored year's outcomes were used to fit or test the model; never judged then
        "out_of_sample": comparison.get("out_of_sample", True),
        "consistent_with_stated": comparison["consistent_with_stated"],
        "verdict": comparison["verdict"],
        "outcome": outcome_words(document["label"]),
        "scoring_run": run["run_id"],
        "run_id": mlflow_run_id,
    }


def metrics(document: dict[str, Any]) -> dict[str, float]:
    out = {}
    for row in document["by_capacity"]:
        name = capacity_name(row["capacity"])
        for field, metric in (
            ("precision", f"realised_precision_at_{name}"),
            ("ci_low", None),
            ("ci_high", None),
            ("recall", f"realised_recall_at_{name}"),
        ):
            value = row[field]
            if value is not None:
                out[metric or f"realised_precision_at_{name}_{field}"] = float(value)
    out["out_of_sample"] = float(document["comparison"].get("out_of_sample", True))
    if document["comparison"]["consistent_with_stated"] is not None:
        out["consistent_with_stated"] = float(document["comparison"]["consistent_with_stated"])
    return out


def log_evaluation(document: dict[str, Any], version: str) -> str:
    """Log the evaluation against registered `version` (see the module docstring); the MLflow run id."""
    tracking.setup_read()
    model_run = tracking.get_run(tracking.resolve_version(version).run_id)
    run = document["run"]
    with tracking.start_run(model_run.info.experiment_id, f"{KIND} {run['year']} {run['census']}") as active:
        tracking.set_tags(
            {
                "kind": KIND,
                "model_version": version,
                "scoring_run": run["run_id"],
                "year": run["year"],
                "census": run["census"],
                "label": document["label"],
            }
        )
        tracking.log_metrics(metrics(document))
        tracking.log_json(document, "evaluation/evaluation.json")
        run_id = active.info.run_id
    tracking.set_version_tag(version, tracking.LAST_CHECKED, json.dumps(checked_tag(document, run_id)))
    return run_id
