"""Outcome labels for reference year Y: what happened after the reference census day, to 31 August.

The reference census is the one the features were built at (`features.build`: autumn by default, or
spring or summer); the window runs from the day after that census day to 31 August of the year.

- `any` (the default target): at least one suspension or permanent exclusion starting after census day.
- `permanent`: at least one permanent exclusion after census day.
- `repeat`: two or more suspensions after census day.
A year whose outcomes are not complete in the data (the latest year, scored rather than trained on)
gets NaN labels, never a false "no exclusion".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk import calendar

TARGETS = ("any", "permanent", "repeat")
TARGET_PHRASES = {  # what a pupil with each target's label had, in words
    "any": "a suspension or permanent exclusion",
    "permanent": "a permanent exclusion",
    "repeat": "two or more suspensions",
}
# A year's outcomes count as complete once the data reach 1 July of its second calendar year: the
# last weeks of the summer term carry few exclusions, while stopping at the summer census (May) would
# miss a sixth of the year.
COMPLETE_MONTH = 7


def data_reach(exclusions: pd.DataFrame) -> pd.Timestamp | None:
    """How far the outcomes are evidenced (prepared frames from `features.build`): the linked
    exclusions' latest start date, or None without any (then no year's outcomes are complete). The
    census cannot stand in for it: an authority's exclusions extract is often older than its newest
    census, and a year the census alone reached would be read as one with no exclusions at all (every
    pupil a "no"); so would every year of a history whose links attach no exclusion."""
    reach = exclusions["start"].max() if len(exclusions) else pd.NaT
    return None if pd.isna(reach) else reach


def complete_through(prep) -> int | None:
    """First calendar year of the latest academic year whose outcomes are complete, or None."""
    reach = data_reach(prep.exclusions)
    if reach is None:
        return None
    return reach.year - 1 if reach.month >= COMPLETE_MONTH else reach.year - 2


def outcome_labels(
    exclusions: pd.DataFrame, keys: pd.DataFrame, last_complete: int | None, census: str = calendar.AUTUMN
) -> pd.DataFrame:
    """label_any / label_permanent / label_repeat (1.0, 0.0, NaN) for each (pid, AcademicYear) in keys,
    counting exclusions after year's `census` (term code) census day, to 31 August.

    `exclusions` is the prepared frame from `features.build` (pid, start, year, susp, perm).
    """
    years = keys["AcademicYear"].map({y: calendar.start_year(y) for y in keys["AcademicYear"].unique()})
    years = years.astype("int64")
    # a Series of dates, not a dict: with no pupil on this census (a history of autumn censuses only,
    # asked for its spring rates) the dict's empty map compared dates with floats and raised TypeError
    census_days = pd.Series({y: calendar.census_date(y, census) for y in years.unique()},
                            dtype="datetime64[ns]")  # fmt: skip
    e = exclusions[exclusions["year"].isin(list(census_days.index))]
    after_census = e["start"] > e["year"].map(census_days)
    e = e[after_census]
    per_pupil = e.groupby(["pid", "year"])[["susp", "perm"]].sum()
    index = pd.MultiIndex.from_arrays([keys["pid"].to_numpy(), years.to_numpy()])
    counts = per_pupil.reindex(index, fill_value=0.0)
    out = pd.DataFrame(
        {
            "label_any": ((counts["susp"] + counts["perm"]) >= 1).astype("float64").to_numpy(),
            "label_permanent": (counts["perm"] >= 1).astype("float64").to_numpy(),
            "label_repeat": (counts["susp"] >= 2).astype("float64").to_numpy(),
        },
        index=keys.index,
    )
    unknown = np.ones(len(keys), dtype=bool) if last_complete is None else (years > last_complete).to_numpy()
    out.loc[unknown, :] = np.nan
    return out
