"""Tables a person reads to compare models: the search grid, the test-year comparison, `compare`'s view.

`format_comparison` prints one row per model with `estimate [low, high]` per metric (95% intervals), as
`train`, `compare` and `promote` show it and the train run logs it (comparison/comparison.md), and
`verdict` says in one line which model is chosen and whether its lead is beyond the paired intervals.
`difference_frame` holds the paired differences on the same test-year pupils (each pair of models, and
each model vs the checklist): every model is scored on one shared set of bootstrap replicates
(`metrics.evaluate`), so a difference's interval is a paired bootstrap interval. The train run logs it
(`DIFFERENCES_ARTIFACT`: aggregates only, the pupils' scores stay in memory) and `compare` prints it
with `format_differences`, saying "not significant" where the interval covers 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from io import StringIO
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.models import tracking
from exclusion_risk.models.train import CHECKLIST, TrainingResult, published_score

COMPARE_COLUMNS = ("roc_auc", "average_precision", "precision_at_1pct", "precision_at_5pct",
                   "precision_at_10pct", "recall_at_5pct", "brier")  # fmt: skip
# The metrics `compare` shows paired differences for (the artifact holds every COMPARE_COLUMNS metric).
DIFFERENCE_COLUMNS = ("precision_at_5pct", "average_precision", "roc_auc", "brier")
DIFFERENCES_ARTIFACT = "comparison/differences.csv"
NOT_SIGNIFICANT = "not significant"


def _shown(value: float) -> float | str:
    """A validation-year value as search.csv shows it: "withheld" where its top k% holds 1-9 pupils."""
    return "withheld" if isinstance(value, float) and math.isnan(value) else value


def search_table(result: TrainingResult) -> pd.DataFrame:
    """Every grid point of every model: its settings and validation-year metrics."""
    rows = []
    for model_type, model in result.models.items():
        for point in model.search:
            rows.append({
                "model_type": model_type,
                "params": json.dumps(point.params, sort_keys=True, default=tracking.jsonable),
                "selection_score": _shown(published_score(point, result.config.selection_metric)),
                **{f"validation_{k}": _shown(v) for k, v in point.validation.items()},
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


def format_comparison(
    table: pd.DataFrame,
    columns: Iterable[str] = COMPARE_COLUMNS,
    lead: Iterable[str] = ("model", "version", "run_id", "champion"),
) -> str:
    """A markdown table: one row per model (the `lead` columns it has first), `estimate [low, high]`
    per metric."""
    columns = [c for c in columns if c in table.columns]
    lead = [c for c in lead if c in table.columns]
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
    return runs_frame(tracking.train_runs(experiment, limit))


def runs_frame(parents: list) -> pd.DataFrame:
    """Side-by-side test-year metrics of the models (and checklist) of these train runs (`compare`'s,
    `promote`'s): one row per model and the checklist, the champion marked `*`, with each run's
    `train_id`, `test_year` and reference `census`."""
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
                "census": tracking.census_of(run.data.tags),
            }
            for metric in COMPARE_COLUMNS:
                row[metric] = m.get(metric, np.nan)
                row[f"{metric}_low"] = m.get(f"{metric}_ci_low", np.nan)
                row[f"{metric}_high"] = m.get(f"{metric}_ci_high", np.nan)
            row["train_seconds"] = m.get("train_seconds", np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Paired differences on the test year's pupils
# ---------------------------------------------------------------------------------------------


def difference_frame(result: TrainingResult) -> pd.DataFrame:
    """Rows `{model, versus, metric, difference, low, high, significant}`: model minus versus on the same
    test-year pupils with its paired bootstrap interval, for each pair of models and model vs checklist."""
    names = list(result.models)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    pairs += [(name, CHECKLIST) for name in names]
    rows = []
    for model, versus in pairs:
        gain = result.evaluations[model].gain_over(result.evaluations[versus])
        for metric in COMPARE_COLUMNS:
            if metric in gain:
                iv = gain[metric]
                rows.append({"model": model, "versus": versus, "metric": metric, "difference": iv.estimate,
                             "low": iv.low, "high": iv.high,
                             "significant": significant(iv.low, iv.high)})  # fmt: skip
    return pd.DataFrame(rows)


def significant(low: float, high: float) -> bool:
    """Whether a 95% interval of a difference excludes 0 (an unknown interval is not significant): the
    one test of the comparisons, the verdict lines and the model card."""
    return bool(np.isfinite(low) and np.isfinite(high) and (low > 0 or high < 0))


def signed_interval(d: float, low: float, high: float, decimals: int = 3) -> str:
    """`+d [+low, +high]` to `decimals` places, or more (up to 6) while a figure that is not zero would
    print as zero: "+0.007 [+0.000, +0.013], significantly ahead" read as an interval touching 0 (its
    low was +0.00032), and a Brier difference of +0.00048 [+0.00030, +0.00065] printed as +0.000
    [+0.000, +0.001]."""
    finite = [x for x in (d, low, high) if pd.notna(x)]
    while decimals < 6 and any(x != 0 and round(abs(x), decimals) == 0 for x in finite):
        decimals += 1
    shown = f"{d:+.{decimals}f}"
    if pd.notna(low) and pd.notna(high):
        shown += f" [{low:+.{decimals}f}, {high:+.{decimals}f}]"
    return shown


def format_differences(frame: pd.DataFrame, columns: Iterable[str] = DIFFERENCE_COLUMNS) -> str:
    """A markdown table: one row per pair, `difference [low, high]` per metric, "not significant" where
    the interval covers 0."""
    columns = [c for c in columns if c in set(frame["metric"])]
    lines = [
        "| model | versus | " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in [0, 0, *columns]) + "|",
    ]
    for (model, versus), part in frame.groupby(["model", "versus"], sort=False):
        by_metric = part.set_index("metric")
        cells = []
        for c in columns:
            if c not in by_metric.index:
                cells.append("")
                continue
            row = by_metric.loc[c]
            if pd.isna(row["difference"]):  # a withheld metric (metrics.withhold_small_selections)
                cells.append("withheld")
                continue
            text = signed_interval(row["difference"], row["low"], row["high"])
            if not significant(row["low"], row["high"]):
                text += f" {NOT_SIGNIFICANT}"
            cells.append(text)
        lines.append(f"| {model} | {versus} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


WITHHELD_DIFFERENCE = "withheld (a figure it rests on counts fewer than 10 pupils)"


def paired_difference(frame: pd.DataFrame, model: str, versus: str, metric: str) -> tuple[float, ...] | None:
    """(difference, low, high) of model minus versus on `metric` from a difference frame, either way round."""
    for a, b, sign in ((model, versus, 1.0), (versus, model, -1.0)):
        row = frame[(frame["model"] == a) & (frame["versus"] == b) & (frame["metric"] == metric)]
        if len(row):
            d, low, high = (float(row.iloc[0][c]) for c in ("difference", "low", "high"))
            return (d, low, high) if sign > 0 else (-d, -high, -low)
    return None


def verdict(table: pd.DataFrame, differences: pd.DataFrame, metric: str = "precision_at_5pct") -> str:
    """The comparison in one line: the chosen model (the champion where the table marks one, else the
    highest on the test year), and whether its lead over the next model and over the checklist is beyond
    their paired 95% intervals (significant) or within them."""
    models = table[table["model"] != CHECKLIST]
    if models.empty or metric not in table.columns:
        return ""
    marked = models[models["champion"] == "*"] if "champion" in models.columns else models.iloc[:0]
    ranked = models.sort_values(metric, ascending=False, kind="stable")
    chosen = (marked if len(marked) else ranked).iloc[0]["model"]
    why = "the champion" if len(marked) else "highest on the test year"
    parts, judged = [], []  # judged: each comparison with an interval, whether it excludes 0
    rest = ranked[ranked["model"] != chosen]
    for versus in [*rest["model"].head(1), CHECKLIST]:
        found = paired_difference(differences, chosen, versus, metric) if len(differences) else None
        if found is None:
            parts.append(f"over {versus}: no paired interval logged")
            continue
        d, low, high = found
        if pd.isna(d):  # a withheld metric (metrics.withhold_small_selections)
            parts.append(f"over {versus}: {WITHHELD_DIFFERENCE}")
            continue
        beyond = significant(low, high)
        judged.append(beyond)
        # A difference under half a unit in the third place, within its interval, is a tie (two models
        # with the same 53 of 153), not a lead; signed_interval may print it with more places (-0.0004)
        word = "level with" if round(d, 3) == 0 and not beyond else "ahead of" if d >= 0 else "behind"
        # "behind lightgbm by -0.013" read as a double negative: behind by the difference's size
        shown = signed_interval(d, low, high)
        size = (f"at {shown}" if word == "level with" else f"by {shown}" if d >= 0
                else f"by {shown.split()[0].lstrip('-')} ({shown})")  # fmt: skip
        parts.append(f"{word} {versus} {size}, "
                     + ("its 95% interval excluding 0" if beyond else
                        "within the interval (not significant)"))  # fmt: skip
    # a statistician's finding: "significantly ahead" read as a settled test, though each interval is
    # unadjusted for the comparisons made beside it and, in train, for choosing the model on this year
    made = len(judged)
    caveat = "" if not any(judged) else (
        f" Each interval is unadjusted for the {made} comparison{'s' if made != 1 else ''} here"
        + (" and for the model having been chosen on this same year" if not len(marked) else "")
        + ": a bound near 0 is weak evidence; confirm a lead on the next year.")  # fmt: skip
    return f"Verdict on {metric}: {chosen} ({why}) is " + "; ".join(parts) + "." + caveat + "\n"


def _gains_from_runs(children: list) -> pd.DataFrame:
    """Model vs checklist from the model runs' `gain_<metric>` metrics (runs logged before the
    differences artifact was)."""
    rows = []
    for run in children:
        if run.data.tags.get("kind") != "model":
            continue
        m = run.data.metrics
        for metric in COMPARE_COLUMNS:
            if f"gain_{metric}" in m:
                low, high = m.get(f"gain_{metric}_ci_low", np.nan), m.get(f"gain_{metric}_ci_high", np.nan)
                rows.append({"model": run.data.tags.get("model_type", run.info.run_name), "versus": CHECKLIST,
                             "metric": metric, "difference": m[f"gain_{metric}"], "low": low, "high": high,
                             "significant": significant(low, high)})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["model", "versus", "metric", "difference", "low", "high", "significant"]
    )


def differences_of(train_run) -> tuple[pd.DataFrame, bool]:
    """(paired differences of a train run, whether model-vs-model pairs are included): its logged
    artifact, or for earlier runs only model vs checklist from the model runs' metrics."""
    text = tracking.read_artifact_text(train_run.info.run_id, DIFFERENCES_ARTIFACT)
    if text is not None:
        return pd.read_csv(StringIO(text)), True
    return _gains_from_runs(tracking.child_runs(train_run)), False
