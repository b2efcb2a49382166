"""The authority's real geography and its schools.

Homes are real postcodes of the authority (shipped ONS table) with the IDACI decile of their LSOA.
Schools sit at real postcodes too; their exclusion propensity is drawn independently of where they
are, because a school's exclusion rate is unrelated to its area's deprivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.reference import idaci_lookup, postcode_lookup

from .config import SynthConfig
from .school_names import school_names


@dataclass(frozen=True)
class Geography:
    postcode: np.ndarray  # normalised, e.g. "WS2 8PR"
    lsoa: np.ndarray
    idaci_decile: np.ndarray  # 1 = most deprived
    lat: np.ndarray
    lon: np.ndarray
    district: np.ndarray  # outward code, e.g. "WS2"

    def __len__(self) -> int:
        return len(self.postcode)


def _postcodes_in(pcs: pd.DataFrame, areas: list[str], lsoa_prefixes: list[str]) -> pd.Series:
    keep = pcs["Postcode"].str.match(rf"^(?:{'|'.join(areas)})\d").fillna(False)
    if lsoa_prefixes:
        keep &= pcs["LSOA11CD"].fillna("").str.startswith(tuple(lsoa_prefixes))
    return keep


def load_geography(config: SynthConfig) -> Geography:
    """The authority's postcodes; a population too large for them (more than
    `max_pupils_per_postcode` pupils a postcode) lives across `region_postcode_areas` instead."""
    auth = config.authority
    pcs = postcode_lookup()
    keep = _postcodes_in(pcs, auth.postcode_areas, auth.lsoa_prefixes)
    if config.pupils > keep.sum() * auth.max_pupils_per_postcode:
        keep = _postcodes_in(pcs, auth.region_postcode_areas, [])
    df = pcs[keep].merge(idaci_lookup()[["LSOA11CD", "idaci_decile"]], on="LSOA11CD", how="inner")
    if len(df) < 100:
        raise ValueError(
            f"only {len(df)} postcodes match areas {config.authority.postcode_areas} and LSOA prefixes "
            f"{config.authority.lsoa_prefixes}; an authority needs at least 100"
        )
    # non-geographic postcodes (PO boxes, large users) sit in piles on one grid point; nobody lives there
    pile = df.groupby(["Latitude", "Longitude"])["Postcode"].transform("size")
    df = df[pile <= 10].sort_values("Postcode").reset_index(drop=True)
    return Geography(
        postcode=df["Postcode"].to_numpy(dtype=object),
        lsoa=df["LSOA11CD"].to_numpy(dtype=object),
        idaci_decile=df["idaci_decile"].to_numpy(dtype=np.int64),
        lat=df["Latitude"].to_numpy(dtype=np.float64),
        lon=df["Longitude"].to_numpy(dtype=np.float64),
        district=df["Postcode"].str.split(" ").str[0].to_numpy(dtype=object),
    )


@dataclass(frozen=True)
class Schools:
    urn: np.ndarray  # LAEstab strings, e.g. "3352011"
    estab: np.ndarray  # 4-digit establishment number
    secondary: np.ndarray  # bool
    postcode_index: np.ndarray  # into Geography
    effect: np.ndarray  # exclusion propensity on the logit scale
    high_excluder: np.ndarray  # bool: uses permanent exclusion far more than others
    attractiveness: np.ndarray
    name: np.ndarray  # invented, e.g. "Ashfield Primary School" (synth.school_names)

    def __len__(self) -> int:
        return len(self.urn)

    def frame(self, geo: Geography) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "SchoolURN": self.urn,
                "SchoolName": self.name,
                "phase": np.where(self.secondary, "secondary", "primary"),
                "effect": np.round(self.effect, 4),
                "high_excluder": self.high_excluder,
                "Postcode": geo.postcode[self.postcode_index],
                "idaci_decile": geo.idaci_decile[self.postcode_index],
            }
        )


def _estab_pool(n: int, usual: int, widest: int) -> int:
    """End of the establishment-number range to draw `n` distinct numbers from: the usual range
    (kept so authorities of the usual size come out as before), widened to the whole DfE phase
    range (primary 2001-3999, secondary 4001-4999) when a large region needs more schools."""
    if n < usual:
        return usual
    if n >= widest:
        raise ValueError(f"{n} schools of one phase do not fit the DfE establishment range of {widest - 1}")
    return widest


def build_schools(
    config: SynthConfig, geo: Geography, rng: np.random.Generator, names_rng: np.random.Generator
) -> Schools:
    """The authority's schools; their names come from `names_rng` alone (every other draw from `rng`)."""
    auth, sc = config.authority, config.schools
    n_primary = max(3, round(config.pupils * 7 / 12 / auth.pupils_per_primary))
    n_secondary = max(2, round(config.pupils * 5 / 12 / auth.pupils_per_secondary))
    secondary = np.r_[np.zeros(n_primary, bool), np.ones(n_secondary, bool)]
    # schools sit where children live: a uniform draw over postcodes follows the population
    location = np.r_[
        rng.choice(len(geo), n_primary, replace=n_primary > len(geo)), rng.choice(len(geo), n_secondary)
    ]
    estab = np.r_[
        2000 + rng.choice(np.arange(1, _estab_pool(n_primary, 700, 2000)), n_primary, replace=False),
        4000 + rng.choice(np.arange(1, _estab_pool(n_secondary, 200, 1000)), n_secondary, replace=False),
    ]
    effect = np.where(
        secondary,
        rng.normal(0, sc.secondary_effect_sd, len(secondary)),
        rng.normal(0, sc.primary_effect_sd, len(secondary)),
    )
    n_high = max(1, round(sc.high_excluder_share * n_secondary))
    high = np.zeros(len(secondary), bool)
    high[n_primary + rng.choice(n_secondary, n_high, replace=False)] = True
    effect = effect + high * sc.high_excluder_effect
    attract = np.clip(rng.lognormal(0, 0.3, len(secondary)), 0.5, 2.0)
    order = np.argsort(estab)
    return Schools(
        urn=np.array([f"{auth.la_number}{e:04d}" for e in estab[order]], dtype=object),
        estab=estab[order],
        secondary=secondary[order],
        postcode_index=location[order],
        effect=effect[order],
        high_excluder=high[order],
        attractiveness=attract[order],
        name=school_names(secondary[order], names_rng),
    )


