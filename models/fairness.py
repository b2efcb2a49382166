"""The fairness review: group error rates at capacity, calibration by group, SHAP attribution of
protected characteristics and the ablation without them, rendered as one HTML report.

Conventions (stated in the report):
- Selection is the team's capacity: the top k% of the whole cohort by probability (ties broken by row
  order, as a team working down a sorted list would), the same threshold for every group.
- Disparity ratio = group metric / reference-group metric; the reference is the largest group of each
  attribute. A ratio outside 0.8-1.25 is flagged (Aequitas' convention).
- 95% intervals: Poisson bootstrap of pupils with the selection held fixed (the uncertainty is in who
  the cohort happened to contain, not in the threshold).
- Any count of fewer than 10 pupils is shown as "<10", and a rate whose denominator is under 10 pupils
  is not shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, check_no_identifiers, suppress_count

FAIR_RANGE = (0.8, 1.25)
METRICS = ("selection_rate", "precision", "recall", "fpr", "fnr")
METRIC_LABELS = {
    "selection_rate": "selection rate",
    "precision": "precision",
    "recall": "recall (TPR)",
    "fpr": "false-positive rate",
    "fnr": "false-negative rate",
}
# numerator / denominator count names for each metric (counts per group, see _group_counts)
_RATIO_PARTS = {
    "selection_rate": ("selected", "n"),
    "precision": ("tp", "selected"),
    "recall": ("tp", "positives"),
    "fpr": ("fp", "negatives"),
    "fnr": ("fn", "positives"),
}
_COUNTS = ("n", "selected", "positives", "negatives", "tp", "fp", "fn")
_CHUNK = 100

SOCIAL_CARE_ORDER = ("looked after", "child protection plan", "child in need", "previously involved", "none")


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------


def _flag(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series(False, index=frame.index)
    return pd.to_numeric(frame[name], errors="coerce").fillna(0).astype(bool)


def _text(frame: pd.DataFrame, name: str, mapping: dict | None = None) -> pd.Series:
    values = frame[name].astype(object).where(frame[name].notna(), "unknown").astype(str)
    return values.map(lambda v: mapping.get(v, v)) if mapping else values


def review_groups(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The review's attributes -> group label per pupil (from the feature table's columns)."""
    social_care = np.select(
        [
            _flag(frame, "cla_open"),
            _flag(frame, "cpp_open"),
            _flag(frame, "cin_open"),
            _flag(frame, "cin_ever") | _flag(frame, "cpp_ever") | _flag(frame, "cla_ever"),
        ],
        list(SOCIAL_CARE_ORDER[:4]),
        default=SOCIAL_CARE_ORDER[4],
    )
    fsm = pd.to_numeric(frame["fsm"], errors="coerce")
    return {
        "sex": _text(frame, "sex", {"M": "boys", "F": "girls"}),
        "ethnic group": _text(frame, "ethnicity_group"),
        "SEN provision": _text(frame, "sen_provision", {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}),
        "free school meals": pd.Series(
            np.where(fsm.isna(), "unknown", np.where(fsm > 0, "eligible", "not eligible")), index=frame.index
        ),
        "social care": pd.Series(social_care, index=frame.index),
    }


def reference_group(groups: pd.Series) -> str:
    """The largest group (ties: alphabetical), the Aequitas default."""
    counts = groups.value_counts()
    top = counts[counts == counts.max()].index
    return sorted(map(str, top))[0]


def select_top(probabilities, capacity: float) -> np.ndarray:
    """Boolean mask of the top `capacity` share (ceil) by probability; ties by row order."""
    p = np.asarray(probabilities, dtype=np.float64)
    k = min(p.size, max(1, math.ceil(capacity * p.size)))
    order = np.argsort(-p, kind="stable")
    selected = np.zeros(p.size, dtype=bool)
    selected[order[:k]] = True
    return selected


# ---------------------------------------------------------------------------------------------
# Group metrics at capacity with bootstrap intervals
# ---------------------------------------------------------------------------------------------


