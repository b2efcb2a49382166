"""POST /score, POST /score/file and POST /explain: pupils in, risk-matrix scores and reasons out.

Limits come before work: the body's bytes (BodyLimit); then one of the service's few job slots (503
+ Retry-After when all are busy), taken before the body is read, so a refused request never has
its bytes held (`_declared_small`); then, in a worker thread, its rows or records counted from the
raw bytes (a JSON body's shape, a CSV's lines, a Parquet file's footer and batches); and only then is
anything parsed. A body declared small enough to be handled on the event loop (INLINE_BYTES) is read
at once and takes no slot for its scan. The JSON routes read their body themselves (UTF-8 only) so
that pydantic never validates a body over the limits, and never on the event loop; the OpenAPI
document still shows ScoreRequest as their body.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from exclusion_risk.models.earlier_scorings import pupil_keys
from exclusion_risk.models.upn_warning import invalid_upn_warning
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.serving import school_scope, score_bodies, scoring
from exclusion_risk.serving.answer_format import (
    DOWNLOAD_HEADERS,
    DRIFT_HEADER,
    FAIRNESS_HEADER,
    NOTICE_HEADER,
    RUN_HEADER,
    WARNINGS_HEADER,
    XLSX_TYPE,
    accepted_format,
    lines_header,
)
from exclusion_risk.serving.deps import ScorerDep, ScorerKey, SettingsDep
from exclusion_risk.serving.errors import RequestProblem, pydantic_problems
from exclusion_risk.serving.fairness_notes import fairness_notes
from exclusion_risk.serving.json_body import (
    NOT_UTF8_STATUS,
    JsonShape,
    check_json_shape,
    json_shape,
    parse_json_chunks,
    require_json_type,
    require_utf8,
)
from exclusion_risk.serving.limits import too_many_pupils
from exclusion_risk.serving.record_gaps import checked_records
from exclusion_risk.serving.run_history import download_name, record_census_scoring
from exclusion_risk.serving.schemas import (
    AUTH_ERRORS,
    EXAMPLE_CENSUS,
    SLOW_BODY,
    CensusRecord,
    ErrorResponse,
    ExplainResponse,
    FeatureRecord,
    ScoreRequest,
    ScoreResponse,
)
from exclusion_risk.serving.workbook import scores_workbook

router = APIRouter(tags=["scoring"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    403: {"model": ErrorResponse, "description": "A school's key sent pupils of another school (or none)."},
    408: SLOW_BODY,
    413: {"model": ErrorResponse, "description": "Too many pupils or too many bytes in one request."},
    422: {"model": ErrorResponse, "description": "Rows or fields that cannot be scored: row, field, reason."},
    503: {
        "model": ErrorResponse,
        "description": "The model (or the linked history) is still loading, or the service is already "
        "scoring as many requests as it runs at once: try again after `Retry-After` seconds. Census rows "
        "only: no linked history is configured (or it failed to load), so census scoring is refused, "
        "with no `Retry-After` and a message naming the setting (EXCLUSION_RISK_DATA_DIR); feature "
        "records are still scored.",
    },
}
_JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    NOT_UTF8_STATUS: {"model": ErrorResponse, "description": "The body is not JSON (its Content-Type) or "
                      "not UTF-8 (RFC 8259)."},
}
CSV_TYPES = ("text/csv", "application/csv", "application/vnd.ms-excel")
INLINE_PUPILS = 8
INLINE_BYTES = 64 * 1024  # a body this small is parsed and validated on the event loop: microseconds
_EXAMPLE_CSV = ",".join(EXAMPLE_CENSUS) + "\n" + ",".join(str(v) for v in EXAMPLE_CENSUS.values()) + "\n"
# The body is read by the route itself (see the module docstring); this is what the document shows.
_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScoreRequest"}}},
    }
}
# Each list's elements are validated a slice at a time, so no pydantic call holds the GIL for long.
_ELEMENTS = {"pupils": TypeAdapter(list[FeatureRecord]), "census": TypeAdapter(list[CensusRecord])}
_VALIDATE_CHUNK = 1000  # about 25 ms of pydantic (GIL held) per slice

Reasons = Annotated[bool, Query(description="Add each pupil's top factors in plain words (slower).")]
SkipInvalid = Annotated[
    bool, Query(description="Score the valid census rows (or the feature records that give some "
                "feature) and list the rejected ones.")
]


def _not_valid(problems: list[dict]) -> RequestProblem:
    return RequestProblem(422, "The request is not valid.", problems[: scoring.MAX_LISTED_PROBLEMS])


def validate_score_request(top: Any) -> ScoreRequest:
    """`ScoreRequest.model_validate(top)`, with long lists validated _VALIDATE_CHUNK elements at a time.

    The request itself (which lists, the academic year, ScoreRequest's own rules) is validated with
    each list cut to its first element; the rest of each list then goes through the element type's
    adapter in slices, error locations shifted to the element's place in the whole list.
    """
    if not isinstance(top, dict):
        raise _not_valid([{"row": None, "field": "body", "reason": "expected a JSON object"}])
    lists = {k: v for k, v in top.items() if k in _ELEMENTS and isinstance(v, list) and len(v) > 1}
    problems: list[dict] = []
    head = None
    try:
        head = ScoreRequest.model_validate({**top, **{k: v[:1] for k, v in lists.items()}})
    except ValidationError as exc:
        problems += pydantic_problems(list(exc.errors()), ("body",))
    rest: dict[str, list] = {}
    for key, values in lists.items():
        rest[key] = []
        for start in range(1, len(values), _VALIDATE_CHUNK):
            if len(problems) >= scoring.MAX_LISTED_PROBLEMS:
                break
            try:
                rest[key] += _ELEMENTS[key].validate_python(values[start:start + _VALIDATE_CHUNK])
            except ValidationError as exc:
                errors = [{**e, "loc": (key, e["loc"][0] + start, *e["loc"][1:])} for e in exc.errors()]
                problems += pydantic_problems(errors, ("body",))
    if problems or head is None:
        raise _not_valid(problems)
    return head.model_copy(update={k: [*getattr(head, k), *v] for k, v in rest.items()})


def _check_duplicate_pupils(body: ScoreRequest) -> None:
    if body.pupils is not None:
        problems = scoring.duplicate_upn_problems([p.upn for p in body.pupils])
        if problems:
            raise RequestProblem(
                422, f"{len(problems):,} feature records share a UPN with another; nothing was scored. "
                "Send each pupil once.", problems,
            )


def _declared_small(request: Request) -> bool:
    """A body declared (Content-Length) at most INLINE_BYTES: read before any job slot is taken. Any
    other body (large, or chunked with no length) is read inside its slot, so a request refused 503
    never has its bytes read: 30 concurrent 60 MB uploads took the server from 1.09 to 2.25 GB, 28 of
    them refused only once read."""
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) <= INLINE_BYTES


async def _json_bytes(request: Request) -> bytes:
    """The raw body of a JSON route (its size already held to the byte limit by BodyLimit)."""
    require_json_type(request.headers.get("content-type"))
    return await request.body()


def _checked_shape(data: bytes, max_rows: int) -> JsonShape:
    """The body's shape, refused (415/413/422) before any parsing when it is not UTF-8 or over the
    limits. On the event loop only for a body of at most INLINE_BYTES; else in a job slot's thread."""
    require_utf8(data)
    shape = json_shape(data)
    check_json_shape(shape, max_rows)
    return shape


def _parse(data: bytes, shape: JsonShape, max_rows: int) -> ScoreRequest:
    top = parse_json_chunks(data, shape)
    # Counted again now that the records are parsed, before pydantic sees one: the shape's count is an
    # upper bound only if the scan read the bytes as the parser did, and this holds whatever it missed.
    if isinstance(top, dict) and any(
        isinstance(top.get(key), list) and len(top[key]) > max_rows for key in _ELEMENTS
    ):
        raise too_many_pupils(max_rows)
    body = validate_score_request(top)
    _check_duplicate_pupils(body)
    return body


JSON_ROWS_FILE = "census_rows.csv"  # the reader's name for JSON rows; never shown


def _cohort_from_request(body: ScoreRequest, scorer, request: Request, skip_invalid: bool) -> scoring.Cohort:
    """Census rows through the reader and the feature builder (feature records never come here)."""
    # a null is a blank value, as in a file: dropping its key made a column all rows sent as null "missing"
    data = scoring.census_records_to_csv([r.model_dump() for r in body.census])
    census = scoring.model_census(scorer)  # the rows of the census the model was trained at
    notes: list[str] = []  # the read's notes (a column not read, say), as an upload's answer gives them
    clean, rejects = scoring.read_census_bytes(data, JSON_ROWS_FILE, census, notes)
    notes = [f"Census rows sent: {note.removeprefix(JSON_ROWS_FILE + ': ')}" for note in notes]  # no file
    cohort = scoring.census_cohort(
        clean, rejects, request.app.state.history, scorer.feature_names, body.academic_year, skip_invalid,
        census=census,
    )  # fmt: skip
    invalid = invalid_upn_warning(cohort.features["upn"], cohort.not_in_history)
    cohort.warnings = notes + cohort.warnings + invalid
    request.state.audit.history_withheld = cohort.history_withheld  # a key trying dates of birth shows
    return school_scope.checked(request, cohort)  # a school's key: its own pupils only


def _score_records(scorer, pupils: list, reasons: bool, skip_invalid: bool) -> tuple[list[dict], dict]:
    """Feature records' scores, each with the features it lacked, and the response's envelope."""
    checked = checked_records(pupils, list(scorer.feature_names), skip_invalid)
    scores = scoring.score_feature_records(scorer, checked.records, reasons)
    by_upn = {record["upn"]: gap for record, gap in zip(checked.records, checked.gaps, strict=True)}
    for score in scores:
        score["missing_features"] = by_upn.get(score["upn"], [])
    return scores, {"history": "not needed", "missing_features": checked.missing_features,
                    "warnings": checked.warnings, "rejected": checked.rejected}


def _record(request: Request, key, scorer, cohort: scoring.Cohort, scores, academic_year: str | None,
            record: bool = True, since: str | None = None, recorded_as: str | None = None):
    """Record a census scoring in the service's runs and compare it with the last one (run_history)."""
    features = cohort.features
    year = str(features["AcademicYear"].iloc[0]) if "AcademicYear" in features and len(features) else ""
    try:
        return record_census_scoring(request.app.state.runs, scores, scorer, year or academic_year or "",
                                     key.key_id, record=record, since=since, recorded_as=recorded_as,
                                     pupil_of=pupil_keys(request.app.state.history.history, features),
                                     schools=key.schools)  # a school's key: only the runs it may see
    except LookupError as exc:  # its message names the parameter
        raise RequestProblem(422, f"{exc}.") from None


@router.post(
    "/score",
    response_model=ScoreResponse,
    summary="Score one or many pupils given as feature records or census-shaped rows",
    description="Send `pupils` (registry features as known on census day, e.g. from your own pipeline) "
    "or `census` (rows as a school MIS exports them; validated like an upload), as UTF-8 JSON. One "
    "pupil scores in milliseconds. Results are ranked, highest risk first.",
    responses=_JSON_ERRORS,
    openapi_extra=_JSON_BODY,
)
async def score(
    key: ScorerKey,
    scorer: ScorerDep,
    settings: SettingsDep,
    request: Request,
    reasons: Reasons = True,
    skip_invalid: SkipInvalid = False,
    record: Annotated[
        bool, Query(description="`census` rows: record this scoring as a run (default); `false` scores them "
                    "without recording (a trial). Feature records (`pupils`) are never recorded.")
    ] = True,
) -> Response:
    def work(body: ScoreRequest):
        leavers = 0  # pupils not sent whose earlier scores `changes` lists: audited with those scored
        if body.pupils is not None:
            pupils = school_scope.own_records(request, body.pupils)  # a school's key: its own pupils only
            scores, envelope = _score_records(scorer, pupils, reasons, skip_invalid)
        else:
            cohort = _cohort_from_request(body, scorer, request, skip_invalid)
            scores = scoring.score_cohort(scorer, cohort, reasons)
            # record=false was ignored here (an integrator's trial run was recorded and compared with)
            recorded = _record(request, key, scorer, cohort, scores, body.academic_year, record)
            leavers = recorded.listed_leavers
            envelope = {"history": cohort.history, "missing_features": cohort.missing_features,
                        "warnings": cohort.warnings,
                        "rejected": cohort.rejected, "run": recorded.run, "changes": recorded.changes,
                        "drift_warnings": scoring.drift_warnings(scorer, cohort, request.app.state.history),
                        "fairness_findings": fairness_notes(scorer)}
        payload = {"model_version": str(scorer.model_version), "pupils": len(scores), **envelope}
        return len(scores) + leavers, score_bodies.scores_json(payload, scores)

    data, body, shape = None, None, None
    if _declared_small(request):  # read, scanned (and, with few records, parsed) in microseconds
        data = await _json_bytes(request)
        shape = _checked_shape(data, settings.max_rows)
        body = _parse(data, shape, settings.max_rows) if shape.records <= INLINE_PUPILS else None
    if body is not None and body.pupils is not None:
        # A few feature records score in about a millisecond of CPU: on the event loop that beats the
        # hand-off to a worker thread and back, and such a request takes no job slot.
        count, content = work(body)
    else:

        def job(data: bytes):
            parsed = body or _parse(data, shape or _checked_shape(data, settings.max_rows), settings.max_rows)
            return work(parsed)

        async with request.app.state.jobs.slot():  # before the read and the scan: work, on large bodies
            raw = data if data is not None else await _json_bytes(request)
            count, content = await run_in_threadpool(job, raw)
    request.state.audit.pupils = count
    return Response(content, media_type="application/json")


@router.post(
    "/score/file",
    summary="Score a cohort: a census CSV as the MIS exports it; JSON, CSV or an Excel workbook back",
    description="Send the file as `multipart/form-data` (field `file`) or as the raw body with "
    "`Content-Type: text/csv`. Columns and aliases are the data contract's; names and dates of birth are "
    "read for validation and then dropped. The result has the contract's `scores.csv` columns and the "
    "officer's (CSV: a plain file, header on row 1, as `exclusion-risk score` writes it; the "
    "decision-support notice is in the `X-Decision-Support-Notice` header, the JSON's `warnings`, "
    "`drift_warnings` and `fairness_findings` in `X-Census-Warnings`, `X-Drift-Warnings` and "
    "`X-Fairness-Findings` when there are any, and the recorded run's `id` in `X-Run-Id` and the file "
    "name; `format=xlsx`: a workbook whose first sheet is the notice, "
    "all of them included). Each scoring is recorded; the JSON says what changed since the latest earlier "
    "scoring of the same year and census of any of the same schools (`changes`). With the linked "
    "history, earlier exclusions and social care feed the scores; without it the upload is refused "
    "(503) rather than scored with those features missing.",
    response_model=ScoreResponse,
    responses={
        **_ERRORS,
        200: {
            "description": "Scores, highest risk first.",
            "headers": DOWNLOAD_HEADERS,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        415: {"model": ErrorResponse, "description": "Not a CSV or multipart upload."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                "text/csv": {"schema": {"type": "string"}, "example": _EXAMPLE_CSV},
            },
        }
    },
)
async def score_file(
    request: Request,
    key: ScorerKey,
    scorer: ScorerDep,
    settings: SettingsDep,
    format: Annotated[
        Literal["json", "csv", "xlsx"] | None,
        Query(description="Default: as the Accept header prefers by its q-values (text/csv, the workbook's "
              "type), JSON on a tie or where neither is named. `xlsx`: the workbook (notice sheet, ranked "
              "list, changes since the last scoring, a sheet per school)."),
    ] = None,
    skip_invalid: SkipInvalid = False,
    academic_year: Annotated[
        str | None, Query(pattern=r"^\d{4}/\d{2}$", description="Census year to score; default the latest.")
    ] = None,
    reasons: Reasons = True,
    record: Annotated[
        bool, Query(description="Record this scoring as a run (default). `false` for a file just scored: "
                    "the page's workbook download sends it again, with `recorded_as`.")
    ] = True,
    since: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{32}$", description="Compare with this recorded run (its `id`) "
                          "instead of the most recent one sharing a school.")
    ] = None,
    recorded_as: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{32}$", description="With `record=false`: the run (its `id`) "
                          "this file was recorded as. Compared as that run was, with the runs before it.")
    ] = None,
) -> Response:
    content_type = _upload_type(request)
    format = format or accepted_format(request.headers.get("accept", ""))
    wants_csv, wants_xlsx = format == "csv", format == "xlsx"

    def work(data: bytes, filename: str):
        cohort = school_scope.checked(request, scoring.upload_cohort(
            data, filename, settings, request.app.state.history, scorer.feature_names, academic_year,
            skip_invalid, census=scoring.model_census(scorer)))  # a school's key: its own pupils only
        cohort.warnings += invalid_upn_warning(cohort.features["upn"], cohort.not_in_history)
        request.state.audit.history_withheld = cohort.history_withheld
        scores = scoring.score_cohort(scorer, cohort, reasons)
        recorded = _record(request, key, scorer, cohort, scores, academic_year, record, since, recorded_as)
        # the audit counts every pupil whose data goes back: the JSON and the workbook carry the listed
        # leavers' earlier scores beside the pupils scored; the CSV carries the scores only
        returned = len(scores) + recorded.listed_leavers
        # the run this download is (recorded now, or the page's recorded_as): a script's since= and GET
        # /runs find it, and two downloads of one model's year and census are two file names
        run_id = (recorded.run or {}).get("id") or recorded_as
        name = download_name(recorded.scored, "xlsx" if wants_xlsx else "csv", run_id)
        drift = scoring.drift_warnings(scorer, cohort, request.app.state.history)
        fairness = fairness_notes(scorer)
        # beside a download, in headers too (a client reading the workbook's bytes only, say)
        said = {WARNINGS_HEADER: cohort.warnings, DRIFT_HEADER: drift, FAIRNESS_HEADER: fairness,
                RUN_HEADER: [run_id] if run_id else []}  # fmt: skip
        if wants_xlsx:  # its notice carries them all, as the CLI's scores.xlsx does
            book = scores_workbook(scores, scorer, recorded, cohort.warnings, drift, fairness, run_id)
            return returned, book, said, name
        if wants_csv:
            return len(scores), score_bodies.scores_csv(scores), said, name
        payload = {"model_version": str(scorer.model_version), "pupils": len(scores),
                   "history": cohort.history, "missing_features": cohort.missing_features,
                   "warnings": cohort.warnings, "rejected": cohort.rejected, "run": recorded.run,
                   "changes": recorded.changes, "drift_warnings": drift, "fairness_findings": fairness}
        return returned, score_bodies.scores_json(payload, scores), {}, None

    async with request.app.state.jobs.slot():  # before the body is read: a refusal holds no bytes
        count, content, said, name = await run_in_threadpool(work, *await _upload_bytes(request,
                                                                                           content_type))
    request.state.audit.pupils = count
    if name is None:
        return Response(content, media_type="application/json")
    return Response(
        content,
        media_type=XLSX_TYPE if wants_xlsx else "text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # beside the data, not inside the CSV; also the workbook's first sheet, with the warnings
            NOTICE_HEADER: DECISION_SUPPORT_NOTICE,
            **{header: value for header, lines in said.items() if (value := lines_header(lines))},
        },
    )