def nearest_school_choices(
    geo: Geography, schools: Schools, home: np.ndarray, secondary: bool, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """First and second choice school (indices into `schools`) for each home postcode index.

    A family picks among its k nearest schools of the phase, nearer and more popular ones likelier;
    the second choice is where a pupil goes after an in-year move or a permanent exclusion.
    """
    idx = np.flatnonzero(schools.secondary == secondary)
    k = min(k, len(idx))
    homes, inverse = np.unique(home, return_inverse=True)
    lat0 = np.deg2rad(geo.lat[homes])[:, None]
    dx = (geo.lon[homes][:, None] - geo.lon[schools.postcode_index[idx]][None, :]) * np.cos(lat0) * 111.3
    dy = (geo.lat[homes][:, None] - geo.lat[schools.postcode_index[idx]][None, :]) * 111.3
    dist = np.hypot(dx, dy)
    near = np.argsort(dist, axis=1)[:, :k]
    near_dist = np.take_along_axis(dist, near, axis=1)
    scale = 1.5 if secondary else 0.8
    base = np.exp(-near_dist / scale)
    # schools grow to serve their area, so sizes stay realistic: scale each school's pull until its
    # expected roll is near an even share (a few iterations of proportional fitting)
    families = np.bincount(inverse, minlength=len(homes)).astype(float)
    pull = schools.attractiveness[idx].copy()
    target = families.sum() / len(idx)
    for _ in range(20):
        w = base * pull[near]
        share = w / w.sum(axis=1, keepdims=True)
        load = np.bincount(near.ravel(), weights=(share * families[:, None]).ravel(), minlength=len(idx))
        pull *= np.clip(target * schools.attractiveness[idx] / np.maximum(load, 1.0), 0.5, 2.0) ** 0.7
    w = (base * pull[near])[inverse]
    near = near[inverse]
    # Gumbel trick: two draws without replacement, weighted, vectorised over pupils
    keys = np.log(w) - np.log(-np.log(rng.random(w.shape)))
    ranked = np.argsort(-keys, axis=1)
    first = idx[np.take_along_axis(near, ranked[:, :1], axis=1)[:, 0]]
    second = idx[np.take_along_axis(near, ranked[:, 1:2] if k > 1 else ranked[:, :1], axis=1)[:, 0]]
    return first, second
