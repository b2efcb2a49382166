"""Suspensions and permanent exclusions, drawn year by year from the true risk.

Each year: the state of every pupil on the autumn census is assembled, the yearly intercept is solved
so the mean whole-year risk equals the base rate, events before census day are drawn (known at
census: "this year so far"), then events after census day are drawn with the exact probability
written to the truth as `true_probability`. A permanent exclusion is a pupil's last event of the
year and moves them to another school. Last year's suspensions feed next year's risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.values import sigmoid

from .attendance import Attendance
from .calendar import TERMS, fraction_before_census, school_year, term_of
from .config import SEN_TYPES, SynthConfig
from .geography import Geography, Schools
from .population import Population
from .risk import CensusState, linear_predictor, solve_intercept, split_probability
from .social_care import census_status

_SEMH = SEN_TYPES.index("SEMH")


@dataclass
class ExclusionHistory:
    events: pd.DataFrame  # pupil, date, perm, t, before_census, school, Category, Sessions, Reason
    pupil_years: pd.DataFrame  # pupil, t, true_probability, label, label_permanent, label_repeat


def _state_at(
    pop: Population,
    geo: Geography,
    schools: Schools,
    att: Attendance,
    sc: dict[str, np.ndarray],
    rows: np.ndarray,
    k: np.ndarray,
    t: int,
    susp: np.ndarray,
    perm_before: np.ndarray,
) -> CensusState:
    first_k = 3 * t
    fsm_before = (
        (pop.present[:, :first_k] & pop.fsm[:, :first_k]).any(axis=1)[rows]
        if first_k
        else np.zeros(len(rows), bool)
    )
    sen = pop.sen[rows, k]
    return CensusState(
        male=pop.male[rows],
        ncy=pop.ncy[rows, k],
        fsm_now=pop.fsm[rows, k],
        fsm_before=fsm_before,
        sen=sen,
        sen_type=np.where(sen > 0, pop.sen_type[rows], -1),
        ethnicity=pop.ethnicity[rows],
        idaci_decile=geo.idaci_decile[pop.home[rows]],
        absence_rate=att.rate(t)[rows],
        susp_last_year=susp[rows, t - 1] if t else np.zeros(len(rows), np.int64),
        susp_before=(susp[rows, : t - 1].sum(axis=1) > 0) if t > 1 else np.zeros(len(rows), bool),
        perm_before=perm_before[rows],
        cin_open=sc["cin_open"][rows],
        cpp_open=sc["cpp_open"][rows],
        cla_open=sc["cla_open"][rows],
        social_care_past=sc["past"][rows],
        domestic_abuse=sc["domestic_abuse"][rows],
        school_effect=schools.effect[pop.school[rows, k]],
        pupil_effect=pop.u[rows],
    )


def _dates(
    rng: np.random.Generator, days: np.ndarray, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`counts[i]` school days drawn uniformly from days[lo[i]:hi[i]] (hi exclusive), per row i."""
    owner = np.repeat(np.arange(len(counts)), counts)
    width = np.maximum(hi - lo, 1)[owner]
    idx = lo[owner] + (rng.random(len(owner)) * width).astype(np.int64)
    return owner, days[np.clip(idx, 0, len(days) - 1)]


