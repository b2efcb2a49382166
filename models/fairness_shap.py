"""SHAP by group: which inputs carry a difference in score between a group and its reference group.

Contributions are on the model's raw scale (`Explanation.scale`: log-odds for LightGBM and logistic
regression, the forest's uncalibrated probability for a random forest), and for every pupil they add up
with the model's expected value to the raw score. The expected value is the same for every pupil, so the
gap in *mean raw score* between a group and its reference splits exactly into one part per feature:

    mean raw score(group) - mean raw score(reference)
        = sum over features of [mean contribution(group) - mean contribution(reference)]

A feature's part says how much of the gap runs through that input (e.g. suspensions last year vs the
school's suspension rate); it does not say the input is wrong to use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def shap_by_group(
    contributions: pd.DataFrame, groups: dict[str, pd.Series], references: dict[str, str]
) -> pd.DataFrame:
    """Long table, one row per attribute, group and feature: pupils `n`, the group's mean contribution
    `mean`, the reference group's `reference_mean`, and `gap_part` = mean - reference_mean (0 for the
    reference group itself). Per attribute and group the gap parts sum to the gap in mean raw score."""
    features = list(contributions.columns)
    values = contributions.to_numpy(dtype=np.float64)
    rows = []
    for attribute, labels in groups.items():
        labels = pd.Series(labels).astype(str).to_numpy()
        reference = references[attribute]
        means = {g: values[labels == g].mean(axis=0) for g in sorted(set(labels))}
        for group, mean in means.items():
            n = int((labels == group).sum())
            for j, feature in enumerate(features):
                rows.append({
                    "attribute": attribute, "group": group, "reference": reference, "n": n,
                    "feature": feature, "mean": float(mean[j]), "reference_mean": float(means[reference][j]),
                    "gap_part": float(mean[j] - means[reference][j]),
                })  # fmt: skip
    return pd.DataFrame(rows)


def score_gaps(shap: pd.DataFrame) -> pd.DataFrame:
    """Per attribute and group: the gap in mean raw score to the reference, as the sum of its parts."""
    return (
        shap.groupby(["attribute", "group"], sort=False)
        .agg(reference=("reference", "first"), n=("n", "first"), gap=("gap_part", "sum"))
        .reset_index()
    )


def leading_features(shap: pd.DataFrame, attribute: str, limit: int) -> list[str]:
    """The features with the largest |gap part| over an attribute's groups, largest first."""
    part = shap[shap["attribute"] == attribute]
    size = part.assign(size=part["gap_part"].abs()).groupby("feature")["size"].max()
    return list(size.sort_values(ascending=False, kind="stable").index[:limit])
