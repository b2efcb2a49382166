"""Children's social care episodes (CIN, CPP, CLA) for the authority's children.

Involvement is drawn per family (twins are usually known to social care together) from a
propensity that rises with deprivation, FSM and SEN. Children who never appear in the census
(under school age, over 16, or at school outside the authority) are added so that they make up the
configured share of social-care children.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.upn import make_upn
from exclusion_risk.values import sigmoid

from .calendar import census_day
from .config import SynthConfig
from .names import ETHNICITY_POOLS, draw_names, gendered_surname
from .population import Population

DA_FACTORS = ("3A", "3B", "3C")
OTHER_FACTORS = {
    "4A": 0.1,
    "4B": 0.22,
    "1B": 0.12,
    "2B": 0.12,
    "5A": 0.04,
    "6A": 0.04,
    "7A": 0.02,
    "10A": 0.03,
    "11A": 0.03,
    "14A": 0.05,
    "21": 0.06,
}


@dataclass
class OtherChildren:
    """Social-care children absent from the census (identity only)."""

    male: np.ndarray
    ethnicity: np.ndarray
    forename: np.ndarray
    surname: np.ndarray
    dob: np.ndarray
    home: np.ndarray
    upn: np.ndarray  # "" for under-fives; another authority's UPN for those at school elsewhere


def _solve_intercept(propensity: np.ndarray, target: float) -> float:
    lo, hi = -12.0, 4.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sigmoid(mid + propensity).mean() < target else (lo, mid)
    return (lo + hi) / 2


def _episodes_for(
    rng: np.random.Generator,
    config: SynthConfig,
    child: np.ndarray,
    year_start: np.ndarray,
    intercept: float,
    propensity: np.ndarray,
) -> pd.DataFrame:
    """Episodes starting in the given child-years (child id, academic year start as datetime64[D])."""
    sc = config.social_care
    starts = rng.random(len(child)) < sigmoid(intercept + propensity)
    child, year_start = child[starts], year_start[starts]
    m = len(child)
    cin_start = year_start + rng.integers(0, 365, m).astype("timedelta64[D]")
    cin_days = rng.exponential(sc.cin_mean_days, m).astype(np.int64) + 14
    frames = []
    cpp = rng.random(m) < sc.cpp_given_cin
    cla = rng.random(m) < sc.cla_given_cin
    cpp_start = cin_start + rng.integers(14, 90, m).astype("timedelta64[D]")
    cpp_end = cpp_start + (rng.exponential(sc.cpp_mean_days, m).astype(np.int64) + 30).astype(
        "timedelta64[D]"
    )
    cla_start = cin_start + rng.integers(20, 200, m).astype("timedelta64[D]")
    cla_end = cla_start + (rng.exponential(sc.cla_mean_days, m).astype(np.int64) + 20).astype(
        "timedelta64[D]"
    )
    # a child protection plan sits inside its child-in-need episode
    cin_end = np.maximum(cin_start + cin_days.astype("timedelta64[D]"), np.where(cpp, cpp_end, cin_start))
    frames.append(pd.DataFrame({"child": child, "Status": "CIN", "start": cin_start, "end": cin_end}))
    frames.append(
        pd.DataFrame({"child": child[cpp], "Status": "CPP", "start": cpp_start[cpp], "end": cpp_end[cpp]})
    )
    frames.append(
        pd.DataFrame({"child": child[cla], "Status": "CLA", "start": cla_start[cla], "end": cla_end[cla]})
    )
    return pd.concat(frames, ignore_index=True)


def _open_before(
    rng: np.random.Generator,
    config: SynthConfig,
    child: np.ndarray,
    propensity: np.ndarray,
    window_start: np.datetime64,
    dob: np.ndarray,
) -> pd.DataFrame:
    """Episodes already open on the first day of the window (long-term care, ongoing CIN)."""
    sc = config.social_care
    frames = []
    for status, share, lookback, mean_days in (
        ("CLA", sc.cla_open_before_share, 8 * 365, sc.cla_mean_days),
        ("CIN", sc.cin_open_before_share, 365, sc.cin_mean_days),
    ):
        p = sigmoid(_solve_intercept(propensity, share) + propensity)
        pick = rng.random(len(child)) < p
        c, d = child[pick], dob[pick]
        age_days = (window_start - d).astype(np.int64)
        back = (rng.random(len(c)) * np.minimum(lookback, np.maximum(age_days - 30, 1))).astype(np.int64) + 1
        start = window_start - back.astype("timedelta64[D]")
        end = window_start + (rng.exponential(mean_days, len(c)).astype(np.int64) + 7).astype(
            "timedelta64[D]"
        )
        frames.append(pd.DataFrame({"child": c, "Status": status, "start": start, "end": end}))
    return pd.concat(frames, ignore_index=True)


def _drop_overlaps(ep: pd.DataFrame) -> pd.DataFrame:
    """A child has at most one open episode of each status at a time."""
    ep = ep.sort_values(["child", "Status", "start"]).reset_index(drop=True)
    prev_end = ep.groupby(["child", "Status"])["end"].shift()
    running = prev_end.groupby([ep["child"], ep["Status"]]).cummax()
    return ep[~(running >= ep["start"])].reset_index(drop=True)


def _add_details(rng: np.random.Generator, config: SynthConfig, ep: pd.DataFrame) -> pd.DataFrame:
    sc = config.social_care
    n = len(ep)
    needs = list(sc.primary_need_shares)
    p = np.array([sc.primary_need_shares[k] for k in needs], dtype=float)
    ep["PrimaryNeed"] = np.array(needs, dtype=object)[rng.choice(len(needs), n, p=p / p.sum())]
    is_cin = (ep["Status"] == "CIN").to_numpy()
    da = is_cin & (rng.random(n) < sc.domestic_abuse_share)
    da_code = np.array(DA_FACTORS, dtype=object)[rng.choice(3, n, p=[0.55, 0.35, 0.1])]
    factors = np.where(da, da_code, "").astype(object)
    for code, share in OTHER_FACTORS.items():
        add = is_cin & (rng.random(n) < share)
        factors = np.where(add, np.where(factors == "", code, factors + ";" + code), factors)
    ep["Factors"] = factors
    ep["domestic_abuse"] = da
    return ep


def build_social_care(
    config: SynthConfig, pop: Population, rng: np.random.Generator, n_locations: int
) -> tuple[pd.DataFrame, OtherChildren]:
    """Episodes with columns child (pupil index, or n + index into OtherChildren), Status, start, end,
    PrimaryNeed, Factors, domestic_abuse; plus the identities of the children not in the census."""
    sc = config.social_care
    n_years = len(config.years)
    y0 = config.start_years[0]
    window_start = np.datetime64(f"{y0}-09-01")
    year_starts = np.array([np.datetime64(f"{y}-09-01") for y in config.start_years])

    # family level: one row per family, the first member speaks for both twins
    fam_first = np.flatnonzero(np.r_[True, pop.family[1:] != pop.family[:-1]])
    f_prop = pop.sc_propensity[fam_first]
    entry_year = pop.entry_k[fam_first] // 3
    exit_year = (pop.exit_k[fam_first] - 1) // 3
    years = np.arange(n_years)[None, :]
    before_school = (pop.new_year[fam_first] < 0)[:, None] & (pop.cohort[fam_first][:, None] + years >= -4)
    eligible = ((years >= entry_year[:, None]) & (years <= exit_year[:, None])) | (
        before_school & (years < entry_year[:, None])
    )
    fam_idx, year_idx = np.nonzero(eligible)
    intercept = _solve_intercept(f_prop, sc.cin_start_rate)
    ep = _episodes_for(rng, config, fam_idx, year_starts[year_idx], intercept, f_prop[fam_idx])
    in_at_start = entry_year == 0
    ep = pd.concat(
        [
            ep,
            _open_before(
                rng,
                config,
                np.flatnonzero(in_at_start),
                f_prop[in_at_start],
                window_start,
                pop.dob[fam_first][in_at_start],
            ),
        ],
        ignore_index=True,
    )

    # expand families to children: twin B shares each episode with probability twin_shares_episode
    fam = ep["child"].to_numpy()
    first = fam_first[fam]
    has_twin = pop.twin[first] >= 0
    lead_is_first = rng.random(len(ep)) < 0.5
    lead = np.where(has_twin & ~lead_is_first, pop.twin[first], first)
    ep["child"] = lead
    shared = has_twin & (rng.random(len(ep)) < sc.twin_shares_episode)
    copy = ep[shared].copy()
    copy["child"] = np.where(lead[shared] == first[shared], pop.twin[first[shared]], first[shared])
    ep = pd.concat([ep, copy], ignore_index=True)

    # children who are never in the census
    n_sc_pupils = ep["child"].nunique()
    n_other = int(round(n_sc_pupils * sc.not_in_census_share / (1 - sc.not_in_census_share)))
    others, other_ep = _other_children(config, rng, n_other, n_locations)
    other_ep["child"] += pop.n
    ep = pd.concat([ep, other_ep], ignore_index=True)
    ep = _drop_overlaps(ep)
    return _add_details(rng, config, ep), others


def _other_children(
    config: SynthConfig, rng: np.random.Generator, m: int, n_locations: int
) -> tuple[OtherChildren, pd.DataFrame]:
    y0, y_last = config.start_years[0], config.start_years[-1]
    kind = rng.choice(3, m, p=[0.45, 0.25, 0.3])  # under school age, over 16, at school elsewhere
    young_from = np.datetime64(f"{y_last - 4}-09-01")
    young = young_from + rng.integers(0, 4 * 365, m).astype("timedelta64[D]")
    old = np.datetime64(f"{y0 - 17}-09-01") + rng.integers(0, 365, m).astype("timedelta64[D]")
    school_age = np.datetime64(f"{y0 - 14}-09-01") + rng.integers(0, 9 * 365, m).astype("timedelta64[D]")
    dob = np.where(kind == 0, young, np.where(kind == 1, old, school_age))
    # the episode year: after birth for the youngest, while under 18 for the oldest
    n_years = len(config.years)
    year = np.where(kind == 1, rng.integers(0, min(2, n_years), m), rng.integers(0, n_years, m))
    first_start = np.array([np.datetime64(f"{y}-09-01") for y in config.start_years])[year]
    earliest = np.maximum(first_start, dob + np.timedelta64(14, "D"))
    shares = config.population.ethnicity_shares
    eth = np.array(list(shares), dtype=object)[
        rng.choice(len(shares), m, p=np.array(list(shares.values())) / sum(shares.values()))
    ]
    male = rng.random(m) < 0.52
    forename = np.empty(m, dtype=object)
    surname = np.empty(m, dtype=object)
    for e in np.unique(eth):
        idx = np.flatnonzero(eth == e)
        pools = ETHNICITY_POOLS[e]
        comm = pools[int(np.argmax([w for _, w in pools]))][0]
        tails = config.population.british_surname_tail, config.population.british_forename_tail
        forename[idx], surname[idx] = draw_names(rng, comm, male[idx], *tails)
    surname = gendered_surname(surname, male)
    upn = np.full(m, "", dtype=object)
    elsewhere = np.flatnonzero(kind != 0)
    las = np.array(config.authority.neighbour_las)
    upn[elsewhere] = [
        make_upn(int(la), int(e), int(y) % 100, int(s))
        for la, e, y, s in zip(
            las[rng.integers(0, len(las), len(elsewhere))],
            rng.integers(1000, 7000, len(elsewhere)),
            (dob[elsewhere].astype("datetime64[Y]").astype(int) + 1970 + 5),
            rng.integers(0, 1000, len(elsewhere)),
            strict=True,
        )
    ]
    # these children are known to social care by selection: every one has an episode
    ep = _episodes_for(rng, config, np.arange(m), earliest, 50.0, np.zeros(m))
    ep["start"] = np.maximum(ep["start"].to_numpy(), dob[ep["child"]] + np.timedelta64(1, "D"))
    ep["end"] = np.maximum(ep["end"].to_numpy(), ep["start"].to_numpy() + np.timedelta64(14, "D"))
    others = OtherChildren(
        male=male,
        ethnicity=eth,
        forename=forename,
        surname=surname,
        dob=dob,
        home=rng.integers(0, n_locations, m),
        upn=upn,
    )
    return others, ep


def census_status(ep: pd.DataFrame, n_pupils: int, start_year: int) -> dict[str, np.ndarray]:
    """What social care shows about each pupil on the autumn census day of `start_year`."""
    day = np.datetime64(census_day(start_year))
    known = ep[(ep["child"] < n_pupils) & (ep["start"].to_numpy() <= day)]
    is_open = known["end"].to_numpy() > day
    out = {}
    for status in ("CIN", "CPP", "CLA"):
        flag = np.zeros(n_pupils, bool)
        flag[known.loc[is_open & (known["Status"] == status).to_numpy(), "child"].to_numpy()] = True
        out[f"{status.lower()}_open"] = flag
    ever = np.zeros(n_pupils, bool)
    ever[known["child"].to_numpy()] = True
    da = np.zeros(n_pupils, bool)
    da[known.loc[known["domestic_abuse"].to_numpy(), "child"].to_numpy()] = True
    out["past"] = ever & ~(out["cin_open"] | out["cpp_open"] | out["cla_open"])
    out["domestic_abuse"] = da
    return out
