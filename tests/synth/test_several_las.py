"""A population with more schools than one LA's DfE establishment-number range holds (as a
national-sized simulation has) spreads them over several LA numbers, every identifier still valid."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exclusion_risk.synth.config import AuthorityConfig, SynthConfig
from exclusion_risk.synth.generate import generate_authority
from exclusion_risk.upn import valid_upn_mask


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def test_more_schools_than_one_la_holds_spread_over_several_las(tmp_path: Path) -> None:
    # Schools of about one pupil each give 2,431 primaries and 1,042 secondaries, past one LA's
    # 1,999 and 999, at a size generated in seconds (2,000,000 pupils at the usual sizes need 3,472).
    config = SynthConfig(
        pupils=2500,
        seed=3,
        years=["2018/19"],
        authority=AuthorityConfig(pupils_per_primary=0.6, pupils_per_secondary=1.0),
    )
    generate_authority(config, tmp_path)
    schools = _read(tmp_path / "truth", "schools.csv")
    urn = schools["SchoolURN"]
    assert urn.is_unique and urn.str.fullmatch(r"\d{7}").all()
    la, estab = urn.str[:3], urn.str[3:].astype(int)
    # the authority's LA number, then its first neighbour's (330), for both phases
    primary = schools["phase"] == "primary"
    assert set(la[primary]) == set(la[~primary]) == {"335", "330"}
    assert estab[primary].between(2001, 3999).all() and estab[~primary].between(4001, 4999).all()
    assert schools.groupby(la)["SchoolName"].agg(lambda names: names.is_unique).all()  # per LA

    census = _read(tmp_path, "census.csv")
    assert census["SchoolURN"].isin(urn).all()
    assert census["SchoolURN"].str[:3].isin(["335", "330"]).all()
    # one row per pupil (one year): permanent UPNs unique, check letters right, and allocated by the
    # pupils' schools in both LAs
    upn = _read(tmp_path / "truth", "pupil_years.csv")["upn"]
    assert upn.is_unique and valid_upn_mask(upn).all()
    assert {"335", "330"} <= set(upn.str[1:4])
    temporary = census.loc[census["UPN"].str[-1].str.isalpha(), "UPN"]
    assert len(temporary) and valid_upn_mask(temporary).all()
    assert set(temporary.str[1:4]) == {"335", "330"}  # a temporary UPN is always the school's LA
