"""Attendance over the previous academic year, as each year's census rows report it.

Blank for pupils who were not in the authority's schools last year (new arrivals, Reception).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exclusion_risk.values import sigmoid

from .calendar import school_year
from .config import SynthConfig
from .population import Population


@dataclass
class Attendance:
    possible: np.ndarray  # n x years, -1 = blank
    authorised: np.ndarray
    unauthorised: np.ndarray

    def rate(self, t: int) -> np.ndarray:
        """Absence rate last year as the census shows it (NaN when blank)."""
        poss = self.possible[:, t].astype(float)
        absent = (self.authorised[:, t] + self.unauthorised[:, t]).astype(float)
        return np.where(poss > 0, absent / np.where(poss > 0, poss, 1), np.nan)


def build_attendance(config: SynthConfig, pop: Population, rng: np.random.Generator) -> Attendance:
    n, n_years = pop.n, len(config.years)
    cfg = config.population
    possible = np.full((n, n_years), -1, dtype=np.int64)
    auth = np.full((n, n_years), -1, dtype=np.int64)
    unauth = np.full((n, n_years), -1, dtype=np.int64)
    for t, y in enumerate(config.start_years):
        days = len(school_year(y - 1).days)
        if t == 0:
            frac = np.where((pop.new_year < 0) & (pop.cohort >= 1), 1.0, 0.0)
        else:
            frac = pop.present[:, 3 * (t - 1) : 3 * t].sum(axis=1) / 3.0
            # Reception children have no previous school year
            frac = np.where(pop.ncy[:, 3 * t] >= 1, frac, 0.0)
        has = frac > 0
        poss = np.round(2 * days * frac - rng.integers(0, 5, n)).astype(np.int64)
        rate = sigmoid(pop.absence_latent + rng.normal(0, cfg.absence_year_noise_sd, n))
        absent = rng.binomial(np.maximum(poss, 0), rate)
        u_share = np.clip(cfg.unauthorised_share * (1 + 0.6 * pop.fsm[:, 3 * t]), 0, 0.95)
        un = rng.binomial(absent, u_share)
        possible[:, t] = np.where(has, poss, -1)
        auth[:, t] = np.where(has, absent - un, -1)
        unauth[:, t] = np.where(has, un, -1)
    return Attendance(possible=possible, authorised=auth, unauthorised=unauth)
