"""The authority's linked pupil history, when the service is given the extracts and the links.

With it, a census upload is scored with each pupil's earlier exclusions, social-care episodes and
census rows (features with `needs_history`); without it those features are missing and every
response says which. Loaded once, in the background, like the model.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from exclusion_risk.linkage.history import load_history

log = logging.getLogger("exclusion_risk.serving.history")


class HistoryState:
    def __init__(self, extracts_dir: Path | None, links_dir: Path | None):
        self.extracts_dir = extracts_dir
        self.links_dir = links_dir
        self.history = None
        self.state = "none" if extracts_dir is None or links_dir is None else "loading"

    def load(self) -> None:
        if self.state == "none":
            return
        started = time.perf_counter()
        try:
            # extracts + links.csv -> PupilHistory, names dropped
            self.history = load_history(self.extracts_dir, self.links_dir)
        except Exception as exc:
            self.state = "failed"
            # A reader's message may quote a cell of an extract, so only our own file message is logged.
            reason = str(exc) if isinstance(exc, FileNotFoundError) else "run `exclusion-risk check` on them"
            log.error("linked history could not be loaded (%s): %s", type(exc).__name__, reason)
            return
        self.state = "ready"
        log.info("linked history ready in %.1f s (%d census rows)", time.perf_counter() - started,
                 len(self.history.census))
