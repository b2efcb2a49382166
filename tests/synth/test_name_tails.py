"""PopulationConfig.british_surname_tail and british_forename_tail (issue #15's name-diversity study,
bench/name_diversity.py): invented surnames, and more forenames, follow the British pool's own; the
names take the same random numbers, so with more surnames the census differs only in its surnames
(and school names, which avoid every pupil's name). With more forenames a co-twin may need fewer
redraws to get a forename of its own, and then every later draw differs: no such test for them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.contract import SCHOOL_NAME
from exclusion_risk.synth.config import PopulationConfig, load_config
from exclusion_risk.synth.generate import generate_authority
from exclusion_risk.synth.names import COMMUNITIES, british_forename_tail, british_surname_tail, draw_names

SURNAME_COLUMNS = ["Surname", "PreferredSurname", "FormerSurname"]


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _generate(tmp_path_factory, **population) -> Path:
    config = load_config(pupils=3000, seed=3, years=["2017/18", "2018/19"])
    config = config.model_copy(update={"population": config.population.model_copy(update=population)})
    folder = tmp_path_factory.mktemp("-".join(f"{k}{v}" for k, v in population.items()))
    generate_authority(config, folder)
    return folder


@pytest.fixture(scope="module")
def pools(tmp_path_factory) -> dict[int, Path]:
    tails = (0, len(british_surname_tail()))
    return {tail: _generate(tmp_path_factory, british_surname_tail=tail) for tail in tails}


@pytest.fixture(scope="module")
def more_forenames(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory, british_forename_tail=len(british_forename_tail()[0]))


def test_the_tail_is_new_surnames_and_its_size_is_checked():
    tail = british_surname_tail()
    assert len(tail) == len(set(tail)) > 900
    for pool in COMMUNITIES.values():  # Bradley (British) and Hayer (Sikh) are already pupils' names
        assert not set(tail) & set(pool.surnames + pool.girls_surnames)
    with pytest.raises(ValueError):
        PopulationConfig(british_surname_tail=len(tail) + 1)


@pytest.mark.parametrize("tails", ["surname_tail", "forename_tail"])
def test_drawing_from_the_longer_pools_takes_the_same_random_numbers(tails):
    male = np.arange(500) % 2 == 0
    longest = {"surname_tail": len(british_surname_tail()), "forename_tail": len(british_forename_tail()[0])}
    plain, wide = np.random.default_rng(1), np.random.default_rng(1)
    draw_names(plain, "british", male)
    forenames, surnames = draw_names(wide, "british", male, **{tails: longest[tails]})
    assert plain.bit_generator.state == wide.bit_generator.state
    boys, girls = british_forename_tail()
    if tails == "surname_tail":
        assert set(surnames) & set(british_surname_tail())
    else:
        assert set(forenames[male]) & set(boys) and set(forenames[~male]) & set(girls)
        assert not set(forenames[male]) & set(girls)


def test_the_census_differs_only_in_surnames_and_school_names(pools):
    # The sources do not: their identity noise draws according to the name it alters (a surname in
    # the transliteration table, a typo on an apostrophe), so after the first such name their records
    # are another sample of the same generator (bench/name_diversity.py compares rates, not records).
    plain, wide = pools.values()
    a, b = _read(plain, "census.csv"), _read(wide, "census.csv")
    differ = [*SURNAME_COLUMNS, SCHOOL_NAME]
    same = [c for c in a.columns if c not in differ]
    pd.testing.assert_frame_equal(a[same], b[same])
    assert all((a[c] != b[c]).any() for c in differ)


def test_british_pupils_share_surnames_less_and_schools_avoid_the_new_ones(pools):
    def sharing(folder: Path) -> float:
        census = _read(folder, "census.csv").drop_duplicates("UPN")
        shares = census.loc[census["Ethnicity"] == "WBRI", "Surname"].value_counts(normalize=True)
        return float((shares**2).sum())

    plain, wide = pools.values()
    assert sharing(wide) < sharing(plain) / 2
    census = _read(wide, "census.csv")
    invented = set(british_surname_tail())
    assert census["Surname"].isin(invented).mean() > 0.1
    school_words = {w for name in census[SCHOOL_NAME].unique() for w in name.split()}
    surname_words = {w for s in census["Surname"].unique() for w in re.split(r"[^A-Za-z']+", s) if w}
    assert not school_words & surname_words


def test_the_more_forenames_are_new_names_and_their_number_is_checked():
    boys, girls = british_forename_tail()
    assert len(boys) == len(set(boys)) == len(girls) == len(set(girls)) > 100
    for pool in COMMUNITIES.values():  # Adam is a Caribbean boy's name, Graham a surname
        assert not set(boys + girls) & set(pool.boys + pool.girls + pool.surnames + pool.girls_surnames)
    assert not set(boys + girls) & set(british_surname_tail())
    with pytest.raises(ValueError):
        PopulationConfig(british_forename_tail=len(boys) + 1)


def test_british_boys_share_forenames_less_and_schools_avoid_the_new_ones(pools, more_forenames):
    def sharing(folder: Path) -> float:
        census = _read(folder, "census.csv").drop_duplicates("UPN")
        boys = census[(census["Ethnicity"] == "WBRI") & (census["Sex"] == "M")]
        return float((boys["Forename"].value_counts(normalize=True) ** 2).sum())

    assert sharing(more_forenames) < sharing(pools[0]) * 0.7
    census = _read(more_forenames, "census.csv")
    boys, girls = british_forename_tail()
    assert census["Forename"].isin(boys + girls).mean() > 0.1
    school_words = {w for name in census[SCHOOL_NAME].unique() for w in name.split()}
    assert not school_words & set(boys + girls)
    assert not set(_read(pools[0], "census.csv")["Forename"]) & set(boys + girls)
