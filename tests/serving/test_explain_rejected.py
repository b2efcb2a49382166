"""POST /explain with census rows and skip_invalid=true lists the rows it left out, as POST /score does:
every row sent is explained or listed (nothing lost)."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # the live champion on a real server


def test_explain_lists_the_census_rows_skip_invalid_left_out(live_service, champion):
    rows = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(3).to_dict("records")
    rows[1]["NCyearActual"] = "99"  # not an NC year: the reader rejects row 2
    with live_service.client() as client:
        scored = client.post("/score", params={"skip_invalid": "true"}, json={"census": rows})
        explained = client.post("/explain", params={"skip_invalid": "true"}, json={"census": rows})
    assert scored.status_code == 200 and explained.status_code == 200, explained.text
    body = explained.json()
    assert len(body["pupils"]) == 2
    assert [(p["row"], p["field"]) for p in body["rejected"]] == [(2, "NCyearActual")]
    assert body["rejected"] == scored.json()["rejected"]
    assert len(body["pupils"]) + len(body["rejected"]) == len(rows)
