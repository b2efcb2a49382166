"""Deterministic linkage stages: UPN, then the Walsall name-DOB key.

Both work on entities (a source record or child, a census pupil) through their variant rows from
linkage.standardise, and return one row per linked source entity: `eid_l` (source), `eid_r`
(census pupil UPN), `method`, `score` (1.0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.linkage.arrow_text import in_text
from exclusion_risk.linkage.engines.base import paired_pupils
from exclusion_risk.linkage.engines.levels import as_objects, jaro_winkler_distinct, one_character_slip
from exclusion_risk.linkage.settings import DEFAULT_SCHOOL_COMPARISON, LinkageSettings

LINK_COLUMNS = ["eid_l", "eid_r", "method", "score"]
NAME_DOB_KEY = ["surname", "forename_group", "dob"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="string") for c in LINK_COLUMNS[:3]} | {"score": pd.Series(dtype=float)}
    )


def _single_target(pairs: pd.DataFrame) -> pd.DataFrame:
    """Source entities whose candidate keys all point at one pupil (conflicting keys link nothing)."""
    pairs = pairs.drop_duplicates(["eid_l", "eid_r"])
    counts = pairs.groupby("eid_l")["eid_r"].transform("size")
    return pairs[counts == 1]


def name_dob_keys(variants: pd.DataFrame) -> pd.DataFrame:
    """eid, the Walsall key (standardised surname + forename group + DOB) of each complete variant,
    and the key's surname and DOB."""
    v = variants.dropna(subset=NAME_DOB_KEY)
    key = v["surname"] + "|" + v["forename_group"] + "|" + v["dob"]
    return pd.DataFrame({"eid": v["eid"], "key": key, "surname": v["surname"], "dob": v["dob"]})


@dataclass(frozen=True, eq=False)
class CensusKeys:
    """The census side of the deterministic stages, which every source links against: each pupil's
    name-DOB keys, each (pupil, key) once (`keys`: eid, key, and `unique`: the key names this pupil
    only). Computed once per run (census_keys): at 2,000,000 pupils they take 15 s, which each source's
    UPN and name-DOB stages used to spend again (deterministic stages 36-39 s per source -> 20-26 s).
    One frame with a flag, not a second frame of the unique keys: nearly every key is unique, so the
    second frame was nearly a copy (4,000,000 pupils: about 0.4 GB held through the deterministic
    stages)."""

    keys: pd.DataFrame


def census_keys(census: pd.DataFrame) -> CensusKeys:
    keys = name_dob_keys(census)[["eid", "key"]].drop_duplicates(ignore_index=True)
    unique = keys.groupby("key")["eid"].transform("nunique").to_numpy() == 1
    return CensusKeys(keys=keys.assign(unique=unique))


def _census_keys_among(keys: CensusKeys | None, census: pd.DataFrame, wanted: pd.Series) -> pd.DataFrame:
    """The census's key rows (eid, key, unique) whose key is one of `wanted` (a source's keys): picked
    by arrow's hash lookup before any join, as a join against every pupil's keys hashes them all
    (4,000,000 pupils: about 0.2 GB for each join, against 0.03 GB picked first)."""
    cen = (keys if keys is not None else census_keys(census)).keys
    return cen[in_text(cen["key"], wanted)]


# Where a record and a pupil can be: the postcode district and the school (the default extra
# comparison's column, exclusions only; social care has no school).
PLACE_COLUMNS = ("district", DEFAULT_SCHOOL_COMPARISON.variant_column)


def _place_not_contradicting(source: pd.DataFrame, census: pd.DataFrame, pairs: pd.DataFrame) -> pd.Series:
    """Per pair (eid_l, eid_r): for each of PLACE_COLUMNS, a value of the record's is one of the
    pupil's, or either has none. A namesake's unique key usually sits at another address or school;
    a child who moved fails too, and the probabilistic stage, which weighs every field, decides it."""
    ok = pd.Series(True, index=pairs.index)
    for column in PLACE_COLUMNS:
        if column not in source.columns or column not in census.columns:
            continue
        left = source[["eid", column]].dropna().drop_duplicates().rename(columns={"eid": "eid_l"})
        paired = paired_pupils(census, pairs, ["eid", column])
        right = paired.dropna().drop_duplicates().rename(columns={"eid": "eid_r"})
        agree = pd.Index(pairs.merge(left, on="eid_l").merge(right, on=["eid_r", column])["eid_l"].unique())
        missing = ~pairs["eid_l"].isin(left["eid_l"]) | ~pairs["eid_r"].isin(right["eid_r"])
        ok &= missing | pairs["eid_l"].isin(agree)
    return ok


