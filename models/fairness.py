"""The fairness review's numbers: group base rates and error rates at capacity, calibration by group
(observed / predicted with intervals), for single characteristics (detailed ethnicity too, where the
table has the CBDS code) and intersections (`models.fairness_intersections`), SHAP by group
(`models.fairness_shap`), SHAP attribution of protected characteristics and the ablation (retrained with
protected characteristics toggled); `review` gathers them in a `FairnessReview`.

`models.fairness_summary` draws the findings from a review, `models.fairness_options` measures the options
side by side, `models.fairness_report` renders a review as HTML and `fairness.json`, and
`models.fairness_run` reviews a tracked model run.

Conventions (stated in the report):
- Selection is the team's capacity: the top k% of the whole cohort by probability (ties broken by row
  order, as a team working down a sorted list would), the same threshold for every group.
- Disparity ratio = group metric / reference-group metric; the reference is the largest group of each
  attribute. A ratio outside 0.8-1.25 is flagged (Aequitas' convention).
- 95% intervals: Poisson bootstrap of pupils with the selection held fixed (the uncertainty is in who
  the cohort happened to contain, not in the threshold); a rate of none or all of a group: Wilson's; a
  ratio of a group with none: exact (`models.fairness_zero`). A table's `members`: which pupils a group is.
- Any count of fewer than 10 pupils is shown as "<10", and a rate is not shown when any count it is
  made from, or that it gives back with the published counts, is 1-9 (`rate_support`) or withheld
  (`rate_withheld`): precision times selected pupils is the true positives, so the error rates rest on
  tp, fp, fn and tn as well. A count a rate does not rest on does not hide it.
- Intersections compare each cell with the cell of the same first-attribute group and the second
  attribute's reference (girls / Asian with girls / White British): one effect at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from exclusion_risk.features.need import NOT_KNOWN_TO_SOCIAL_CARE, SOCIAL_CARE_STATUS, social_care_status
from exclusion_risk.features.registry import ETHNICITY_NAMES
from exclusion_risk.models.band_precision import wilson
from exclusion_risk.models.fairness_intersections import (
    intersection_groups,
    intersection_references,
    nested_parents,
)
from exclusion_risk.models.fairness_shap import shap_by_group
from exclusion_risk.models.fairness_zero import pupils_keys, zero_calibration, zero_ratios
from exclusion_risk.models.group_counts import ERROR_CELLS, PROTECTED, withheld_among
from exclusion_risk.models.metrics import Interval, capacity_name, evaluate, top_share

# The review's numbers for audit trails, beside the HTML report (and logged to the run under fairness/);
# here, not in fairness_run, so that `review --help` names it without loading scikit-learn.
FAIRNESS_JSON = "fairness.json"
FAIR_RANGE = (0.8, 1.25)
METRICS = ("selection_rate", "precision", "recall", "fpr", "fnr")
METRIC_LABELS = {
    "base_rate": "base rate (excluded)",
    "selection_rate": "selection rate",
    "precision": "precision",
    "recall": "recall (TPR)",
    "fpr": "false-positive rate",
    "fnr": "false-negative rate",
}
# The group's own exclusion rate: not the model's doing, reported beside its error rates.
BASE_RATE = "base_rate"
# numerator / denominator count names for each metric (counts per group, in COUNT_NAMES)
_RATIO_PARTS = {
    BASE_RATE: ("positives", "n"),
    "selection_rate": ("selected", "n"),
    "precision": ("tp", "selected"),
    "recall": ("tp", "positives"),
    "fpr": ("fp", "negatives"),
    "fnr": ("fn", "positives"),
}
COUNT_NAMES = ("n", "selected", "positives", "negatives", *ERROR_CELLS)
# The error rates: with a group's published pupils, selected and excluded, any one of them gives back
# tp, fp, fn and tn, so each rests on all four.
ERROR_RATES = ("precision", "recall", "fpr", "fnr")
_CONFUSION = ("selected", "positives", "negatives", *ERROR_CELLS)
_CHUNK = 100

DETAILED_ETHNICITY = "ethnicity (detailed)"
SOCIAL_CARE_ORDER = ("looked after", "child protection plan", "child in need", "previously involved", "none")
SOCIAL_CARE_NAMES = dict(zip([code for code, _ in SOCIAL_CARE_STATUS] + [NOT_KNOWN_TO_SOCIAL_CARE],
                             SOCIAL_CARE_ORDER, strict=True))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------


def _text(frame: pd.DataFrame, name: str, mapping: dict | None = None) -> pd.Series:
    values = frame[name].astype(object).where(frame[name].notna(), "unknown").astype(str)
    return values.map(lambda v: mapping.get(v, v)) if mapping else values


# The groups as the review names them: sex codes, and a CBDS code with its name ("Indian (AIND)")
SEX_GROUPS = {"M": "boys", "F": "girls"}
DETAILED_ETHNICITY_NAMES = {code: f"{name} ({code})" for code, name in ETHNICITY_NAMES.items()}


def review_groups(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The review's attributes -> group label per pupil (from the feature table's columns)."""
    social_care = social_care_status(frame).map(SOCIAL_CARE_NAMES)  # describe's groups too (features.need)
    fsm = pd.to_numeric(frame["fsm"], errors="coerce")
    groups = {
        "sex": _text(frame, "sex", SEX_GROUPS),
        "ethnic group": _text(frame, "ethnicity_group"),
        "SEN provision": _text(frame, "sen_provision", {"N": "no SEN", "K": "SEN support", "E": "EHC plan"}),
        "free school meals": pd.Series(
            np.where(fsm.isna(), "unknown", np.where(fsm > 0, "eligible", "not eligible")), index=frame.index
        ),
        "social care": social_care,
    }
    if "ethnicity_code" in frame:  # the CBDS code beside the broad group (Indian vs Pakistani ...)
        groups[DETAILED_ETHNICITY] = _text(frame, "ethnicity_code", DETAILED_ETHNICITY_NAMES)
    return groups


