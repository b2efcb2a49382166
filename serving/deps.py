"""Request dependencies, named as the routers use them (FastAPI's Annotated-dependency style).

They are `async def` although they never await: FastAPI runs a plain `def` dependency on the thread
pool, and two thread hops would cost a single-pupil request more than looking these up.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from exclusion_risk.serving.security import Principal, require_admin, require_scorer
from exclusion_risk.serving.settings import ServiceSettings


async def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


async def get_scorer(request: Request) -> Any:
    """The scorer for this whole request (a reload mid-request does not change it); 503 until loaded."""
    scorer = request.app.state.model.scorer()
    request.state.audit.model_version = str(scorer.model_version)
    return scorer


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
ScorerDep = Annotated[Any, Depends(get_scorer)]
ScorerKey = Annotated[Principal, Depends(require_scorer)]
AdminKey = Annotated[Principal, Depends(require_admin)]