def simulate_exclusions(
    config: SynthConfig,
    pop: Population,
    geo: Geography,
    schools: Schools,
    att: Attendance,
    episodes: pd.DataFrame,
    rng: np.random.Generator,
) -> ExclusionHistory:
    rm, sc_cfg, ex = config.risk, config.schools, config.exclusions
    n, n_years = pop.n, len(config.years)
    susp = np.zeros((n, n_years), np.int64)
    perm_before = np.zeros(n, bool)
    event_frames, truth_frames = [], []
    for t, y in enumerate(config.start_years):
        sy = school_year(y)
        days = sy.days
        f_pre = fraction_before_census(y)
        census = sy.census[calendar.AUTUMN]
        c = int(np.searchsorted(days, census))
        after = c + 1 if c < len(days) and days[c] == census else c
        sc = census_status(episodes, n, y)
        k0 = 3 * t

        # --- pupils on the autumn census --------------------------------------------------------------
        aut = np.flatnonzero(pop.present[:, k0])
        state = _state_at(pop, geo, schools, att, sc, aut, np.full(len(aut), k0), t, susp, perm_before)
        z = linear_predictor(rm, state)
        b0 = solve_intercept(z, rm.base_rate)
        q = sigmoid(b0 + z)
        pre = rng.random(len(aut)) < split_probability(q, f_pre)
        p_post = split_probability(sigmoid(b0 + z + rm.so_far * pre), 1 - f_pre)
        label = rng.random(len(aut)) < p_post
        extra_rate = ex.extra_events_mean * np.minimum(4.0, (q / rm.base_rate) ** ex.extra_events_power)
        n_pre = pre * (1 + rng.poisson(0.25 * extra_rate))
        n_post = label * (1 + rng.poisson(extra_rate))

        # --- pupils arriving after the autumn census: risk from their first census row ----------------
        arr_k = np.where(
            pop.present[:, k0 + 1] & ~pop.present[:, k0],
            k0 + 1,
            np.where(pop.present[:, k0 + 2] & ~pop.present[:, k0 + 1] & ~pop.present[:, k0], k0 + 2, -1),
        )
        arr = np.flatnonzero(arr_k >= 0)
        a_state = _state_at(pop, geo, schools, att, sc, arr, arr_k[arr], t, susp, perm_before)
        q_arr = sigmoid(b0 + linear_predictor(rm, a_state))
        arr_census = np.array([sy.census[t] for t in TERMS[1:]])[arr_k[arr] - k0 - 1]
        arr_lo = np.searchsorted(days, arr_census) + 1
        frac_arr = (len(days) - arr_lo) / (len(days) - 1)
        arr_label = rng.random(len(arr)) < split_probability(q_arr, frac_arr)
        n_arr = arr_label * (1 + rng.poisson(ex.extra_events_mean, len(arr)))

        # --- permanent exclusion: the last event of a pupil with events after census ------------------
        rows = np.r_[aut, arr]
        has_post = np.r_[label, arr_label]
        posts = np.r_[n_post, n_arr]
        k_row = np.r_[np.full(len(aut), k0), arr_k[arr]]
        school_row = pop.school[rows, k_row]
        w = (
            sc_cfg.perm_high_excluder * schools.high_excluder[school_row]
            + sc_cfg.perm_secondary * (pop.ncy[rows, k_row] >= 7)
            + sc_cfg.perm_semh * ((pop.sen[rows, k_row] > 0) & (pop.sen_type[rows] == _SEMH))
            + sc_cfg.perm_susp_last_year * ((susp[rows, t - 1] > 0) if t else 0)
            + sc_cfg.perm_so_far * np.r_[pre, np.zeros(len(arr), bool)]
            + sc_cfg.perm_events * (posts - 1).clip(0)
        )
        cand = np.flatnonzero(has_post)
        target = sc_cfg.perm_rate * len(aut) / max(len(cand), 1)
        a = solve_intercept(w[cand], min(target, 0.99))
        perm = np.zeros(len(rows), bool)
        perm[cand] = rng.random(len(cand)) < sigmoid(a + w[cand])

        # --- dates: before census in [first day, census), after census until the pupil leaves ---------
        exit_k = pop.exit_k[rows]
        leaves_in_year = exit_k < k0 + 3
        exit_census = np.array([sy.census[t] for t in TERMS])[
            np.clip(exit_k - k0, 0, 2)
        ]
        hi = np.where(leaves_in_year, np.searchsorted(days, exit_census), len(days))
        lo = np.r_[np.full(len(aut), after), arr_lo]
        hi = np.maximum(hi, lo + 1)
        o_pre, d_pre = _dates(rng, days, n_pre, np.zeros(len(aut), np.int64), np.full(len(aut), c))
        o_post, d_post = _dates(rng, days, posts, lo, hi)
        ev = pd.DataFrame(
            {
                "row": np.r_[o_pre, o_post],
                "date": np.r_[d_pre, d_post],
                "before_census": np.r_[np.ones(len(o_pre), bool), np.zeros(len(o_post), bool)],
            }
        ).sort_values(["row", "before_census", "date"], ascending=[True, False, True], kind="stable")
        last_post = ~ev["before_census"].to_numpy() & ~ev["row"].duplicated(keep="last").to_numpy()
        ev["perm"] = last_post & perm[ev["row"].to_numpy()]
        ev["pupil"] = rows[ev["row"].to_numpy()]
        ev["t"] = t
        dates = ev["date"].to_numpy()
        k_event = k0 + term_of(dates, y)
        pupils = ev["pupil"].to_numpy()
        school_ev = pop.school[pupils, k_event]
        school_ev = np.where(school_ev >= 0, school_ev, pop.school[pupils, k_row[ev["row"].to_numpy()]])
        ev["school"] = school_ev
        ev["k"] = k_event
        event_frames.append(ev.drop(columns="row"))

        # --- consequences: a permanently excluded pupil goes to another school ---------------------------
        for pupil, kp, s in ev.loc[ev["perm"], ["pupil", "k", "school"]].itertuples(index=False):
            _move_after_permanent(pop, schools, rng, int(pupil), int(kp), int(s))
        np.add.at(susp[:, t], pupils[~ev["perm"].to_numpy()], 1)
        perm_before[pupils[ev["perm"].to_numpy()]] = True

        post_perm = perm[: len(aut)]
        truth_frames.append(
            pd.DataFrame(
                {
                    "pupil": aut,
                    "t": t,
                    "true_probability": p_post,
                    "label": label,
                    "label_permanent": post_perm,
                    "label_repeat": (n_post - post_perm) >= 2,
                }
            )
        )
    events = pd.concat(event_frames, ignore_index=True)
    events = _describe(config, events, rng)
    return ExclusionHistory(events=events, pupil_years=pd.concat(truth_frames, ignore_index=True))


