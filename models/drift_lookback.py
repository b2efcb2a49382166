"""Drift's look-back: history features whose reference years saw fewer earlier years than the checked year.

A feature counted over earlier years (school moves and suspensions before last year, earlier permanent
exclusions and their reasons, ever a child in need, FSM in the last six years, the school's earlier
rates) counts only what the extracts hold. Where the extracts start shortly before the reference years,
those years look back over fewer earlier years than a later cohort does, so the share of pupils above
zero rises as the history lengthens although the children have not changed (demo authority, extracts
from 2015/16: suspensions before last year 1.1% of pupils in 2016/17 + 2017/18, 3.3% in 2018/19), and
the model has learned from shorter histories than it now scores. `lengthened` finds those features and
`notes` says so in words.

Each source's first year is read from the data (`first_years`), never assumed: the census's first
academic year; the exclusions' first by StartDate; social care's first year with an episode that ended
in it (an extract of episodes open in a window also holds older episodes still open at its start, whose
StartDate is years earlier, but no episode that closed before the window).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.features import registry
from exclusion_risk.features.build import FSM_EVER_YEARS
from exclusion_risk.linkage.report_words import SOURCE_WORDS
from exclusion_risk.values import and_join, counted

# "Every earlier year" is bounded by a child's life: a pupil's school records span at most SCHOOL_YEARS
# (nursery to Year 14); social care can reach back to birth, three years before nursery.
SCHOOL_LIFE = registry.SCHOOL_YEARS
CHILDHOOD = registry.SCHOOL_YEARS + 3
# Per history feature, the sources it counts and how many earlier years it looks back over. A history
# feature of the reference year only (this year's attendance and suspensions, an episode open now) is in
# CURRENT: the extracts' start does not shorten it.
EVER_IN_CARE = ("cin_ever", "cpp_ever", "cla_ever", "sc_domestic_abuse", "sc_mental_health",
                "sc_substance_misuse")  # fmt: skip
WINDOWS: dict[str, tuple[tuple[str, ...], int]] = {
    "fsm_ever6": (("census",), FSM_EVER_YEARS - 1),
    "school_moves_last_year": (("census",), 1),
    "school_moves_earlier": (("census",), SCHOOL_LIFE),
    "suspensions_last_year": (("exclusions",), 1),
    "suspension_sessions_last_year": (("exclusions",), 1),
    "suspensions_earlier": (("exclusions",), SCHOOL_LIFE),
    "suspension_sessions_earlier": (("exclusions",), SCHOOL_LIFE),
    "permanent_exclusions_prior": (("exclusions",), SCHOOL_LIFE),
    **{name: (("exclusions",), SCHOOL_LIFE) for name in registry.REASON_FEATURES},
    **{name: (("social_care",), CHILDHOOD) for name in EVER_IN_CARE},
    "school_suspension_rate": (("census", "exclusions"), SCHOOL_LIFE),
    "school_permanent_rate": (("census", "exclusions"), SCHOOL_LIFE),
}
# "Earlier" counts of these exclude the last twelve months (features.build: suspensions of years before
# last year; school moves at collections before them), so they reach one year less far back than the
# extracts: at 2016/17 with extracts from 2015/16 they hold nothing yet.
BEFORE_LAST_YEAR = frozenset({"suspensions_earlier", "suspension_sessions_earlier", "school_moves_earlier"})
CURRENT = frozenset({"absence_rate_this_year", "unauthorised_absence_rate_this_year",
                     "persistent_absence_this_year", "suspensions_this_year", "cin_open", "cpp_open",
                     "cla_open"})  # fmt: skip


def _first(years: pd.Series) -> str | None:
    years = years.dropna()
    return calendar.format_year(int(years.min())) if len(years) else None


def first_years(extracts) -> dict[str, str]:
    """Each source's first academic year in the extracts (module docstring); a source without one is
    left out."""
    found: dict[str, str | None] = {}
    census = getattr(extracts, "census", None)
    if census is not None and "AcademicYear" in census.columns:
        years = pd.Series([calendar.start_year(y) for y in census["AcademicYear"].dropna().unique()
                           if _is_year(y)], dtype="float64")  # fmt: skip
        found["census"] = _first(years)
    for source, column in (("exclusions", "StartDate"), ("social_care", "EndDate")):
        frame = getattr(extracts, source, None)
        if frame is None or column not in frame.columns:
            continue
        dates = pd.to_datetime(frame[column], errors="coerce")
        if source == "social_care" and dates.isna().all():  # no episode has ended yet: its starts
            dates = pd.to_datetime(frame["StartDate"], errors="coerce")
        found[source] = _first(calendar.academic_year_start_of(dates).astype("float64"))
    return {source: year for source, year in found.items() if year is not None}


def _is_year(value: Any) -> bool:
    try:
        calendar.start_year(value)
    except (TypeError, ValueError):
        return False
    return True


def years_back(year: str, first: str, window: int, skip: int = 0) -> int:
    """The earlier academic years the extracts hold for `year` (from `first`), at most `window`; `skip`:
    the most recent earlier years the feature leaves out (1 for BEFORE_LAST_YEAR's)."""
    return min(max(calendar.start_year(year) - calendar.start_year(first) - skip, 0), window)


def lengthened(reference_years: list[str], year: str, first: dict[str, str],
               names: list[str]) -> list[dict[str, Any]]:  # fmt: skip
    """A row per feature of `names` some reference year of which looks back over fewer earlier years than
    `year` does: {feature, sources, first_year, window_years, reference_years_back {year: n},
    current_years_back}."""
    rows = []
    for name in names:
        if name not in WINDOWS:
            continue
        sources, window = WINDOWS[name]
        if any(s not in first for s in sources):
            continue
        start = max(first[s] for s in sources)  # the later start bounds a feature of two sources
        skip = int(name in BEFORE_LAST_YEAR)
        now = years_back(year, start, window, skip)
        before = {y: years_back(y, start, window, skip) for y in reference_years}
        if min(before.values(), default=now) < now:
            rows.append({"feature": name, "sources": list(sources), "first_year": start,
                         "window_years": window, "reference_years_back": before,
                         "current_years_back": now})  # fmt: skip
    return rows


def _counted(n: int) -> str:
    return counted(n, "earlier year")


def clause(row: dict[str, Any], year: str) -> str:
    """Why a rise of a row's feature may be the history lengthening (appended to its warning)."""
    sources = and_join([SOURCE_WORDS[s] for s in row["sources"]])
    before = ", ".join(f"{y} {_counted(n)}" for y, n in row["reference_years_back"].items())
    return (f"The {sources} extracts start in {row['first_year']}, so the reference years look back over "
            f"fewer years ({before}) than {year} ({_counted(row['current_years_back'])}): the rise is at "
            "least in part the history lengthening, not the cohort changing, and the model learned from "
            "the shorter histories.")


def notes(rows: list[dict[str, Any]], year: str) -> list[str]:
    """One sentence per extracts' start naming the features whose reference years look back less far."""
    said = []
    for start in sorted({row["first_year"] for row in rows}):
        group = [row for row in rows if row["first_year"] == start]
        sources = [SOURCE_WORDS[s] for s in SOURCE_WORDS if any(s in row["sources"] for row in group)]
        names = ", ".join(row["feature"] for row in group)
        said.append(
            f"Shorter look-back in the reference years: the {and_join(sources)} extracts start in "
            f"{start}, so these history features of the reference years count fewer earlier years than "
            f"{year}'s do, and their share above zero rises as the history lengthens, not because the "
            f"cohort changed: {names}."
        )
    return said
