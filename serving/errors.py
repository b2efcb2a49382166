"""Every error a client sees: a JSON body with `detail`, never a stack trace or a pupil's data.

- Request validation (422): one entry per problem with `row` (1-based pupil/CSV row, when there is
  one), `field` and `reason`. The offending *value* is never echoed: it may be a UPN or a name.
- HTTPException (Starlette's, so the body limit's 413 mid-stream is included): its status and message.
- Anything else: caught by `ContainErrors` (inside Starlette's ServerErrorMiddleware, which would
  otherwise re-raise and let the server print the exception's message) and answered with a 500 and
  a reference; the log gets the exception type and the frames, not the message, which could quote data.
"""

from __future__ import annotations

import logging
import traceback
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("exclusion_risk.serving.errors")

_BODY_CONTAINERS = ("body", "query", "header", "path", "cookie")


class RequestProblem(Exception):
    """A 4xx about the request's content, with problems shaped like validation errors."""

    def __init__(self, status_code: int, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.problems = problems or []


def _field_error(loc: tuple, msg: str) -> dict:
    """('body', 'pupils', 2, 'nc_year') -> row 3, field 'nc_year'; list indexes are 0-based in JSON."""
    parts = list(loc)
    if parts and parts[0] in _BODY_CONTAINERS:
        parts = parts[1:]
    row = None
    for i, part in enumerate(parts):
        if isinstance(part, int) and i > 0:  # the first index inside a list is the pupil's row
            row, parts = part + 1, parts[i + 1 :]
            break
    names = [str(p) for p in parts if isinstance(p, str)]
    field = ".".join(names) or (str(loc[0]) if loc else "body")
    return {"row": row, "field": field, "reason": msg}


def validation_problems(exc: RequestValidationError) -> list[dict]:
    return [_field_error(tuple(err.get("loc", ())), str(err.get("msg", "invalid"))) for err in exc.errors()]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={"detail": "The request is not valid.", "errors": validation_problems(exc)},
        )

    @app.exception_handler(RequestProblem)
    async def on_request_problem(request: Request, exc: RequestProblem) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code, content={"detail": exc.message, "errors": exc.problems}
        )

    @app.exception_handler(HTTPException)
    async def on_http_exception(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)


class ContainErrors:
    """Turns an unexpected exception into a 500 with a reference, logging no exception message."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            reference = uuid.uuid4().hex[:12]
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unhandled %s (reference %s) on %s\n%s", type(exc).__name__, reference,
                      scope.get("path"), frames)
            if started:  # the response is already under way; nothing more can be said to the client
                return
            response = JSONResponse(
                status_code=500,
                content={"detail": f"Internal error; quote reference {reference} to the service owner."},
            )
            await response(scope, receive, send)