def _move_after_permanent(
    pop: Population, schools: Schools, rng: np.random.Generator, pupil: int, k: int, excluding: int
) -> None:
    later = np.arange(k + 1, pop.school.shape[1])
    at_school = later[pop.school[pupil, later] == excluding]
    if not len(at_school):
        return
    phase = int(schools.secondary[excluding])
    new = pop.second_school[pupil, phase]
    if new == excluding:
        options = np.flatnonzero((schools.secondary == bool(phase)) & (np.arange(len(schools)) != excluding))
        new = rng.choice(options) if len(options) else excluding
    pop.school[pupil, at_school] = new
    pop.second_school[pupil, phase] = new


def _describe(config: SynthConfig, ev: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Category (PERM, SUSP, older FIXD, lunchtime LUNC), sessions and CBDS reason codes."""
    ex = config.exclusions
    m = len(ev)
    perm = ev["perm"].to_numpy()
    start_year = np.asarray(config.start_years)[ev["t"].to_numpy()]
    lunch = ~perm & (rng.random(m) < ex.lunch_share)
    fixd = ~perm & ~lunch & (start_year < 2020) & (rng.random(m) < ex.fixd_share_before_2020)
    ev["Category"] = np.where(perm, "PERM", np.where(lunch, "LUNC", np.where(fixd, "FIXD", "SUSP")))
    lengths = np.array(list(ex.session_lengths), dtype=np.int64)
    lp = np.array(list(ex.session_lengths.values()), dtype=float)
    sessions = lengths[rng.choice(len(lengths), m, p=lp / lp.sum())].astype(float)
    sessions = np.where(lunch, 1.0, sessions)
    ev["Sessions"] = np.where(perm, np.nan, sessions)
    codes = np.array(list(ex.reason_shares), dtype=object)
    rp = np.array(list(ex.reason_shares.values()), dtype=float)
    rp = rp / rp.sum()
    first = rng.choice(len(codes), m, p=rp)
    second = rng.choice(len(codes), m, p=rp)
    third = rng.choice(len(codes), m, p=rp)
    u = rng.random(m)
    n_reasons = 1 + (u < ex.two_reasons_share + ex.three_reasons_share) + (u < ex.three_reasons_share)
    reason = codes[first].copy()
    two = (n_reasons >= 2) & (second != first)
    reason[two] = reason[two] + ";" + codes[second[two]]
    three = (n_reasons >= 3) & (third != first) & (third != second) & two
    reason[three] = reason[three] + ";" + codes[third[three]]
    ev["Reason"] = reason
    return ev.reset_index(drop=True)
