"""The authority's pupils: who they are and, term by term, where they are and what the census records.

Pupils come in families (a family is one child, or a pair of twins who share surname, date of birth,
home and school). Each census term k = 3 * year + term (AUT, SPR, SUM) has a grid of states: on roll,
NC year, school, FSM, SEN provision. Pupils progress a year group each September, move from primary
to secondary at Year 7, a new Reception cohort arrives each year, others arrive or leave mid-way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.upn import CHECK_ALPHABET, make_temporary_upn, make_upn
from exclusion_risk.values import sigmoid

from .config import SEN_TYPES, SynthConfig
from .geography import Geography, Schools, nearest_school_choices
from .names import COMMUNITIES, ETHNICITY_POOLS, EXTENDED_CODES, HOME_LANGUAGE, draw_names, gendered_surname

SEN_N, SEN_K, SEN_E = 0, 1, 2


@dataclass
class Population:
    """Per-pupil arrays (length n) and per-pupil-term grids (n x K)."""

    family: np.ndarray
    male: np.ndarray
    ethnicity: np.ndarray  # main CBDS code
    ethnicity_written: np.ndarray  # what the census writes (an extended code for a few pupils)
    community: np.ndarray
    language: np.ndarray
    forename: np.ndarray
    middle: np.ndarray  # "" when none
    surname: np.ndarray
    preferred_surname: np.ndarray
    former_surname: np.ndarray
    dob: np.ndarray  # datetime64[D]
    cohort: np.ndarray  # NC year at the first year (R = 0); negative for later Reception intakes
    entry_k: np.ndarray
    exit_k: np.ndarray
    new_year: np.ndarray  # year index the pupil arrived from outside the authority, -1 if before
    home: np.ndarray  # postcode index
    twin: np.ndarray  # index of the co-twin, -1 when none
    upn: np.ndarray  # permanent UPN ("" when the pupil only ever had a temporary one)
    temp_upn: np.ndarray  # "" when none
    temp_until_k: np.ndarray  # first term the permanent UPN is used
    u: np.ndarray  # unobserved pupil effect on exclusion log-odds
    absence_latent: np.ndarray
    sc_propensity: np.ndarray  # social-care involvement propensity (logit scale)
    sen_type: np.ndarray  # index into SEN_TYPES, -1 when never SEN
    sen_type2: np.ndarray
    # grids n x K
    present: np.ndarray
    ncy: np.ndarray
    school: np.ndarray
    second_school: np.ndarray  # per pupil and phase (n x 2): where a pupil goes when moved on
    fsm: np.ndarray
    sen: np.ndarray

    @property
    def n(self) -> int:
        return len(self.male)

    def upn_at(self, k: np.ndarray | int) -> np.ndarray:
        """UPN the census records in term k (temporary before `temp_until_k`)."""
        use_temp = (self.temp_upn != "") & (np.asarray(k) < self.temp_until_k)
        return np.where(use_temp, self.temp_upn, self.upn)

    def current_upn(self) -> np.ndarray:
        """The pupil's UPN on their latest census row: the truth's `upn`."""
        return self.upn_at(self.exit_k - 1)


def _family_sizes(rng: np.random.Generator, pupils: int, twin_share: float) -> np.ndarray:
    pair_share = twin_share / (2 - twin_share)
    sizes = 1 + (rng.random(pupils) < pair_share)
    total = np.cumsum(sizes)
    keep = total <= pupils
    sizes = sizes[keep]
    if sizes.sum() < pupils:
        sizes = np.r_[sizes, np.ones(pupils - sizes.sum(), dtype=sizes.dtype)]
    return sizes


def _dob_for_cohort(rng: np.random.Generator, first_year: int, cohort: np.ndarray) -> np.ndarray:
    """Born 1 Sep (Y - c - 5) .. 31 Aug (Y - c - 4): NC year c in academic year starting Y."""
    birth_year = first_year - cohort - 5
    start = (np.array(birth_year - 1970, dtype="datetime64[Y]") + np.timedelta64(8, "M")).astype(
        "datetime64[D]"
    )
    offset = rng.integers(0, 365, len(cohort))
    return start + offset.astype("timedelta64[D]")


def build_population(
    config: SynthConfig, geo: Geography, schools: Schools, rng: np.random.Generator
) -> Population:
    pop_cfg = config.population
    n_years = len(config.years)
    n_terms = 3 * n_years
    y0 = config.start_years[0]
    n0 = config.pupils

    # --- families: the initial roll, later Reception intakes, arrivals from outside -------------------
    initial_sizes = _family_sizes(rng, n0, pop_cfg.twin_share)
    n_init = len(initial_sizes)
    cohort_weights = 1 + rng.normal(0, 0.04, 12)
    init_cohort = rng.choice(12, n_init, p=cohort_weights / cohort_weights.sum())
    init_entry = np.zeros(n_init, np.int64)
    new_year_init = np.where(
        (init_cohort >= 1)
        & (rng.random(n_init) < pop_cfg.annual_arrival_rate * (1 - pop_cfg.midyear_move_share)),
        0,
        -1,
    )

    parts_sizes, parts_cohort, parts_entry, parts_new = (
        [initial_sizes],
        [init_cohort],
        [init_entry],
        [new_year_init],
    )
    per_group = n0 / 12
    for t in range(1, n_years):
        sizes = _family_sizes(rng, int(round(per_group * (1 + rng.normal(0, 0.03)))), pop_cfg.twin_share)
        parts_sizes.append(sizes)
        parts_cohort.append(np.full(len(sizes), -t))
        parts_entry.append(np.full(len(sizes), 3 * t))
        parts_new.append(np.full(len(sizes), -1))
    for t in range(n_years):
        n_arr = int(round(n0 * pop_cfg.annual_arrival_rate))
        sizes = _family_sizes(rng, n_arr, pop_cfg.twin_share)
        midyear = rng.random(len(sizes)) < pop_cfg.midyear_move_share
        if t == 0:  # summer arrivals before the first census are part of the initial roll
            sizes = sizes[midyear]
            midyear = midyear[midyear]
        term = np.where(midyear, rng.integers(1, 3, len(sizes)), 0)
        ncy = rng.integers(1, 12, len(sizes))
        parts_sizes.append(sizes)
        parts_cohort.append(ncy - t)
        parts_entry.append(3 * t + term)
        parts_new.append(np.full(len(sizes), t))
    f_size = np.concatenate(parts_sizes)
    f_cohort = np.concatenate(parts_cohort)
    f_entry = np.concatenate(parts_entry).astype(np.int64)
    f_new = np.concatenate(parts_new)
    n_fam = len(f_size)

    # leaving the authority: a yearly hazard, mostly over the summer, some mid-year
    years_stay = rng.geometric(pop_cfg.annual_leaver_rate, n_fam)
    leave_year = f_entry // 3 + years_stay - 1
    leave_term = np.where(rng.random(n_fam) < pop_cfg.midyear_move_share, rng.integers(1, 3, n_fam), 3)
    leave_k = 3 * leave_year + leave_term
    end_y11 = 3 * (11 - f_cohort) + 3
    f_exit = np.minimum.reduce([leave_k, end_y11, np.full(n_fam, n_terms)])
    f_exit = np.maximum(f_exit, f_entry + 1)

    # --- family attributes: ethnicity, home, surname, FSM propensity ----------------------------------
    eth_codes = np.array(list(pop_cfg.ethnicity_shares), dtype=object)
    eth_p = np.array(list(pop_cfg.ethnicity_shares.values()), dtype=float)
    f_eth = eth_codes[rng.choice(len(eth_codes), n_fam, p=eth_p / eth_p.sum())]
    f_comm = np.empty(n_fam, dtype=object)
    for eth in np.unique(f_eth):
        idx = np.flatnonzero(f_eth == eth)
        pools = ETHNICITY_POOLS[eth]
        names, weights = zip(*pools, strict=True)
        f_comm[idx] = np.array(names, dtype=object)[rng.choice(len(names), len(idx), p=np.array(weights))]
    f_home = rng.integers(0, len(geo), n_fam)
    deprivation = (10 - geo.idaci_decile[f_home]) / 9.0
    eth_shift = np.array([pop_cfg.fsm_ethnicity.get(e, 0.0) for e in f_eth])
    f_fsm_p = sigmoid(pop_cfg.fsm_intercept + pop_cfg.fsm_deprivation * deprivation + eth_shift)
    f_dob = _dob_for_cohort(rng, y0, f_cohort)

    # --- expand families to pupils --------------------------------------------------------------------
    family = np.repeat(np.arange(n_fam), f_size)
    n = len(family)
    first_in_family = np.r_[True, family[1:] != family[:-1]]
    twin = np.full(n, -1)
    second = np.flatnonzero(~first_in_family)
    twin[second] = second - 1
    twin[second - 1] = second
    male = rng.random(n) < 0.512
    cohort, entry_k, exit_k = f_cohort[family], f_entry[family], f_exit[family]
    ethnicity, community, home = f_eth[family], f_comm[family], f_home[family]

    forename = np.empty(n, dtype=object)
    middle = np.full(n, "", dtype=object)
    surname = np.empty(n, dtype=object)
    f_surname = np.empty(n_fam, dtype=object)
    tail, forenames = pop_cfg.british_surname_tail, pop_cfg.british_forename_tail
    for comm in np.unique(f_comm):
        fidx = np.flatnonzero(f_comm == comm)
        _, f_surname[fidx] = draw_names(rng, comm, np.ones(len(fidx), bool), tail)
    for comm in np.unique(community):
        idx = np.flatnonzero(community == comm)
        forename[idx], _ = draw_names(rng, comm, male[idx], forename_tail=forenames)
        has_middle = rng.random(len(idx)) < pop_cfg.middle_name_share
        mids, _ = draw_names(rng, comm, male[idx], forename_tail=forenames)
        middle[idx[has_middle]] = mids[has_middle]
    # co-twins get a forename of their own
    clash = np.flatnonzero((twin >= 0) & (np.arange(n) > twin) & (forename == forename[np.maximum(twin, 0)]))
    for _ in range(10):
        if not len(clash):
            break
        for comm in np.unique(community[clash]):
            sub = clash[community[clash] == comm]
            forename[sub], _ = draw_names(rng, comm, male[sub], forename_tail=forenames)
        clash = clash[forename[clash] == forename[twin[clash]]]
    middle[middle == forename] = ""
    # hyphenated family surnames (British, Caribbean and mixed families)
    hyph_ok = np.isin(f_comm, ["british", "caribbean"]) & (
        rng.random(n_fam) < pop_cfg.hyphenated_surname_share
    )
    if hyph_ok.any():
        _, other = draw_names(rng, "british", np.ones(hyph_ok.sum(), bool), tail)
        f_surname[hyph_ok] = f_surname[hyph_ok] + "-" + other
        same = f_surname[hyph_ok] == np.array(
            [s.split("-")[0] + "-" + s.split("-")[0] for s in f_surname[hyph_ok]]
        )
        f_surname[np.flatnonzero(hyph_ok)[same]] = other[same] + "-Smith"
    surname = gendered_surname(f_surname[family], male)
    # personal surnames some girls are recorded under (Kaur, Begum, Bibi); never for twins
    for comm, pool in COMMUNITIES.items():
        if not pool.girls_surnames:
            continue
        idx = np.flatnonzero((community == comm) & ~male & (twin < 0))
        pick = idx[rng.random(len(idx)) < pool.girls_surname_share]
        surname[pick] = np.array(pool.girls_surnames, dtype=object)[
            rng.integers(0, len(pool.girls_surnames), len(pick))
        ]
    preferred = np.full(n, "", dtype=object)
    has_pref = rng.random(n) < pop_cfg.preferred_surname_share
    _, pref = draw_names(rng, "british", np.ones(has_pref.sum(), bool), tail)
    preferred[has_pref] = pref
    former = np.full(n, "", dtype=object)
    has_former = rng.random(n) < pop_cfg.former_surname_share
    _, old = draw_names(rng, "british", np.ones(has_former.sum(), bool), tail)
    former[has_former] = old
    preferred[preferred == surname] = ""
    former[former == surname] = ""

    written = ethnicity.copy()
    for main, codes in EXTENDED_CODES.items():
        idx = np.flatnonzero((ethnicity == main) & (rng.random(n) < pop_cfg.extended_code_share))
        written[idx] = np.array(codes, dtype=object)[rng.integers(0, len(codes), len(idx))]
    language = np.full(n, "ENG", dtype=object)
    for comm, lang in HOME_LANGUAGE.items():
        idx = np.flatnonzero((community == comm) & (rng.random(n) < 0.6))
        language[idx] = lang

    # --- term grids: roll, NC year, schools -----------------------------------------------------------
    k = np.arange(n_terms)[None, :]
    present = (k >= entry_k[:, None]) & (k < exit_k[:, None])
    ncy = cohort[:, None] + k // 3
    f_prim, f_prim2 = nearest_school_choices(
        geo, schools, f_home, False, config.authority.school_choice_nearest, rng
    )
    f_sec, f_sec2 = nearest_school_choices(
        geo, schools, f_home, True, config.authority.school_choice_nearest, rng
    )
    # an in-year school move: after term m the family's school of that phase is its second choice
    move_p = 1 - (1 - pop_cfg.in_year_school_move_rate) ** n_years
    f_move = np.where(rng.random(n_fam) < move_p, rng.integers(1, n_terms, n_fam), n_terms + 1)
    is_sec = ncy >= 7
    move_k = f_move[family][:, None]
    phase_at_move = (cohort + move_k[:, 0] // 3) >= 7
    moved = (k >= move_k) & (is_sec == phase_at_move[:, None])
    prim, prim2, sec, sec2 = (a[family][:, None] for a in (f_prim, f_prim2, f_sec, f_sec2))
    school = np.where(is_sec, np.where(moved, sec2, sec), np.where(moved, prim2, prim))
    school = np.where(present, school, -1)
    second_school = np.c_[f_prim2[family], f_sec2[family]]

    # --- FSM: a family-level chain that keeps each family's own long-run probability --------------------
    f_fsm = np.empty((n_fam, n_terms), dtype=bool)
    f_fsm[:, 0] = rng.random(n_fam) < f_fsm_p
    for kk in range(1, n_terms):
        redraw = rng.random(n_fam) < pop_cfg.fsm_term_churn
        f_fsm[:, kk] = np.where(redraw, rng.random(n_fam) < f_fsm_p, f_fsm[:, kk - 1])
    fsm = f_fsm[family]

    # --- SEN: who ever has needs, of what type, from when, with or without an EHC plan ----------------
    fsm0 = fsm[:, 0]
    base_logit = np.log(pop_cfg.sen_male_odds) * male + np.log(pop_cfg.sen_fsm_odds) * fsm0
    lo, hi = -8.0, 4.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sigmoid(mid + base_logit).mean() < pop_cfg.sen_ever_share else (lo, mid)
    sen_ever = rng.random(n) < sigmoid(lo + base_logit)
    type_names = list(pop_cfg.sen_type_shares)
    type_p = np.array([pop_cfg.sen_type_shares[t] for t in type_names], dtype=float)
    semh_col = type_names.index("SEMH") if "SEMH" in type_names else None
    sen_type = np.full(n, -1)
    for is_male in (False, True):
        p = type_p.copy()
        if semh_col is not None:
            p[semh_col] *= pop_cfg.semh_male_odds if is_male else 1 / np.sqrt(pop_cfg.semh_male_odds)
        idx = np.flatnonzero(sen_ever & (male == is_male))
        chosen = np.array(type_names)[rng.choice(len(p), len(idx), p=p / p.sum())]
        sen_type[idx] = [SEN_TYPES.index(t) for t in chosen]
    onset_p = np.array([0.3, 0.17, 0.12, 0.09, 0.07, 0.06, 0.05, 0.05, 0.04, 0.03, 0.015, 0.005])
    onset_ncy = rng.choice(12, n, p=onset_p / onset_p.sum())
    semh = sen_type == SEN_TYPES.index("SEMH")
    onset_ncy = np.where(semh, np.minimum(11, onset_ncy + rng.integers(0, 4, n)), onset_ncy)
    onset_pos = onset_ncy * 3 + rng.integers(0, 3, n)
    severe = np.isin(sen_type, [SEN_TYPES.index(t) for t in ("SLD", "PMLD", "MSI", "ASD", "PD")])
    ehc = rng.random(n) < np.where(severe, 3.0, 0.8) * pop_cfg.ehc_share_of_sen
    ehc_pos = onset_pos + rng.integers(0, 10, n)
    resolve = ~ehc & (rng.random(n) < pop_cfg.sen_resolve_share)
    resolve_pos = np.where(resolve, onset_pos + rng.integers(3, 18, n), 999)
    pos = ncy * 3 + k % 3
    sen = np.where(
        sen_ever[:, None] & (pos >= onset_pos[:, None]) & (pos < resolve_pos[:, None]), SEN_K, SEN_N
    )
    sen = np.where((sen == SEN_K) & ehc[:, None] & (pos >= ehc_pos[:, None]), SEN_E, sen).astype(np.int8)
    sen_type2 = np.where(
        sen_ever & (rng.random(n) < pop_cfg.secondary_need_share),
        rng.choice([SEN_TYPES.index(t) for t in ("SLCN", "SPLD", "MLD", "SEMH", "ASD")], n),
        -1,
    )
    sen_type2 = np.where(sen_type2 == sen_type, -1, sen_type2)

    # --- identifiers ------------------------------------------------------------------------------------
    upn, temp_upn, temp_until = _allocate_upns(
        config, rng, schools, family, cohort, entry_k, f_new[family], school, f_prim[family], twin
    )

    # --- latent traits -----------------------------------------------------------------------------------
    u = rng.normal(0, config.risk.pupil_sd, n)
    dep_pupil = deprivation[family]
    absence_latent = (
        pop_cfg.absence_logit_mean
        + rng.normal(0, pop_cfg.absence_logit_sd, n)
        + pop_cfg.absence_fsm_shift * f_fsm_p[family] / max(f_fsm_p.mean(), 1e-9) * 0.5
        + pop_cfg.absence_sen_shift * sen_ever
        + pop_cfg.absence_deprivation_shift * dep_pupil
    )
    scp = config.social_care
    f_sc = rng.normal(0, scp.propensity_sd, n_fam)
    sc_propensity = (
        f_sc[family]
        + scp.propensity_deprivation * dep_pupil
        + scp.propensity_fsm * f_fsm_p[family]
        + scp.propensity_sen * sen_ever
    )

    return Population(
        family=family,
        male=male,
        ethnicity=ethnicity,
        ethnicity_written=written,
        community=community,
        language=language,
        forename=forename,
        middle=middle,
        surname=surname,
        preferred_surname=preferred,
        former_surname=former,
        dob=f_dob[family],
        cohort=cohort,
        entry_k=entry_k,
        exit_k=exit_k,
        new_year=f_new[family],
        home=home,
        twin=twin,
        upn=upn,
        temp_upn=temp_upn,
        temp_until_k=temp_until,
        u=u,
        absence_latent=absence_latent,
        sc_propensity=sc_propensity,
        sen_type=sen_type,
        sen_type2=sen_type2,
        present=present,
        ncy=ncy,
        school=school,
        second_school=second_school,
        fsm=fsm,
        sen=sen,
    )


def _allocate_upns(
    config: SynthConfig,
    rng: np.random.Generator,
    schools: Schools,
    family: np.ndarray,
    cohort: np.ndarray,
    entry_k: np.ndarray,
    new_year: np.ndarray,
    school: np.ndarray,
    primary: np.ndarray,
    twin: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Permanent UPNs (LA, school, year of allocation, serial) with the DfE check letter.

    Pupils who started school here carry their first school's LA number and establishment number (one
    LA for an authority; several for a population too large for one LA's range); pupils from other
    authorities carry theirs; some arrivals are first recorded under a temporary UPN (last character
    a letter) that the census replaces a term or two later, leaving it as FormerUPN.
    """
    n = len(family)
    y0 = config.start_years[0]
    # a UPN is allocated by the school a pupil first joins: Reception for those who started here
    first_school = school[np.arange(n), np.clip(entry_k, 0, school.shape[1] - 1)]
    allocating = np.where(new_year >= 0, first_school, primary)
    la, estab = schools.la[allocating], schools.estab[allocating]
    reception_year = y0 - cohort
    arrived = new_year >= 0
    # families who moved in before the window also came from elsewhere
    from_elsewhere = arrived | (rng.random(n) < 0.08)
    temp = arrived & (rng.random(n) < config.population.temporary_upn_share)
    has_twin = twin >= 0
    temp[has_twin] |= temp[twin[has_twin]]
    other_la = np.array(config.authority.neighbour_las)[
        rng.integers(0, len(config.authority.neighbour_las), n)
    ]
    far = rng.random(n) < 0.4
    other_la = np.where(far, rng.integers(201, 940, n), other_la)
    other_la = np.where(other_la == la, la + 1, other_la)
    upn_la = np.where(from_elsewhere & ~temp, other_la, la)
    upn_estab = np.where(from_elsewhere & ~temp, rng.integers(1000, 7000, n), estab)
    upn_year = np.where(temp, y0 + new_year, reception_year) % 100
    # serials: unique within (LA, establishment, year); twins get consecutive ones
    df = pd.DataFrame(
        {"la": upn_la, "estab": upn_estab, "yy": upn_year, "fam": family, "r": rng.random(n)}
    ).sort_values(["la", "estab", "yy", "r", "fam"])
    serial = df.groupby(["la", "estab", "yy"], sort=False).cumcount().to_numpy()
    counts = df.groupby(["la", "estab", "yy"], sort=False)["fam"].transform("size").to_numpy()
    offset_room = np.maximum(1000 - counts, 1)
    group_offset = (
        df["la"].to_numpy() * 7919 + df["estab"].to_numpy() * 31 + df["yy"].to_numpy()
    ) % offset_room
    serial = serial + group_offset
    over = serial >= 1000  # a group bigger than 1000 spills into the next establishment number
    est = df["estab"].to_numpy() + over
    serial = serial % 1000
    upn_sorted = [
        make_upn(int(a), int(b), int(c), int(d))
        for a, b, c, d in zip(df["la"], est, df["yy"], serial, strict=True)
    ]
    upn = np.empty(n, dtype=object)
    upn[df.index.to_numpy()] = upn_sorted
    temp_upn = np.full(n, "", dtype=object)
    tidx = np.flatnonzero(temp)
    letters = np.array(list(CHECK_ALPHABET))[rng.integers(0, 23, len(tidx))]
    temp_upn[tidx] = [
        make_temporary_upn(int(a), e, y0 + y, s, c)
        for a, e, y, s, c in zip(
            la[tidx], estab[tidx], new_year[tidx], rng.integers(0, 100, len(tidx)), letters, strict=True
        )
    ]
    temp_until = np.where(temp, entry_k + rng.integers(1, 3, n), 0)
    # a twin pair moves to permanent UPNs together
    temp_until[has_twin] = np.maximum(temp_until[has_twin], temp_until[twin[has_twin]])
    dup = pd.Series(temp_upn[tidx]).duplicated().to_numpy()
    temp_upn[tidx[dup]] = ""
    return upn, temp_upn, temp_until
