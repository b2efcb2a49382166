"""GET /health: liveness and readiness in one, open to all (load balancers carry no key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from exclusion_risk.serving.schemas import HealthResponse

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Is the service up, and is the model loaded?",
    description="200 with `status: ready` once the model (and the linked history, when configured) is in "
    "memory; 503 with `loading` while they load at start, or `failed` if one could not be loaded (the "
    "reason is in the server log). `history_info` says which linked history census uploads are scored "
    "with (folder names, census rows and years, pupils, link rates); with none (`history: none`) the service "
    "is ready for feature records but refuses census scoring.",
    responses={503: {"model": HealthResponse, "description": "Up, but not ready to score."}},
)
async def health(request: Request) -> JSONResponse:
    model, history = request.app.state.model, request.app.state.history
    states = {model.state, history.state}
    status = "failed" if "failed" in states else "loading" if "loading" in states else "ready"
    body = HealthResponse(status=status, model_version=model.version, history=history.state,
                          history_info=history.summary())
    return JSONResponse(body.model_dump(), status_code=200 if status == "ready" else 503)
