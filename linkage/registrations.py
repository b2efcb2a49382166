"""A pupil on two rows of one census collection: which row the features read, and how many were set aside.

A dual-registered pupil is on both schools' returns of the same collection: CBDS `EnrolStatus` M at the
main school, S at the subsidiary one (often alternative provision). The pupil history keeps every row
(linkage compares the names on all of them), but a pupil's features are of one row per collection: the
row that is not a subsidiary registration, else the first in file order (`standing_order`). The linkage
report and the service say how many rows that set aside (`collection_repeats`), so no row goes without
a word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.linkage.codes import SUBSIDIARY_REGISTRATION
from exclusion_risk.privacy import suppress_count

RULE = (
    "a pupil on two or more rows of one census collection (a dual registration) is scored and described "
    "from one of them: the row that is not a subsidiary registration (EnrolStatus S), else the first in "
    "file order; every row's names are still used for linkage"
)


def subsidiary(census: pd.DataFrame) -> np.ndarray:
    """Rows recorded as the subsidiary school of a dual registration (False where there is no status)."""
    if "EnrolStatus" not in census.columns:
        return np.zeros(len(census), dtype=bool)
    status = census["EnrolStatus"].astype("string").str.strip().str.upper()
    return status.eq(SUBSIDIARY_REGISTRATION).fillna(False).to_numpy(dtype=bool)


def standing_order(pupil, year, term, is_subsidiary, order) -> np.ndarray:
    """Row positions sorted by pupil, year and term, and within one collection the row that stands first:
    not a subsidiary registration, then `order` (file order)."""
    keys = (order, is_subsidiary, term, year, pupil)  # lexsort: the last key is the first sorted on
    return np.lexsort(tuple(np.asarray(k) for k in keys))


@dataclass(frozen=True)
class CollectionRepeats:
    """Census rows beyond a pupil's first in one collection (UPN, academic year and term alike)."""

    pupils: int  # pupils with two or more rows in at least one collection
    rows_set_aside: int  # rows the features do not read
    subsidiary: int  # of the pupils' rows in those collections, subsidiary registrations

    def report(self) -> dict:
        """The linkage report's entry: counts under 10 shown as '<10' (counts of pupils)."""
        return {
            "pupils": suppress_count(self.pupils),
            "rows_set_aside": suppress_count(self.rows_set_aside),
            "subsidiary_registrations": suppress_count(self.subsidiary),
            "rule": RULE,
        }

    def sentence(self) -> str | None:
        """A line for the person scoring (who sees every pupil's score, so the counts are exact), or None
        when no pupil repeats."""
        if not self.rows_set_aside:
            return None
        return (
            f"{self.rows_set_aside:,} census row(s) of {self.pupils:,} pupil(s) on two or more rows of one "
            f"collection were set aside: {RULE}."
        )


def collection_repeats(
    census: pd.DataFrame, year: str | None = None, term: str | None = None
) -> CollectionRepeats:
    """How many rows of `census` (UPN, AcademicYear, CensusTerm) repeat a pupil's collection; of the
    `year` (academic year) and `term` (census term code) collection only, when given.

    UPNs are compared stripped and upper-cased, as the features read them; rows missing any of the three
    are not counted (the features do not read them either)."""
    if len(census) == 0 or not {"UPN", "AcademicYear", "CensusTerm"} <= set(census.columns):
        return CollectionRepeats(0, 0, 0)
    if term is not None:
        census = census[census["CensusTerm"].eq(term).fillna(False).to_numpy(dtype=bool)]
    if year is not None:
        held = census["AcademicYear"]
        years = held.map({y: _canonical_year(y) for y in pd.unique(held.dropna())})  # each year once
        census = census[years.eq(calendar.normalise_year(year)).fillna(False).to_numpy(dtype=bool)]
    upn_codes, upns = pd.factorize(census["UPN"].astype("string"))
    # each distinct UPN tidied once, then rows mapped to their tidied UPN's code
    tidied_codes, _ = pd.factorize(pd.Series(upns, dtype="string").str.strip().str.upper())
    pupil = np.where(upn_codes >= 0, tidied_codes[np.maximum(upn_codes, 0)], -1)
    year, _ = pd.factorize(census["AcademicYear"])
    term, _ = pd.factorize(census["CensusTerm"])
    known = (pupil >= 0) & (year >= 0) & (term >= 0)
    if not known.any():
        return CollectionRepeats(0, 0, 0)
    key = pd.Series((pupil.astype(np.int64) * (year.max() + 1) + year) * (term.max() + 1) + term)[known]
    repeated = key.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return CollectionRepeats(0, 0, 0)
    set_aside = int(key.duplicated(keep="first").sum())
    pupils = int(pd.unique(pupil[known][repeated]).size)
    return CollectionRepeats(pupils, set_aside, int(subsidiary(census)[known][repeated].sum()))


def _canonical_year(value) -> str | None:
    try:
        return calendar.normalise_year(value)
    except (TypeError, ValueError):
        return None
