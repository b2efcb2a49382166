"""Every error a client sees: a JSON body with `detail`, never a stack trace or a pupil's data.

- Request validation (422): one entry per problem with `row` (1-based pupil/CSV row, when there is
  one), `field` and `reason`. The offending *value* is never echoed: it may be a UPN or a name.
- HTTPException (Starlette's, so the body limit's 413 mid-stream is included): its status and message,
  with `errors` empty, as every error body has it.
- A client gone mid-request (`ClientDisconnect`, a cancelled upload): no error logged, and the audit
  log records CLIENT_CLOSED (499, nginx's "client closed request"), not a 500.
- The service's SQLite file write-locked past its busy timeout (another process writing: `runs delete`,
  a backup): 503 with Retry-After, as a busy job slot is answered, not a 500.
- Anything else: caught by `ContainErrors` (inside Starlette's ServerErrorMiddleware, which would
  otherwise re-raise and let the server print the exception's message) and answered with a 500 and
  a reference; the log gets the exception type and the frames, not the message, which could quote data.
"""

from __future__ import annotations

import logging
import sqlite3
import traceback
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("exclusion_risk.serving.errors")

_BODY_CONTAINERS = ("body", "query", "header", "path", "cookie")
CLIENT_CLOSED = 499  # the status audited for a request whose client went away before the answer
RETRY_AFTER_SECONDS = 5  # a busy service's answer: the job slots' and a write-locked database's
DATABASE_BUSY = "The service's database is busy; try again shortly."


def database_busy(exc: BaseException) -> bool:
    """SQLite's 'database is locked' (or 'busy'): another connection held the write lock past the wait."""
    return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc) for w in ("locked", "busy"))


class RequestProblem(Exception):
    """A 4xx about the request's content, with problems shaped like validation errors."""

    def __init__(
        self,
        status_code: int,
        message: str,
        problems: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.problems = problems or []
        self.headers = headers


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


# pydantic's wording for the commonest problems, in the service's own words; its other messages name
# the expected type or values and never the input (`input` is never read here).
_REASONS = {
    "missing": "required",
    "extra_forbidden": "not a field of this request",
    "json_invalid": "not valid JSON",
    "model_attributes_type": "expected a JSON object",
    "dict_type": "expected a JSON object",
    "list_type": "expected a list",
    "too_short": "must not be empty",
    "string_type": "expected text",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "int_parsing": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
}


def _reason(error: dict) -> str:
    kind = str(error.get("type", ""))
    if kind in _REASONS:
        return _REASONS[kind]
    message = str(error.get("msg", "invalid"))
    # Our own validators' messages (schemas.py), without pydantic's prefix.
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


# Errors whose location ends in a key the client chose (a field we do not know, a dict's key): that
# key could be anything, a UPN included, so it is never echoed.
_CLIENT_KEY_ERRORS = {"extra_forbidden"}
UNKNOWN_FIELD = "(unknown field)"


def _location(err: dict) -> tuple:
    loc = tuple(err.get("loc", ()))
    if err.get("type") in _CLIENT_KEY_ERRORS and loc:
        return (*loc[:-1], UNKNOWN_FIELD)
    # pydantic marks a dict's key (as opposed to its value) with "[key]" after it in the location.
    return tuple(UNKNOWN_FIELD if i + 1 < len(loc) and loc[i + 1] == "[key]" else part
                 for i, part in enumerate(loc) if part != "[key]")


def pydantic_problems(errors: list[dict], prefix: tuple = ()) -> list[dict]:
    """pydantic errors as (row, field, reason); `prefix` is put before each location ("body",)."""
    return [_field_error((*prefix, *_location(err)), _reason(err)) for err in errors]


def validation_problems(exc: RequestValidationError) -> list[dict]:
    return pydantic_problems(list(exc.errors()))


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
            status_code=exc.status_code,
            content={"detail": exc.message, "errors": exc.problems},
            headers=exc.headers,
        )

    @app.exception_handler(HTTPException)
    async def on_http_exception(request: Request, exc: HTTPException) -> JSONResponse:
        # the one shape of every error (ErrorResponse): a 401, 404, 405 or 429 had no `errors` (an
        # integrator's script reading errors by field failed on them)
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail, "errors": []},
                            headers=exc.headers)  # fmt: skip


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
        except ClientDisconnect:
            log.info("client went away during %s", scope.get("path"))
            if not started:  # nobody reads it (the server drops it); the audit records the status
                await JSONResponse({"detail": "The client closed the request.", "errors": []}, CLIENT_CLOSED)(
                    scope, receive, send)
        except Exception as exc:
            if database_busy(exc) and not started:
                log.warning("the service's database was write-locked past the wait on %s: answered 503",
                            scope.get("path"))  # fmt: skip
                await JSONResponse({"detail": DATABASE_BUSY, "errors": []}, 503,
                                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})(scope, receive, send)
                return
            reference = uuid.uuid4().hex[:12]
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unhandled %s (reference %s) on %s\n%s", type(exc).__name__, reference,
                      scope.get("path"), frames)
            if started:  # the response is already under way; nothing more can be said to the client
                return
            response = JSONResponse(
                status_code=500,
                content={"detail": f"Internal error; quote reference {reference} to the service owner.",
                         "errors": []},
            )
            await response(scope, receive, send)
