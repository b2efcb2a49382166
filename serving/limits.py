"""Byte and row limits, answered in the service's own JSON error shape before the work they bound.

- **Bytes** (`BodyLimit`): FastAPI's built-in `max_body_size` answers an over-long declared body with
  Starlette's plain-text "Content Too Large", replacing whatever the app said; clients of this API
  always get JSON. A body declared too long is refused before it is read; one that streams past the
  limit (no or a false Content-Length) is cut off where it crosses it.
- **Upload rate** (`BodyLimit`'s floor): a scoring takes its job slot before its body is read (so that
  a refused request holds no bytes), so a client that sends its census a line a second held a slot for
  as long as it liked: two such uploads held both default slots for about 40 s while every other census
  scoring was refused 503. After a grace period a body must keep arriving at a minimum average rate, or
  it is cut off with 408 (and its connection closed) and its slot freed; a body that stops coming for
  the grace period is cut off too, however fast it came before (a burst of 64 MB first would otherwise
  have bought an hour's silence at the average rate).
- **Rows** (`check_row_count`, `too_many_pupils`): the 413 for too many pupils, whoever counted them.
"""

from __future__ import annotations

import asyncio
import time

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


def too_slow_message(min_bytes_per_s: int, grace_s: float) -> str:
    rate = (f"{min_bytes_per_s / 1024:,.0f} KB" if min_bytes_per_s >= 1024 else f"{min_bytes_per_s:,} bytes")
    return (
        f"The upload arrived too slowly (under {rate} a second after the first {grace_s:g} s, or nothing "
        f"for {grace_s:g} s), so the service stopped waiting for it. Send it again over a faster "
        "connection, or in smaller parts."
    )


class BodyLimit:
    """`max_bytes` on every body; with `min_bytes_per_s`, a body still arriving after `grace_s` must have
    come at that average rate at least (its deadline: grace_s + bytes so far / min_bytes_per_s from its
    first read), and no wait for its next part may pass `grace_s`. Only the body is timed: what the app
    awaits from `receive` once the body is complete or the client gone (its disconnect, while a long
    scoring runs) passes through untimed."""

    def __init__(self, app: ASGIApp, max_bytes: int, min_bytes_per_s: int = 0, grace_s: float = 15.0):
        self.app = app
        self.max_bytes = max_bytes
        self.min_bytes_per_s = min_bytes_per_s
        self.grace_s = grace_s

    async def _received_in_time(self, receive: Receive, started: float, seen: int) -> Message:
        deadline = started + self.grace_s + seen / self.min_bytes_per_s
        # A part already received is taken even where the deadline has passed (a timeout of 0 would
        # cancel the read before it looked): the server was slow then, not the client.
        wait = max(min(deadline - time.monotonic(), self.grace_s), 0.001)
        try:
            return await asyncio.wait_for(receive(), timeout=wait)
        except TimeoutError:
            # Raised inside the app's body read, answered by its RequestProblem handler (as the 413 is);
            # the connection is closed after the answer, so a client still sending does not keep it.
            message = too_slow_message(self.min_bytes_per_s, self.grace_s)
            raise RequestProblem(408, message, headers={"Connection": "close"}) from None

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
        started: float | None = None  # the body's first read
        body_done = False

        async def counted() -> Message:
            nonlocal seen, started, body_done
            if body_done or not self.min_bytes_per_s:
                message = await receive()
            else:
                started = time.monotonic() if started is None else started
                message = await self._received_in_time(receive, started, seen)
            body_done = body_done or message["type"] == "http.disconnect"
            if message["type"] == "http.request":
                body_done = not message.get("more_body", False)
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the app's body read, so the app's RequestProblem handler answers,
                    # in the same shape as the declared-size 413 above ({"detail", "errors": []}).
                    raise RequestProblem(413, too_large_message(self.max_bytes))
            return message

        await self.app(scope, counted, send)
