"""Issue #11's service findings, without a trained model: the app with a stand-in scorer.

Limits before work (finding 4), any upload name (7), duplicate UPNs explicit (9), no third-party
exception text in 4xx bodies (10) and neutralised CSV (3). The stand-in scores every pupil 0.5;
what is tested is what happens before and around scoring.
"""

from __future__ import annotations

import asyncio
import io
import json
import re

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exclusion_risk.contract import SCORE_COLUMNS
from exclusion_risk.features import registry
from exclusion_risk.linkage.record_bound import records_at_most
from exclusion_risk.models.risk_matrix import load_risk_matrix
from exclusion_risk.serving import score_bodies, scoring
from exclusion_risk.serving.app import create_app
from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.json_body import JsonShape, json_shape
from exclusion_risk.serving.limits import too_large_message
from exclusion_risk.serving.process import add_key
from exclusion_risk.serving.routers import score as score_routes
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS, EXAMPLE_FEATURES
from exclusion_risk.serving.settings import ServiceSettings
from exclusion_risk.upn import make_upn

MAX_ROWS = 100


class StandInScorer:
    """What the routes use of CohortScorer: every pupil 0.5, green, no reasons."""

    name = "exclusion-risk"  # recorded with each census scoring (serving/run_history.py)
    model_version = "1"
    feature_names = [f.name for f in registry.FEATURES]
    matrix = load_risk_matrix()  # the officer's columns (need label, response) come from it

    def _row(self, upn: str) -> dict:
        return {"upn": upn, "probability": 0.5, "likelihood_band": "low", "need_level": 0, "rag": "green",
                "matrix_cell": "L-N0", "reasons": "", "model_version": self.model_version}  # fmt: skip

    def score_records(self, records: list[dict], reasons: bool = True) -> list[dict]:
        return [self._row(str(r["upn"])) for r in records]

    def score(self, features: pd.DataFrame, reasons: bool = True) -> pd.DataFrame:
        return pd.DataFrame([self._row(str(u)) for u in features["upn"]], columns=SCORE_COLUMNS)


@pytest.fixture
def service(tmp_path):
    """(app, scorer key): the app over ASGI with the stand-in scorer loaded and MAX_ROWS pupils."""
    settings = ServiceSettings(database=tmp_path / "service.db", max_rows=MAX_ROWS, data_dir=None,
                               max_request_bytes=8 * 1024 * 1024, max_concurrent_jobs=1)  # fmt: skip
    app = create_app(settings, loader=StandInScorer)
    app.state.model.load_initial()  # what the lifespan's loader thread does
    # Census scoring needs a history now; these tests are about limits, so an empty one stands in
    # (the feature builder then computes the history features as for pupils with none).
    app.state.history.state = "ready"
    return app, add_key(settings.database, "scorer")


def call(service, method: str, path: str, **kwargs) -> httpx.Response:
    app, key = service

    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, headers={"X-API-Key": key, **kwargs.pop("headers", {})},
                                        **kwargs)

    return asyncio.run(go())


def census_rows(n: int, **changes) -> list[dict]:
    return [{**EXAMPLE_CENSUS, "UPN": make_upn(801, 2001, 2011, i + 1), **changes} for i in range(n)]


def census_csv(rows: list[dict], line_end: str = "\n") -> bytes:
    return pd.DataFrame(rows).to_csv(index=False, lineterminator=line_end).encode()


