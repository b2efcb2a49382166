"""Census rows sent as JSON (POST /score with `census`) meet the same reader as an uploaded file, and
the answer says what the read said: a reviewer found both untrue.

- A key sent as null was dropped before the reader saw it, so where every row of a batch sent
  `"SENtype": null` the request was refused as "required column missing; 'SENtype'", while the same
  rows with `""` scored: one pupil's record was accepted or refused depending on the others.
- The read's notes were dropped: with both `FSME` and `FSMeligible` sent, one was used without a word
  (an upload of the same rows says "FSME not read (FSMeligible is)").
"""

from __future__ import annotations

import pandas as pd

from tests.serving.test_limits import call, census_csv, census_rows, service  # noqa: F401  (fixture)


def test_a_null_value_is_a_blank_value_not_a_missing_column(service):  # noqa: F811
    rows = census_rows(3, SENprovision="N", SENtype=None)
    sent_null = call(service, "POST", "/score", json={"census": rows})
    blank = census_rows(3, SENprovision="N", SENtype="")
    sent_blank = call(service, "POST", "/score", json={"census": blank})
    assert sent_blank.status_code == 200, sent_blank.text
    assert sent_null.status_code == 200, sent_null.text
    assert sent_null.json()["pupils"] == sent_blank.json()["pupils"] == 3


def test_the_reads_notes_come_back_with_json_rows_as_with_an_upload(service):  # noqa: F811
    rows = census_rows(3, FSME="0")  # FSMeligible "1" too: one of the two is not read
    as_rows = call(service, "POST", "/score", json={"census": rows})
    upload = {"file": ("census.csv", census_csv(rows), "text/csv")}
    as_file = call(service, "POST", "/score/file", files=upload)
    assert as_rows.status_code == as_file.status_code == 200, as_rows.text
    upload_notes = [w for w in as_file.json()["warnings"] if "not read" in w]
    assert upload_notes, as_file.json()["warnings"]  # the upload says which column was read
    said = as_rows.json()["warnings"]
    assert any("FSME" in w and "not read" in w for w in said), said
    assert not any(".csv" in w or ".json" in w for w in said), said  # what was sent, not a file name
    assert set(pd.DataFrame(as_rows.json()["scores"])["upn"]) == {r["UPN"] for r in rows}


def test_the_upn_key_is_matched_as_the_reader_matches_it(service):  # noqa: F811
    """`upn` or `UniquePupilNumber` as the key was refused, "UPN required" for every row, while an
    uploaded file with either header scored: the schema held `UPN` as a field of its own."""
    rows = census_rows(3)
    exact = call(service, "POST", "/score", json={"census": rows})
    assert exact.status_code == 200, exact.text
    for key in ("upn", "UniquePupilNumber"):
        renamed = [{(key if k == "UPN" else k): v for k, v in row.items()} for row in rows]
        sent = call(service, "POST", "/score", json={"census": renamed})
        assert sent.status_code == 200, sent.text
        assert sent.json()["scores"] == exact.json()["scores"]
    without = [{k: v for k, v in row.items() if k != "UPN"} for row in rows]
    refused = call(service, "POST", "/score", json={"census": without})
    assert refused.status_code == 422 and "UPN" in refused.text, refused.text
