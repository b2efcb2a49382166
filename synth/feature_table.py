"""A small model-ready feature table with a known logit, for the models stage's tests and benchmarks.

`feature_table(pupils, years, seed)` -> (table, true probability). The columns follow
`features.build`: upn, AcademicYear, SchoolURN, the registry features in FEATURES (numeric and binary
float64, categorical str) and label; the true probability lets a test compare a model with the truth.
No need level: the scorer derives it with the one rule (`features.need`), as for any table.
MODEL_FEATURES: the columns a model takes with the protected ones (sex, ethnicity) left out.
It is not the synthetic authority (`generate.py` is): no extracts, no linkage, no feature builder, only
volume and a signal the models must find.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from exclusion_risk.values import sigmoid

YEARS = ("2015/16", "2016/17", "2017/18", "2018/19")
CATEGORICAL = ["sex", "ethnicity_group", "sen_provision", "sen_type"]
NUMERIC = [
    "nc_year", "fsm", "absence_rate_last_year", "persistent_absence_last_year", "suspensions_this_year",
    "suspensions_last_year", "suspensions_earlier", "permanent_exclusions_prior", "cin_open", "cpp_open",
    "cla_open", "school_moves_last_year", "school_suspension_rate",
]  # fmt: skip
FEATURES = NUMERIC + CATEGORICAL
MODEL_FEATURES = [f for f in FEATURES if f not in ("sex", "ethnicity_group")]


def feature_table(
    pupils: int = 1500, years: Sequence[str] = YEARS, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """(table, true_probability) for `pupils` pupils on each year's census (first year unlabelled).

    The same arguments give the same table, byte for byte."""
    rng = np.random.default_rng(seed)
    upns = np.array([f"T{n:012d}" for n in range(pupils)])
    frailty = rng.normal(0, 1, pupils)
    base_year = rng.integers(0, 10, pupils)
    frames, truths = [], []
    for i, year in enumerate(years):
        n = pupils
        sen_provision = rng.choice(["N", "K", "E"], n, p=[0.8, 0.15, 0.05])
        sen_type = np.where(sen_provision == "N", "none", rng.choice(["SEMH", "MLD", "SLCN", "ASD"], n))
        susp_last = rng.poisson(np.exp(-2.5 + 0.8 * frailty))
        absence = np.clip(rng.beta(2, 30, n) + 0.02 * np.maximum(frailty, 0), 0, 1)
        frame = pd.DataFrame(
            {
                "upn": upns,
                "AcademicYear": year,
                "SchoolURN": rng.choice(["100001", "100002", "100003"], n),
                "nc_year": (base_year + i).astype(float),
                "fsm": (rng.random(n) < 0.25).astype(float),
                "absence_rate_last_year": absence,
                "persistent_absence_last_year": (absence >= 0.1).astype(float),
                "suspensions_this_year": rng.poisson(np.exp(-3.5 + 0.8 * frailty)).astype(float),
                "suspensions_last_year": susp_last.astype(float),
                "suspensions_earlier": rng.poisson(0.05, n).astype(float),
                "permanent_exclusions_prior": (rng.random(n) < 0.005).astype(float),
                "cin_open": (rng.random(n) < 0.03).astype(float),
                "cpp_open": (rng.random(n) < 0.01).astype(float),
                "cla_open": (rng.random(n) < 0.01).astype(float),
                "school_moves_last_year": (rng.random(n) < 0.05).astype(float),
                "school_suspension_rate": rng.choice([0.02, 0.05, 0.1], n),
                "sex": rng.choice(["M", "F"], n),
                "ethnicity_group": rng.choice(["White British", "Asian", "Black", "Mixed"], n),
                "sen_provision": sen_provision,
                "sen_type": sen_type,
            }
        )
        frame.loc[rng.random(n) < 0.02, "absence_rate_last_year"] = np.nan  # missing attendance
        z = (
            -4.2
            + 1.3 * (frame["suspensions_last_year"] > 0)
            + 0.9 * (frame["suspensions_this_year"] > 0)
            + 0.7 * frame["fsm"]
            + 1.1 * (frame["sen_type"] == "SEMH")
            + 0.5 * (frame["sen_provision"] != "N")
            + 6.0 * frame["absence_rate_last_year"].fillna(0.05)
            + 0.9 * frame["cpp_open"]
            + 1.0 * frame["cla_open"]
            + 0.25 * (frame["nc_year"] >= 7)
            + 0.5 * frailty
        )
        truth = sigmoid(z.to_numpy())
        frame["label"] = (rng.random(n) < truth).astype(float) if i > 0 else np.nan
        frames.append(frame)
        truths.append(truth)
    return pd.concat(frames, ignore_index=True), np.concatenate(truths)