def _compatible(source: pd.DataFrame, census: pd.DataFrame, pairs: pd.DataFrame, low: float) -> pd.Series:
    """Per linked source entity: does some variant pair not strongly disagree on name and DOB?

    Compatible means the forename agrees (same group, Jaro-Winkler >= low, or names swapped) or is
    missing, and then either the DOB is near (equal, transposed, one-digit slip) or missing, or the
    surname agrees. A sibling's or another child's stale UPN fails on forename; a one-letter or
    one-digit slip passes.
    """
    left = source.merge(pairs[["eid_l", "eid_r"]].rename(columns={"eid_l": "eid"}), on="eid")
    paired = paired_pupils(census, pairs).rename(columns={"eid": "eid_r"})
    both = left.merge(paired, on="eid_r", suffixes=("_l", "_r"))
    both = both.rename(columns={"eid": "eid_l"})

    def eq(a: pd.Series, b: pd.Series) -> np.ndarray:
        return (a == b).fillna(False).to_numpy(dtype=bool)

    swapped = eq(both["forename_l"], both["surname_r"]) & eq(both["surname_l"], both["forename_r"])
    fore_missing = (both["forename_l"].isna() | both["forename_r"].isna()).to_numpy()
    fore_ok = (
        fore_missing
        | swapped
        | eq(both["forename_group_l"], both["forename_group_r"])
        | (jaro_winkler_distinct(both["forename_l"], both["forename_r"]) >= low)
    )
    sur_ok = (
        swapped
        | eq(both["surname_l"], both["surname_r"])
        | (jaro_winkler_distinct(both["surname_l"], both["surname_r"]) >= low)
    )
    dob_l, dob_r = both["dob_l"], both["dob_r"]
    slip = one_character_slip(as_objects(dob_l), as_objects(dob_r))
    dob_ok = (
        (dob_l.isna() | dob_r.isna()).to_numpy()
        | slip
        | eq(dob_l, dob_r)
        | eq(dob_l, both["dob_swap_r"])
        | eq(both["dob_swap_l"], dob_r)
    )
    ok = fore_ok & (dob_ok | sur_ok)
    return pd.Series(ok, index=both.index).groupby(both["eid_l"].to_numpy()).any()


def upn_stage(
    source: pd.DataFrame, census: pd.DataFrame, settings: LinkageSettings, keys: CensusKeys | None = None
) -> pd.DataFrame:
    """Links on an exact valid UPN (the pupil's UPN, else a unique FormerUPN), vetoed by strong
    name/DOB disagreement or when another pupil holds the record's exact name-DOB key (a twin).
    `keys`: census_keys(census), when the caller already has them."""
    src = source.dropna(subset=["upn"])[["eid", "upn"]].drop_duplicates()
    # Only the census rows holding a UPN some record gives: whether a UPN is current, or a FormerUPN of
    # one pupil only, is decided among the rows holding it, so the same pupils come out.
    cen = census.loc[in_text(census["upn"], src["upn"]), ["eid", "upn"]].drop_duplicates()
    current = cen[cen["upn"] == cen["eid"]]
    former = cen[cen["upn"] != cen["eid"]]
    former = former[~former["upn"].isin(current["upn"])]
    former = former[former.groupby("upn")["eid"].transform("nunique") == 1]
    upn_to_pupil = pd.concat([current, former]).rename(columns={"eid": "eid_r"})
    pairs = _single_target(
        src.merge(upn_to_pupil, on="upn").rename(columns={"eid": "eid_l"})[["eid_l", "eid_r"]]
    )
    if pairs.empty:
        return _empty()
    ok = _compatible(source, census, pairs, settings.comparisons.name_jw_low)
    pairs = pairs[pairs["eid_l"].map(ok).fillna(True).astype(bool)]
    # A twin recorded under the co-twin's UPN: the record's exact name-DOB key belongs to another
    # pupil, not the UPN's, and the two pupils share surname and DOB (twins). Where the UPN's pupil
    # has the same names and a DOB one slip away, the record's DOB is the slip: the UPN stands.
    src_keys = name_dob_keys(source).rename(columns={"eid": "eid_l"})
    paired_keys = src_keys.merge(pairs, on="eid_l")
    census_rows = _census_keys_among(keys, census, paired_keys["key"]).rename(columns={"eid": "holder"})
    holders = paired_keys.merge(census_rows, on="key")
    own = holders[holders["holder"] == holders["eid_r"]]["eid_l"].unique()
    other = holders[holders["holder"] != holders["eid_r"]]
    # The UPN's pupil is the holder's possible twin when it too has the key's surname and DOB.
    surname_dob = (
        paired_pupils(census, other, ["eid", "surname", "dob"])
        .dropna()
        .drop_duplicates()
        .rename(columns={"eid": "eid_r"})
    )
    twin_of_holder = other.merge(surname_dob, on=["eid_r", "surname", "dob"])["eid_l"].unique()
    pairs = pairs[~(pairs["eid_l"].isin(twin_of_holder) & ~pairs["eid_l"].isin(own))]
    return pairs.assign(method="upn", score=1.0)[LINK_COLUMNS].reset_index(drop=True)


def name_dob_stage(
    source: pd.DataFrame,
    census: pd.DataFrame,
    unique_source: bool,
    settings: LinkageSettings | None = None,
    keys: CensusKeys | None = None,
) -> pd.DataFrame:
    """Links on the exact name-DOB key where the key names one census pupil, and (`unique_source`)
    one source entity; a source entity whose keys point at different pupils is left unlinked. With
    `settings.name_dob_place_check`, a link whose postcode districts or schools contradict is dropped
    (the record goes on to the probabilistic stage). `keys`: census_keys(census), if already built."""
    src = name_dob_keys(source)[["eid", "key"]].drop_duplicates()
    if unique_source:
        src = src[src.groupby("key")["eid"].transform("nunique") == 1]
    matched = src.merge(_census_keys_among(keys, census, src["key"]), on="key", suffixes=("_l", "_r"))
    pairs = _single_target(matched.loc[matched["unique"].to_numpy(dtype=bool), ["eid_l", "eid_r"]])
    if settings is not None and settings.name_dob_place_check:
        pairs = pairs[_place_not_contradicting(source, census, pairs).to_numpy()]
    if pairs.empty:
        return _empty()
    return pairs.assign(method="name_dob", score=1.0)[LINK_COLUMNS].reset_index(drop=True)
