"""The access log never holds a query string: a key sent as `?api_key=erk...` is refused, but uvicorn
would still write the request line, key and all, to its access log (finding 11 of issue #11).

`RedactQueryString` is a logging filter for uvicorn's "uvicorn.access" logger: it keeps the method,
the path, the status and the client, and replaces everything after `?` with a marker. All of the query
is dropped, not just parameters with key-like names, because a key can arrive under any name (or as a
bare `?erk.id.secret`), and no query parameter this service reads is worth keeping in a log.
`log_config()` is uvicorn's own logging configuration with the filter on the access logger and its
handler; `exclusion-risk serve` passes it to uvicorn (run the service that way: `uvicorn --factory`
configures logging itself and would not have the filter).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "?[query redacted]"
# uvicorn's access record arguments: (client address, method, path with query, HTTP version, status).
_PATH_ARG = 2


def redact(path: str) -> str:
    """'/score?api_key=erk.x.y' -> '/score?[query redacted]'; a path without a query is unchanged."""
    head, sep, _ = path.partition("?")
    return head + REDACTED if sep else path


class RedactQueryString(logging.Filter):
    """Strips the query string from uvicorn's access-log records; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG and isinstance(args[_PATH_ARG], str):
            record.args = (*args[:_PATH_ARG], redact(args[_PATH_ARG]), *args[_PATH_ARG + 1 :])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with the filter on the access logger and its handler
    (the handler too, so a record reaching it some other way is still redacted)."""
    from uvicorn.config import LOGGING_CONFIG  # uvicorn is loaded by `serve` alone (serving/cli.py)

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": RedactQueryString}
    config["handlers"]["access"]["filters"] = ["redact_query"]
    config["loggers"][ACCESS_LOGGER]["filters"] = ["redact_query"]
    return config
