"""Drift's link-rate check: a source's share of records linked to a census pupil, then and now.

A link rate is published exact (no other report groups its records by another definition) but withheld
where 1 to 9 records stand on one side of it (`drift_checks.shown_rate`): a source whose reference years
linked all but 4 of 1,000 exclusions prints no rate. The check is not withheld: suppression is for what
is published. It used to be, and on a tester's authority the exclusions link rate fell from 99.6% to
49.9% (half the year's exclusions unlinkable) with no warning, in `drift` and in `score` alike.

So the check takes the exact rates where both sides are published (a profile built in this process keeps
them beside the published ones, `EXACT`; `drift_published.published_profile` drops them before `train`
logs it). A withheld rate is published, and stored with the profile (`BOUNDS`), as the bound a reader
has already: all but 1 to 9 of N records linked is a rate of at least (N - 9) / N, rounded down to a
whole percent ("at least 99%"); 1 to 9 linked is at most 9 / N, rounded up. The bound follows from N
alone, never from the count withheld. A check that has only a bound (a stored profile; a year whose own
rate is withheld) warns where every rate the bounds allow is `link_rate_drop` or more lower, and its
sentence gives the bound and the least drop ("at least 49% fewer"), never a figure that gives the
withheld count back; and so does a check with exact rates where either is withheld, as whether it warns
would otherwise say on which side of the threshold the withheld count lies.
"""

from __future__ import annotations

import math
from typing import Any

from exclusion_risk.linkage.report_words import SOURCE_WORDS
from exclusion_risk.models.drift_checks import WITHHELD, _small, shown_rate
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD
from exclusion_risk.values import one_decimal_percent as _percent

EXACT = "link_rates_exact"  # a profile built in this process: each source's exact rate (never stored)
BOUNDS = "link_rate_bounds"  # each withheld rate's [low, high], published and stored


def relative_change(reference: float | None, current: float | None) -> float | None:
    if reference is None or current is None or reference <= 0:
        return None
    return (current - reference) / reference


def rate_bounds(linked: float, records: float) -> list[float] | None:
    """[low, high] of a withheld rate in whole percents, rounded outwards (module text); None where the rate
    is published, or where both sides are 1 to 9 records (no bound worth giving)."""
    linked, records = int(round(linked)), int(round(records))
    unlinked = records - linked
    if records < SUPPRESSION_THRESHOLD or shown_rate(linked, records) is not None or (
            _small(linked) and _small(unlinked)):  # fmt: skip
        return None
    most = SUPPRESSION_THRESHOLD - 1
    if _small(unlinked):
        return [(100 * (records - most)) // records / 100, 1.0]
    return [0.0, -(-100 * most // records) / 100]


def link_entry(linked: float, records: float) -> dict[str, Any]:
    """One source's rate: exact (for the check), as published (None where withheld) and its bounds."""
    exact = float(linked) / float(records) if records else None
    return {"rate": exact, "shown": shown_rate(linked, records), "bounds": rate_bounds(linked, records)}


def profile_fields(entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A reference profile's link rates: published (`link_rates`), bounds of those withheld, and the exact
    ones (`EXACT`: dropped from what `train` logs)."""
    return {"link_rates": {s: e["shown"] for s, e in entries.items()},
            BOUNDS: {s: e["bounds"] for s, e in entries.items() if e["bounds"] is not None},
            EXACT: {s: e["rate"] for s, e in entries.items()}}  # fmt: skip


def _reference(profile: dict[str, Any], source: str) -> dict[str, Any]:
    shown = (profile.get("link_rates") or {}).get(source)
    exact = (profile.get(EXACT) or {}).get(source, shown)
    return {"rate": exact, "shown": shown, "bounds": (profile.get(BOUNDS) or {}).get(source)}


def _current(value: Any) -> dict[str, Any]:
    """A year's rate as `link_entry` gives it, or a bare rate (exact and published alike)."""
    return value if isinstance(value, dict) else {"rate": value, "shown": value, "bounds": None}


def _range(entry: dict[str, Any]) -> list[float] | None:
    """The rates a published entry allows: itself where shown, else its bounds (None: neither)."""
    if entry["shown"] is not None:
        return [entry["shown"], entry["shown"]]
    return entry["bounds"]


def rate_words(shown: float | None, bounds: list[float] | None, withheld: str) -> str:
    """A link rate as published: itself, a withheld one's bound ("at least 99%"), else `withheld`: the
    warnings' words and drift.html's table alike."""
    if shown is not None:
        return _percent(shown)
    if bounds is None:
        return withheld
    low, high = bounds
    return f"at least {low:.0%}" if high >= 1.0 else f"at most {high:.0%}"


def _words(entry: dict[str, Any]) -> str:
    return rate_words(entry["shown"], entry["bounds"], f"a rate ({WITHHELD})")


def check_link_rates(report, profile: dict[str, Any], current: dict[str, Any], since: str) -> None:
    """Each source's row of `report.link_rates` (published figures, a withheld rate's bounds beside it) and
    a warning where its rate fell by `link_rate_drop` or more: on the exact rates where both are published,
    else where every rate the published figures and bounds allow fell that far."""
    sources = sorted(set(profile.get("link_rates") or {}) | set(profile.get(EXACT) or {}) | set(current))
    for source in sources:
        before, now = _reference(profile, source), _current(current.get(source))
        # the exact rates decide only where both are published: where one is withheld, a warning
        # decided on it would say which side of the threshold the withheld count lies (1 unlinked of
        # 1,000 warned at 79.9% now, 2 did not), so the published bounds decide
        exact = before["rate"] is not None and now["rate"] is not None
        if exact and before["shown"] is not None and now["shown"] is not None:  # printed as published
            drop = -relative_change(before["rate"], now["rate"]) if before["rate"] > 0 else None
            warn = drop is not None and drop >= report.thresholds.link_rate_drop
        else:  # the least drop every rate the published figures and bounds allow makes
            then, later = _range(before), _range(now)
            least = None if then is None or later is None or then[0] <= 0 else 1 - later[1] / then[0]
            warn = least is not None and least >= report.thresholds.link_rate_drop
        change = relative_change(before["shown"], now["shown"])
        report.link_rates.append({"source": source, "reference": before["shown"], "current": now["shown"],
                                  "reference_bounds": before["bounds"], "current_bounds": now["bounds"],
                                  "relative_change": change, "warning": warn})  # fmt: skip
        if not warn:
            continue
        if change is not None:
            fewer = f"{-change:.0%} fewer"
        else:  # a side withheld: the bounds decided, and `least` is the drop they prove, rounded down
            fewer = f"at least {math.floor(100 * least)}% fewer" if least > 0 else "fewer"
        report.warnings.append(
            f"Fewer {SOURCE_WORDS.get(source, source)} records of {report.year} are linked to a census "
            f"pupil: {_words(now)} against {_words(before)} in {since} ({fewer}); features from that "
            "source will understate those children's risk."
        )