def multipart(filename: bytes, content: bytes) -> tuple[bytes, str]:
    """A multipart body by hand, so the file name can hold any bytes (NUL, not UTF-8, 300 long)."""
    boundary = "----exclusionriskboundary"
    body = (f"--{boundary}\r\n".encode()
            + b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
            + b"Content-Type: text/csv\r\n\r\n" + content + f"\r\n--{boundary}--\r\n".encode())  # fmt: skip
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def reads(monkeypatch) -> list:
    """Each time the census is read (the limit must come first, so never): the request fails loudly."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the upload was read before its row limit was checked")

    monkeypatch.setattr(scoring, "read_census_bytes", refuse)
    return calls


# --- finding 4: limits before work ----------------------------------------------------------------


def test_over_limit_csv_with_a_stray_quote_is_refused_before_it_is_read(service, reads):
    # A quote-aware count saw one record from `"Brien` to the end of the file: the upload was read in
    # full before its 413. Counting lines bounds the rows whatever the quotes do.
    header = ",".join(EXAMPLE_CENSUS)
    rows = [",".join(str(v) for v in row.values()) for row in census_rows(MAX_ROWS + 1, Surname='"Brien')]
    data = (header + "\n" + "\n".join(rows) + "\n").encode()
    response = call(service, "POST", "/score/file", content=data, headers={"Content-Type": "text/csv"})
    assert response.status_code == 413, response.text[:300]
    assert not reads


def test_cr_only_csv_over_the_row_limit_is_refused_before_it_is_read(service, reads):
    rows = census_csv(census_rows(MAX_ROWS + 1), line_end="\r")  # a newline count sees 0 rows
    response = call(service, "POST", "/score/file", content=rows, headers={"Content-Type": "text/csv"})
    assert response.status_code == 413, response.text
    assert f"{MAX_ROWS:,}" in response.json()["detail"] and not reads


def _with_empty_rows(data: bytes, empty: int, line_end: str = "\n") -> bytes:
    """`data` (a census CSV) with `empty` of Excel's empty rows (only commas) after its header."""
    header, rest = data.split(line_end.encode(), 1)
    commas = ("," * header.count(b",") + line_end).encode()
    return header + line_end.encode() + commas * empty + rest


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_lines_of_only_commas_are_not_counted_against_the_row_limit(service, line_end):
    # Excel's empty rows are no records (the reader skips them): an upload of MAX_ROWS pupils and 30 such
    # lines was refused with 413 "130 pupils in one request", counted by its lines.
    data = _with_empty_rows(census_csv(census_rows(MAX_ROWS), line_end), 30, line_end)
    data += f"{line_end}{',' * 9}{line_end}\x1a{line_end}".encode()  # a blank line, one more, a Ctrl-Z
    response = call(service, "POST", "/score/file", content=data, headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["pupils"] == MAX_ROWS
    over = _with_empty_rows(census_csv(census_rows(MAX_ROWS + 1), line_end), 30, line_end)
    response = call(service, "POST", "/score/file", content=over, headers={"Content-Type": "text/csv"})
    assert response.status_code == 413 and f"{MAX_ROWS + 1:,} pupils" in response.json()["detail"]


def test_the_upload_bound_counts_quoted_empty_values_and_other_delimiters_as_records():
    # Only lines the reader skips are left out: `"",""` is a record (rejected), and in a file delimited
    # by semicolons a line of commas is one value, a record too.
    assert records_at_most(b"UPN,Surname\n,\n\"\",\"\"\n , \t\nA1,Smith\n\x1a\n") == 2
    assert records_at_most(b"UPN;Surname\n,,\n;;\nA1;Smith") == 2
    utf16 = "UPN\tSurname\r\n\t\r\nA1\tSmith\r\n".encode("utf-16")
    assert records_at_most(utf16) == 1
    assert records_at_most(utf16[2:]) == 1  # UTF-16 without its byte-order mark
    for utf32 in ("utf-32-le", "utf-32-be"):  # counted on its raw bytes, the bound was 6 (LE)
        assert records_at_most("\ufeffUPN\tSurname\r\n\t\r\nA1\tSmith\r\n".encode(utf32)) == 1


def test_a_census_uploads_read_notes_are_in_its_warnings(service):
    # The reader's notes (what it set aside as no record, headers read under another name) reached
    # `check`'s console only: the service scored the file and said nothing of them.
    rows = census_rows(3)
    data = _with_empty_rows(census_csv(rows), 2) + b"\x1a\r\n"
    response = call(service, "POST", "/score/file", files={"file": ("census.csv", data, "text/csv")})
    assert response.status_code == 200, response.text[:300]
    said = [w for w in response.json()["warnings"] if w.startswith("census.csv: 3 rows")]
    assert len(said) == 1, response.json()["warnings"]
    assert "2 empty lines (only commas) skipped" in said[0]
    assert "1 end-of-file mark (Ctrl-Z) at the end dropped" in said[0]
    assert not any(row["UPN"] in said[0] or row["Surname"] in said[0] for row in rows)
    as_csv = call(service, "POST", "/score/file", params={"format": "csv"},
                  files={"file": ("census.csv", data, "text/csv")})  # fmt: skip
    assert "2 empty lines (only commas) skipped" in as_csv.headers[score_routes.WARNINGS_HEADER]
    aliased = census_csv([{("Gender" if k == "Sex" else k): v for k, v in row.items()} for row in rows])
    response = call(service, "POST", "/score/file", files={"file": ("census.csv", aliased, "text/csv")})
    assert any("headers read as: Gender -> Sex" in w for w in response.json()["warnings"])
    plain = call(service, "POST", "/score/file", files={"file": ("census.csv", census_csv(rows), "text/csv")})
    assert not any(w.startswith("census.csv:") for w in plain.json()["warnings"])  # nothing to say
    # refused, its rows' problems name the contract's column: the message says which header it was read
    # from (an MIS's 4-digit "Estab" was refused row by row in "column SchoolURN", a header not in the file)
    estab = census_csv([{("Estab" if k == "SchoolURN" else k): ("1234" if k == "SchoolURN" else v)
                         for k, v in row.items()} for row in rows])  # fmt: skip
    refused = call(service, "POST", "/score/file", files={"file": ("census.csv", estab, "text/csv")})
    assert refused.status_code == 422 and {e["field"] for e in refused.json()["errors"]} == {"SchoolURN"}
    assert "headers read as: Estab -> SchoolURN" in refused.json()["detail"], refused.json()["detail"]


class _LyingFooter:
    """A Parquet footer that says the file has one row, whatever it holds (the footer is the client's)."""

    num_rows = 1

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_parquet_rows_are_counted_as_decoded_whatever_the_footer_says(service, reads, monkeypatch):
    class ForgedParquetFile(pq.ParquetFile):
        @property
        def metadata(self):
            return _LyingFooter(super().metadata)

    monkeypatch.setattr(pq, "ParquetFile", ForgedParquetFile)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(census_rows(MAX_ROWS + 1)), buffer)
    files = {"file": ("census.parquet", buffer.getvalue(), "application/octet-stream")}
    response = call(service, "POST", "/score/file", files=files)
    assert response.status_code == 413, response.text[:300]
    assert not reads


