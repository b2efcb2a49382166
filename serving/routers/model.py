"""GET /model and GET /risk-matrix: what is being served, and how scores are placed on the matrix."""

from __future__ import annotations

from fastapi import APIRouter, Request

from exclusion_risk.serving.deps import ScorerDep, ScorerKey
from exclusion_risk.serving.model_schemas import ModelInfo, RiskMatrixResponse
from exclusion_risk.serving.schemas import AUTH_ERRORS, ErrorResponse

router = APIRouter(tags=["model"])

_ERRORS = {
    **AUTH_ERRORS,
    503: {"model": ErrorResponse, "description": "The model is still loading."},
}


@router.get(
    "/model",
    response_model=ModelInfo,
    summary="The served model: name, version, alias, training period, headline metrics; the linked history",
    responses=_ERRORS,
)
def model_info(_key: ScorerKey, scorer: ScorerDep, request: Request) -> ModelInfo:
    # The history travels with the model's facts: the page shows both on sign-in.
    # "Last checked" is read from the registry (at most once a minute), so a later `evaluate` shows.
    return ModelInfo.model_validate({**scorer.info(), "last_checked": request.app.state.model.last_checked(),
                                     "history": request.app.state.history.summary()})  # fmt: skip


@router.get(
    "/risk-matrix",
    response_model=RiskMatrixResponse,
    summary="The risk matrix: likelihood bands x need levels -> RAG rating and response tier",
    responses=_ERRORS,
)
def risk_matrix(_key: ScorerKey, scorer: ScorerDep) -> RiskMatrixResponse:
    return RiskMatrixResponse.model_validate(scorer.risk_matrix)
