"""The authority's real geography and its schools.

Homes are real postcodes of the authority (shipped ONS table) with the IDACI decile of their LSOA.
Schools sit at real postcodes too; their exclusion propensity is drawn independently of where they
are, because a school's exclusion rate is unrelated to its area's deprivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk.reference import POSTCODES_VARIABLE, ReferenceUnavailable, idaci_lookup, postcode_lookup

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
    if not {"Latitude", "Longitude"} <= set(pcs.columns):  # where pupils live, for their schools' distances
        raise ReferenceUnavailable(f"{POSTCODES_VARIABLE}'s lookup has no Latitude and Longitude columns, "
                                   "which a synthetic authority needs")  # fmt: skip
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
    la: np.ndarray  # 3-digit DfE LA number of the school's authority
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


def _establishments(
    n: int,
    first: int,
    usual: int,
    widest: int,
    las: list[int],
    location: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """LA number and establishment number of `n` schools of one phase, distinct within each LA;
    a phase's numbers run from `first` + 1 to `first` + `widest` - 1 (DfE: primary 2001-3999,
    secondary 4001-4999).

    Up to one LA's range, every school is the authority's, drawn from the usual range (`first` +
    1 .. `usual` - 1) widened to the whole phase range for a region, as before, so an authority-sized
    population comes out byte for byte as it did. Beyond it, as a national-sized simulation needs,
    the schools are shared evenly over as many of `las` as it takes, in postcode order so that an
    LA's schools sit together; UPNs and LAEstab codes then carry each school's LA.
    """
    if n < widest:
        pool = np.arange(1, usual if n < usual else widest)
        return np.full(n, las[0]), first + rng.choice(pool, n, replace=False)
    n_las = -(-n // (widest - 1))
    if n_las > len(las):
        raise ValueError(
            f"{n} schools of one phase need {n_las} LAs' establishment ranges (of {widest - 1} each); "
            f"only {len(las)} LA numbers are configured (authority.la_number and neighbour_las)"
        )
    la_index = np.empty(n, np.int64)
    sizes = [len(part) for part in np.array_split(np.arange(n), n_las)]
    la_index[np.argsort(location, kind="stable")] = np.repeat(np.arange(n_las), sizes)
    estab = np.empty(n, np.int64)
    for j in range(n_las):
        members = np.flatnonzero(la_index == j)
        estab[members] = first + rng.choice(np.arange(1, widest), len(members), replace=False)
    return np.asarray(las)[la_index], estab


def build_schools(
    config: SynthConfig, geo: Geography, rng: np.random.Generator, names_rng: np.random.Generator
) -> Schools:
    """The authority's schools (a population beyond one LA's establishment ranges: the schools of
    several LAs); their names come from `names_rng` alone (every other draw from `rng`)."""
    auth, sc = config.authority, config.schools
    n_primary = max(3, round(config.pupils * 7 / 12 / auth.pupils_per_primary))
    n_secondary = max(2, round(config.pupils * 5 / 12 / auth.pupils_per_secondary))
    secondary = np.r_[np.zeros(n_primary, bool), np.ones(n_secondary, bool)]
    # schools sit where children live: a uniform draw over postcodes follows the population
    location = np.r_[
        rng.choice(len(geo), n_primary, replace=n_primary > len(geo)), rng.choice(len(geo), n_secondary)
    ]
    # the authority's LA first; its neighbours' numbers only once a phase outgrows one LA's range
    las = [auth.la_number, *(la for la in auth.neighbour_las if la != auth.la_number)]
    primary_la, primary_estab = _establishments(n_primary, 2000, 700, 2000, las, location[:n_primary], rng)
    secondary_la, secondary_estab = _establishments(
        n_secondary, 4000, 200, 1000, las, location[n_primary:], rng
    )
    la, estab = np.r_[primary_la, secondary_la], np.r_[primary_estab, secondary_estab]
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
    order = np.argsort(la * 10_000 + estab)  # LAEstab order (estab order within one LA)
    la, secondary = la[order], secondary[order]
    # names are distinct within an LA, as real ones are (two LAs may each have an Ashfield Primary);
    # one LA's are drawn in one call, as before
    name = np.empty(len(la), dtype=object)
    for one_la in dict.fromkeys(la):
        name[la == one_la] = school_names(
            secondary[la == one_la],
            names_rng,
            config.population.british_surname_tail,
            config.population.british_forename_tail,
        )
    return Schools(
        urn=np.array([f"{a:03d}{e:04d}" for a, e in zip(la, estab[order], strict=True)], dtype=object),
        la=la,
        estab=estab[order],
        secondary=secondary,
        postcode_index=location[order],
        effect=effect[order],
        high_excluder=high[order],
        attractiveness=attract[order],
        name=name,
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
