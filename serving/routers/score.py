"""POST /score, POST /score/file and POST /explain: pupils in, risk-matrix scores and reasons out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from exclusion_risk.models.scoring import ScoringInputError
from exclusion_risk.serving import scoring
from exclusion_risk.serving.deps import ScorerDep, ScorerKey, SettingsDep
from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.schemas import (
    EXAMPLE_CENSUS,
    ErrorResponse,
    ExplainResponse,
    ScoreRequest,
    ScoreResponse,
)

router = APIRouter(tags=["scoring"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No API key, or not a valid one."},
    413: {"model": ErrorResponse, "description": "Too many pupils or too many bytes in one request."},
    422: {"model": ErrorResponse, "description": "Rows or fields that cannot be scored: row, field, reason."},
    503: {"model": ErrorResponse, "description": "The model (or the linked history) is still loading."},
}
CSV_TYPES = ("text/csv", "application/csv", "application/vnd.ms-excel")
INLINE_PUPILS = 8
_EXAMPLE_CSV = ",".join(EXAMPLE_CENSUS) + "\n" + ",".join(str(v) for v in EXAMPLE_CENSUS.values()) + "\n"

Reasons = Annotated[bool, Query(description="Add each pupil's top factors in plain words (slower).")]
SkipInvalid = Annotated[
    bool, Query(description="Census input only: score the valid rows and list the rejected ones.")
]


def _cohort_from_request(body: ScoreRequest, scorer, request: Request, skip_invalid: bool) -> scoring.Cohort:
    """Census rows through the reader and the feature builder (feature records never come here)."""
    data = scoring.census_records_to_csv([r.model_dump(exclude_none=True) for r in body.census])
    clean, rejects = scoring.read_census_bytes(data, "census.json")
    return scoring.census_cohort(
        clean, rejects, request.app.state.history, scorer.feature_names, body.academic_year, skip_invalid
    )


@router.post(
    "/score",
    response_model=ScoreResponse,
    summary="Score one or many pupils given as feature records or census-shaped rows",
    description="Send `pupils` (registry features as known on census day, e.g. from your own pipeline) "
    "or `census` (rows as a school MIS exports them; validated like an upload). One pupil scores in "
    "milliseconds. Results are ranked, highest risk first.",
    responses=_ERRORS,
)
async def score(
    body: ScoreRequest,
    key: ScorerKey,
    scorer: ScorerDep,
    settings: SettingsDep,
    request: Request,
    reasons: Reasons = True,
    skip_invalid: SkipInvalid = False,
) -> Response:
    rows = len(body.pupils) if body.pupils is not None else len(body.census)
    scoring.check_row_count(rows, settings.max_rows)

    def work():
        if body.pupils is not None:
            scores = scoring.score_feature_records(scorer, scoring.feature_records(body.pupils), reasons)
            return scores, {"history": "not needed", "missing_features": [], "rejected": []}
        cohort = _cohort_from_request(body, scorer, request, skip_invalid)
        envelope = {"history": cohort.history, "missing_features": cohort.missing_features,
                    "rejected": cohort.rejected}
        return scoring.score_cohort(scorer, cohort, reasons), envelope

    # A few feature records score in about a millisecond of CPU: on the event loop that beats the
    # hand-off to a worker thread and back. Anything bigger runs off the loop.
    inline = body.pupils is not None and rows <= INLINE_PUPILS
    scores, envelope = work() if inline else await run_in_threadpool(work)
    request.state.audit.pupils = len(scores)
    payload = {"model_version": str(scorer.model_version), "pupils": len(scores), **envelope}
    return Response(scoring.scores_json(payload, scores), media_type="application/json")


@router.post(
    "/score/file",
    summary="Score a cohort: a census CSV as the MIS exports it; CSV or JSON back",
    description="Send the file as `multipart/form-data` (field `file`) or as the raw body with "
    "`Content-Type: text/csv`. Columns and aliases are the data contract's; names and dates of birth are "
    "read for validation and then dropped. The result has the contract's `scores.csv` columns (CSV: the "
    "decision-support notice is the first line, starting `#`). With the service's linked history, "
    "earlier exclusions and social care feed the scores; without it the response lists the features "
    "scored as missing.",
    response_model=ScoreResponse,
    responses={
        **_ERRORS,
        200: {
            "description": "Scores, highest risk first.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
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
        Literal["json", "csv"] | None, Query(description="Default: CSV when Accept asks for text/csv.")
    ] = None,
    skip_invalid: SkipInvalid = False,
    academic_year: Annotated[
        str | None, Query(pattern=r"^\d{4}/\d{2}$", description="Census year to score; default the latest.")
    ] = None,
    reasons: Reasons = True,
) -> Response:
    data, filename = await _upload_bytes(request)
    # Cheap bound before parsing: a line per row (the exact count is checked again after reading).
    scoring.check_row_count(max(data.count(b"\n") - 1, 0), settings.max_rows)

    def work():
        clean, rejects = scoring.read_census_bytes(data, filename)
        scoring.check_row_count(len(clean) + len(rejects), settings.max_rows)
        cohort = scoring.census_cohort(
            clean, rejects, request.app.state.history, scorer.feature_names, academic_year, skip_invalid
        )
        return cohort, scoring.score_cohort(scorer, cohort, reasons)

    cohort, scores = await run_in_threadpool(work)
    request.state.audit.pupils = len(scores)
    wants_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        return Response(
            scoring.scores_csv(scores),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="scores_model_{scorer.model_version}.csv"'
            },
        )
    payload = {
        "model_version": str(scorer.model_version),
        "pupils": len(scores),
        "history": cohort.history,
        "missing_features": cohort.missing_features,
        "rejected": cohort.rejected,
    }
    return Response(scoring.scores_json(payload, scores), media_type="application/json")


async def _upload_bytes(request: Request) -> tuple[bytes, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=8)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            problem = {"row": None, "field": "file", "reason": "a file is required"}
            raise RequestProblem(422, "The upload has no file.", [problem])
        return await upload.read(), upload.filename or "upload.csv"
    if content_type in CSV_TYPES:
        return await request.body(), "upload.csv"
    raise RequestProblem(
        415, "Send the census as multipart/form-data (field `file`) or as a text/csv body."
    )


@router.post(
    "/explain",
    response_model=ExplainResponse,
    summary="Per-pupil factors raising and lowering the risk",
    description="The same input as POST /score. Each pupil's top factors in both directions with their "
    "SHAP contribution on the model's raw scale; protected characteristics are included here, for "
    "review, though `/score`'s reasons leave them out.",
    responses=_ERRORS,
)
def explain(
    body: ScoreRequest,
    key: ScorerKey,
    scorer: ScorerDep,
    settings: SettingsDep,
    request: Request,
    n: Annotated[int, Query(ge=1, le=20, description="Factors per direction.")] = 5,
    skip_invalid: SkipInvalid = False,
) -> ExplainResponse:
    if body.pupils is not None:
        scoring.check_row_count(len(body.pupils), settings.max_rows)
        features = pd.DataFrame.from_records(scoring.feature_records(body.pupils))
        cohort = scoring.Cohort(features, "not needed")
    else:
        scoring.check_row_count(len(body.census), settings.max_rows)
        cohort = _cohort_from_request(body, scorer, request, skip_invalid)
    try:
        explained = scorer.explain(cohort.features, n=n)
    except ScoringInputError as exc:
        raise RequestProblem(422, f"The features cannot be explained: {exc}") from None
    request.state.audit.pupils = len(explained)
    return ExplainResponse(
        model_version=str(scorer.model_version),
        history=cohort.history,
        missing_features=cohort.missing_features,
        pupils=explained,
    )
