"""Issue #11, findings 3 and 5 for `score` and `features`: a census UPN written as a formula is
rejected by the reader (it cannot be a mistyped UPN), so it never reaches an output; any text cell an
output does start with a formula character is neutralised by the one CSV writer; scores.csv and the
feature table (every pupil's UPN) are 0600 in a 0700 folder; scores.csv is a plain CSV."""

from __future__ import annotations

import csv
import os
import stat

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.contract import PUPIL_KEY, SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
from exclusion_risk.files import FORMULA_LEADS
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.upn import make_upn

FORMULA_UPN = "@SUM(1+1)*cmd|' /C calc'!A0"


def _census():
    census = pd.DataFrame(
        {
            "UPN": [FORMULA_UPN] + [make_upn(330, 4001, 2010, i) for i in range(1, 30)],
            "Surname": ["Okafor"] * 30, "Forename": [f"Chidi{chr(97 + i % 26)}" for i in range(30)],
            "DOB": "2008-03-01", "Sex": "M", "Ethnicity": "BAFR", "SENprovision": "N", "SENtype": "",
            "FSMeligible": "0",
            "Postcode": "WS1 1AA", "SchoolURN": "104001", "NCyearActual": "5", "AcademicYear": "2018/19",
            "CensusTerm": "AUT",
        }
    )  # fmt: skip
    return census


@pytest.mark.usefixtures("umask_022")
def test_scores_csv_neutralises_a_formula_upn_and_is_private(
    training, write_small_extracts, tmp_path, monkeypatch
):
    result, _ = training
    scorer = CohortScorer(result.models["lightgbm"].pipeline, "1")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: scorer))
    score = scorer.score

    def score_with_a_formula(features, **kwargs):  # what scores.csv would hold if one got through
        scores = score(features, **kwargs)
        scores.loc[scores.index[0], "upn"] = "=HYPERLINK(1)"
        return scores

    monkeypatch.setattr(scorer, "score", score_with_a_formula)
    data, links = write_small_extracts(tmp_path / "extracts", _census(), "104001")
    out = tmp_path / "new" / "scores" / "scores.csv"
    args = ["--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out)]
    run = CliRunner().invoke(app, ["score", *args, "--no-reasons"])
    assert run.exit_code == 0, run.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(out.parent).st_mode) == 0o700
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    # a plain CSV: the header on row 1, the notice beside the data (scores.html), not inside it; the
    # pupil as the feature table keys them last
    header = [*SCORE_COLUMNS, *SCORE_OFFICER_COLUMNS, PUPIL_KEY]
    assert rows[0] == header and len(rows) == 30  # the formula UPN: rejected
    assert DECISION_SUPPORT_NOTICE.split(";")[0] in out.with_suffix(".html").read_text().replace("&#39;", "'")
    assert not [c for row in rows for c in row if c.startswith(FORMULA_LEADS)]
    assert not [c for row in rows for c in row if FORMULA_UPN.upper() in c.upper()]
    assert "'=HYPERLINK(1)" in [row[0] for row in rows]
    assert all(len(row[1].split(".")[1]) == 6 for row in rows[1:])  # float_format kept


@pytest.mark.usefixtures("umask_022")
def test_the_feature_table_is_private_and_neutralised(write_small_extracts, tmp_path):
    data, links = write_small_extracts(tmp_path / "extracts", _census(), "104001")
    for name in ("features.csv", "features.parquet"):
        out = tmp_path / "new" / name
        args = ["--data", str(data), "--links", str(links), "--years", "2018/19", "--out", str(out)]
        run = CliRunner().invoke(app, ["features", *args])
        assert run.exit_code == 0, run.output
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o600, name
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700
    with open(tmp_path / "new" / "features.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    upns = [row[rows[0].index("upn")] for row in rows[1:]]
    assert len(upns) == 29 and not [u for u in upns if FORMULA_UPN.upper() in u.upper()]
    assert len(pd.read_parquet(tmp_path / "new" / "features.parquet")) == 29
