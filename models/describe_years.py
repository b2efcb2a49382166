"""Which autumn census years `describe` leaves out by default, and why, in words for the console,
describe.json (`left_out`) and describe.html.

By default `describe` describes every year whose outcomes are complete (`features.labels.complete_through`,
read from the linked exclusions). A year left out was once left out in silence: a tester's links from last
year's `exclusion-risk link` run, used with this year's extracts, stopped the linked exclusions at 2017/18,
and describe described 2015/16-2017/18 with no word of 2018/19, although the exclusions extract held 291
exclusions of 2018/19 that those links did not link. Such a year is named with the count the links leave
unlinked (a warning: run `link` on these extracts); a year whose exclusions are not yet in (the year being
scored) is named with how far the linked exclusions reach. Counts of records and a date, never a pupil.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.features.labels import COMPLETE_MONTH


@dataclass(frozen=True)
class LeftOut:
    year: str
    reason: str
    stale_links: bool  # the extract completes the year and the links do not link it: a warning

    def as_dict(self) -> dict:
        return {"year": self.year, "reason": self.reason}

    def line(self) -> str:
        return f"{'warning: ' if self.stale_links else ''}{self.year} not described: {self.reason}"


def _starts(frame: pd.DataFrame) -> pd.Series:
    if frame is None or "StartDate" not in frame.columns:
        return pd.Series(dtype="datetime64[ns]")
    return pd.to_datetime(frame["StartDate"], errors="coerce")


def left_out_years(linked, available: list[str], described: list[str], links: Path | None) -> list[LeftOut]:
    """The years of `available` (autumn census years) not in `described`, each with why: `linked` is the
    `LinkedExtracts` describe read; `links` the `--links` folder (None: linked now)."""
    history_starts = _starts(linked.history.exclusions).dropna()
    latest = history_starts.max() if len(history_starts) else None
    reach = ("no exclusion is linked" if latest is None
             else f"the linked exclusions' latest starts on {latest:%-d %B %Y}")  # fmt: skip
    extract = linked.extracts.exclusions
    extract_starts = _starts(extract)
    linked_ids = set(linked.history.exclusions.get("RecordID", pd.Series(dtype="string")).astype("string"))
    out = []
    for year in (y for y in available if y not in described):
        complete_from = pd.Timestamp(year=calendar.start_year(year) + 1, month=COMPLETE_MONTH, day=1)
        in_year = extract_starts.between(calendar.year_start(year), calendar.year_end(year))
        unlinked = int((in_year & ~extract["RecordID"].astype("string").isin(linked_ids)).sum()) if len(
            extract) else 0  # fmt: skip
        extract_complete = bool((extract_starts >= complete_from).any())
        if links is not None and unlinked and extract_complete:
            file = Path(links) / LINKS_FILE
            reason = (
                f"the exclusions extract holds {unlinked:,} exclusions of {year} that {file} does not link, "
                f"so its outcomes are not complete in the linked data ({reach}); links from "
                "an earlier run of `exclusion-risk link`? Run `exclusion-risk link` on these extracts to "
                f"describe {year}"
            )
            out.append(LeftOut(year, reason, stale_links=True))
        else:
            reason = (f"its outcomes are not complete ({reach}; a year's outcomes count once the exclusions "
                      f"reach 1 July {calendar.start_year(year) + 1})")  # fmt: skip
            out.append(LeftOut(year, reason, stale_links=False))
    return out
