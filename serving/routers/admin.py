"""POST /admin/reload: swap in the model now holding the alias, without dropping requests in flight."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from exclusion_risk.serving.deps import AdminKey
from exclusion_risk.serving.schemas import AUTH_ERRORS, ErrorResponse, ReloadResponse

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/reload",
    response_model=ReloadResponse,
    summary="Load the model the registry alias points to now, and serve it",
    description="Loading happens beside the running model; requests already running finish on the model "
    "they started with, and later requests get the new one. Admin keys only.",
    responses={
        **AUTH_ERRORS,
        403: {"model": ErrorResponse, "description": "The key is not an admin key."},
        409: {"model": ErrorResponse, "description": "A reload is already running."},
        503: {"model": ErrorResponse, "description": "The registry could not give a model."},
    },
)
async def reload_model(key: AdminKey, request: Request) -> ReloadResponse:
    model = request.app.state.model
    # Off the event loop: loading takes seconds and every other request must keep being served.
    previous, version = await run_in_threadpool(model.reload)
    request.state.audit.model_version = version
    return ReloadResponse(previous_version=previous, model_version=version, load_seconds=model.load_seconds)
