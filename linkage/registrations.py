"""A pupil on two rows of one census collection: which row the features read, and how many were set aside.

A dual-registered pupil is on both schools' returns of the same collection: CBDS `EnrolStatus` M at the
main school, S at the subsidiary one (often alternative provision). The pupil history keeps every row
(linkage compares the names on all of them), but a pupil's features are of one row per collection: the
row that is not a subsidiary registration, else the first in file order (`standing_order`). The linkage
report, `score` and the service say how many rows that set aside, and how many pupils only a subsidiary
school's row describes (`collection_repeats`), so no row goes without a word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.linkage.codes import SUBSIDIARY_REGISTRATION
from exclusion_risk.linkage.upn_columns import tidy_upns
from exclusion_risk.privacy import suppress_count
from exclusion_risk.values import counted

RULE = (
    "a pupil on two or more rows of one census collection (a dual registration) is scored and described "
    "from one of them: the row that is not a subsidiary registration (EnrolStatus S), else the first in "
    "file order"
)
LINKED_TOO = "; every row's names are still used for linkage"


def subsidiary(census: pd.DataFrame) -> np.ndarray:
    """Rows recorded as the subsidiary school of a dual registration (False where there is no status)."""
    if "EnrolStatus" not in census.columns:
        return np.zeros(len(census), dtype=bool)
    status = census["EnrolStatus"]
    # each distinct spelling tidied once (a national census has 6,000,000 rows and a handful of codes)
    spellings = [s for s in pd.unique(status.dropna()) if str(s).strip().upper() == SUBSIDIARY_REGISTRATION]
    return status.isin(spellings).to_numpy(dtype=bool)


def standing_order(pupil, year, term, is_subsidiary, order) -> np.ndarray:
    """Row positions sorted by pupil, year and term, and within one collection the row that stands first:
    not a subsidiary registration, then `order` (file order)."""
    keys = (order, is_subsidiary, term, year, pupil)  # lexsort: the last key is the first sorted on
    return np.lexsort(tuple(np.asarray(k) for k in keys))


@dataclass(frozen=True)
class CollectionRepeats:
    """Census rows beyond a pupil's first in one collection (UPN, academic year and term alike), and
    pupils whose only rows in a collection are subsidiary registrations."""

    pupils: int  # pupils with two or more rows in at least one collection
    rows_set_aside: int  # rows the features do not read
    subsidiary_only: int  # pupils described from a subsidiary school's row: no other row in a collection

    def report(self) -> dict:
        """The linkage report's entry: pupils, each count under 10 as '<10'. Not the rows set aside: less
        the pupils, that would be another count (pupils on three rows or more) that could be 1-9."""
        return {
            "pupils": suppress_count(self.pupils),
            "pupils_on_a_subsidiary_row_alone": suppress_count(self.subsidiary_only),
            "rule": RULE + LINKED_TOO,
        }

    def sentences(self) -> list[str]:
        """Lines for the person scoring, who sees every pupil's score, so the counts are exact; none when
        nothing repeats and no pupil rests on a subsidiary row alone."""
        said = []
        if self.rows_set_aside:
            said.append(
                f"{counted(self.rows_set_aside, 'census row')} of "
                f"{counted(self.pupils, 'pupil')} on two or more rows of one collection "
                f"{'was' if self.rows_set_aside == 1 else 'were'} set aside. {RULE[0].upper()}{RULE[1:]}."
            )
        if self.subsidiary_only:
            said.append(
                f"{counted(self.subsidiary_only, 'pupil is', 'pupils are')} described from a subsidiary "
                "registration's row (EnrolStatus S) alone: the main school's row is not among the rows "
                "read, so the school given is the subsidiary one."
            )
        return said


def collection_repeats(
    census: pd.DataFrame, year: str | None = None, term: str | None = None
) -> CollectionRepeats:
    """How many rows of `census` (UPN, AcademicYear, CensusTerm) repeat a pupil's collection; of the
    `year` (academic year) and `term` (census term code) collection only, when given.

    UPNs are compared in their tidy form (upn.upn_key), as the features read them (not mapped from a temporary
    UPN to the permanent one, as the pupil history does; a dual registration recorded under both in one
    collection is not counted). Rows missing any of the three are not counted (the features do not read
    them either)."""
    if len(census) == 0 or not {"UPN", "AcademicYear", "CensusTerm"} <= set(census.columns):
        return CollectionRepeats(0, 0, 0)
    if term is not None:
        census = census[census["CensusTerm"].eq(term).fillna(False).to_numpy(dtype=bool)]
    if year is not None:
        held = census["AcademicYear"]
        years = held.map({y: _canonical_year(y) for y in pd.unique(held.dropna())})  # each year once
        census = census[years.eq(calendar.normalise_year(year)).fillna(False).to_numpy(dtype=bool)]
    if len(census) == 0:
        return CollectionRepeats(0, 0, 0)
    upn_codes, upns = pd.factorize(census["UPN"].astype("string"))
    # each distinct UPN tidied once, then rows mapped to their tidied UPN's code
    tidied_codes, _ = pd.factorize(tidy_upns(pd.Series(upns, dtype="string")))
    pupil = np.where(upn_codes >= 0, tidied_codes[np.maximum(upn_codes, 0)], -1)
    year_codes, _ = pd.factorize(census["AcademicYear"])
    term_codes, _ = pd.factorize(census["CensusTerm"])
    known = (pupil >= 0) & (year_codes >= 0) & (term_codes >= 0)
    if not known.any():
        return CollectionRepeats(0, 0, 0)
    collection = (pupil.astype(np.int64) * (year_codes.max() + 1) + year_codes) * (term_codes.max() + 1)
    key = pd.Series((collection + term_codes)[known])
    is_subsidiary = subsidiary(census)[known]
    subsidiary_only = 0
    if is_subsidiary.any():  # a collection whose rows are all subsidiary: the pupil is described from one
        main_rows = pd.Series(~is_subsidiary).groupby(key.to_numpy()).sum()
        alone = key.isin(main_rows.index[main_rows.eq(0)]).to_numpy()
        subsidiary_only = int(pd.unique(pupil[known][alone]).size)
    repeated = key.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return CollectionRepeats(0, 0, subsidiary_only)
    set_aside = int(key.duplicated(keep="first").sum())
    pupils = int(pd.unique(pupil[known][repeated]).size)
    return CollectionRepeats(pupils, set_aside, subsidiary_only)


def _canonical_year(value) -> str | None:
    try:
        return calendar.normalise_year(value)
    except (TypeError, ValueError):
        return None
