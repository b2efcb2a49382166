"""With skip_invalid=true, the rows left out are counted in the warnings, in full.

Before: a CSV or workbook answer (format=csv|xlsx) said nothing about the rows left out (no `rejected`,
no warning, no header), and the JSON's `rejected` stops at MAX_LISTED_PROBLEMS (1,000) rows without the
total: a live upload of 3,047 rows with 1,500 bad NC years was answered "pupils": 1547 with 1,000 rows
in `rejected` and no word of the other 500. In process: a stand-in model and a history (as
test_invalid_upn_warning does).
"""

from __future__ import annotations

import asyncio

import httpx
import pandas as pd

from exclusion_risk.linkage.history import PupilHistory, drop_identifying
from exclusion_risk.serving import record_gaps, scoring
from exclusion_risk.serving.answer_format import WARNINGS_HEADER
from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.process import add_key
from exclusion_risk.serving.settings import ServiceSettings
from tests.serving.test_invalid_upn_warning import EMPTY, VALID, AutumnStandIn, _rows


class StandIn(AutumnStandIn):
    """Census rows and feature records both: every pupil 0.5, green."""

    def score_records(self, records: list[dict], reasons: bool = True) -> list[dict]:
        return self.score(pd.DataFrame({"upn": [r["upn"] for r in records]})).to_dict("records")


UPNS = VALID + ["K801200112001", "K801200112002"]  # the last two given an NC year that is no NC year


def _post(tmp_path, path: str, params: dict, **kwargs) -> httpx.Response:
    settings = ServiceSettings(database=tmp_path / "service.db", data_dir=None)
    app = create_app(settings, loader=StandIn)
    app.state.model.load_initial()
    clean, _ = scoring.read_census_bytes(pd.DataFrame(_rows(VALID)).to_csv(index=False).encode(), "c.csv")
    state = HistoryState(None, None)
    state.history, state.state = PupilHistory(drop_identifying(clean), EMPTY, EMPTY), "ready"
    app.state.history = state
    key = add_key(settings.database, "scorer")

    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                     headers={"X-API-Key": key}) as client:
            return await client.post(path, params={"skip_invalid": "true", "reasons": "false", **params},
                                     **kwargs)

    return asyncio.run(go())


def _census() -> list[dict]:
    rows = _rows(UPNS)
    for row in rows[-2:]:
        row["NCyearActual"] = "99"
    return rows


def test_a_csv_answer_says_how_many_rows_were_left_out(tmp_path):
    csv = pd.DataFrame(_census()).to_csv(index=False).encode()
    response = _post(tmp_path, "/score/file", {"format": "csv"}, content=csv,
                     headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text[:300]
    assert len(response.text.splitlines()) - 1 == len(VALID)
    assert "2 census rows could not be scored and were left out" in response.headers.get(WARNINGS_HEADER, "")


def test_the_json_counts_every_row_left_out_beyond_those_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(scoring, "MAX_LISTED_PROBLEMS", 1)
    response = _post(tmp_path, "/score", {}, json={"census": _census()})
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert body["pupils"] == len(VALID) and len(body["rejected"]) == 1
    said = [w for w in body["warnings"] if "left out" in w]
    assert said == ["2 census rows could not be scored and were left out (skip_invalid): the JSON answer's "
                    "`rejected` lists the first 1 by row, field and reason."]
    assert not any(u in " ".join(body["warnings"]) for u in UPNS)


def test_feature_records_left_out_are_counted_beyond_those_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(record_gaps, "MAX_LISTED", 2)
    pupils = [{"upn": f"K80120011200{i}"} for i in range(3)] + [{"upn": VALID[0], "nc_year": 8}]
    response = _post(tmp_path, "/score", {}, json={"pupils": pupils})
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert body["pupils"] == 1 and len(body["rejected"]) == 2
    assert any(w.startswith("3 feature records could not be scored and were left out") and "the first 2" in w
               for w in body["warnings"])
