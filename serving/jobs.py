"""At most N scoring jobs at once: beyond that a 503 with Retry-After, not a queue of CPU-bound work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from exclusion_risk.serving.errors import RETRY_AFTER_SECONDS, RequestProblem


class JobSlots:
    """At most `size` scoring jobs at once; a request beyond that is refused with 503 + Retry-After.

    A job is everything a large request costs, from reading its bytes (a refused request's body is
    never read): the pre-scan of its rows or records, the parse, the features and the scoring. Used
    only from the event loop (no lock needed); a slot is held until the job's worker thread returns,
    even if the client has gone, so the bound is on work actually running.
    """

    def __init__(self, size: int):
        self.size = size
        self.busy = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.busy >= self.size:
            raise RequestProblem(
                503,
                f"The service is already scoring {self.size} request(s); try again in a few seconds.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1
