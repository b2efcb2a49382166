"""Small canonical-shaped extracts for linkage tests, built in memory (no synth, no files).

`population(n, seed)` makes census pupils and clean exclusion and social-care records of some of
them; tests then add the hard case they check. Frames follow docs/ARCHITECTURE.md's canonical
columns (the subset linkage reads).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from exclusion_risk.upn import make_upn

FORENAMES_M = [
    "oliver",
    "jack",
    "harry",
    "george",
    "noah",
    "charlie",
    "jacob",
    "alfie",
    "freddie",
    "oscar",
    "leo",
    "logan",
    "archie",
    "theo",
    "joshua",
    "muhammad",
    "adam",
    "ibrahim",
    "yusuf",
    "hamza",
    "kacper",
    "jakub",
    "david",
    "samuel",
    "daniel",
    "riley",
    "mason",
    "ethan",
    "lucas",
    "dylan",
]
FORENAMES_F = [
    "olivia",
    "amelia",
    "isla",
    "ava",
    "emily",
    "isabella",
    "mia",
    "poppy",
    "ella",
    "lily",
    "sophia",
    "grace",
    "evie",
    "ruby",
    "freya",
    "aisha",
    "fatima",
    "maryam",
    "zainab",
    "hafsa",
    "zuzanna",
    "maja",
    "chloe",
    "jessica",
    "sienna",
    "layla",
    "phoebe",
    "holly",
    "ellie",
    "daisy",
]
SURNAMES = [
    "smith",
    "jones",
    "williams",
    "taylor",
    "brown",
    "davies",
    "evans",
    "wilson",
    "thomas",
    "johnson",
    "roberts",
    "robinson",
    "thompson",
    "wright",
    "walker",
    "white",
    "edwards",
    "hughes",
    "green",
    "hall",
    "khan",
    "ahmed",
    "hussain",
    "ali",
    "begum",
    "akhtar",
    "kaur",
    "singh",
    "patel",
    "nowak",
    "kowalski",
    "wisniewski",
    "obi",
    "okafor",
    "mensah",
    "campbell",
    "clarke",
    "jackson",
    "wood",
    "harris",
    "lewis",
    "martin",
    "cooper",
    "hill",
    "ward",
    "morris",
    "moore",
    "clark",
    "lee",
    "king",
    "baker",
    "turner",
]
ETHNICITIES = ["WBRI", "APKN", "ABAN", "BAFR", "WOTH", "MWBC", "AIND", "BCRB"]
POSTCODES = [f"WS{d} {s}{a}{b}" for d in range(1, 10) for s in range(1, 10) for a in "ABD" for b in "EFG"]


@dataclass
class Extracts:
    census: pd.DataFrame
    exclusions: pd.DataFrame
    social_care: pd.DataFrame
    rejects: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["file", "row", "column", "value", "reason"])
    )


def population(n: int = 1500, seed: int = 1) -> pd.DataFrame:
    """One row per pupil: UPN, names, DOB, sex, ethnicity, postcode (distinct name+DOB combinations)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["M", "F"], size=n)
    fore = [rng.choice(FORENAMES_M) if s == "M" else rng.choice(FORENAMES_F) for s in sex]
    dob = pd.Timestamp("2008-09-01") + pd.to_timedelta(rng.integers(0, 365 * 6, size=n), unit="D")
    pupils = pd.DataFrame(
        {
            "UPN": [make_upn(335, 2000 + i // 1000, 10, i % 1000) for i in range(n)],
            "Forename": fore,
            "Surname": rng.choice(SURNAMES, size=n),
            "DOB": dob,
            "Sex": sex,
            "Ethnicity": rng.choice(ETHNICITIES, size=n),
            "Postcode": rng.choice(POSTCODES, size=n),
        }
    )
    return pupils.drop_duplicates(["Forename", "Surname", "DOB"]).reset_index(drop=True)


def census_rows(pupils: pd.DataFrame, years: tuple[str, ...] = ("2018/19",)) -> pd.DataFrame:
    rows = []
    for year in years:
        for term in ("AUT", "SPR", "SUM"):
            rows.append(pupils.assign(AcademicYear=year, CensusTerm=term))
    census = pd.concat(rows, ignore_index=True)
    census["UPNvalid"] = True
    for c in ("FormerUPN", "MiddleNames", "PreferredSurname", "FormerSurname"):
        census[c] = pd.Series(pd.NA, index=census.index, dtype="string")
    census["SchoolURN"] = "100001"
    census["NCyearActual"] = "5"
    return census


def exclusions_of(pupils: pd.DataFrame, upn_share: float = 0.7, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ex = pupils[["UPN", "Surname", "Forename", "DOB", "Sex"]].copy()
    ex["UPN"] = ex["UPN"].where(rng.random(len(ex)) < upn_share, pd.NA)
    ex["RecordID"] = [f"X{i:05d}" for i in range(len(ex))]
    ex["UPNvalid"] = ex["UPN"].notna()
    ex["StartDate"] = pd.Timestamp("2019-01-15")
    ex["Category"] = "SUSP"
    return ex.reset_index(drop=True)


def social_care_of(pupils: pd.DataFrame, upn_share: float = 0.5, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sc = pupils[["UPN", "Surname", "Forename", "DOB", "Sex", "Ethnicity", "Postcode"]].copy()
    sc["UPN"] = sc["UPN"].where(rng.random(len(sc)) < upn_share, pd.NA)
    sc["LAchildID"] = [f"C{i:05d}" for i in range(len(sc))]
    sc["UPNvalid"] = sc["UPN"].notna()
    sc["Status"] = "CIN"
    sc["StartDate"] = pd.Timestamp("2018-11-01")
    sc["EndDate"] = pd.NaT
    return sc.reset_index(drop=True)


def extracts_for(pupils: pd.DataFrame, exclusions: pd.DataFrame, social_care: pd.DataFrame) -> Extracts:
    return Extracts(census=census_rows(pupils), exclusions=exclusions, social_care=social_care)
