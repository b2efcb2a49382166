"""Attendance over the previous academic year, as each year's census rows report it, and the same
sessions term by term, as the authority's termly attendance files give them.

Blank for pupils who were not in the authority's schools last year (new arrivals, Reception). The
termly files split each year's sessions over the terms the pupil was on roll (so the three terms of
year Y add up to the `Sessions*` of Y+1's census rows); the last year's, which no census reports,
are drawn as every other year's are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.values import sigmoid

from .calendar import school_year
from .config import SynthConfig
from .population import Population

TERMLY_COLUMNS = ("TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised")


@dataclass
class Attendance:
    possible: np.ndarray  # n x (years + 1), -1 = blank; column t describes year t - 1
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
    possible = np.full((n, n_years + 1), -1, dtype=np.int64)
    auth = np.full((n, n_years + 1), -1, dtype=np.int64)
    unauth = np.full((n, n_years + 1), -1, dtype=np.int64)
    # The last column, the final year's own attendance, is drawn after every census year's, so the
    # census years' draws are what they were before the termly files existed.
    for t, y in enumerate([*config.start_years, config.start_years[-1] + 1]):
        days = len(school_year(y - 1).days)
        if t == 0:
            frac = np.where((pop.new_year < 0) & (pop.cohort >= 1), 1.0, 0.0)
        else:
            frac = pop.present[:, 3 * (t - 1) : 3 * t].sum(axis=1) / 3.0
            # Reception children have no previous school year
            year_group = pop.ncy[:, 3 * t] if t < n_years else pop.ncy[:, 3 * (t - 1)] + 1
            frac = np.where(year_group >= 1, frac, 0.0)
        has = frac > 0
        poss = np.round(2 * days * frac - rng.integers(0, 5, n)).astype(np.int64)
        rate = sigmoid(pop.absence_latent + rng.normal(0, cfg.absence_year_noise_sd, n))
        absent = rng.binomial(np.maximum(poss, 0), rate)
        u_share = np.clip(cfg.unauthorised_share * (1 + 0.6 * pop.fsm[:, 3 * min(t, n_years - 1)]), 0, 0.95)
        un = rng.binomial(absent, u_share)
        possible[:, t] = np.where(has, poss, -1)
        auth[:, t] = np.where(has, absent - un, -1)
        unauth[:, t] = np.where(has, un, -1)
    return Attendance(possible=possible, authorised=auth, unauthorised=unauth)


def _term_day_shares(start_year: int) -> np.ndarray:
    """Share of the year's school days in the autumn (Sep-Dec), spring (Jan-Mar) and summer term."""
    months = school_year(start_year).days.astype("datetime64[M]").astype(int) % 12 + 1
    counts = np.array([(months >= 9).sum(), (months <= 3).sum(), ((months >= 4) & (months <= 8)).sum()])
    return counts / counts.sum()


def _split(total: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split each row's `total` over columns in proportion to `weights` (rows sum to `total` exactly)."""
    out = np.zeros(weights.shape, dtype=np.int64)
    left, weight_left = total.copy(), weights.sum(axis=1)
    for j in range(weights.shape[1] - 1):
        p = np.divide(weights[:, j], weight_left, out=np.zeros(len(total)), where=weight_left > 0)
        out[:, j] = rng.binomial(left, np.clip(p, 0.0, 1.0))
        left -= out[:, j]
        weight_left = weight_left - weights[:, j]
    out[:, -1] = left
    return out


def _share_out(
    part: np.ndarray, whole: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw which of `whole` sessions (split into `counts` per term) are among the `part` ones, without
    replacement: each term gets at most its count, and the terms add up to `part`."""
    out = np.zeros(counts.shape, dtype=np.int64)
    good, bad = part.copy(), whole - part
    for j in range(counts.shape[1] - 1):
        out[:, j] = rng.hypergeometric(good, bad, np.minimum(counts[:, j], good + bad))
        good -= out[:, j]
        bad -= counts[:, j] - out[:, j]
    out[:, -1] = good
    return out


def termly_attendance(
    config: SynthConfig, pop: Population, att: Attendance, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """`attendance_<year>_<term>` -> one termly file (UPN as on that term's census, three session counts)
    for every term of every year, each pupil's year split over the terms the pupil was on roll."""
    files = {}
    for t, y in enumerate(config.start_years):
        k = 3 * t + np.arange(3)
        on_roll = pop.present[:, k] & (pop.ncy[:, k] >= 0)
        has = (att.possible[:, t + 1] >= 0) & on_roll.any(axis=1)
        who = np.flatnonzero(has)
        weights = on_roll[who] * _term_day_shares(y)[None, :]
        possible = _split(att.possible[who, t + 1], weights, rng)
        absent_total = att.authorised[who, t + 1] + att.unauthorised[who, t + 1]
        absent = _share_out(absent_total, att.possible[who, t + 1], possible, rng)
        unauthorised = _share_out(att.unauthorised[who, t + 1], absent_total, absent, rng)
        for j, term in enumerate(calendar.CENSUS_TERMS):
            rows = on_roll[who, j]
            pupil = who[rows]
            temporary = (pop.temp_upn[pupil] != "") & (k[j] < pop.temp_until_k[pupil])
            values = (possible[rows, j], absent[rows, j] - unauthorised[rows, j], unauthorised[rows, j])
            frame = pd.DataFrame(
                {"UPN": np.where(temporary, pop.temp_upn[pupil], pop.upn[pupil])}
                | dict(zip(TERMLY_COLUMNS, values, strict=True))
            )
            files[f"attendance_{calendar.format_year(y).replace('/', '-')}_{term}"] = frame
    return files
