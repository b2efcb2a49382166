"""POST /explain/file, the pupil panel's source: the census the page scored and one UPN, as a form.

The answer is POST /explain's for that pupil, built from the same features /score/file used (the same
probability); the UPN travels in the body only, and a UPN the file does not hold is a 422 that does not
repeat it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from exclusion_risk.serving.routers.explain_file import NOT_IN_FILE

pytestmark = pytest.mark.slow  # the live champion on a real server


@pytest.fixture(scope="module")
def census(champion) -> bytes:
    cohort = pd.read_csv(champion.cohort_csv, dtype=str, keep_default_na=False).head(300)
    return cohort.to_csv(index=False).encode()


def _explain(client, census: bytes, upn, **params):
    data = {} if upn is None else {"upn": upn}
    return client.post("/explain/file", params=params, data=data,
                       files={"file": ("census.csv", census, "text/csv")})


def test_one_pupil_is_explained_with_the_scores_features(live_service, census):
    with live_service.client() as client:
        scored = client.post("/score/file", params={"format": "json"},
                             files={"file": ("census.csv", census, "text/csv")}).json()
        row = scored["scores"][3]
        answer = _explain(client, census, f"  {row['upn'].lower()} ", n=4)  # as typed: spaces, lower case
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["history"] == "linked" and body["notice"] and len(body["pupils"]) == 1
    pupil = body["pupils"][0]
    assert pupil["upn"] == row["upn"]
    assert abs(pupil["probability"] - row["probability"]) < 1e-12
    assert (pupil["rag"], pupil["matrix_cell"], pupil["need_level"]) == (row["rag"], row["matrix_cell"],
                                                                       row["need_level"])
    assert 1 <= len(pupil["raising"]) <= 4 and len(pupil["lowering"]) <= 4
    assert all(f["contribution"] > 0 for f in pupil["raising"])
    assert all(f["contribution"] < 0 for f in pupil["lowering"])
    assert all(f["label"] and f["value"] for f in pupil["raising"] + pupil["lowering"])


def test_a_upn_not_in_the_file_is_refused_without_repeating_it(live_service, census):
    stranger = "Z999999999999"
    with live_service.client() as client:
        answer = _explain(client, census, stranger)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["reason"] == NOT_IN_FILE
    assert stranger not in answer.text and stranger.lower() not in answer.text


def test_refusals_before_any_work(live_service, census):
    with live_service.client() as client:
        missing = _explain(client, census, None)
        too_long = _explain(client, census, "A" * 65)  # one limit on every route: 64, as /runs/earlier's
        not_a_form = client.post("/explain/file", content=census, headers={"Content-Type": "text/csv"})
    with live_service.client(role=None) as anonymous:
        no_key = _explain(anonymous, census, "A801200111001")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "upn"
    assert too_long.status_code == 422 and "A" * 65 not in too_long.text
    assert "at most 64 characters" in too_long.text
    with live_service.client() as client:  # 40 characters was refused for its length (the limit was 32)
        long_key = _explain(client, census, "A" * 40)
    assert long_key.status_code == 422 and "at most" not in long_key.text  # refused as not in the file
    assert not_a_form.status_code == 415
    assert no_key.status_code == 401
    assert "A801200111001" not in live_service.log_text()  # a UPN is never in the access log