def _upload_type(request: Request) -> str:
    """The upload's content type, refused (415) before any slot is taken or byte read."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data" and content_type not in CSV_TYPES:
        raise RequestProblem(
            415, "Send the census as multipart/form-data (field `file`) or as a text/csv body."
        )
    return content_type


async def _upload_bytes(request: Request, content_type: str) -> tuple[bytes, str]:
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=8)
        except StarletteHTTPException as exc:  # Starlette's 400 for a malformed form or too many parts
            if exc.status_code != 400:
                raise  # a 413 from the body limit stays a 413
            problem = {"row": None, "field": "file", "reason": "not a multipart form with one field, `file`"}
            raise RequestProblem(422, "The upload cannot be read as a form.", [problem]) from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            problem = {"row": None, "field": "file", "reason": "a file is required"}
            raise RequestProblem(422, "The upload has no file.", [problem])
        # The client's name is only ever used made safe (never as a path, at most 80 characters).
        return await upload.read(), scoring.safe_filename(upload.filename)
    return await request.body(), "upload.csv"


@router.post(
    "/explain",
    response_model=ExplainResponse,
    summary="Per-pupil factors raising and lowering the risk",
    description="The same input as POST /score. Each pupil's top factors in both directions with their "
    "SHAP contribution on the model's raw scale; protected characteristics are included here, for "
    "review, though `/score`'s reasons leave them out.",
    responses=_JSON_ERRORS,
    openapi_extra=_JSON_BODY,
)
async def explain(
    key: ScorerKey,
    scorer: ScorerDep,
    settings: SettingsDep,
    request: Request,
    n: Annotated[int, Query(ge=1, le=20, description="Factors per direction.")] = 5,
    skip_invalid: SkipInvalid = False,
) -> Response:
    # A small body is read and refused at once, without a slot; a large one is read and scanned inside
    # its slot.
    data = await _json_bytes(request) if _declared_small(request) else None
    shape = _checked_shape(data, settings.max_rows) if data is not None else None

    def work(data: bytes) -> tuple[int, bytes]:
        body = _parse(data, shape or _checked_shape(data, settings.max_rows), settings.max_rows)
        if body.pupils is not None:  # as /score reads them: gaps warned of, skip_invalid honoured
            pupils = school_scope.own_records(request, body.pupils)  # a school's key: its own pupils only
            checked = checked_records(pupils, list(scorer.feature_names), skip_invalid)
            cohort = scoring.Cohort(pd.DataFrame.from_records(checked.records), "not needed",
                                    checked.missing_features, checked.rejected, checked.warnings)
        else:
            cohort = _cohort_from_request(body, scorer, request, skip_invalid)
        return scoring.explanation_json(scorer, cohort, cohort.features, n)

    async with request.app.state.jobs.slot():
        raw = data if data is not None else await _json_bytes(request)
        count, content = await run_in_threadpool(work, raw)
    request.state.audit.pupils = count
    return Response(content, media_type="application/json")
