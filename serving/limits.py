"""Byte and row limits, answered in the service's own JSON error shape before the work they bound.

- **Bytes** (`BodyLimit`): FastAPI's built-in `max_body_size` answers an over-long declared body with
  Starlette's plain-text "Content Too Large", replacing whatever the app said; clients of this API
  always get JSON. A body declared too long is refused before it is read; one that streams past the
  limit (no or a false Content-Length) is cut off where it crosses it.
- **Rows** (`check_row_count`, `too_many_pupils`): the 413 for too many pupils, whoever counted them.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exclusion_risk.serving.errors import RequestProblem


def too_large_message(max_bytes: int) -> str:
    return f"The request body is larger than the limit of {max_bytes:,} bytes."


def check_row_count(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise RequestProblem(
            413, f"{rows:,} pupils in one request; the limit is {max_rows:,}. Split the cohort into parts."
        )


def too_many_pupils(max_rows: int) -> RequestProblem:
    """The 413 for a count that stopped once it passed the limit (so the total is not known)."""
    return RequestProblem(
        413, f"More than {max_rows:,} pupils in one request; the limit is {max_rows:,}. Split the "
        "cohort into parts."
    )


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            body = {"detail": too_large_message(self.max_bytes), "errors": []}
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the app's body read, so the app's RequestProblem handler answers,
                    # in the same shape as the declared-size 413 above ({"detail", "errors": []}).
                    raise RequestProblem(413, too_large_message(self.max_bytes))
            return message

        await self.app(scope, counted, send)
