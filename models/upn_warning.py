"""A census scoring says how many of its pupils have a UPN that fails the DfE check, and how many of
those the linked history does not know: the words `exclusion-risk score` (console, scores.html, the
workbook's notice sheet) and the service's census routes share.

The data contract keeps such a pupil (scored, under the UPN on the census, in its tidy form: upn.upn_key)
and reports the UPN as invalid: a wrong check letter is a typing slip in the MIS, and `NOTAUPN-Wilson` is
not a UPN at all. Where no pupil of the linked history has that UPN, the pupil is scored without any
history of their own (no earlier exclusions, social care or census rows): a second sentence says so.
The service learns which pupils those are from the upload's features (`features.census_upload`);
`score`, whose history holds the census scored, from `not_in_history`. The warnings count pupils and
never quote a UPN.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import PUPIL_KEY
from exclusion_risk.linkage.history import PupilHistory
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD
from exclusion_risk.upn import valid_upn_mask
from exclusion_risk.values import counted


def _pupils(n: int, whole: int, exact: bool) -> str:
    """`n` of `whole` as counted. Where not `exact`: "fewer than 10" under the suppression threshold, and
    "all but fewer than 10" where `whole` less `n` is under 10, none (all of them) included: a reader who
    knows the rule learns only that `n` is 10 or more and `whole` less it 0 to 9. Leaving "all" out of the
    words (said exactly) pinned what they withheld: of a whole of 11, "all but fewer than 10" could only
    be 10; and beside a whole said in these words, a part of it said exactly as all of it gave the whole."""
    if exact:
        return f"{n:,}"
    if n < SUPPRESSION_THRESHOLD:
        return "fewer than 10"
    return "all but fewer than 10" if whole - n < SUPPRESSION_THRESHOLD else f"{n:,}"


def invalid_upn_warning(
    upns: pd.Series, not_in_history: Collection[str] = frozenset(), *, exact: bool = True,
    as_given: str = "as uploaded",
) -> list[str]:
    """One sentence counting the pupils whose UPN fails the check letter or the UPN's shape; none if all
    pass (a temporary UPN, ending in a letter, passes). A second counting those of them whose UPN is in
    `not_in_history` (the UPNs scored of pupils the linked history does not know). `exact=False` (a page
    that is passed on, scores.html) says a count under 10 as "fewer than 10", and one its whole (the pupils
    scored, the invalid UPNs) would give back 0-9 of by subtraction as "all but fewer than 10"; `as_given`
    says where the UPN the pupil is scored under came from (the service's "as uploaded", `score`'s "as the
    census gives it"). No full stop: the service lists them as they are, `score` ends them as its other
    notes."""
    valid = valid_upn_mask(upns.astype("string")).to_numpy()
    invalid = int((~valid).sum())
    if not invalid:
        return []
    many = invalid > 1 or not exact
    said = [
        f"{_pupils(invalid, len(upns), exact)} of {counted(len(upns), 'pupil')} scored "
        f"{'have' if many else 'has'} a "
        f"UPN that is not valid (a wrong check letter, or not a UPN's shape): they are scored under the UPN "
        f"{as_given}; check it in the MIS"
    ]
    unknown = set(not_in_history)
    lost = int(sum(1 for upn in upns[~valid].dropna() if upn in unknown))
    if lost:
        many = lost > 1 or not exact
        said.append(
            f"{_pupils(lost, invalid, exact)} {'pupils' if many else 'pupil'} scored with an invalid UPN "
            f"{'are' if many else 'is'} not in the linked history: their history could not be found, so they "
            "are scored as if they had no earlier exclusions, social care or census rows; correct the UPN in "
            "the MIS and score again"
        )
    return [f"{line[0].upper()}{line[1:]}" for line in said]


def not_in_history(features: pd.DataFrame, history: PupilHistory, year: str, term: str) -> frozenset[str]:
    """The UPNs scored (the feature table's `upn`) that fail the check and whose pupil (PUPIL_KEY) the linked
    history holds nothing else of: no census row of another collection than the one scored (`year`'s
    `term` census), no linked exclusion or social-care record. `score`'s history holds the census it
    scores, so a pupil of it is always known; one left as a pupil of their own by a mistyped UPN (the linkage
    merges a keying slip with the same name and date of birth into the pupil's valid UPN) has only that
    census's row. Only the invalid UPNs' pupils are looked up."""
    if not len(features):
        return frozenset()
    invalid = ~valid_upn_mask(features["upn"].astype("string")).to_numpy()
    if not invalid.any():
        return frozenset()
    pupils = features.loc[invalid, ["upn", PUPIL_KEY]]
    census = history.census
    theirs = census["UPN"].isin(pupils[PUPIL_KEY]).to_numpy(dtype=bool)
    rows = census.loc[theirs, ["UPN", "AcademicYear", "CensusTerm"]]
    years = rows["AcademicYear"].map(_canonical_year, na_action="ignore")
    scored = years.eq(calendar.normalise_year(year)).fillna(False) & rows["CensusTerm"].eq(term).fillna(False)
    known = set(rows.loc[~scored.to_numpy(dtype=bool), "UPN"].dropna())
    for linked in (history.exclusions, history.social_care):
        known |= set(linked["upn"].dropna()) if "upn" in linked.columns else set()
    return frozenset(pupils.loc[~pupils[PUPIL_KEY].isin(known), "upn"].dropna())


def _canonical_year(value) -> str | None:
    try:
        return calendar.normalise_year(value)
    except (TypeError, ValueError):
        return None
