"""POST /explain/file: one pupil's factors from an uploaded census, for the page's pupil panel.

The page holds the census the officer uploaded, not the pupil's features, so it sends the same file
again with the pupil's UPN as a form field (never in the URL: the access log records paths). The file
goes through exactly what POST /score/file does (the row count from the bytes, the census reader, the
feature builder with the authority's linked history), so the pupil's features, and so the probability
and cell, are the ones the ranked list showed; then that one pupil is explained as POST /explain does.
Rows the reader rejects are left out (they were listed, or refused, when the file was scored); a UPN
not among the scored rows is a 422 that does not repeat the UPN.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from exclusion_risk.linkage.upn_columns import tidy_upn_column
from exclusion_risk.serving import school_scope, scoring
from exclusion_risk.serving.deps import ScorerDep, ScorerKey, SettingsDep
from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.schemas import (
    AUTH_ERRORS,
    SLOW_BODY,
    UPN_MAX_CHARS,
    ErrorResponse,
    ExplainResponse,
)
from exclusion_risk.upn import upn_key

router = APIRouter(tags=["scoring"])

NOT_IN_FILE = "no pupil with that UPN in the file"
_ERRORS: dict[int | str, dict] = {
    **AUTH_ERRORS,
    403: {"model": ErrorResponse, "description": "A school's key sent a census of another school."},
    408: SLOW_BODY,
    413: {"model": ErrorResponse, "description": "Too many pupils or too many bytes in one request."},
    415: {"model": ErrorResponse, "description": "Not a multipart upload."},
    422: {"model": ErrorResponse, "description": "The file cannot be read, or no pupil in it has that UPN."},
    503: {"model": ErrorResponse, "description": "Loading, busy (`Retry-After`), or no linked history."},
}


def _problem(status: int, message: str, field: str, reason: str) -> RequestProblem:
    return RequestProblem(status, message, [{"row": None, "field": field, "reason": reason}])


def _require_form(request: Request) -> None:
    """415 unless the body is a multipart form: checked before any slot is taken or byte read."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise RequestProblem(
            415, "Send the census and the UPN as multipart/form-data (fields `file`, `upn`)."
        )


async def _file_and_upn(request: Request) -> tuple[bytes, str, str]:
    """(the census bytes, its safe name, the UPN) from a multipart form with `file` and `upn`."""
    try:
        form = await request.form(max_files=1, max_fields=8)
    except StarletteHTTPException as exc:  # Starlette's 400 for a malformed form or too many parts
        if exc.status_code != 400:
            raise  # a 413 from the body limit stays a 413
        raise _problem(422, "The upload cannot be read as a form.", "file",
                       "not a multipart form with the fields `file` and `upn`") from None
    upload, upn = form.get("file"), form.get("upn")
    if not isinstance(upload, UploadFile):
        raise _problem(422, "The upload has no file.", "file", "a file is required")
    if not isinstance(upn, str) or not upn.strip() or len(upn) > UPN_MAX_CHARS:
        raise _problem(422, "The form has no usable UPN.", "upn",
                       f"a UPN is required (at most {UPN_MAX_CHARS} characters)")
    return await upload.read(), scoring.safe_filename(upload.filename), upn


@router.post(
    "/explain/file",
    response_model=ExplainResponse,
    summary="One pupil's factors raising and lowering the risk, from an uploaded census",
    description="`multipart/form-data` with the census `file` (as sent to POST /score/file) and the "
    "pupil's `upn` as a form field (never in the URL). The file is read and its features built as "
    "/score/file does, with the linked history; rows the reader rejects are left out. The answer is "
    "POST /explain's, for that one pupil.",
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "upn": {"type": "string", "maxLength": UPN_MAX_CHARS},
                        },
                        "required": ["file", "upn"],
                    }
                }
            },
        }
    },
)
async def explain_file(
    request: Request,
    key: ScorerKey,
    scorer: ScorerDep,
    settings: SettingsDep,
    n: Annotated[int, Query(ge=1, le=20, description="Factors per direction.")] = 5,
    academic_year: Annotated[
        str | None, Query(pattern=r"^\d{4}/\d{2}$", description="Census year to score; default the latest.")
    ] = None,
) -> Response:
    def work(data: bytes, filename: str, upn: str) -> bytes:
        cohort = school_scope.checked(request, scoring.upload_cohort(
            data, filename, settings, request.app.state.history, scorer.feature_names, academic_year,
            skip_invalid=True, census=scoring.model_census(scorer)))  # a school's key: its own pupils only
        request.state.audit.history_withheld = cohort.history_withheld
        features = cohort.features
        wanted = tidy_upn_column(features["upn"]) == upn_key(upn)
        if not wanted.any():
            raise _problem(422, "The pupil cannot be explained.", "upn", NOT_IN_FILE)
        pupil = features[wanted.fillna(False).to_numpy()].head(1)
        return scoring.explanation_json(scorer, cohort, pupil, n)[1]

    _require_form(request)
    async with request.app.state.jobs.slot():  # before the body is read: a refusal holds no bytes
        content = await run_in_threadpool(work, *await _file_and_upn(request))
    request.state.audit.pupils = 1
    return Response(content, media_type="application/json")
