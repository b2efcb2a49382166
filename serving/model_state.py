"""The served model: loaded once in the background at start, swapped whole on reload.

Each request takes the current scorer once (`ModelState.scorer()`), so a reload that lands while a
request is running never changes the model under it: the old scorer lives until its last request
ends. Readiness is explicit: `loading` until the first model is in memory, then `ready`; a failed
first load is `failed` (the reason goes to the server log; no pupil data exists at load time).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, status

log = logging.getLogger("exclusion_risk.serving.model")

Loader = Callable[[], Any]


def freeze_long_lived() -> None:
    """Move what is alive now (the model, the history, the libraries) out of the collector's reach.

    A full collection during a large request then scans only that request's objects, not millions of
    long-lived ones with the GIL held (a pause /health would wait on). Called once, at start-up, just
    before the model is installed: until then every route but /health answers 503 (they all need the
    model), so no request's objects are frozen with it (frozen cycles would never be freed). Never on
    reload: unfreezing and collecting there is a full collection with the GIL held during traffic, and
    freezing then would also freeze the requests in flight.
    """
    gc.collect()
    gc.freeze()


class ModelNotReady(HTTPException):
    def __init__(self, state: str):
        detail = {
            "loading": "The model is still loading; try again shortly.",
            "failed": "The model could not be loaded; see the server log and GET /health.",
        }.get(state, "The model is not available.")
        super().__init__(status.HTTP_503_SERVICE_UNAVAILABLE, detail=detail, headers={"Retry-After": "5"})


class ModelState:
    def __init__(self, loader: Loader):
        self._loader = loader
        self._scorer: Any = None
        self.state = "loading"
        self.error: str | None = None
        self.load_seconds: float | None = None
        self._reload_lock = threading.Lock()

    def load_initial(self, before_ready: Callable[[], None] | None = None) -> None:
        """Runs on a background thread at start so /health can answer `loading` meanwhile.

        `before_ready` runs once the model is loaded and before it is installed, while nothing but
        /health can be in flight (the app freezes the long-lived objects there).
        """
        started = time.perf_counter()
        try:
            scorer = self._loader()
        except Exception as exc:  # reported through /health; the message is ours, not pupil data
            self.state = "failed"
            self.error = f"{type(exc).__name__}: {exc}"
            # Logged for the operator; /health only says `failed` (no internals to anonymous callers).
            log.error("model load failed: %s", self.error)
            return
        if before_ready is not None:
            before_ready()
        self._install(scorer, time.perf_counter() - started)
        log.info("model version %s ready in %.1f s", scorer.model_version, self.load_seconds)

    def reload(self) -> tuple[str | None, str]:
        """Load the alias again and swap it in; (previous version, new version). Blocks other reloads.

        The old scorer is simply dropped: a CohortScorer holds no reference cycles (checked: with the
        collector disabled, a loaded and warmed-up scorer is freed the moment its last reference goes),
        so it is freed by reference counting when its last request ends, with no collection. The new
        one is not frozen (see `freeze_long_lived`); should a future scorer hold cycles, they would be
        freed by the collector's ordinary full collections.
        """
        if not self._reload_lock.acquire(blocking=False):
            raise HTTPException(status.HTTP_409_CONFLICT, detail="A reload is already running.")
        try:
            previous = None if self._scorer is None else str(self._scorer.model_version)
            started = time.perf_counter()
            try:
                scorer = self._loader()
            except Exception as exc:  # the served model stays as it was
                log.error("model reload failed: %s: %s", type(exc).__name__, exc)
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    detail=f"The registry gave no loadable model ({type(exc).__name__}); "
                    "the current model is still served.",
                ) from exc
            self._install(scorer, time.perf_counter() - started)
            log.info("model reloaded: version %s -> %s", previous, scorer.model_version)
            return previous, str(scorer.model_version)
        finally:
            self._reload_lock.release()

    def _install(self, scorer: Any, seconds: float) -> None:
        # One reference assignment: atomic under the GIL, so readers see the old or the new scorer.
        self._scorer = scorer
        self.load_seconds = seconds
        self.state = "ready"
        self.error = None

    @property
    def version(self) -> str | None:
        scorer = self._scorer
        return None if scorer is None else str(scorer.model_version)

    def scorer(self) -> Any:
        scorer = self._scorer
        if scorer is None:
            raise ModelNotReady(self.state)
        return scorer
