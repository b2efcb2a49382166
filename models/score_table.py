"""scores.csv as an officer reads it: the contract's columns, then school, need, response, context, how sure.

The scorer gives each pupil the contract's columns (`SCORE_COLUMNS`) and, beside them, the child's
factors lowering the risk and the context factors (`scoring.REASON_EXTRA_COLUMNS`). An inclusion officer
also needs to make per-school lists and to see, in words, the need level and the risk matrix's suggested
response. Those come from the features the pupil was scored on (school and year group at the census)
and from the risk matrix the scores were placed with, so the words are the ones its legend uses; the
band's precision on the model's test year comes from the same matrix (`RiskMatrix.precision_columns`).
"""

from __future__ import annotations

import pandas as pd

# SCHOOL_NAME: the census column of the school's name, which the feature table carries where known.
from exclusion_risk.contract import SCHOOL_NAME, SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
from exclusion_risk.linkage.codes import nc_year_code
from exclusion_risk.models.risk_matrix import RiskMatrix
from exclusion_risk.models.scoring import REASON_EXTRA_COLUMNS


def with_officer_columns(scores: pd.DataFrame, features: pd.DataFrame, matrix: RiskMatrix) -> pd.DataFrame:
    """`scores` (the contract's columns, any order of pupils) with SCORE_OFFICER_COLUMNS after them.

    The reasons beyond the contract's are taken from `scores` (blank when it has none, as when scored
    without reasons by an older caller); school_name from the features' SchoolName, blank without one.
    """
    pupils = features.drop_duplicates("upn").set_index("upn")
    upns = scores["upn"]
    need_labels = {int(level["level"]): str(level["label"]) for level in matrix.need_levels}
    responses = {
        (cell["likelihood_band"], int(cell["need_level"])): cell["response"]
        for cell in matrix.to_dict()["cells"]
    }
    cells = zip(scores["likelihood_band"], scores["need_level"].astype(int), strict=True)
    precision, interval = matrix.precision_columns(scores["likelihood_band"])
    names = upns.map(pupils[SCHOOL_NAME]) if SCHOOL_NAME in pupils else pd.Series(pd.NA, index=scores.index)
    officer = pd.DataFrame(
        {
            "school_urn": upns.map(pupils["SchoolURN"]).astype("string").to_numpy(),
            "school_name": names.astype("string").to_numpy(),
            "nc_year": upns.map(pupils["nc_year"]).astype("Int64").to_numpy(),
            "need_label": scores["need_level"].astype(int).map(need_labels).to_numpy(),
            "response": [responses[cell] for cell in cells],
            **{
                column: scores[column].to_numpy() if column in scores else [""] * len(scores)
                for column in REASON_EXTRA_COLUMNS
            },
            "band_precision": precision,
            "band_precision_ci": interval,
        },
        index=scores.index,
    )
    return pd.concat([scores[SCORE_COLUMNS], officer[SCORE_OFFICER_COLUMNS]], axis=1)


def as_written(scores: pd.DataFrame) -> pd.DataFrame:
    """`scores` as a file an officer opens holds them (scores.csv, the workbook, the service's download):
    `nc_year` as the census writes it (R for Reception, N1/N2 for nursery), not the model's number (0),
    so that filtering a list on "R" finds Reception. The service's JSON keeps the number its schema states."""
    if "nc_year" not in scores:
        return scores
    return scores.assign(nc_year=scores["nc_year"].map(nc_year_code).astype(object))
