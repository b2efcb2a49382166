"""The true exclusion risk: an explicit log-odds formula over what is known at the autumn census.

The formula and its coefficients are documented on `synth.config.RiskModel`; this module evaluates
it. Everything in it except the school effect and the small pupil effect is observable at census
(census row, last year's attendance, earlier exclusions, social care); the school effect is stable
across years, so it can be estimated from a school's past exclusion rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exclusion_risk.values import sigmoid

from .config import SEN_TYPES, RiskModel


@dataclass
class CensusState:
    """One row per pupil at one autumn census (arrays of equal length)."""

    male: np.ndarray
    ncy: np.ndarray  # 0 = Reception
    fsm_now: np.ndarray
    fsm_before: np.ndarray  # FSM on an earlier census row in the window
    sen: np.ndarray  # 0 N, 1 K, 2 E
    sen_type: np.ndarray  # index into SEN_TYPES, -1 none
    ethnicity: np.ndarray
    idaci_decile: np.ndarray
    absence_rate: np.ndarray  # NaN when the census shows no attendance
    susp_last_year: np.ndarray  # count of suspensions in the previous academic year
    susp_before: np.ndarray  # any suspension in earlier years than last
    perm_before: np.ndarray
    cin_open: np.ndarray
    cpp_open: np.ndarray
    cla_open: np.ndarray
    social_care_past: np.ndarray
    domestic_abuse: np.ndarray
    school_effect: np.ndarray
    pupil_effect: np.ndarray


def linear_predictor(rm: RiskModel, s: CensusState) -> np.ndarray:
    """z without the yearly intercept b0_t and without the 'so far this year' term."""
    ncy_coef = np.array([rm.ncy.get("R" if g == 0 else str(g), 0.0) for g in range(12)])
    type_coef = np.array([rm.sen_type.get(t, 0.0) for t in SEN_TYPES] + [0.0])  # last = no type
    eth_codes = np.unique(s.ethnicity)
    eth_coef = dict(zip(eth_codes, [rm.ethnicity.get(e, 0.0) for e in eth_codes], strict=True))
    eth_term = np.vectorize(eth_coef.get, otypes=[float])(s.ethnicity) if len(s.ethnicity) else np.zeros(0)
    has_sen = s.sen > 0
    absence = np.nan_to_num(s.absence_rate, nan=0.0)
    blank_attendance = np.isnan(s.absence_rate) & (s.ncy >= 1)
    z = (
        rm.male * s.male
        + ncy_coef[np.clip(s.ncy, 0, 11)]
        + rm.fsm_now * s.fsm_now
        + rm.fsm_ever * (s.fsm_before & ~s.fsm_now)
        + rm.sen_support * (s.sen == 1)
        + rm.ehc_plan * (s.sen == 2)
        + rm.sen_early * (has_sen & (s.ncy <= 2))
        + np.where(has_sen, type_coef[s.sen_type], 0.0)
        + eth_term
        + rm.deprivation * (10 - s.idaci_decile) / 9.0
        + rm.absence * absence
        + rm.persistent_absence * (absence >= 0.1)
        + rm.new_to_authority * blank_attendance
        + rm.susp_last_year * (s.susp_last_year > 0)
        + rm.susp_count_last_year * np.log(np.maximum(s.susp_last_year, 1))
        + rm.susp_before * s.susp_before
        + rm.perm_before * s.perm_before
        + rm.cin_open * s.cin_open
        + rm.cpp_open * s.cpp_open
        + rm.cla_open * s.cla_open
        + rm.social_care_past * s.social_care_past
        + rm.domestic_abuse * s.domestic_abuse
        + s.school_effect
        + s.pupil_effect
    )
    return z


def solve_intercept(z: np.ndarray, target: float) -> float:
    """b0 such that mean(sigmoid(b0 + z)) == target (bisection; the mean is monotone in b0)."""
    lo, hi = -20.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sigmoid(mid + z).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def split_probability(q: np.ndarray, fraction: float | np.ndarray) -> np.ndarray:
    """Chance of an event within a share `fraction` of the year's school days, whole-year chance q."""
    return 1.0 - np.power(1.0 - q, fraction)