def _indicator_columns(y: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """(n x 7) per-pupil indicators in _COUNTS order."""
    pos = y == 1
    return np.column_stack(
        [np.ones_like(pos), selected, pos, ~pos, selected & pos, selected & ~pos, ~selected & pos]
    ).astype(np.float32)


def _rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """counts (..., 7) -> metric arrays (...), NaN where the denominator is 0."""
    index = {name: i for i, name in enumerate(_COUNTS)}
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for metric, (num, den) in _RATIO_PARTS.items():
            d = counts[..., index[den]]
            out[metric] = np.where(d > 0, counts[..., index[num]] / np.where(d > 0, d, 1), np.nan)
    return out


@dataclass
class AttributeReview:
    attribute: str
    reference: str
    table: pd.DataFrame  # one row per group: counts, metric, low, high, ratio, ratio_low, ratio_high, flagged


def group_metrics(
    y,
    probabilities,
    groups: dict[str, pd.Series],
    capacity: float,
    n_boot: int = 500,
    seed: int = 0,
    level: float = 0.95,
    selected: np.ndarray | None = None,
    references: dict[str, str] | None = None,
) -> list[AttributeReview]:
    """Selection rate, precision, recall, FPR, FNR per group at capacity, with disparity ratios."""
    y = np.asarray(y, dtype=np.float64)
    if selected is None:
        selected = select_top(probabilities, capacity)
    indicators = _indicator_columns(y, selected)
    alpha = (1 - level) / 2
    reviews = []
    for attribute, labels in groups.items():
        labels = pd.Series(labels).astype(str).to_numpy()
        names, codes = np.unique(labels, return_inverse=True)
        reference = (references or {}).get(attribute) or reference_group(pd.Series(labels))
        ref = int(np.flatnonzero(names == reference)[0])
        onehot = np.zeros((y.size, names.size), dtype=np.float32)
        onehot[np.arange(y.size), codes] = 1.0
        design = (onehot[:, :, None] * indicators[:, None, :]).reshape(y.size, -1)  # n x (groups*7)
        point = _rates(design.sum(axis=0).reshape(names.size, len(_COUNTS)).astype(np.float64))
        counts = design.sum(axis=0).reshape(names.size, len(_COUNTS)).astype(np.int64)
        reps = {m: [] for m in METRICS}
        for w in _replicate_weights(y.size, n_boot, seed):
            block = (w @ design).reshape(w.shape[0], names.size, len(_COUNTS)).astype(np.float64)
            for metric, values in _rates(block).items():
                reps[metric].append(values)
        reps = {metric: np.concatenate(chunks) for metric, chunks in reps.items()}  # B x groups
        rows = []
        for g, name in enumerate(names):
            row = {"group": str(name), "is_reference": g == ref}
            row.update({c: int(counts[g, i]) for i, c in enumerate(_COUNTS)})
            for metric in METRICS:
                values = reps[metric]
                est = float(point[metric][g])
                ratio = est / point[metric][ref] if point[metric][ref] > 0 else float("nan")
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio_reps = values[:, g] / values[:, ref]
                row[metric] = est
                row[f"{metric}_low"], row[f"{metric}_high"] = _interval(values[:, g], alpha)
                row[f"{metric}_ratio"] = ratio
                row[f"{metric}_ratio_low"], row[f"{metric}_ratio_high"] = _interval(ratio_reps, alpha)
                row[f"{metric}_flagged"] = bool(
                    np.isfinite(ratio) and not (FAIR_RANGE[0] <= ratio <= FAIR_RANGE[1])
                )
            rows.append(row)
        table = pd.DataFrame(rows).sort_values(["is_reference", "n"], ascending=[False, False])
        reviews.append(AttributeReview(attribute, reference, table.reset_index(drop=True)))
    return reviews


def _replicate_weights(n: int, n_boot: int, seed: int):
    """Poisson(1) pupil weights in blocks; the same seed gives every attribute the same replicates."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        size = min(_CHUNK, n_boot - done)
        yield rng.poisson(1.0, size=(size, n)).astype(np.float32)
        done += size


def _interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return float(low), float(high)


# ---------------------------------------------------------------------------------------------
# Calibration by group
# ---------------------------------------------------------------------------------------------


def calibration_by_group(y, probabilities, labels: pd.Series, bins: int = 5) -> pd.DataFrame:
    """Per group and probability bin (edges from the whole cohort's quantiles): pupils, mean predicted,
    observed rate. Answers "is a 20% score a 20% risk for every group?"."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)[1:-1]))
    bin_index = np.searchsorted(edges, p, side="right")
    frame = pd.DataFrame(
        {"group": pd.Series(labels).astype(str).to_numpy(), "bin": bin_index, "y": y, "p": p}
    )
    out = (
        frame.groupby(["group", "bin"], sort=True)
        .agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
        .reset_index()
    )
    return out


def calibration_summary(y, probabilities, labels: pd.Series) -> pd.DataFrame:
    """Per group: pupils, mean predicted probability, observed rate and their ratio (1 = calibrated)."""
    frame = pd.DataFrame(
        {
            "group": pd.Series(labels).astype(str).to_numpy(),
            "y": np.asarray(y, dtype=np.float64),
            "p": np.asarray(probabilities, dtype=np.float64),
        }
    )
    out = frame.groupby("group").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    out["observed_over_predicted"] = out["observed"] / out["predicted"]
    return out.reset_index()


# ---------------------------------------------------------------------------------------------
# SHAP attribution of protected characteristics
# ---------------------------------------------------------------------------------------------


def protected_attribution(
    contributions: pd.DataFrame, protected: list[str], groups: dict[str, pd.Series]
) -> pd.DataFrame:
    """Mean |SHAP| of each protected feature the model uses: overall and within each group of each attribute.

    Also the share of all attribution (sum of mean |SHAP| over features) that protected features carry.
    """
    used = [f for f in protected if f in contributions.columns]
    absolute = contributions.abs()
    total = absolute.sum(axis=1)
    rows = []

    def add(attribute: str, group: str, mask: np.ndarray):
        part = absolute[mask]
        row = {"attribute": attribute, "group": group, "n": int(mask.sum())}
        for f in used:
            row[f] = float(part[f].mean()) if len(part) else float("nan")
        row["protected_share"] = (
            float(part[used].sum(axis=1).sum() / total[mask].sum()) if used and len(part) else 0.0
        )
        rows.append(row)

    add("all pupils", "all", np.ones(len(contributions), dtype=bool))
    for attribute, labels in groups.items():
        labels = pd.Series(labels).astype(str).to_numpy()
        for group in sorted(set(labels)):
            add(attribute, group, labels == group)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Presentation helpers (suppression)
# ---------------------------------------------------------------------------------------------


def shown_count(n: int) -> int | str:
    return suppress_count(int(n))


def shown_rate(value: float, denominator: int, digits: int = 3) -> str:
    """A rate for a report: hidden when fewer than 10 pupils stand behind it or when undefined."""
    if denominator < SUPPRESSION_THRESHOLD:
        return "<10" if denominator > 0 else "-"
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def denominator(row, metric: str) -> int:
    return int(row[_RATIO_PARTS[metric][1]])


def numerator(row, metric: str) -> int:
    return int(row[_RATIO_PARTS[metric][0]])


# ---------------------------------------------------------------------------------------------
# The whole review and its report
# ---------------------------------------------------------------------------------------------

FLAG_MEANING = (
    "A flag means this group's rate, at the team's capacity, is outside 0.8-1.25 times the reference "
    "group's (Aequitas' convention). It is a prompt for a person to look closer, not a finding of "
    "unfairness: groups differ in how often exclusion actually happens (so equal selection rates would mean "
    "unequal error rates, and the reverse), and where the 95% interval of the ratio includes 1 the "
    "difference may be chance. A flag does not say why the rates differ, nor that the model caused it."
)


@dataclass
class Ablation:
    """The same model trained without (or, when the reviewed model excludes them, with) protected features."""

    direction: str  # "without protected characteristics" | "with protected characteristics"
    precision: dict[str, object]  # model / ablated / change: metrics.Interval
    groups: pd.DataFrame  # attribute, group, metric, model, ablated, change (suppressed later)


@dataclass
class FairnessReview:
    model: dict
    capacity: float
    pupils: int
    positives: int
    attributes: list[AttributeReview]
    calibration: dict[str, tuple[pd.DataFrame, pd.DataFrame]]  # attribute -> (summary, bins)
    attribution: pd.DataFrame | None
    protected_used: list[str]
    ablation: Ablation | None
    risk_matrix: dict


def review(
    y,
    probabilities,
    frame: pd.DataFrame,
    capacity: float,
    model: dict,
    contributions: pd.DataFrame | None = None,
    protected_used: list[str] | None = None,
    ablated_probabilities=None,
    ablation_direction: str = "without protected characteristics",
    risk_matrix: dict | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> FairnessReview:
    """Everything the report shows, from one year's labels, probabilities and feature rows."""
    from exclusion_risk.models.metrics import capacity_name, evaluate

    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    groups = review_groups(frame)
    attributes = group_metrics(y, p, groups, capacity, n_boot=n_boot, seed=seed)
    references = {a.attribute: a.reference for a in attributes}
    calibration = {
        attribute: (calibration_summary(y, p, labels), calibration_by_group(y, p, labels))
        for attribute, labels in groups.items()
    }
    attribution = None
    if contributions is not None:
        attribution = protected_attribution(contributions, protected_used or [], groups)
    ablation = None
    if ablated_probabilities is not None:
        ablated = np.asarray(ablated_probabilities, dtype=np.float64)
        key = f"precision_at_{capacity_name(capacity)}"
        evaluations = evaluate(y, {"model": p, "ablated": ablated}, [capacity], n_boot=n_boot, seed=seed)
        precision = {
            "model": evaluations["model"].metrics[key],
            "ablated": evaluations["ablated"].metrics[key],
            "change": evaluations["ablated"].gain_over(evaluations["model"])[key],
        }
        other = group_metrics(y, ablated, groups, capacity, n_boot=2, seed=seed, references=references)
        rows = []
        for before, after in zip(attributes, other, strict=True):
            merged = before.table.merge(after.table, on="group", suffixes=("", "_ablated"))
            for _, r in merged.iterrows():
                for metric in METRICS:
                    rows.append({
                        "attribute": before.attribute, "group": r["group"], "metric": metric,
                        "n": int(r["n"]), "denominator": int(min(r[_RATIO_PARTS[metric][1]],
                                                                 r[_RATIO_PARTS[metric][1] + "_ablated"])),
                        "model": r[metric], "ablated": r[f"{metric}_ablated"],
                        "change": r[f"{metric}_ablated"] - r[metric],
                    })  # fmt: skip
        ablation = Ablation(ablation_direction, precision, pd.DataFrame(rows))
    return FairnessReview(
        model=model, capacity=capacity, pupils=int(y.size), positives=int(y.sum()), attributes=attributes,
        calibration=calibration, attribution=attribution, protected_used=list(protected_used or []),
        ablation=ablation, risk_matrix=risk_matrix or {},
    )  # fmt: skip


def _ratio_text(row, metric: str) -> str:
    if denominator(row, metric) < SUPPRESSION_THRESHOLD or not np.isfinite(row[f"{metric}_ratio"]):
        return "-"
    low, high = row[f"{metric}_ratio_low"], row[f"{metric}_ratio_high"]
    interval = f" [{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else ""
    return f"{row[f'{metric}_ratio']:.2f}{interval}"


def _rate_text(row, metric: str) -> str:
    shown = shown_rate(row[metric], denominator(row, metric))
    if shown in ("<10", "-"):
        return shown
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    return f"{shown} [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else shown


def report_context(result: FairnessReview) -> dict:
    """Plain values for the template: every count suppressed, every small-denominator rate hidden."""
    from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

    attributes = []
    for a in result.attributes:
        rows = []
        for _, r in a.table.iterrows():
            rows.append({
                "group": r["group"], "reference": bool(r["is_reference"]), "n": shown_count(r["n"]),
                "selected": shown_count(r["selected"]), "positives": shown_count(r["positives"]),
                "metrics": [
                    {"rate": _rate_text(r, m), "ratio": _ratio_text(r, m),
                     "flagged": bool(r[f"{m}_flagged"]) and denominator(r, m) >= SUPPRESSION_THRESHOLD}
                    for m in METRICS
                ],
            })  # fmt: skip
        summary, _ = result.calibration[a.attribute]
        calibration = [
            {"group": c["group"], "n": shown_count(c["n"]),
             "predicted": shown_rate(c["predicted"], int(c["n"])),
             "observed": shown_rate(c["observed"], int(c["n"])),
             "ratio": shown_rate(c["observed_over_predicted"], int(c["n"]), digits=2)}
            for _, c in summary.iterrows()
        ]  # fmt: skip
        attributes.append(
            {
                "name": a.attribute,
                "reference": a.reference,
                "rows": rows,
                "calibration": calibration,
                "figure": _calibration_png(result, a.attribute),
            }
        )
    attribution = None
    if result.attribution is not None and result.protected_used:
        attribution = [
            {"attribute": r["attribute"], "group": r["group"], "n": shown_count(r["n"]),
             "shap": [shown_rate(r[f], int(r["n"]), digits=4) for f in result.protected_used],
             "share": shown_rate(100 * r["protected_share"], int(r["n"]), digits=1)}
            for _, r in result.attribution.iterrows()
        ]  # fmt: skip
    ablation = None
    if result.ablation is not None:
        ab = result.ablation
        changes = [
            {"attribute": r["attribute"], "group": r["group"], "metric": METRIC_LABELS[r["metric"]],
             "model": shown_rate(r["model"], r["denominator"]),
             "ablated": shown_rate(r["ablated"], r["denominator"]),
             "change": shown_rate(r["change"], r["denominator"]) if r["denominator"] >= SUPPRESSION_THRESHOLD
             else "<10"}
            for _, r in ab.groups.iterrows()
        ]  # fmt: skip
        ablation = {
            "direction": ab.direction,
            "precision": {k: str(v) for k, v in ab.precision.items()},
            "changes": changes,
        }
    return {
        "notice": DECISION_SUPPORT_NOTICE, "model": result.model,
        "capacity_pct": f"{100 * result.capacity:g}",
        "pupils": shown_count(result.pupils), "positives": shown_count(result.positives),
        "metric_labels": [METRIC_LABELS[m] for m in METRICS], "fair_range": FAIR_RANGE,
        "flag_meaning": FLAG_MEANING, "attributes": attributes, "attribution": attribution,
        "protected_used": result.protected_used, "ablation": ablation, "risk_matrix": result.risk_matrix,
    }  # fmt: skip


def _calibration_png(result: FairnessReview, attribute: str) -> str:
    """Calibration by group as a base64 PNG (bins of fewer than 10 pupils are not drawn)."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, bins = result.calibration[attribute]
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=90)
    top = 0.0
    for group, part in bins.groupby("group"):
        part = part[part["n"] >= SUPPRESSION_THRESHOLD]
        if part.empty:
            continue
        ax.plot(part["predicted"], part["observed"], marker="o", ms=3, label=str(group))
        top = max(top, float(part["predicted"].max()), float(part["observed"].max()))
    ax.plot([0, top or 1], [0, top or 1], "k--", lw=0.8, label="calibrated")
    ax.set(
        xlabel="predicted probability (bin mean)", ylabel="observed rate", title=f"Calibration by {attribute}"
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render_report(result: FairnessReview) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("models", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    return env.get_template("fairness.html.j2").render(**report_context(result))


def summary_json(result: FairnessReview) -> dict:
    """Suppressed aggregates for MLflow (what the HTML shows, as data)."""
    context = report_context(result)
    for attribute in context["attributes"]:
        attribute.pop("figure")
    return context


# ---------------------------------------------------------------------------------------------
# Reviewing a tracked run (used by `exclusion-risk review RUN`)
# ---------------------------------------------------------------------------------------------


@dataclass
class RunTarget:
    run_id: str
    version: str | None
    tags: dict


def resolve_run(text: str) -> RunTarget:
    """A model run from its id, an id prefix (8+ characters), a registry version number or an alias."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from exclusion_risk.models import tracking

    mlflow.set_tracking_uri(tracking.tracking_uri())
    client = MlflowClient()
    try:
        versions = client.search_model_versions(f"name = '{tracking.REGISTERED_MODEL}'")
    except MlflowException:
        versions = []
    by_run = {v.run_id: v for v in versions}
    if versions and not text.isdigit() and len(text) < 32:
        try:  # an alias such as `champion`
            v = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, text)
            return RunTarget(v.run_id, str(v.version), dict(v.tags))
        except MlflowException:
            pass
    for v in versions:
        if text == str(v.version):
            return RunTarget(v.run_id, str(v.version), dict(v.tags))
    matches = [run_id for run_id in by_run if len(text) >= 8 and run_id.startswith(text)]
    if len(matches) == 1:
        v = by_run[matches[0]]
        return RunTarget(v.run_id, str(v.version), dict(v.tags))
    try:
        run = client.get_run(text)
    except MlflowException:
        raise LookupError(
            f"no model run or registry version matches {text!r} in {tracking.tracking_uri()}"
        ) from None
    if run.data.tags.get("kind") != "model":
        raise LookupError(f"run {text[:8]} is not a model run (kind={run.data.tags.get('kind')!r})")
    return RunTarget(run.info.run_id, None, dict(run.data.tags))


def _preprocessor_factory(fitted_preprocessor):
    """make_preprocessor with the settings the fitted one was built with, for other feature lists."""
    import functools

    from exclusion_risk.features.preprocess import make_preprocessor

    steps = {}
    for name, transformer, _ in fitted_preprocessor.transformers:
        if hasattr(transformer, "named_steps"):
            steps[name] = transformer.named_steps
    numeric = steps.get("numeric", {})
    categorical = steps.get("categorical", {})
    encoding = "ordinal" if type(categorical.get("encode")).__name__ == "OrdinalEncoder" else "onehot"
    return functools.partial(
        make_preprocessor, missing="impute" if "impute" in numeric else "keep", scale="scale" in numeric,
        encoding=encoding,
    )  # fmt: skip


def _run_config(client, train_id: str, model_type: str, include_protected: bool):
    """The run's resolved experiment config, narrowed to one model type, protected inputs toggled."""
    import tempfile

    import mlflow

    from exclusion_risk.models.config import load_config

    with tempfile.TemporaryDirectory() as folder:
        path = mlflow.artifacts.download_artifacts(
            run_id=train_id, artifact_path="config/experiment.yaml", dst_path=folder
        )
        config = load_config(path)
    models = {
        name: spec.model_copy(update={"enabled": name == model_type}) for name, spec in config.models.items()
    }
    return config.model_copy(update={
        "models": models,
        "features": config.features.model_copy(update={"include_protected": include_protected}),
        "metrics": config.metrics.model_copy(update={"bootstrap": 50}),
    })  # fmt: skip


def review_run(
    target: RunTarget, history, capacity: float | None, ablation: bool = True, n_boot: int = 500
) -> tuple[FairnessReview, str]:
    """Review a model run on its test year; the report and its aggregates are logged to the run."""
    import mlflow
    from mlflow import MlflowClient

    from exclusion_risk.features import registry
    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.models.explain import Explainer
    from exclusion_risk.models.risk_matrix import load_risk_matrix
    from exclusion_risk.models.scoring import matrix_for

    client = MlflowClient()
    tags = target.tags
    test_year = tags.get("test_year")
    train_years = [y for y in tags.get("train_years", "").split(",") if y]
    validation_year = tags.get("validation_year")
    if not test_year or not validation_year:
        raise LookupError(f"run {target.run_id[:8]} has no test_year/validation_year tags")
    pipeline = mlflow.sklearn.load_model(f"runs:/{target.run_id}/model")
    features = list(pipeline[0].feature_names_in_)
    label = tags.get("label", "any")
    years = [*train_years, validation_year, test_year] if ablation else [test_year]
    table = build_feature_table(history, years, label=label)
    test = table[(table["AcademicYear"] == test_year) & table["label"].notna()].reset_index(drop=True)
    if test.empty:
        raise ValueError(f"no labelled pupils for the test year {test_year} in the data")
    y = test["label"].to_numpy()
    p = pipeline.predict_proba(test[features])[:, 1]
    explainer = Explainer(pipeline)
    contributions = explainer.explain(test).frame()
    protected_used = [f for f in registry.protected_names() if f in features]
    matrix = load_risk_matrix()
    capacity = capacity or matrix.capacity

    ablated = None
    direction = "without protected characteristics" if protected_used else "with protected characteristics"
    if ablation:
        from exclusion_risk.models.train import train_models

        toggled = not protected_used
        config = _run_config(client, tags["train_id"], tags["model_type"], include_protected=toggled)
        if toggled:
            columns = [*features, *[f for f in registry.protected_names() if f not in features]]
        else:
            columns = [f for f in features if f not in protected_used]
        result = train_models(table, config, columns, _preprocessor_factory(pipeline[0]))
        ablated = result.models[tags["model_type"]].pipeline.predict_proba(test[columns])[:, 1]

    scoring_config = None
    try:
        import json

        from exclusion_risk.models.scoring import SCORING_ARTIFACT, ScoringConfig

        path = mlflow.artifacts.download_artifacts(run_id=target.run_id, artifact_path=SCORING_ARTIFACT)
        with open(path, encoding="utf-8") as handle:
            scoring_config = ScoringConfig.from_dict(json.load(handle))
    except Exception:  # noqa: BLE001 - older runs have no stored thresholds: the file's defaults are shown
        scoring_config = None
    model = {"model_type": tags.get("model_type"), "version": target.version, "run_id": target.run_id,
             "year": test_year, "include_protected": bool(protected_used)}  # fmt: skip
    result = review(
        y, p, test, capacity, model, contributions=contributions, protected_used=protected_used,
        ablated_probabilities=ablated, ablation_direction=direction,
        risk_matrix=matrix_for(scoring_config, matrix).to_dict(), n_boot=n_boot,
    )  # fmt: skip
    html = render_report(result)
    import json as _json

    client.log_text(
        target.run_id, check_no_identifiers(html, "fairness report"), "fairness/fairness_report.html"
    )
    summary = _json.dumps(summary_json(result), indent=2, default=str)
    client.log_text(
        target.run_id,
        check_no_identifiers(summary, "fairness summary"),
        "fairness/fairness_review.json",
    )
    return result, html
