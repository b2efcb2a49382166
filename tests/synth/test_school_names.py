"""The synthetic authority names its schools: an invented, plausible name per school on every census
row (contract and MIS headers), the same for the same seed, drawn without disturbing any other draw."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk.contract import MIS_CENSUS_HEADERS, SCHOOL_NAME
from exclusion_risk.linkage.readers import read_census
from exclusion_risk.synth.config import load_config
from exclusion_risk.synth.geography import build_schools, load_geography
from exclusion_risk.synth.school_names import school_names

# "Ashfield Primary School", "North Millbrook Academy", "Holy Trinity C of E Primary School"
PLAUSIBLE = re.compile(r"^[A-Z][a-z]+( [A-Za-z]+)* (School|Academy|College)$")
NAME_COLUMNS = ("Surname", "Forename", "MiddleNames", "PreferredSurname", "FormerSurname")


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def test_every_census_row_names_its_school_one_name_a_school(small_authority: Path) -> None:
    census = _read(small_authority, "census.csv")
    assert (census[SCHOOL_NAME] != "").all()
    per_school = census.groupby("SchoolURN")[SCHOOL_NAME].nunique()
    assert (per_school == 1).all()  # a school keeps its name on every row and collection
    names = census.drop_duplicates("SchoolURN").set_index("SchoolURN")[SCHOOL_NAME]
    assert names.is_unique  # two schools never share a name
    assert names.str.fullmatch(PLAUSIBLE).all(), names[~names.str.fullmatch(PLAUSIBLE)].tolist()
    assert names.str.contains(" C of E | Catholic ").any() and names.str.endswith("Primary School").any()
    truth = _read(small_authority / "truth", "schools.csv").set_index("SchoolURN")[SCHOOL_NAME]
    pd.testing.assert_series_equal(truth.loc[names.index], names, check_names=False)


def test_no_word_of_a_school_name_is_a_pupils_name(small_authority: Path) -> None:
    """So the privacy tests, which look for any pupil's name in an output, never mistake a school's."""
    pupil_words: set[str] = set()
    for extract in ("census.csv", "exclusions.csv", "social_care.csv"):
        frame = _read(small_authority, extract)
        for column in NAME_COLUMNS:
            if column in frame:
                for value in frame[column].unique():
                    pupil_words.update(w.lower() for w in re.split(r"[^A-Za-z']+", value) if len(w) >= 3)
    school_words = {w.lower() for name in _read(small_authority, "census.csv")[SCHOOL_NAME].unique()
                    for w in name.split() if len(w) >= 3}  # fmt: skip
    assert len(pupil_words) > 500 and len(school_words) > 10
    assert not school_words & pupil_words


def test_the_mis_export_carries_the_name_and_reads_back(synthetic_authority) -> None:
    folder = synthetic_authority(600, 3, ("2017/18", "2018/19"), output={"header_style": "mis"})
    census = _read(folder, "census.csv")
    header = MIS_CENSUS_HEADERS[SCHOOL_NAME]
    assert list(census.columns[:2]) == ["Estab", header] and (census[header] != "").all()
    read = read_census(folder / "census.csv")
    assert len(read.clean) + len(read.rejects) == len(census)
    by_row = census[header].to_numpy()[read.clean["_row"].to_numpy() - 1]
    assert (read.clean[SCHOOL_NAME].to_numpy() == by_row).all()


def test_names_are_deterministic_and_draw_from_their_own_stream() -> None:
    config = load_config(pupils=20000, seed=5)
    geo = load_geography(config)

    def schools(seed: int, names_seed: int):
        return build_schools(config, geo, np.random.default_rng(seed), np.random.default_rng(names_seed))

    first, again, renamed = schools(1, 2), schools(1, 2), schools(1, 3)
    assert (first.name == again.name).all()
    assert not (first.name == renamed.name).all()
    # everything else about the schools comes from the other stream, untouched by the names
    for field in ("urn", "secondary", "postcode_index", "effect", "high_excluder", "attractiveness"):
        assert (getattr(first, field) == getattr(renamed, field)).all(), field


def test_a_large_region_still_gets_a_distinct_name_per_school() -> None:
    secondary = np.r_[np.zeros(1999, bool), np.ones(999, bool)]  # the DfE establishment ranges, full
    names = school_names(secondary, np.random.default_rng(0))
    assert len(set(names)) == len(names) and all(isinstance(n, str) and n for n in names)
