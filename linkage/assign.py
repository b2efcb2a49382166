"""From scored candidate pairs to one decision per source entity: accept, clerical review or reject.

1. Entity pairs: a source entity's best-scoring variant pair with each pupil.
2. Competition: a link's score is its Fellegi-Sunter probability times its share of the evidence
   among the entity's available candidates (2^w over the sum of 2^w), so two near-equal pupils
   (twins recorded without forenames) both score about half and neither is accepted.
3. One-to-one: for social care, a child links to at most one pupil and a pupil to at most one
   child (pupils already linked to another child by an earlier stage are not available); greedy
   by score, ties broken by ids so the result is deterministic. Exclusion events may share a pupil.
4. Twin guard: same surname and DOB with a disagreeing forename is how twins look; when the census
   holds another pupil with that pupil's surname, DOB and address (a twin is there to be confused with),
   such a link is never accepted automatically, only offered for review, unless the twin was
   scored too and agrees no better on forename (then the forename cannot tell them apart and the
   rest of the evidence, a UPN say, decides; a twin not among the candidates keeps the guard).
5. Bands from `settings.thresholds` on the score; a candidate strong on its own (probability above
   the accept threshold) that a rival brings below the review threshold still goes to review, and so
   does a one-to-one record's reviewable pupil that another record took (never accepted: an officer
   decides whether the two records are one child).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.linkage.settings import Thresholds, exact_level

DECISION_COLUMNS = ["eid_l", "eid_r", "score", "match_weight", "band"]


def entity_pairs(pairs: pd.DataFrame, source: pd.DataFrame, census: pd.DataFrame) -> pd.DataFrame:
    """Best variant pair per (source entity, pupil): eid_l, eid_r, match_probability, match_weight, gammas."""
    if pairs.empty:
        return pairs.assign(eid_l=pd.Series(dtype="string"), eid_r=pd.Series(dtype="string"))
    out = pairs.copy()
    out["eid_l"] = source["eid"].to_numpy()[source.index.get_indexer(out["l"])]
    out["eid_r"] = census["eid"].to_numpy()[census.index.get_indexer(out["r"])]
    out = out.sort_values(
        ["eid_l", "eid_r", "match_weight", "l", "r"], ascending=[True, True, False, True, True], kind="stable"
    )
    return out.drop_duplicates(["eid_l", "eid_r"]).reset_index(drop=True)


def _with_share(cands: pd.DataFrame) -> pd.DataFrame:
    w = cands["match_weight"].to_numpy()
    top = cands.groupby("eid_l")["match_weight"].transform("max").to_numpy()
    rel = np.exp2(np.clip(w - top, -200, 0))
    total = pd.Series(rel).groupby(cands["eid_l"].to_numpy()).transform("sum").to_numpy()
    return cands.assign(score=cands["match_probability"].to_numpy() * rel / total)


def _twin_like(
    picked: pd.DataFrame, twins: set[str] | frozenset[str], cands: pd.DataFrame | None = None
) -> np.ndarray:
    """Picked links with the twin pattern to a pupil who has a twin, where the twin is not seen to
    agree no better on forename (`cands`: every candidate pair; None: the guard always holds)."""
    if not {"gamma_forename", "gamma_surname", "gamma_dob"} <= set(picked.columns):
        return np.zeros(len(picked), dtype=bool)
    same_surname, same_dob = exact_level("surname"), exact_level("dob")
    pattern = (
        (picked["gamma_forename"] == 0)
        & (picked["gamma_surname"] == same_surname)
        & (picked["gamma_dob"] == same_dob)
    )
    guarded = (pattern & picked["eid_r"].isin(twins)).to_numpy()
    if cands is None or not guarded.any():
        return guarded
    # The pupil's twin among the entity's candidates: another pupil with a twin, same surname and DOB.
    rivals = cands[
        cands["eid_r"].isin(twins)
        & (cands["gamma_surname"] == same_surname)
        & (cands["gamma_dob"] == same_dob)
    ][["eid_l", "eid_r", "gamma_forename"]]
    rivals = rivals.merge(
        picked.loc[guarded, ["eid_l", "eid_r"]].rename(columns={"eid_r": "picked"}), on="eid_l"
    )
    rivals = rivals[rivals["eid_r"] != rivals["picked"]]
    seen = set(rivals["eid_l"])
    better = set(rivals.loc[rivals["gamma_forename"] > 0, "eid_l"])
    # Guard lifted only where a twin was scored and none agrees better on forename.
    lifted = picked["eid_l"].isin(seen - better).to_numpy()
    return guarded & ~lifted


def _reviewable(cands: pd.DataFrame, thresholds: Thresholds) -> pd.Series:
    """In the review band or above; a strong candidate whose share a rival halves stays reviewable."""
    return (cands["score"] >= thresholds.review) | (cands["match_probability"] >= thresholds.accept)


def pupils_with_twins(census: pd.DataFrame) -> set[str]:
    """Pupils who may have a twin in the census: another pupil with the same surname and DOB who
    shares one of their postcodes (twins live together), or either of whom has no postcode on record
    (then the address cannot tell them apart). Two unrelated Smiths born on the same day at
    different addresses are not twins; their postcodes keep them apart."""
    v = census.dropna(subset=["surname", "dob"])[["eid", "surname", "dob", "postcode"]].drop_duplicates()
    v = v[v.groupby(["surname", "dob"])["eid"].transform("nunique") > 1]
    if v.empty:
        return set()
    # Pupils with no postcode in any variant row sharing their surname and DOB: address unknown.
    known = v.dropna(subset=["postcode"])
    unknown = v[~v["eid"].isin(known["eid"])]
    # Same surname, DOB and postcode: twins at one address.
    shared = known.groupby(["surname", "dob", "postcode"])["eid"].transform("nunique") > 1
    twins = set(known.loc[shared, "eid"])
    # A pupil without an address is a possible twin of everyone sharing their surname and DOB.
    keys = unknown[["surname", "dob"]].drop_duplicates()
    twins |= set(v.merge(keys, on=["surname", "dob"])["eid"])
    return twins


def assign(
    cands: pd.DataFrame,
    thresholds: Thresholds,
    one_to_one: bool,
    unavailable: set[str] | frozenset[str] = frozenset(),
    twins: set[str] | frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """One decision per source entity with candidates (DECISION_COLUMNS plus the pair's gammas).

    `unavailable`: pupils a one-to-one source may not take (already linked by an earlier stage);
    `twins`: pupils sharing surname and DOB with another pupil (`pupils_with_twins`).
    """
    gamma_cols = [c for c in cands.columns if c.startswith("gamma_")]
    if cands.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="string") for c in ("eid_l", "eid_r", "band")}
            | {c: pd.Series(dtype=float) for c in ("score", "match_weight")}
            | {c: pd.Series(dtype="int64") for c in gamma_cols}
        )[DECISION_COLUMNS + gamma_cols]
    best_any = cands.sort_values(
        ["eid_l", "match_weight", "eid_r"], ascending=[True, False, True], kind="stable"
    )
    best_any = best_any.drop_duplicates("eid_l")
    available = cands[~cands["eid_r"].isin(unavailable)] if one_to_one else cands
    scored = _with_share(available)
    scored = scored.sort_values(["score", "eid_l", "eid_r"], ascending=[False, True, True], kind="stable")
    if one_to_one:
        chosen, used_l, used_r = [], set(), set()
        eligible = scored[_reviewable(scored, thresholds)]
        for i, eid_l, eid_r in zip(eligible.index, eligible["eid_l"], eligible["eid_r"], strict=True):
            if eid_l in used_l or eid_r in used_r:
                continue
            used_l.add(eid_l)
            used_r.add(eid_r)
            chosen.append(i)
        picked = scored.loc[chosen]
    else:
        picked = scored.drop_duplicates("eid_l")
        picked = picked[_reviewable(picked, thresholds)]
    band = np.where(picked["score"] >= thresholds.accept, "accept", "review")
    band = np.where(_twin_like(picked, twins, cands) & (band == "accept"), "review", band)
    picked = picked.assign(band=band)
    # Everyone else: rejected, reported with their best candidate of all.
    rest = best_any[~best_any["eid_l"].isin(picked["eid_l"])]
    rest = (
        _with_share(cands[cands["eid_l"].isin(rest["eid_l"])])
        .sort_values(["eid_l", "score", "eid_r"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("eid_l")
    )
    # A one-to-one record whose best pupil another record took (an earlier stage's link: a duplicate
    # record of that child, say; or a stronger record's here) is offered for review with that pupil when
    # the pair is reviewable on its own: rejected, it read 'reject' at 0.998 with no word of why, and a
    # duplicate record's open looked-after episode was lost unseen (a social-care data lead's find).
    rest = rest.assign(band=np.where(_reviewable(rest, thresholds), "review", "reject"))
    out = pd.concat([picked, rest], ignore_index=True)
    out = out.sort_values("eid_l", kind="stable").reset_index(drop=True)
    return out[DECISION_COLUMNS + gamma_cols]
