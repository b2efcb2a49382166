"""GET /health: liveness and readiness in one, open to all (load balancers carry no key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from serving.schemas import HealthResponse

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Is the service up, and is the model loaded?",
    description="200 with `status: ready` once the champion model is in memory; 503 with `loading` "
    "while it loads at start, or `failed` if it could not be loaded (the reason is in the server log).",
    responses={503: {"model": HealthResponse, "description": "Up, but not ready to score."}},
)
async def health(request: Request) -> JSONResponse:
    model = request.app.state.model
    scorer = model._scorer if model.state == "ready" else None
    body = HealthResponse(
        status=model.state,
        model_version=None if scorer is None else str(scorer.model_version),
        history=request.app.state.history.state,
    )
    return JSONResponse(body.model_dump(), status_code=200 if model.state == "ready" else 503)
