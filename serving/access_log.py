"""The access log never holds a query string: a key sent as `?api_key=erk...` is refused, but uvicorn
would still write the request line, key and all, to its access log (finding 11 of issue #11).

`RedactQueryString` is a logging filter for uvicorn's "uvicorn.access" logger: it keeps the method,
the path, the status and the client, and replaces everything after `?` with a marker. All of the query
is dropped, not just parameters with key-like names, because a key can arrive under any name (or as a
bare `?erk.id.secret`), and no query parameter this service reads is worth keeping in a log.
A path no route of the service answers is logged as UNMATCHED: `GET /nonexistent/H335228712113`
would otherwise put a UPN (or anything a client typed) in the log. `log_config(app)` gives the filter
the app's route paths (`known_paths`: every route's template, and each file the static mount serves);
this service's routes have no path parameters, so a known path is never a client's value.
`log_config()` is uvicorn's own logging configuration with the filter on the access logger and its
handler; `exclusion-risk serve` passes it to uvicorn (run the service that way: `uvicorn --factory`
configures logging itself and would not have the filter).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "?[query redacted]"
UNMATCHED = "<unmatched>"
# uvicorn's access record arguments: (client address, method, path with query, HTTP version, status).
_PATH_ARG = 2


def redact(path: str) -> str:
    """'/score?api_key=erk.x.y' -> '/score?[query redacted]'; a path without a query is unchanged."""
    head, sep, _ = path.partition("?")
    return head + REDACTED if sep else path


def known_paths(app) -> frozenset[str]:
    """Every path the app answers as itself: its routes' paths (none has a parameter), those of the
    routers it includes, and under a mount of static files each file there."""
    return frozenset(_paths(getattr(app, "routes", ()), ""))


def _paths(routes, prefix: str) -> set[str]:
    paths: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.165 wraps included routers
        if included is not None:
            inner = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            paths |= _paths(included.routes, prefix + inner)
            continue
        path = getattr(route, "path", None)
        if path is None or "{" in path:
            continue
        directory = getattr(getattr(route, "app", None), "directory", None)
        if directory is not None:  # StaticFiles: its files, not every path under it
            paths.update(f"{prefix}{path}/{f.relative_to(directory).as_posix()}"
                         for f in Path(directory).rglob("*") if f.is_file())
        else:
            paths.add(prefix + path)
    return paths


class RedactQueryString(logging.Filter):
    """Strips the query string from uvicorn's access-log records, and with `paths` (the app's
    `known_paths`) writes any other path as UNMATCHED; never drops a record."""

    def __init__(self, paths: Iterable[str] | None = None):
        super().__init__()
        self.paths = None if paths is None else frozenset(paths)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG and isinstance(args[_PATH_ARG], str):
            path = redact(args[_PATH_ARG])
            if self.paths is not None and path.partition("?")[0] not in self.paths:
                path = UNMATCHED
            record.args = (*args[:_PATH_ARG], path, *args[_PATH_ARG + 1 :])
        return True


def log_config(app=None) -> dict[str, Any]:
    """uvicorn's default logging configuration with the filter on the access logger and its handler
    (the handler too, so a record reaching it some other way is still redacted); given the app, paths
    it does not answer are logged as UNMATCHED."""
    from uvicorn.config import LOGGING_CONFIG  # uvicorn is loaded by `serve` alone (serving/cli.py)

    config = copy.deepcopy(LOGGING_CONFIG)
    redact_query: dict[str, Any] = {"()": RedactQueryString}
    if app is not None:
        redact_query["paths"] = sorted(known_paths(app))
    config.setdefault("filters", {})["redact_query"] = redact_query
    config["handlers"]["access"]["filters"] = ["redact_query"]
    config["loggers"][ACCESS_LOGGER]["filters"] = ["redact_query"]
    return config
