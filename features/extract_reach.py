"""Whether the linked exclusions reach the census day being scored: one rule for `exclusion-risk score`
and the service's census uploads, so both refuse the same years in the same words.

The features read each pupil's exclusions up to census day ("suspensions so far this year", last year's
and earlier). An exclusions extract taken before that day holds none of the weeks since it was taken,
and scored anyway every pupil reads as having had none in them: a reviewer's find, the demo's
2018/19 autumn census sent as 2019/20 was scored as "no suspensions so far this year" for all 399
pupils, and /explain listed that as lowering risk, while the extract's latest exclusion starts on
22 July 2019, before 2019/20 began.

The rule. Nothing in an extract says when it was taken, only its latest exclusion start, and a quiet
spell (a small authority, a holiday) also leaves weeks without one. An extract at most `GRACE_DAYS` (14)
behind census day is scored (recording lags a few days). Past that, the weeks from the latest start
to census day are compared with the same weeks a year earlier: where the extract held
`EXPECTED_AT_LEAST` (10) or more exclusions then and holds none now, the gap is the extract's age, not a
quiet spell (none at all where 10 are expected has odds under 1 in 20,000 for events this common), and
the year is refused. A history with no earlier year to compare (a tiny authority, a first year) is not
refused on a guess. Refused, not warned: a warning beside a list whose "this year" column is empty for
every pupil would be read after the list, and DESIGN promises a refusal "rather than scoring children as
if they had no exclusions".

Social care is not held to this rule: the children-in-need census is collected once a year, so a
social-care extract months behind census day is ordinary, and refusing on it would stop legitimate
scoring; its age is not checked here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk import calendar

EXPECTED_AT_LEAST = 10  # exclusions in the same weeks a year earlier that make "none since" implausible
# An extract this many days or fewer behind census day is scored: exclusions are entered days after they
# start, so an extract taken on census day (as the refusal advises) lacks the last days' anyway; a
# reviewer's demo extract cut at census day was refused for 1 day (22 in the same day a year earlier).
GRACE_DAYS = 14


def exclusion_starts(history) -> np.ndarray:
    """The linked exclusions' start dates, sorted (datetime64; blanks and non-dates left out): taken once
    with the history (the service keeps them beside it), so each scoring's check is two searches."""
    frame = getattr(history, "exclusions", None)
    if frame is None or "StartDate" not in frame.columns:
        return np.array([], dtype="datetime64[ns]")
    return np.sort(pd.to_datetime(frame["StartDate"], errors="coerce").dropna().to_numpy())


def exclusions_not_reached(starts: np.ndarray, first_year: int, census: str = calendar.AUTUMN
                           ) -> tuple[str, str] | None:
    """Why linked exclusions starting on `starts` (`exclusion_starts`) cannot score the `census` census
    of the year starting `first_year`, as (message, short reason), or None when they can (or there is
    nothing to judge by). The message names the year, the census day and the extract's latest exclusion
    start and a count of 10 or more exclusions, never a pupil."""
    if not len(starts):
        return None
    day = calendar.census_date(first_year, calendar.parse_census(census))
    latest = pd.Timestamp(starts[-1])
    if latest >= day - pd.Timedelta(days=GRACE_DAYS):
        return None
    a_year = pd.DateOffset(years=1)
    window = np.array([latest - a_year, day - a_year], dtype="datetime64[ns]")
    low, high = np.searchsorted(starts, window, side="right")
    earlier = int(high - low)  # starting after the latest start's day a year earlier, up to census day's
    if earlier < EXPECTED_AT_LEAST:
        return None
    year, name = calendar.format_year(first_year), calendar.census_name(census)
    latest_words, day_words = f"{latest:%-d %B %Y}", f"{day:%-d %B %Y}"
    at = f"the {name} census day ({day_words})"
    if latest < calendar.year_start(first_year):
        gap = f"before {year} began, so it holds none of {year}'s exclusions up to {at}"
    else:
        gap = f"{(day - latest).days} days before {at}, so it holds none of the exclusions in those days"
        gap += f" (an extract up to {GRACE_DAYS} days behind is scored)"
    message = (
        f"Census rows for {year} are not scored: the linked exclusions extract's latest exclusion starts "
        f"on {latest_words}, {gap}, while it holds {earlier:,} in the same weeks a "
        "year earlier. Scored with it, every pupil would read as having had no exclusion since then (no "
        "suspensions so far this year), understating risk. Link an exclusions extract taken on or after "
        "the census day, or score a year the extract reaches."
    )
    reason = f"latest exclusion in the extract starts {latest_words}; {year} {name} census day is {day_words}"
    return message, reason