def test_parquet_over_the_row_limit_is_refused_from_its_footer(service, reads):
    n = 200_000  # zstd makes it a few KB: the footer says how many rows it would be
    table = pa.table({"UPN": pa.array(np.full(n, "A801200111001")), "AcademicYear": ["2018/19"] * n})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    assert len(buffer.getvalue()) < 200_000
    files = {"file": ("census.parquet", buffer.getvalue(), "application/octet-stream")}
    response = call(service, "POST", "/score/file", files=files)
    assert response.status_code == 413, response.text
    assert f"{MAX_ROWS:,}" in response.json()["detail"] and not reads


def _parquet_bytes(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def test_parquet_whose_values_decode_past_the_byte_limit_is_refused_before_decoding():
    # One 100,000-character surname that 200 rows share: dictionary-encoded (pyarrow's default) the
    # file and its footer's sizes are about 0.1 MB, decoded one value a row it is 20 MB.
    long_name = "x" * 100_000
    data = _parquet_bytes(pa.table({"UPN": [f"A{i:012d}" for i in range(200)], "Surname": [long_name] * 200}))
    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    assert metadata.row_group(0).total_byte_size < 1_000_000 and len(data) < 1_000_000
    with pytest.raises(RequestProblem) as refused:
        scoring.check_upload_rows(data, "census.parquet", MAX_ROWS * 10, 1_000_000)
    assert refused.value.status_code == 413 and "1,000,000 bytes" in refused.value.message
    # The same rows with short names pass: the limit counts what the values take, not the rows.
    short = _parquet_bytes(pa.table({"UPN": [f"A{i:012d}" for i in range(200)], "Surname": ["Smith"] * 200}))
    scoring.check_upload_rows(short, "census.parquet", MAX_ROWS * 10, 1_000_000)


def test_parquet_text_is_counted_undecoded_and_other_columns_before_decoding(monkeypatch):
    # The check must not expand what it counts: text arrives as dictionaries (a decoded column would
    # be the bomb itself); fixed-width binary (never a dictionary, decoded a row group at a time) is
    # sized from its width; a nested column is refused. Neither of the last two reaches a batch.
    from exclusion_risk.serving import parquet_upload

    seen: list[pa.DataType] = []
    real = parquet_upload._decoded_bytes
    monkeypatch.setattr(parquet_upload, "_decoded_bytes", lambda c: seen.append(c.type) or real(c))
    upns = [f"A{i:012d}" for i in range(200)]
    bomb = _parquet_bytes(pa.table({"UPN": upns, "Surname": ["x" * 100_000] * 200}))
    with pytest.raises(RequestProblem):
        scoring.check_upload_rows(bomb, "census.parquet", MAX_ROWS * 10, 1_000_000)
    assert seen and all(pa.types.is_dictionary(kind) for kind in seen), seen
    seen.clear()
    one_value = pa.array([b"a" * 10_000], pa.binary(10_000))
    wide = pa.DictionaryArray.from_arrays(pa.array([0] * 200, pa.int32()), one_value)
    fixed = _parquet_bytes(pa.table({"UPN": ["A"] * 200, "Photo": wide}))
    with pytest.raises(RequestProblem) as refused:
        scoring.check_upload_rows(fixed, "census.parquet", MAX_ROWS * 10, 1_000_000)
    assert refused.value.status_code == 413 and seen == []
    nested = _parquet_bytes(pa.table({"UPN": ["A"], "Names": [["x", "y"]]}))
    with pytest.raises(RequestProblem) as refused:
        scoring.check_upload_rows(nested, "census.parquet", MAX_ROWS * 10, 1_000_000)
    assert refused.value.status_code == 422 and refused.value.problems[0]["field"] == "Names" and seen == []


def test_parquet_with_prefix_encoded_text_is_refused():
    # DELTA_BYTE_ARRAY stores each value as the last one's prefix and a suffix: a few kilobytes of
    # file decode to rows of long, distinct values one at a time, so no count can stop it in time.
    values = [("x" * 1000) + str(i) for i in range(100)]
    data = _parquet_bytes(
        pa.table({"Surname": values}), use_dictionary=False, column_encoding={"Surname": "DELTA_BYTE_ARRAY"}
    )
    with pytest.raises(RequestProblem) as refused:
        scoring.check_upload_rows(data, "census.parquet", MAX_ROWS * 10, 1_000_000)
    assert refused.value.status_code == 422
    assert "DELTA_BYTE_ARRAY" in refused.value.problems[0]["reason"]


def test_json_record_count_is_checked_before_any_record_is_validated(service):
    # Every record is invalid: validating them first (as before) answered 422 with their errors;
    # counting first answers 413 without building a single model.
    bad = [{"upn": f"X{i}", "fsm": "perhaps"} for i in range(MAX_ROWS * 10)]
    response = call(service, "POST", "/score", json={"pupils": bad})
    assert response.status_code == 413, response.text[:300]
    census = call(service, "POST", "/score", json={"census": [{"UPN": ["x"]}] * (MAX_ROWS + 1)})
    assert census.status_code == 413


def _over_limit_pupils() -> list[dict]:
    return [dict(EXAMPLE_FEATURES, upn=f"P{i}") for i in range(MAX_ROWS + 50)]


def test_utf16_json_cannot_slip_past_the_record_count(service):
    # U+0122 is the bytes 22 01 in UTF-16-LE: a "quote" to a byte scan, which then saw one record;
    # json.loads read the BOM-less UTF-16 anyway and 150 pupils were scored past a limit of 100.
    pupils = _over_limit_pupils()
    pupils[0]["upn"] = "\u0122"
    body = json.dumps({"pupils": pupils}, ensure_ascii=False).encode("utf-16-le")
    response = call(service, "POST", "/score", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 415, response.text[:300]
    assert response.json()["errors"][0]["reason"] == "JSON must be sent as UTF-8"


@pytest.mark.parametrize(
    "body",
    ['{"pupils": []}'.encode("utf-16"), '{"pupils": []}'.encode("utf-32-le"),
     b'{"pupils": [{"upn": "\xff"}]}', b'{"pupils": [{"upn": "\xed\xa0\x80"}]}'],
)  # fmt: skip
def test_json_that_is_not_utf8_is_refused_as_such(service, body):
    response = call(service, "POST", "/explain", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 415, response.text[:300]


def test_utf8_json_with_a_bom_is_read(service):
    body = b"\xef\xbb\xbf" + json.dumps({"pupils": [EXAMPLE_FEATURES]}).encode()
    response = call(service, "POST", "/score", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text[:300]


def test_records_are_counted_again_once_parsed(service, monkeypatch):
    # Whatever a scan misses (it saw no records here), the parsed lists are counted before pydantic
    # validates one record: every record is invalid, so validating first would answer 422.
    monkeypatch.setattr(score_routes, "json_shape", lambda data: JsonShape())
    bad = [{"upn": f"X{i}", "fsm": "perhaps"} for i in range(MAX_ROWS + 1)]
    response = call(service, "POST", "/score", json={"pupils": bad})
    assert response.status_code == 413, response.text[:300]


def test_large_bodies_wait_for_a_job_slot_before_they_are_scanned(service, monkeypatch):
    # The scans of a 64 MiB body take seconds: at most max_concurrent_jobs of them at once.
    app, _ = service
    scanned: list[str] = []
    monkeypatch.setattr(score_routes, "json_shape", lambda data: scanned.append("json") or json_shape(data))
    real_check = scoring.check_upload_rows
    monkeypatch.setattr(scoring, "check_upload_rows", lambda *a: scanned.append("file") or real_check(*a))
    app.state.jobs.busy = app.state.jobs.size
    pupils = {"pupils": [dict(EXAMPLE_FEATURES, upn=f"P{i}") for i in range(MAX_ROWS)]}
    large = json.dumps(pupils, indent=8).encode()  # the limit's 100 pupils, more bytes than INLINE_BYTES
    assert len(large) > score_routes.INLINE_BYTES
    as_json = {"Content-Type": "application/json"}
    for route in ("/score", "/explain"):
        assert call(service, "POST", route, content=large, headers=as_json).status_code == 503
    upload = call(service, "POST", "/score/file", content=census_csv(census_rows(3)),
                  headers={"Content-Type": "text/csv"})  # fmt: skip
    assert upload.status_code == 503 and scanned == []
    app.state.jobs.busy = 0
    assert call(service, "POST", "/score", content=large, headers=as_json).status_code == 200
    assert scanned == ["json"]


def test_json_shape_scans_in_blocks_with_flat_memory():
    import tracemalloc

    commas = 32 * 1024 * 1024
    body = b'{"pupils":[' + b"," * commas + b"]}"  # the whole-body scan held > 1 GB of int64 positions
    tracemalloc.start()
    try:
        shape = json_shape(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert shape.records == commas + 1 and shape.depth == 2
    assert peak < 100 * 1024 * 1024, f"{peak / 2**20:.0f} MiB"  # one block's arrays, whatever the size


def test_deeply_nested_json_is_refused_without_parsing(service):
    deep = b'{"pupils": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = call(service, "POST", "/score", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text[:300]
    assert "nested deeper" in response.text


def test_scoring_jobs_beyond_the_limit_get_503_with_retry_after(service):
    app, _ = service
    app.state.jobs.busy = app.state.jobs.size  # every slot taken by a job in flight
    files = {"file": ("census.csv", census_csv(census_rows(3)), "text/csv")}
    busy = call(service, "POST", "/score/file", files=files)
    assert busy.status_code == 503 and busy.headers["retry-after"].isdigit()
    assert busy.json()["detail"] and busy.json()["errors"] == []
    assert call(service, "POST", "/score", json={"pupils": [EXAMPLE_FEATURES]}).status_code == 200  # inline
    app.state.jobs.busy = 0
    assert call(service, "POST", "/score/file", files=files).status_code == 200


def test_json_routes_still_document_score_request(service):
    document = call(service, "GET", "/openapi.json").json()
    for path in ("/score", "/explain"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ScoreRequest"}
    schemas = document["components"]["schemas"]
    assert {"ScoreRequest", "FeatureRecord", "CensusRecord"} <= set(schemas)
    assert "example" in schemas["FeatureRecord"]


def test_large_json_bodies_parse_and_validate_as_one_would(service):
    pupils = [dict(EXAMPLE_FEATURES, upn=f"P{i}") for i in range(MAX_ROWS)]
    pupils[70]["fsm"] = "perhaps"
    response = call(service, "POST", "/score", json={"pupils": pupils})
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(71, "fsm")]
    pupils[70]["fsm"] = True
    response = call(service, "POST", "/score", json={"pupils": pupils})
    assert response.status_code == 200 and response.json()["pupils"] == MAX_ROWS


# --- finding 7: any upload name -------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [b"a" * 300 + b".csv", b"../../etc/passwd", b"..\\..\\boot.ini", b"nul\x00byte.csv", b"\xff\xfe\xc3(.csv",
     b"/", b"." * 400, "\u00e9l\u00e8ves.csv".encode()],
)  # fmt: skip
def test_any_upload_name_is_handled_and_never_a_path(service, filename):
    body, content_type = multipart(filename, census_csv(census_rows(3)))
    response = call(service, "POST", "/score/file", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text[:300]
    name = scoring.safe_filename(filename.decode("latin-1"))
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.(csv|parquet)", name) and len(name) <= 80


def test_a_bad_upload_names_a_bounded_safe_file_name(service):
    body, content_type = multipart(b"x" * 300 + b"<script>.csv", b"not,a,census\n1,2,3\n")
    response = call(service, "POST", "/score/file", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 422 and "<script>" not in response.text and "x" * 81 not in response.text


def test_a_form_with_too_many_parts_is_a_documented_422(service):
    # Starlette answers 400 for more parts than `max_fields`, a status the API does not document
    # (schemathesis found it with a 9-field negative example).
    boundary = "b0undary"
    part = '--{b}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nnull\r\n'
    parts = b"".join(part.format(b=boundary, i=i).encode() for i in range(9))
    body = parts + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = call(service, "POST", "/score/file", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "file"


# --- finding 9: duplicate UPNs are never merged: one row stands, by `score`'s rule, and is counted ----


def test_two_autumn_rows_for_one_upn_score_the_first_and_say_so(service):
    """The first row in file order stands (registrations.RULE, as `exclusion-risk score` reads the same
    census), nothing is merged, and the warnings count the row set aside. Before: 422 naming rows 4 and
    8, and skip_invalid=true scored 38 pupils, leaving the pupil out where `score` scored them."""
    rows = census_rows(40)
    rows[7] = dict(rows[3], NCyearActual="9")  # pupil 4 twice in the same collection, not an exact copy
    data = census_csv(rows)
    for params in ({}, {"skip_invalid": "true"}):
        response = call(service, "POST", "/score/file", params=params, content=data,
                        headers={"Content-Type": "text/csv"})  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pupils"] == 39 and body["rejected"] == []
        pupil = [s for s in body["scores"] if s["upn"] == rows[3]["UPN"]]
        assert len(pupil) == 1 and str(pupil[0]["nc_year"]) == rows[3]["NCyearActual"]
        said = [w for w in body["warnings"] if "set aside" in w]
        assert len(said) == 1 and said[0].startswith("1 census row of 1 pupil on two or more rows"), body
        assert not any(row["UPN"] in " ".join(body["warnings"]) for row in rows)


def test_duplicate_feature_records_are_refused_with_their_rows(service):
    pupils = [dict(EXAMPLE_FEATURES, upn=upn) for upn in ("A1", "B2", "A1")]
    for route in ("/score", "/explain"):
        response = call(service, "POST", route, json={"pupils": pupils})
        assert response.status_code == 422, (route, response.text)
        assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(1, "upn"), (3, "upn")]


# --- finding 10: 4xx bodies in the service's own words ----------------------------------------------

THIRD_PARTY = re.compile(r"Cannot cast|unit=|format code|Traceback|overflow|object of type", re.I)


@pytest.mark.parametrize("year", ["9999/00", "2261/62"])
def test_impossible_academic_years_are_row_problems_in_our_words(service, year):
    rows = census_rows(3)
    rows[1]["AcademicYear"] = year
    response = call(service, "POST", "/score/file", content=census_csv(rows),
                    headers={"Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 422
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [(2, "AcademicYear")]
    assert not THIRD_PARTY.search(response.text) and year not in response.text

    asked = call(service, "POST", "/score/file", params={"academic_year": year},
                 content=census_csv(census_rows(3)), headers={"Content-Type": "text/csv"})  # fmt: skip
    assert asked.status_code == 422 and asked.json()["errors"][0]["field"] == "academic_year"
    assert not THIRD_PARTY.search(asked.text) and year not in asked.text


def test_census_feature_errors_never_pass_their_message_through(service, monkeypatch):
    def overflow(*args, **kwargs):
        raise pd.errors.OutOfBoundsDatetime("Cannot cast 9999-10-01 00:00:00 to unit='ns' without overflow "
                                            "A801200111001")  # fmt: skip

    monkeypatch.setattr(scoring, "features_for_census", overflow)
    response = call(service, "POST", "/score/file", content=census_csv(census_rows(3)),
                    headers={"Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"][0]["reason"].startswith("a date in the rows is outside the range")
    assert not THIRD_PARTY.search(response.text) and "A801200111001" not in response.text
    assert all(set(e) == {"row", "field", "reason"} for e in response.json()["errors"])


@pytest.mark.parametrize("bug", [TypeError, KeyError, ValueError])
def test_a_bug_in_the_feature_builder_is_a_500_not_a_data_problem(service, monkeypatch, bug):
    # Caught as "no usable autumn row" (422), a bug sent the client looking for a fault in its data.
    def broken(*args, **kwargs):
        raise bug("internal A801200111001")

    monkeypatch.setattr(scoring, "features_for_census", broken)
    response = call(service, "POST", "/score/file", content=census_csv(census_rows(3)),
                    headers={"Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 500, response.text[:300]
    assert "reference" in response.json()["detail"] and "A801200111001" not in response.text


def test_no_autumn_row_of_the_scored_year_is_said_so(service):
    response = call(service, "POST", "/score/file", content=census_csv(census_rows(3, CensusTerm="SPR")),
                    headers={"Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 422, response.text[:300]
    assert response.json()["errors"][0]["field"] == "CensusTerm"


def test_unreadable_uploads_never_quote_the_parser(service, monkeypatch):
    def broken(path):
        raise UnicodeDecodeError("utf-8", b"Smith\xff", 5, 6, "row A801200111001 Smith")

    monkeypatch.setattr(scoring, "read_census", broken)
    response = call(service, "POST", "/score/file", content=b"UPN\nA801200111001\n",
                    headers={"Content-Type": "text/csv"})  # fmt: skip
    assert response.status_code == 422 and "Smith" not in response.text and "utf-8" not in response.text


# --- finding 3: the API's CSV is neutralised --------------------------------------------------------


def test_scores_csv_neutralises_formula_leading_cells():
    scores = pd.DataFrame([StandInScorer()._row(u) for u in ["@SUM(1+1)*cmd|' /C calc'!A0", "=1+1", "A1"]])
    scores.loc[0, "reasons"] = "-2 sessions"
    officer = {"school_urn": "104001", "school_name": "", "nc_year": 9, "need_label": "-",
               "response": "universal", "reasons_lowering": "", "context": "", "band_precision": 0.3,
               "band_precision_ci": "0.2-0.4"}  # fmt: skip
    text = score_bodies.scores_csv(scores.assign(**officer)).decode()
    body = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)  # header on row 1
    assert body["upn"].tolist() == ["'@SUM(1+1)*cmd|' /C calc'!A0", "'=1+1", "A1"]
    assert body["reasons"].iloc[0] == "'-2 sessions"
    assert body["probability"].tolist() == ["0.5"] * 3  # numbers untouched
    assert body["need_label"].tolist() == ["'-"] * 3


def test_census_input_csv_is_not_neutralised():
    # JSON census rows become CSV for the reader: input, so the reader sees exactly what was sent.
    text = scoring.census_records_to_csv([{"UPN": "=1+1", "Surname": "-Smith"}]).decode()
    assert text.splitlines()[1] == '"=1+1","-Smith"'


def test_whole_numbers_sent_as_floats_are_read_as_whole_numbers():
    # A client building its JSON rows with pandas sends 8.0 where a column has a gap (floats): the row
    # was rejected ("8.0": an unknown NC year code), and so were SchoolURN 104321.0 and sessions 320.0
    rows = census_rows(3)
    rows[0].update(NCyearActual=8.0, SchoolURN=104321.0, SessionsPossible=320.0)
    rows[1].update(NCyearActual=8.5)  # not a whole number: still rejected
    clean, rejects = scoring.read_census_bytes(scoring.census_records_to_csv(rows), "census.csv")
    assert sorted(clean["_row"]) == [1, 3] and rejects["row"].tolist() == [2]


def test_a_census_row_with_a_line_break_in_a_value_stays_one_row():
    # A lone CR was written unquoted: the reader saw one JSON row as two, and row numbers moved on.
    rows = census_rows(3)
    rows[0]["Surname"] = "O\rBrien"
    rows[1]["Forename"] = "Ann\nMarie"
    clean, rejects = scoring.read_census_bytes(scoring.census_records_to_csv(rows), "census.csv")
    assert sorted([*clean["_row"], *rejects["row"]]) == [1, 2, 3]
    assert clean["UPN"].tolist()[-1] == rows[2]["UPN"] and 3 in set(clean["_row"])


def test_repeated_rows_keep_every_row_accounted_for(service):
    """5 rows, the fifth the first's UPN with another SEN provision: 4 pupils scored and 1 row counted
    as set aside, so scored pupils + rows set aside + rejected rows = rows sent. Before: 422 listing
    rows 1 and 5."""
    rows = census_rows(5)
    rows[4] = dict(rows[0], SENprovision="E")
    response = call(service, "POST", "/score/file", content=census_csv(rows),
                    headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pupils"] == 4 and body["rejected"] == []
    assert any(w.startswith("1 census row of 1 pupil on two or more rows") for w in body["warnings"])


@pytest.mark.parametrize(
    ("path", "content_type", "multipart"),
    [("/score/file", "text/csv", False), ("/score/file", None, True), ("/score", "application/json", False)],
)  # fmt: skip
def test_a_streamed_body_over_the_byte_limit_gets_the_declared_413s_shape(service, path, content_type,
                                                                         multipart):
    app, _ = service
    limit = app.state.settings.max_request_bytes
    declared = call(service, "POST", path, content=b"x" * (limit + 1),
                    headers={"Content-Type": content_type or "text/csv"})
    assert declared.status_code == 413 and set(declared.json()) == {"detail", "errors"}

    async def chunks():  # no Content-Length: chunked, so only counting the bytes can stop it
        for _ in range(limit // (1 << 20) + 2):
            yield b"UPN\n" + b"A" * ((1 << 20) - 4)

    if multipart:
        boundary = "b0undary"
        async def form():
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n"
                   "Content-Type: text/csv\r\n\r\n").encode()
            async for chunk in chunks():
                yield chunk
        body, content_type = form(), f"multipart/form-data; boundary={boundary}"
    else:
        body = chunks()
    streamed = call(service, "POST", path, content=body, headers={"Content-Type": content_type})
    assert streamed.status_code == 413, streamed.text[:300]
    assert streamed.json() == declared.json() == {"detail": too_large_message(limit), "errors": []}


def test_a_census_whose_every_row_is_rejected_says_how_many(service):
    """skip_invalid with every row rejected was refused as "No row could be read" beside the first 1,000
    problems only: the page said "how many there are in all is said above", and nothing said it."""
    rows = census_rows(3, SchoolURN="1234")  # not a school's number: each row rejected
    refused = call(service, "POST", "/score/file", params={"skip_invalid": "true"},
                   files={"file": ("census.csv", census_csv(rows), "text/csv")})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("No row could be read (3 row problem(s)), so there is nothing")
