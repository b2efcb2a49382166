"""The served model: loaded once in the background at start, swapped whole on reload.

Each request takes the current scorer once (`ModelState.scorer()`), so a reload that lands while a
request is running never changes the model under it: the old scorer lives until its last request
ends. Readiness is explicit: `loading` until the first model is in memory, then `ready`; a failed
first load is `failed` (the reason goes to the server log; no pupil data exists at load time).

`last_checked()` is the served version's latest back-test (`exclusion-risk evaluate` tags the registered
version `last_checked`): read from the registry by the `checked` reader at most once a minute, so an
evaluation run after start-up shows without a reload; without a reader (a stand-in model), whatever the
scorer's info said at load. None: never checked.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("exclusion_risk.serving.model")

Loader = Callable[[], Any]
CheckedReader = Callable[[str], dict[str, Any] | None]  # model version -> its `last_checked` tag
CHECKED_TTL_SECONDS = 60.0


class LastChecked(BaseModel):
    """The served version's latest back-test against realised outcomes (`exclusion-risk evaluate`)."""

    model_config = ConfigDict(extra="allow")

    date: str | None = Field(None, description="When the check was run (YYYY-MM-DD).")
    year: str | None = Field(None, description="The academic year of the scores checked, e.g. 2018/19.")
    census: str | None = Field(
        None, description="The census those scores were made at: autumn, spring, summer."
    )
    precision_at_5pct: float | None = Field(None, description="Share of the top 5% with the outcome.")
    ci_low: float | None = None
    ci_high: float | None = None
    out_of_sample: bool | None = Field(
        None,
        description="False: the scored year is at or before the model's test year, so its outcomes were used "
        "to fit or test the model (an in-sample check, never judged: consistent_with_stated is null).",
    )
    consistent_with_stated: bool | None = Field(
        None,
        description="Whether it is consistent with the model's stated test-year precision: the difference "
        "is within 1.96 standard errors of the two estimates together (False: significantly below or above; "
        "null: not compared, e.g. an in-sample check).",
    )
    verdict: str | None = Field(None, description="That judgement in words.")


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
    def __init__(self, loader: Loader, checked: CheckedReader | None = None):
        self._loader = loader
        self._checked = checked
        self._checked_cache: tuple[str, float, dict[str, Any] | None] | None = None  # version, when, tag
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
        log.info("model version %s ready in %.1f s", self.version, self.load_seconds)

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

    def last_checked(self) -> dict[str, Any] | None:
        """The served version's latest back-test (see the module docstring); None when never checked."""
        scorer = self._scorer
        if scorer is None:
            return None
        info = getattr(scorer, "info", None)  # a stand-in model may say nothing about itself
        at_load = ((info() if info is not None else None) or {}).get("last_checked")
        if self._checked is None:
            return at_load
        version, now, cached = str(scorer.model_version), time.monotonic(), self._checked_cache
        if cached is not None and cached[0] == version and now - cached[1] < CHECKED_TTL_SECONDS:
            return cached[2]
        try:
            found = self._checked(version)
        except Exception as exc:  # the registry is down: say what was known, and log why
            log.warning("reading model version %s's last check failed: %s", version, type(exc).__name__)
            found = cached[2] if cached is not None and cached[0] == version else at_load
        self._checked_cache = (version, now, found)
        return found
