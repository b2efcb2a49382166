"""The FastAPI application: `create_app(settings)` wires settings, keys, audit, model and routers.

`uvicorn --factory serving.app:create_app` (or `exclusion-risk serve`) builds it from the environment.
The model and the linked history load on a background thread at start-up, so `/health` can say
`loading` meanwhile and turns `ready` only once scoring will work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema

from exclusion_risk import __version__
from exclusion_risk.models import store_files, tracking
from exclusion_risk.models.scoring import CohortScorer
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.serving import answer_format
from exclusion_risk.serving.audit import AuditLog, AuditMiddleware
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.errors import ContainErrors, install_error_handlers
from exclusion_risk.serving.headers import SecurityHeaders
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.serving.jobs import JobSlots
from exclusion_risk.serving.limits import BodyLimit
from exclusion_risk.serving.model_state import ModelState, freeze_long_lived
from exclusion_risk.serving.retention import Retention, announce
from exclusion_risk.serving.routers import admin, explain_file, health, model, runs, score, web
from exclusion_risk.serving.run_history import RunStore
from exclusion_risk.serving.schemas import EarlierScoresRequest, ScoreRequest
from exclusion_risk.serving.security import KeyStore
from exclusion_risk.serving.settings import ServiceSettings, unknown_variable

DESCRIPTION = f"""
Scores pupils' risk of suspension or permanent exclusion on the authority's risk matrix
(likelihood band x need level -> red/amber/green), with the factors behind each score in plain words.

**{DECISION_SUPPORT_NOTICE}**

Every route except `/health` needs an API key in the `X-API-Key` header (`exclusion-risk keys add`).
Scorer keys may score, explain and read the model and matrix; admin keys may also reload the model.
"""


def reopen_store() -> None:
    """Before each load: a store file replaced under the running service (a deploy's `mv`) is read anew,
    and one moved away is StoreUnavailable (a reload's 503, the current model still served), not re-made
    empty (`store_files.store_replaced`)."""
    replaced = store_files.store_replaced(tracking.tracking_uri(create=False))
    if isinstance(replaced, str):
        raise tracking.StoreUnavailable(replaced)
    if replaced:
        tracking.release_store_connections()


def registry_loader(settings: ServiceSettings) -> Callable[[], Any]:
    """Loads the registered version the alias names (or a version number; registry: MLFLOW_TRACKING_URI)
    through CohortScorer."""

    def load() -> Any:
        reopen_store()
        scorer = CohortScorer.load(alias=settings.registry_alias)
        # One throwaway all-missing record builds the single-pupil encoder and touches every lazy
        # import now, so the first real request after `ready` costs what every later one does.
        warm_up = {name: None for name in scorer.feature_names}
        scorer.score_records([{**warm_up, "upn": "warm-up"}], reasons=True)
        return scorer

    return load


def _openapi_with_request_models(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's document plus the request models the JSON routes read themselves (their bodies are
    parsed only after the limits are checked, so FastAPI does not see ScoreRequest as a parameter;
    the routes' `openapi_extra` refers to it by `$ref`)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, summary=app.summary,
                description=app.description, routes=app.routes,
            )  # fmt: skip
            _, extra = models_json_schema(
                [(ScoreRequest, "validation"), (EarlierScoresRequest, "validation")],
                ref_template="#/components/schemas/{model}",
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in extra.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            app.openapi_schema = document
        return app.openapi_schema

    return openapi


def create_app(settings: ServiceSettings | None = None, loader: Callable[[], Any] | None = None) -> FastAPI:
    if settings is None:  # `uvicorn --factory`: the environment's settings, checked as `serve` checks them
        unknown = unknown_variable()
        if unknown is not None:
            raise ValueError(unknown)
        settings = ServiceSettings()
    if loader is None:  # the registry's: a default store that is not there is refused, not made afresh
        tracking.tracking_uri(create=False)  # StoreUnavailable (versions would clash with recorded runs')
    db = Database(settings.database)
    # The registry's model is checked against outcomes by `exclusion-risk evaluate`: /model reads its tag.
    checked = None if loader else tracking.read_last_checked
    model_state = ModelState(loader or registry_loader(settings), checked)
    history_state = HistoryState(settings.extracts_dir, settings.links_dir)

    def load_everything() -> None:
        # The history first, then the model, frozen before it is installed: every route but /health
        # needs the model, so until then nothing is in flight whose objects the freeze would keep.
        history_state.load()
        model_state.load_initial(before_ready=freeze_long_lived)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        threading.Thread(target=load_everything, name="model-loader", daemon=True).start()
        retention = None
        announce(settings.keep_runs_days)
        if settings.keep_runs_days is not None:  # EXCLUSION_RISK_KEEP_RUNS_DAYS (serving/retention.py)
            retention = Retention(app.state.runs, app.state.audit_log, settings.keep_runs_days)
            retention.start()
        yield
        if retention is not None:
            retention.stop()

    app = FastAPI(
        title="exclusion-risk",
        version=__version__,
        summary="Risk of school exclusion, as decision support for inclusion teams.",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs else None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keys = KeyStore(db)
    app.state.audit_log = AuditLog(db)
    app.state.runs = RunStore(db)  # every census scoring, and what changed since the last one
    app.state.model = model_state
    app.state.history = history_state
    app.state.jobs = JobSlots(settings.max_concurrent_jobs)

    install_error_handlers(app)
    routers = (health, model, score, explain_file, runs, admin, web)
    for router in routers:
        app.include_router(router.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.openapi = _openapi_with_request_models(app)

    # Added innermost first: ContainErrors sits inside the audit so a 500 is still audited.
    app.add_middleware(ContainErrors)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["X-API-Key", "Content-Type"],
            # a browser hides other response headers from the allowed origin's script: the notice and
            # the warnings beside a CSV or workbook, its file name, a 503's wait
            expose_headers=[answer_format.NOTICE_HEADER, answer_format.WARNINGS_HEADER,
                            answer_format.DRIFT_HEADER, answer_format.FAIRNESS_HEADER,
                            answer_format.RUN_HEADER, "Content-Disposition", "Retry-After"],
        )
    app.add_middleware(AuditMiddleware, audit_log=app.state.audit_log)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_request_bytes,
        min_bytes_per_s=settings.min_upload_bytes_per_s,
        grace_s=settings.upload_grace_s,
    )
    app.add_middleware(SecurityHeaders)
    return app
