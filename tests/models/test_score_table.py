"""scores.csv's officer columns: school, year group, need in words and the matrix's suggested response."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.contract import SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.models.score_table import with_officer_columns


def test_officer_columns_follow_the_contract_and_use_the_matrix_words():
    matrix = load_risk_matrix()
    cells = matrix.to_dict()["cells"]
    top, bottom = cells[3], cells[-4]  # (highest band, need 3) and (lowest band, need 0)
    scores = pd.DataFrame(
        {
            "upn": ["B2", "A1"], "probability": [0.6, 0.01],
            "likelihood_band": [top["likelihood_band"], bottom["likelihood_band"]],
            "need_level": [top["need_level"], bottom["need_level"]], "rag": [top["rag"], bottom["rag"]],
            "matrix_cell": [top["matrix_cell"], bottom["matrix_cell"]], "reasons": ["", ""],
            "model_version": ["3", "3"],
        }
    )  # fmt: skip
    features = pd.DataFrame({"upn": ["A1", "B2", "B2"], "SchoolURN": ["104001", "3304001", "3304001"],
                             "nc_year": [7.0, 10.0, 10.0]})  # fmt: skip
    out = with_officer_columns(scores, features, matrix)
    assert list(out.columns) == SCORE_COLUMNS + SCORE_OFFICER_COLUMNS
    assert out["school_urn"].tolist() == ["3304001", "104001"] and out["nc_year"].tolist() == [10, 7]
    labels = {level["level"]: level["label"] for level in matrix.need_levels}
    assert out["need_label"].tolist() == [labels[top["need_level"]], labels[bottom["need_level"]]]
    assert out["response"].tolist() == [top["response"], bottom["response"]]
    assert top["need_level"] == 3 and bottom["need_level"] == 0  # the cells picked are the corners
    # the contract's census has no school name: the column is there, blank; nor has a default matrix a
    # measured precision; scores without the scorer's extra reasons get them blank
    assert out["school_name"].isna().all() and out["band_precision"].isna().all()
    assert out["reasons_lowering"].tolist() == ["", ""] and out["context"].tolist() == ["", ""]
    extra = {"reasons_lowering": ["no suspensions last year", ""],
             "context": ["in Year 10 (raises risk)", ""]}  # fmt: skip
    named = with_officer_columns(
        scores.assign(**extra),
        features.assign(SchoolName=["Ash Primary", "Oak Academy", "Oak Academy"]),
        matrix,
    )
    assert named["school_name"].tolist() == ["Oak Academy", "Ash Primary"]
    assert named["context"].tolist() == ["in Year 10 (raises risk)", ""]
    assert named["reasons_lowering"].tolist() == ["no suspensions last year", ""]


def test_written_scores_give_year_groups_as_the_census_writes_them():
    """scores.csv and the workbook wrote Reception as 0 (the model's number) where the census, scores.html
    and the page write R: an officer filtering the list on "R" found nobody."""
    import pandas as pd

    from exclusion_risk.linkage.codes import nc_year_code
    from exclusion_risk.models.score_table import as_written

    scores = pd.DataFrame({"upn": list("abcde"), "nc_year": pd.array([0, -1, -2, 11, None], dtype="Int64")})
    assert as_written(scores)["nc_year"].tolist() == ["R", "N2", "N1", "11", None]
    assert as_written(scores[["upn"]]).equals(scores[["upn"]])
    assert [nc_year_code(v) for v in (0.0, float("nan"), None, pd.NA, 14)] == ["R", None, None, None, "14"]
