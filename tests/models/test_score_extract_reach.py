"""`exclusion-risk score` refuses a year whose census day the linked exclusions extract does not reach,
by the service's rule (`features.extract_reach`): a history whose census holds 2018/19 but whose
exclusions end on 20 July 2018 was scored, every pupil with no suspensions so far this year."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.contract import LINKS_COLUMNS
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.upn import make_upn

UPNS = [make_upn(330, 4001, 2010, i) for i in range(1, 21)]
# 12 suspensions in September 2017, the last on 20 July 2018: none of 2018/19's up to its autumn census
STARTS = [f"2017-09-{day:02d}" for day in range(4, 16)] + ["2018-07-20"]


class _StandIn:
    """Refused before scoring: only the census the model was trained at is read."""

    census = "autumn"
    name, model_version = "stand-in", "1"


PUPIL = {"Surname": "Okafor", "DOB": "2008-03-01", "Sex": "M"}


def _extracts(folder, starts):
    folder.mkdir(parents=True)
    rows = [{"UPN": u, **PUPIL, "Forename": f"Chidi{chr(97 + i)}", "Ethnicity": "BAFR", "SENprovision": "N",
             "SENtype": "", "FSMeligible": "0", "Postcode": "WS1 1AA", "SchoolURN": "104001",
             "NCyearActual": "5", "AcademicYear": year, "CensusTerm": "AUT"}
            for year in ("2017/18", "2018/19") for i, u in enumerate(UPNS)]  # fmt: skip
    pd.DataFrame(rows).to_csv(folder / "census.csv", index=False)
    exclusions = [{"RecordID": f"E{i}", "UPN": UPNS[i % 20], **PUPIL, "Forename": f"Chidi{chr(97 + i % 20)}",
                   "SchoolURN": "104001", "Category": "SUSP", "StartDate": start, "Sessions": "2",
                   "Reason": "PD"}
                  for i, start in enumerate(starts)]  # fmt: skip
    pd.DataFrame(exclusions).to_csv(folder / "exclusions.csv", index=False)
    child = {"LAchildID": "C1", **PUPIL, "Forename": "Ada", "Status": "CIN", "StartDate": "2017-06-01",
             "EndDate": "", "PrimaryNeed": "N1"}  # fmt: skip
    pd.DataFrame([child]).to_csv(folder / "social_care.csv", index=False)  # linked to no pupil
    links = folder.parent / "links"
    links.mkdir()
    linked = [dict(zip(LINKS_COLUMNS, ("exclusions", f"E{i}", UPNS[i % 20], "upn", 1.0), strict=True))
              for i in range(len(starts))]  # fmt: skip
    pd.DataFrame(linked, columns=LINKS_COLUMNS).to_csv(links / "links.csv", index=False)
    return folder, links


def test_score_refuses_a_year_the_exclusions_extract_ends_before(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setattr(CohortScorer, "load", classmethod(lambda cls, alias: _StandIn()))
    data, links = _extracts(tmp_path / "extracts", STARTS)
    out = tmp_path / "scores" / "scores.csv"
    args = ["score", "--data", str(data), "--links", str(links), "--year", "2018/19", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    words = " ".join(result.output.split())
    assert "Census rows for 2018/19 are not scored" in words
    assert "20 July 2018" in words and "4 October 2018" in words
    assert "Traceback" not in result.output and not out.exists()
    assert not any(u in result.output for u in UPNS)
