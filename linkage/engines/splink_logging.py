"""Splink's log records routed into the run log: one line per warning, its advice noise dropped."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from exclusion_risk.linkage.engines import libraries

log = logging.getLogger(__name__)

_NOT_OBSERVED = re.compile(r"Level (?P<level>.+) on comparison (?P<comparison>\S+) not observed in dataset")
_DEFAULT_MAX_PAIRS_ADVICE = "You are using the default value for `max_pairs`"


class _SplinkLogRouter(logging.Handler):
    """Takes Splink's log records off the console: its warnings go to the run log in one line each.

    Dropped: Splink's advice on the u sample size (`settings.u_sample_pairs` is a deliberate
    choice), and "level not observed" for a comparison this source does not record at all (the
    exclusions extract has no postcode, social care no school: every pair has the null level, so
    those m values cannot be trained and the comparison is neutral for the source). Splink's
    messages name levels, comparisons and SQL, never a record's values.
    """

    def __init__(self, unrecorded: set[str]):
        super().__init__(level=logging.WARNING)
        self.unrecorded = unrecorded

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = " ".join(record.getMessage().replace("WARNING:", " ").split())
        except Exception:  # a malformed record must not stop the run
            return
        if text.startswith(_DEFAULT_MAX_PAIRS_ADVICE):
            return
        hit = _NOT_OBSERVED.search(text)
        if hit and hit["comparison"] in self.unrecorded:
            return
        log.warning("splink: %s", text)


@contextlib.contextmanager
def splink_logging(unrecorded: set[str]) -> Iterator[None]:
    """Route the `splink` logger through _SplinkLogRouter while the block runs, then restore it."""
    libraries.splink().internals.splink_logging.disable()  # Splink's stderr handler, if a linker added one
    logger = logging.getLogger("splink")
    handler = _SplinkLogRouter(unrecorded)
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved
