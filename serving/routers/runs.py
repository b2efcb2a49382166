"""GET /runs and POST /runs/earlier: the recorded census scorings, and one pupil's earlier scores.

Every census scoring (`POST /score/file`, `POST /score` with `census`) is recorded by the service
(`serving.run_history`). `GET /runs` lists the recent runs without identifiers. `POST /runs/earlier`
takes a UPN in its JSON body (never in the URL, which the access log records) and returns the pupil's
scores in earlier runs, for the page's pupil panel: an empty list, not a 404, when there are none; with
`before` (a run id, in the query: not a pupil's), only those of runs recorded before that run.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from exclusion_risk.serving.deps import ScorerKey
from exclusion_risk.serving.errors import RequestProblem, pydantic_problems
from exclusion_risk.serving.json_body import NOT_UTF8_STATUS, require_json_type, require_utf8
from exclusion_risk.serving.run_history import RECENT_RUNS, run_json
from exclusion_risk.serving.schemas import (
    AUTH_ERRORS,
    EarlierScoresRequest,
    EarlierScoresResponse,
    ErrorResponse,
    RunsResponse,
    RunSummary,
)
from exclusion_risk.upn import upn_key

router = APIRouter(tags=["runs"])
MAX_RUNS_PAGE = 500  # runs one GET /runs page lists at most
MAX_LOOKUP_BYTES = 4096  # a UPN lookup's body; anything longer is refused before it is parsed
# The body is read by the route itself (a body that is not UTF-8 JSON gets the JSON routes' own 415 or
# 422, never a parser's message); this is what the document shows.
_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EarlierScoresRequest"}}},
    }
}


def _too_long() -> RequestProblem:
    return RequestProblem(413, f"A UPN lookup's body is at most {MAX_LOOKUP_BYTES:,} bytes.")


async def _lookup_body(request: Request) -> bytes:
    """The body, held to MAX_LOOKUP_BYTES as it is read: one declared longer is refused unread, and a
    chunked one is cut off once it passes the limit (not read whole, up to the service's byte limit)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_LOOKUP_BYTES:
        raise _too_long()
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_LOOKUP_BYTES:
            raise _too_long()
    return bytes(data)


def _upn_of(data: bytes) -> str:
    """The UPN of a POST /runs/earlier body; 415 when it is not UTF-8, 422 when not a valid request
    (the problems name the field, never the value)."""
    if len(data) > MAX_LOOKUP_BYTES:
        raise _too_long()
    require_utf8(data)
    try:
        top = json.loads(data.decode("utf-8-sig"))
    except ValueError:
        problem = {"row": None, "field": "body", "reason": "not valid JSON"}
        raise RequestProblem(422, "The request is not valid.", [problem]) from None
    try:
        return upn_key(EarlierScoresRequest.model_validate(top).upn)  # as scores hold it: any case finds it
    except ValidationError as exc:
        raise RequestProblem(
            422, "The request is not valid.", pydantic_problems(list(exc.errors()), ("body",))
        ) from None


@router.get(
    "/runs",
    response_model=RunsResponse,
    summary="Recent census scorings: when, which model and census, how many pupils (no identifiers)",
    description=f"Newest first, {RECENT_RUNS} a page by default (`limit`, at most {MAX_RUNS_PAGE}); `total` "
                "counts them all, and `before` (the last listed run's `id`) gives the next page.",
    responses={**AUTH_ERRORS, 422: {"model": ErrorResponse, "description": "A `before` that is no "
                                    "recorded run's id this key may see, or a `limit` out of range."}},
)
async def runs(
    key: ScorerKey,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_RUNS_PAGE, description="Runs on this page.")] = RECENT_RUNS,
    before: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{32}$", description="Only the runs recorded before this one "
                          "(its `id`): the next page.")
    ] = None,
) -> RunsResponse:
    # a school's key: the runs whose pupils are all its schools' (serving.school_scope)
    store = request.app.state.runs

    def listed():
        return store.visible_count(key.schools), store.recent(limit, scope=key.schools, before=before)

    try:
        total, recent = await run_in_threadpool(listed)
    except LookupError as exc:
        raise RequestProblem(422, f"before: {exc}.") from None
    return RunsResponse(
        total=total,
        runs=[RunSummary(**run_json(run), model_name=run.model_name, rag=run.rag) for run in recent],
    )


@router.post(
    "/runs/earlier",
    response_model=EarlierScoresResponse,
    summary="One pupil's scores in earlier census scorings, newest first",
    description="The UPN goes in the JSON body, never the URL. No earlier score: an empty list.",
    responses={
        **AUTH_ERRORS,
        NOT_UTF8_STATUS: {"model": ErrorResponse, "description": "The body is not JSON (its Content-Type) "
                          "or not UTF-8 (RFC 8259)."},
        413: {"model": ErrorResponse, "description": f"A body over {MAX_LOOKUP_BYTES:,} bytes."},
        422: {"model": ErrorResponse, "description": "No UPN, or one over 64 characters (a UPN failing "
              "its check letter is looked up: such pupils are scored); a `before` that is no recorded "
              "run's id."},
    },
    openapi_extra=_BODY,
)
async def earlier(
    key: ScorerKey,
    request: Request,
    before: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{32}$", description="Only the runs recorded before this one "
                          "(its `id`): the scores before a list the page shows, however many came after.")
    ] = None,
) -> EarlierScoresResponse:
    require_json_type(request.headers.get("content-type"))  # as POST /score: 415 for a form or text
    upn = _upn_of(await _lookup_body(request))  # a few bytes, held to MAX_LOOKUP_BYTES as it is read
    try:
        # a school's key: the scores at its schools only (serving.school_scope)
        scores = await run_in_threadpool(request.app.state.runs.earlier_scores, upn, before=before,
                                         scope=key.schools)
    except LookupError as exc:
        raise RequestProblem(422, f"before: {exc}.") from None
    request.state.audit.pupils = 1 if scores else 0  # a pupil's data went back only when some was found
    return EarlierScoresResponse(upn=upn, scores=scores)