def reference_group(groups: pd.Series) -> str:
    """The largest group (ties: alphabetical), the Aequitas default."""
    counts = groups.value_counts()
    top = counts[counts == counts.max()].index
    return sorted(map(str, top))[0]


def select_top(probabilities, capacity: float) -> np.ndarray:
    """Boolean mask of the top `capacity` share (`top_share`) by probability; ties by row order."""
    p = np.asarray(probabilities, dtype=np.float64)
    k = top_share(p.size, capacity)
    order = np.argsort(-p, kind="stable")
    selected = np.zeros(p.size, dtype=bool)
    selected[order[:k]] = True
    return selected


# ---------------------------------------------------------------------------------------------
# Group metrics at capacity with bootstrap intervals
# ---------------------------------------------------------------------------------------------


def _indicator_columns(y: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """(n x 8) per-pupil indicators in COUNT_NAMES order."""
    pos = y == 1
    return np.column_stack(
        [np.ones_like(pos), selected, pos, ~pos, selected & pos, selected & ~pos, ~selected & pos,
         ~selected & ~pos]
    ).astype(np.float32)  # fmt: skip


def _rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """counts (..., 8) -> metric arrays (...), NaN where the denominator is 0."""
    index = {name: i for i, name in enumerate(COUNT_NAMES)}
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for metric, (num, den) in _RATIO_PARTS.items():
            d = counts[..., index[den]]
            out[metric] = np.where(d > 0, counts[..., index[num]] / np.where(d > 0, d, 1), np.nan)
    return out


@dataclass
class AttributeReview:
    attribute: str
    reference: str  # the reference group, or (intersections) how each row's reference is chosen
    table: pd.DataFrame  # one row per group: counts, reference, metric, low, high, ratio, ..., flagged


def group_metrics(
    y,
    probabilities,
    groups: dict[str, pd.Series],
    capacity: float,
    n_boot: int = 500,
    seed: int = 0,
    level: float = 0.95,
    selected: np.ndarray | None = None,
    references: dict[str, str | tuple[str, dict[str, str]]] | None = None,
) -> list[AttributeReview]:
    """Selection rate, precision, recall, FPR, FNR per group at capacity, with disparity ratios.

    `references`: per attribute, its reference group, or (description, group -> its own reference group)
    where each group is compared with a group of its own (intersections); default the largest group.
    A group whose own reference has no pupils gets undefined ratios.
    """
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
        own = reference[1] if isinstance(reference, tuple) else dict.fromkeys(names, reference)
        index = {str(name): g for g, name in enumerate(names)}
        refs = [index.get(own.get(str(name), ""), -1) for name in names]
        onehot = np.zeros((y.size, names.size), dtype=np.float32)
        onehot[np.arange(y.size), codes] = 1.0
        design = (onehot[:, :, None] * indicators[:, None, :]).reshape(y.size, -1)  # n x (groups*8)
        point = _rates(design.sum(axis=0).reshape(names.size, len(COUNT_NAMES)).astype(np.float64))
        counts = design.sum(axis=0).reshape(names.size, len(COUNT_NAMES)).astype(np.int64)
        reps = {m: [] for m in _RATIO_PARTS}
        for w in _replicate_weights(y.size, n_boot, seed):
            block = (w @ design).reshape(w.shape[0], names.size, len(COUNT_NAMES)).astype(np.float64)
            for metric, values in _rates(block).items():
                reps[metric].append(values)
        reps = {metric: np.concatenate(chunks) for metric, chunks in reps.items()}  # B x groups
        rows = []
        for g, name in enumerate(names):
            ref = refs[g]
            row = {"group": str(name), "reference": str(names[ref]) if ref >= 0 else "",
                   "is_reference": g == ref}  # fmt: skip
            row.update({c: int(counts[g, i]) for i, c in enumerate(COUNT_NAMES)})
            for metric in _RATIO_PARTS:
                values = reps[metric]
                est = float(point[metric][g])
                base = point[metric][ref] if ref >= 0 else float("nan")
                ratio = est / base if base > 0 else float("nan")
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio_reps = values[:, g] / values[:, ref] if ref >= 0 else np.full(len(values), np.nan)
                row[metric] = est
                events, pupils = (int(counts[g, COUNT_NAMES.index(c)]) for c in _RATIO_PARTS[metric])
                # none or all of them: every replicate has the same rate, and 0 of 67 read [0.000, 0.000]
                degenerate = pupils and events in (0, pupils)
                row[f"{metric}_low"], row[f"{metric}_high"] = (
                    wilson(events, pupils) if degenerate else _interval(values[:, g], alpha))  # fmt: skip
                row[f"{metric}_ratio"] = ratio
                row[f"{metric}_ratio_low"], row[f"{metric}_ratio_high"] = _interval(ratio_reps, alpha)
                row[f"{metric}_flagged"] = bool(
                    np.isfinite(ratio) and not (FAIR_RANGE[0] <= ratio <= FAIR_RANGE[1])
                )
            rows.append(row)
        table = zero_ratios(pd.DataFrame(rows), _RATIO_PARTS).assign(members=pupils_keys(codes, names.size))
        size = table.set_index("group")["n"]
        table["_reference_n"] = table["reference"].map(size).fillna(0)
        table = table.sort_values(["_reference_n", "reference", "is_reference", "n"],
                                  ascending=[False, True, False, False]).drop(columns="_reference_n")
        text = reference[0] if isinstance(reference, tuple) else reference
        reviews.append(AttributeReview(attribute, text, table.reset_index(drop=True)))
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


def calibration_summary(
    y, probabilities, labels: pd.Series, n_boot: int = 0, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Per group: pupils, mean predicted probability, observed rate and their ratio (1 = calibrated),
    with the ratio's bootstrap interval (`ratio_low`, `ratio_high`; NaN when `n_boot` is 0; exact for none:
    `fairness_zero`), and the ratio over all pupils' (`relative`, `relative_low`, `relative_high`)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    frame = pd.DataFrame({"group": pd.Series(labels).astype(str).to_numpy(), "y": y, "p": p})
    out = frame.groupby("group").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    out["observed_over_predicted"] = out["observed"] / out["predicted"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative"] = out["observed_over_predicted"] / (y.sum() / p.sum())
    out["ratio_low"], out["ratio_high"], out["relative_low"], out["relative_high"] = (np.nan,) * 4
    if n_boot:
        names, codes = np.unique(frame["group"].to_numpy(), return_inverse=True)
        onehot = np.zeros((y.size, names.size), dtype=np.float32)
        onehot[np.arange(y.size), codes] = 1.0
        # the last two columns: all pupils' observed and predicted, for the ratio to the year's
        design = np.hstack([onehot * y[:, None], onehot * p[:, None], y[:, None], p[:, None]])
        design = design.astype(np.float32)
        reps = np.concatenate([w @ design for w in _replicate_weights(y.size, n_boot, seed)])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = reps[:, : names.size].astype(np.float64) / reps[:, names.size : 2 * names.size]
            relative = ratios / (reps[:, -2].astype(np.float64) / reps[:, -1])[:, None]
        alpha = (1 - level) / 2
        for g, name in enumerate(names):
            out.loc[name, ["ratio_low", "ratio_high"]] = _interval(ratios[:, g], alpha)
            out.loc[name, ["relative_low", "relative_high"]] = _interval(relative[:, g], alpha)
    return zero_calibration(out.reset_index()) if n_boot else out.reset_index()


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


def rate_support(row, metric: str, suffix: str = "") -> int:
    """The fewest pupils a group's `metric` rests on: 0 when its denominator is 0 (undefined), else the
    smallest non-zero count it is made from or gives back with the published counts (the base rate and
    selection rate: their own numerator and denominator; an error rate: tp, fp, fn, tn and their sums).
    A rate, its ratio and its interval are shown only when this is 10 or more. `suffix`: the count
    columns' suffix (another model's counts in a merged table)."""
    if int(row[_RATIO_PARTS[metric][1] + suffix]) == 0:
        return 0
    parts = _CONFUSION if metric in ERROR_RATES else _RATIO_PARTS[metric]
    return min(int(row[c + suffix]) for c in parts if int(row[c + suffix]) > 0)


def rate_counts(metric: str) -> tuple[str, ...]:
    """The published counts (`group_counts.PROTECTED`) a group's `metric` rests on: its numerator and
    denominator (the base rate: excluded and pupils; the selection rate: selected and pupils), which
    either gives the other back with the rate; an error rate all of them (with the pupils, selected and
    excluded any one gives tp, fp, fn and tn back, and they those three)."""
    return PROTECTED if metric in ERROR_RATES else _RATIO_PARTS[metric]


def rate_withheld(counts: dict, metric: str) -> str | None:
    """How a group's `metric` reads where a count it rests on is withheld in `counts` (the group's counts
    as shown): "<10" or "-" (`group_counts.withheld_among`); None where it may be shown."""
    return withheld_among([counts], rate_counts(metric))


# ---------------------------------------------------------------------------------------------
# The whole review
# ---------------------------------------------------------------------------------------------


@dataclass
class Ablation:
    """The same model trained without (or, when the reviewed model excludes them, with) protected features."""

    direction: str  # "without protected characteristics" | "with protected characteristics"
    precision: dict[str, Interval]  # model / ablated / change
    # attribute, group, metric, n, support (both models'), support_model, support_ablated, model, ablated,
    # change (suppressed later)
    groups: pd.DataFrame
    # attribute -> the ablated model's counts by group (column `group` and `group_counts.PROTECTED`),
    # suppressed as the model's are: its rates give them back as the model's give its own
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class FairnessReview:
    model: dict
    capacity: float
    pupils: int
    positives: int
    attributes: list[AttributeReview]
    calibration: dict[str, tuple[pd.DataFrame, pd.DataFrame]]  # attribute/intersection -> (summary, bins)
    attribution: pd.DataFrame | None
    protected_used: list[str]
    ablation: Ablation | None
    risk_matrix: dict
    # sex x ethnic group etc. (models.fairness_intersections); their calibration is in `calibration` too
    intersections: list[AttributeReview] = field(default_factory=list)
    shap: pd.DataFrame | None = None  # models.fairness_shap.shap_by_group: mean contributions, gap parts
    shap_scale: str | None = None  # the raw score's scale: "log-odds" or "probability"
    options: list = field(default_factory=list)  # models.fairness_options.Option: as is, ablation, ...
    # attribute -> its group -> the group of a coarser attribute it nests in (detailed -> broad ethnicity)
    nesting: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    linkage: dict | None = None  # models.fairness_linkage.link_rates_by_group: link rates by group
    red_list: object | None = None  # models.fairness_red_list.RedList: the risk matrix's red list by group
    year_calibration: pd.DataFrame | None = None  # calibration_summary's row for all pupils (group "all")


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
    shap_scale: str | None = None,
) -> FairnessReview:
    """Everything the report shows, from one year's labels, probabilities and feature rows."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    groups = review_groups(frame)
    attributes = group_metrics(y, p, groups, capacity, n_boot=n_boot, seed=seed)
    references = {a.attribute: a.reference for a in attributes}
    crossed = intersection_groups(groups)
    crossed_references = intersection_references(crossed, references)
    intersections = group_metrics(
        y, p, crossed, capacity, n_boot=n_boot, seed=seed, references=crossed_references
    )
    calibration = {
        attribute: (
            calibration_summary(y, p, labels, n_boot=n_boot, seed=seed),
            calibration_by_group(y, p, labels),
        )
        for attribute, labels in {**groups, **crossed}.items()
    }
    # the same seed and pupils: the replicates the groups' ratios (and `relative`) come from
    year = calibration_summary(y, p, pd.Series(["all"] * y.size), n_boot=n_boot, seed=seed)
    attribution = shap = None
    if contributions is not None:
        attribution = protected_attribution(contributions, protected_used or [], groups)
        shap = shap_by_group(contributions, groups, references)
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
                        "n": int(r["n"]),
                        "support": min(rate_support(r, metric), rate_support(r, metric, "_ablated")),
                        # each model's own: its column is shown as its own table shows it
                        "support_model": rate_support(r, metric),
                        "support_ablated": rate_support(r, metric, "_ablated"),
                        "model": r[metric], "ablated": r[f"{metric}_ablated"],
                        "change": r[f"{metric}_ablated"] - r[metric],
                    })  # fmt: skip
        tables = {a.attribute: a.table[["group", *PROTECTED]] for a in other}
        ablation = Ablation(ablation_direction, precision, pd.DataFrame(rows), tables)
    return FairnessReview(
        model=model, capacity=capacity, pupils=int(y.size), positives=int(y.sum()), attributes=attributes,
        calibration=calibration, attribution=attribution, protected_used=list(protected_used or []),
        ablation=ablation, risk_matrix=risk_matrix or {}, intersections=intersections, shap=shap,
        shap_scale=shap_scale, nesting=_nesting(groups), year_calibration=year,
    )  # fmt: skip


def _nesting(groups: dict[str, pd.Series]) -> dict[str, tuple[str, dict[str, str]]]:
    """Detailed ethnicity's groups and the broad group each falls in (most of its pupils' broad group):
    the broad groups are the detailed table's totals, so it is suppressed against them."""
    if DETAILED_ETHNICITY not in groups or "ethnic group" not in groups:
        return {}
    parents = nested_parents(groups[DETAILED_ETHNICITY], groups["ethnic group"])
    return {DETAILED_ETHNICITY: ("ethnic group", parents)}
