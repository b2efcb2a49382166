"""The authority's linked pupil history, when the service is given the extracts and the links.

With it, a census upload is scored with each pupil's earlier exclusions, social-care episodes and
census rows (features with `needs_history`). Without it those features would be scored as missing and
risk understated, so census scoring is refused (`refusal`); feature records need no history. Loaded
once, in the background, like the model. `summary()` is what `/health` and `/model` say about it.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.features.build import year_numbers
from exclusion_risk.features.extract_reach import exclusion_starts
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.history import load_linked
from exclusion_risk.linkage.outputs import read_report
from exclusion_risk.models.drift_data import context_of
from exclusion_risk.models.score_notes import rejected_counts, rejected_listing, unlinked_status_episodes
from exclusion_risk.values import counted

log = logging.getLogger("exclusion_risk.serving.history")

CONFIGURE = (
    "Set EXCLUSION_RISK_DATA_DIR to the authority's extracts folder (its `exclusion-risk link` output in "
    "the `linkage` folder beside it, or EXCLUSION_RISK_LINKS_DIR) and restart the service; `make demo` "
    "writes data/demo/extracts and data/demo/linkage, which `serve` uses when started from the repo root."
)


def folder_label(path: Path | None) -> str | None:
    """A folder as its parent's and its own name ("demo/extracts"): which authority, never a full path
    (an absolute path can name a person's home folder or the server's layout)."""
    if path is None:
        return None
    # abspath, not resolve: the folder as configured (a symlinked extracts folder keeps its own name).
    return "/".join(Path(os.path.abspath(path)).parts[-2:])


def link_rates(links_dir: Path | None) -> dict[str, float]:
    """Each source's link rate from the linkage run's report.json; empty when there is none (links
    written another way), since the rates are information, not something scoring needs."""
    try:
        return {name: float(source["link_rate"]) for name, source in read_report(links_dir)["sources"].items()
                if source.get("link_rate") is not None}
    except (TypeError, ValueError, KeyError, AttributeError):  # no report (None), or not this shape
        return {}


def links_label(links_dir: Path) -> str:
    """links.csv as the service's words name it: by its folder's last two names (`folder_label`)."""
    return f"{folder_label(links_dir)}/{LINKS_FILE}"


def history_notes(linked, extracts_dir: Path) -> list[str]:
    """What the person scoring a census must know of the history it is scored with, said in each census
    scoring's warnings (only the server's log said it): what links.csv does not match in the extracts
    (records added since the link run, links naming records or pupils the extracts lack) and rows the
    extracts' read rejected, each missing from its pupil's history. Folders by `folder_label`, never a
    full path; a count under 10 reads "fewer than 10" (the service's answers get passed on)."""
    notes = [f"The linked history: {warning}." for warning in linked.warnings]  # load_linked's, published
    rejected = rejected_counts(linked.extracts)  # as `score` counts them, a count under 10 not given
    if rejected:
        notes.append(
            f"The linked history: rows were rejected as the authority's extracts "
            f"({folder_label(extracts_dir)}) were read: {rejected_listing(rejected, exact=False)}. Each is "
            "missing from its pupil's history (an exclusion, social-care episode, attendance or earlier "
            "census row), so that pupil's risk may be understated; the authority's analyst lists them with "
            "`exclusion-risk check` and can correct them at source."
        )
    return notes


def date_differs_lines(upns: frozenset[str]) -> list[str]:
    """The pupils scored without the history because their date of birth is not one it holds for the
    pupil their UPN names (`features.census_upload.CensusFeatures.date_differs`), counted, never named."""
    n = len(upns)
    if not n:
        return []
    one = n == 1
    return [
        f"{counted(n, 'pupil')} {'has' if one else 'have'} a date of birth that the linked history does not "
        f"hold for the pupil {'its' if one else 'their'} UPN names, so {'is' if one else 'are'} scored "
        "without that history (earlier exclusions, social care, free school meals and school moves): the UPN "
        "may be mistyped and another child's. The score and the need level cannot take that history into "
        "account and may be understated; the reasons give what it would tell as not known, never as none. "
        "Check each UPN and date of birth against the school's records; a date of birth corrected at source "
        "agrees once the authority's extracts hold it and the service is restarted."
    ]


class HistoryState:
    def __init__(self, extracts_dir: Path | None, links_dir: Path | None):
        self.extracts_dir = extracts_dir
        self.links_dir = links_dir
        self.history = None  # sets newest_year (the property below)
        self.state = "none" if extracts_dir is None or links_dir is None else "loading"
        self.facts: dict[str, Any] = {}
        self.drift_context = None  # for the drift check of each census scoring (models.drift_data)
        self.notes: list[str] = []  # what every census scoring says of the history (`history_notes`)
        # looked-after and protection-plan episodes of children linked to no pupil: each census upload's
        # warnings count those open on its census day (models.score_notes.unlinked_status_lines)
        self.unlinked_care = pd.DataFrame()

    @property
    def history(self):
        return self._history

    @history.setter
    def history(self, value) -> None:
        """The loaded history, and its newest census year taken once with it (`newest_census_year`),
        which `year_not_reached` reads on each census scoring instead of scanning the census rows; so are
        its exclusions' start dates, for `features.extract_reach.exclusions_not_reached`."""
        self._history = value
        self.newest_year = newest_census_year(value)
        self.exclusion_starts = exclusion_starts(value)

    def load(self) -> None:
        if self.state == "none":
            log.warning("no linked history configured: census scoring is refused. %s", CONFIGURE)
            return
        started = time.perf_counter()
        log.info("loading linked history: extracts %s, links %s",
                 folder_label(self.extracts_dir), folder_label(self.links_dir))
        try:
            # extracts + links.csv -> PupilHistory, names dropped
            # links.csv named by its folder, never a full path; counts under 10 withheld (passed on)
            linked = load_linked(self.extracts_dir, self.links_dir, links_label=links_label(self.links_dir),
                                 published=True)  # fmt: skip
            self.history = linked.history
            self.drift_context = context_of(linked)  # link and exclusion rates per year (aggregates)
        except Exception as exc:
            self.state = "failed"
            # A reader's message may quote a cell of an extract, so only our own file messages are logged
            # (an ExtractError names the file, row and column, never a value).
            ours = isinstance(exc, (FileNotFoundError, ExtractError))
            reason = str(exc) if ours else "run `exclusion-risk check` on them"
            log.error("linked history could not be loaded (%s): %s", type(exc).__name__, reason)
            return
        for warning in linked.warnings:  # counts only: what links.csv does not match in the extracts
            log.warning("linked history: %s", warning)
        self.notes = history_notes(linked, self.extracts_dir)
        self.unlinked_care = unlinked_status_episodes(linked.extracts, linked.links)
        self.facts = self._facts()
        self.state = "ready"
        log.info("linked history ready in %.1f s (%d census rows, %d pupils, census %s)",
                 time.perf_counter() - started, self.facts["census_rows"], self.facts["pupils"],
                 self.facts["census_years"])

    def _facts(self) -> dict[str, Any]:
        census = self.history.census
        years = []
        if "AcademicYear" in census.columns:
            years = sorted(census["AcademicYear"].dropna().astype(str).unique())
        return {
            "census_rows": len(census),
            "pupils": int(census["UPN"].nunique()),
            "census_years": f"{years[0]} to {years[-1]}" if years else None,
            "exclusion_rows": len(self.history.exclusions),
            "social_care_rows": len(self.history.social_care),
            "link_rates": link_rates(self.links_dir),
        }

    def summary(self) -> dict[str, Any]:
        """Which history is loaded, for /health and /model: folder names, counts, link rates, state."""
        detail = {
            "none": "No linked history is configured, so census scoring is refused. " + CONFIGURE,
            "loading": "The linked history is loading.",
            "failed": "The linked history could not be loaded (the reason is in the server log), so census "
            "scoring is refused.",
            "ready": "Census uploads are scored with each pupil's linked history.",
        }[self.state]
        return {"state": self.state, "extracts": folder_label(self.extracts_dir),
                "links": folder_label(self.links_dir), **self.facts, "detail": detail}

    def refusal(self) -> tuple[str, dict[str, str]] | None:
        """Why census rows cannot be scored now (message, headers), or None when they can."""
        if self.state == "loading":
            return ("The linked pupil history is not available yet; census rows cannot be scored with it.",
                    {"Retry-After": "5"})
        if self.state in ("none", "failed"):
            why = "is not configured" if self.state == "none" else "could not be loaded (see the server log)"
            return (f"Census rows are not scored: the service's linked pupil history {why}, and without it "
                    "earlier exclusions and social care would be scored as missing, understating risk. "
                    f"{CONFIGURE} Feature records (POST /score with `pupils`) can still be scored.", {})
        return None


def newest_census_year(history) -> int | None:
    """The start year of `history`'s newest census row; None without a history or any year."""
    census = getattr(history, "census", None)
    if census is None or "AcademicYear" not in census.columns:
        return None
    held = year_numbers(pd.Series(pd.unique(census["AcademicYear"].dropna()), dtype="object")).dropna()
    return None if held.empty else int(held.max())


def year_not_reached(newest: int | None, first_year: int) -> tuple[str, str] | None:
    """Why a history whose newest census starts in `newest` (`HistoryState.newest_year`) cannot score
    the year starting `first_year`, as (message, short reason), or None when it can: it cannot when its
    newest census is older than the year before, whose attendance, exclusions and social care the
    features read as "last year". Scored anyway, every pupil would have none of them, and risk would be
    understated without a word (a 2025/26 upload against a history to 2018/19: red from 147 pupils to
    120). `newest` None (no history, which `refusal` speaks for, or no year in it): None."""
    if newest is None or newest >= first_year - 1:
        return None
    newest_name, needed = calendar.format_year(newest), calendar.format_year(first_year - 1)
    message = (
        f"Census rows for {calendar.format_year(first_year)} are not scored: the service's linked pupil "
        f"history holds census years up to {newest_name}, and the scores read each pupil's {needed} records "
        "(last year's attendance, exclusions and social care), which would be scored as missing, "
        f"understating risk. Link the authority's extracts through {needed} and restart the service, or "
        "score a year the history reaches."
    )
    return message, f"the linked history's newest census is {newest_name}; {needed} is needed"
