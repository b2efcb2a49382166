"""scores.csv as an officer reads it: the contract's columns, then school, year group, need and response.

The scorer gives each pupil the contract's columns (`SCORE_COLUMNS`); an inclusion officer also needs
to make per-school lists and to see, in words, the need level and the risk matrix's suggested
response. Those come from the features the pupil was scored on (school and year group at the census)
and from the risk matrix the scores were placed with, so the words are the ones its legend uses.
"""

from __future__ import annotations

import pandas as pd

from exclusion_risk.contract import SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
from exclusion_risk.models.risk_matrix import RiskMatrix


def with_officer_columns(scores: pd.DataFrame, features: pd.DataFrame, matrix: RiskMatrix) -> pd.DataFrame:
    """`scores` (the contract's columns, any order of pupils) with SCORE_OFFICER_COLUMNS after them."""
    pupils = features.drop_duplicates("upn").set_index("upn")
    upns = scores["upn"]
    need_labels = {int(level["level"]): str(level["label"]) for level in matrix.need_levels}
    responses = {
        (cell["likelihood_band"], int(cell["need_level"])): cell["response"]
        for cell in matrix.to_dict()["cells"]
    }
    cells = zip(scores["likelihood_band"], scores["need_level"].astype(int), strict=True)
    officer = pd.DataFrame(
        {
            "school_urn": upns.map(pupils["SchoolURN"]).astype("string").to_numpy(),
            "nc_year": upns.map(pupils["nc_year"]).astype("Int64").to_numpy(),
            "need_label": scores["need_level"].astype(int).map(need_labels).to_numpy(),
            "response": [responses[cell] for cell in cells],
        },
        index=scores.index,
    )
    return pd.concat([scores[SCORE_COLUMNS], officer[SCORE_OFFICER_COLUMNS]], axis=1)
