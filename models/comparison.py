"""Tables a person reads to compare models: the search grid, the test-year comparison, `compare`'s view.

`format_comparison` prints one row per model with `estimate [low, high]` per metric (95% intervals), as
`train`, `compare` and `promote` show it and the train run logs it (comparison/comparison.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.models import tracking
from exclusion_risk.models.train import TrainingResult

COMPARE_COLUMNS = ("roc_auc", "average_precision", "precision_at_1pct", "precision_at_5pct",
                   "precision_at_10pct", "recall_at_5pct", "brier")  # fmt: skip


def search_table(result: TrainingResult) -> pd.DataFrame:
    """Every grid point of every model: its settings and validation-year metrics."""
    rows = []
    for model_type, model in result.models.items():
        for point in model.search:
            rows.append({
                "model_type": model_type,
                "params": json.dumps(point.params, sort_keys=True, default=tracking.jsonable),
                "selection_score": point.score,
                **{f"validation_{k}": v for k, v in point.validation.items()},
                "fit_seconds": point.fit_seconds,
                **{k: v for k, v in point.facts.items()},
            })  # fmt: skip
    return pd.DataFrame(rows)


def comparison_frame(result: TrainingResult) -> pd.DataFrame:
    """Test-year metrics (estimate, low, high) of every model and the checklist, one row each."""
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


def compare_frame(experiment: str, limit: int = 1) -> pd.DataFrame:
    """Side-by-side test-year metrics of the models (and checklist) of the latest `limit` train runs."""
    parents = tracking.train_runs(experiment, limit)
    versions = {v.run_id: v for v in tracking.registered_versions()}
    champion = tracking.champion_version()
    rows = []
    for parent in parents:
        children = tracking.child_runs(parent)
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
