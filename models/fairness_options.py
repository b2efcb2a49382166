"""Options the fairness review measures side by side, so a reviewer decides with numbers: the model as is,
the ablation (retrained with protected characteristics, or without them), and the model recalibrated
per group (sex, ethnic group and free school meals). Each with its precision at capacity (paired
difference to "as is"), and by group its selection ratio and observed / predicted.

Per-group recalibration is Platt scaling with group terms: logit(p') = a * logit(p) + b + one offset per
sex, per ethnic group and per FSM group, fitted on the validation year's calibration pupils (those the
model's own calibration was fitted on, never trained on) and applied to the reviewed year; it uses sex
and ethnicity at scoring time, which is the choice the reviewer weighs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

from exclusion_risk.models.fairness import calibration_summary, group_metrics
from exclusion_risk.models.group_counts import PROTECTED
from exclusion_risk.models.metrics import Interval, capacity_name, evaluate

AS_IS = "as is"
RECALIBRATED = "recalibrated per sex, ethnic group and free school meals"
# The groups the summary's calibration findings are about: a finding's advice to recalibrate is an
# option measured here. FSM is a model input already; sex and ethnicity are used only by this option.
RECALIBRATION_ATTRIBUTES = ("sex", "ethnic group", "free school meals")
_EPSILON = 1e-6


@dataclass
class Option:
    name: str
    precision: Interval
    change: Interval | None  # precision minus the model as is (paired bootstrap); None for "as is"
    # attribute, group, n, support (the fewest pupils the selection ratio rests on: this option's selected
    # pupils of the group and of its reference, and their sizes), selection_ratio, observed_over_predicted
    groups: pd.DataFrame
    # attribute -> this option's counts by group (column `group` and `group_counts.PROTECTED`), suppressed
    # as the model's are
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _design(p, groups: dict[str, pd.Series], encoder: OneHotEncoder, fit: bool) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    labels = pd.DataFrame({a: pd.Series(groups[a]).astype(str).to_numpy() for a in RECALIBRATION_ATTRIBUTES})
    onehot = encoder.fit_transform(labels) if fit else encoder.transform(labels)
    return np.column_stack([np.log(clipped / (1 - clipped)), onehot])


def recalibrate_by_group(p_fit, y_fit, groups_fit: dict[str, pd.Series], p_apply, groups_apply) -> np.ndarray:
    """Probabilities `p_apply` recalibrated per group, with a mapping fitted on (`p_fit`, `y_fit`)."""
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    model = LogisticRegression(C=1e4, max_iter=2000)
    model.fit(_design(p_fit, groups_fit, encoder, fit=True), np.asarray(y_fit, dtype=int))
    return model.predict_proba(_design(p_apply, groups_apply, encoder, fit=False))[:, 1]


def measure_options(
    y,
    options: dict[str, np.ndarray],
    groups: dict[str, pd.Series],
    capacity: float,
    references: dict[str, str],
    n_boot: int = 500,
    seed: int = 0,
) -> list[Option]:
    """Each option's precision at capacity and, by group, selection ratio and observed / predicted.

    `options` maps a name to probabilities for the same pupils, including AS_IS (the reviewed model).
    """
    y = np.asarray(y, dtype=np.float64)
    key = f"precision_at_{capacity_name(capacity)}"
    evaluations = evaluate(y, options, [capacity], n_boot=n_boot, seed=seed)
    out = []
    for name, p in options.items():
        change = None if name == AS_IS else evaluations[name].gain_over(evaluations[AS_IS])[key]
        rows, tables = [], {}
        for review in group_metrics(y, p, groups, capacity, n_boot=2, seed=seed, references=references):
            tables[review.attribute] = review.table[["group", *PROTECTED]]
            calibration = calibration_summary(y, p, groups[review.attribute]).set_index("group")
            table = review.table.set_index("group")
            for _, r in review.table.iterrows():
                parts = [r["n"], r["selected"]]
                if r["reference"] in table.index:
                    parts += [table.loc[r["reference"], "n"], table.loc[r["reference"], "selected"]]
                rows.append({
                    "attribute": review.attribute, "group": r["group"], "n": int(r["n"]),
                    "support": min((int(c) for c in parts if c > 0), default=0),
                    "selection_ratio": float(r["selection_rate_ratio"]),
                    "observed_over_predicted": float(calibration.loc[r["group"], "observed_over_predicted"]),
                })  # fmt: skip
        out.append(Option(name, evaluations[name].metrics[key], change, pd.DataFrame(rows), tables))
    return out
