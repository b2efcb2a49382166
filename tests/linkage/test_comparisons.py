"""Comparison levels and weights: the same in both engines, with term-frequency adjustment.

The levels are listed once (linkage.engines.base) and implemented twice: in numpy for
recordlinkage and in SQL for Splink. These tests run both engines on one small authority and
check that they put every pair they both score at the same level of every comparison, and that
exact agreement on a rarer name weighs more by exactly the log-ratio of the names' frequencies.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.linkage.assign import pupils_with_twins
from exclusion_risk.linkage.engines import EngineInput, get_engine
from exclusion_risk.linkage.engines.base import term_frequencies, tf_adjustment
from exclusion_risk.linkage.engines.levels import dob_levels
from exclusion_risk.linkage.pipeline import census_variants, extra_columns, link_extracts
from exclusion_risk.linkage.settings import LinkageSettings, exact_level
from exclusion_risk.linkage.stages import name_dob_stage, upn_stage
from exclusion_risk.linkage.standardise import dob_fields, standardise


def _dob_levels(left: list[str | None], right: list[str | None]) -> list[int]:
    fl, fr = dob_fields(pd.Series(left)), dob_fields(pd.Series(right))

    def arr(s: pd.Series) -> np.ndarray:
        return s.astype(object).where(s.notna(), None).to_numpy()

    return dob_levels(
        arr(fl["dob"]), arr(fr["dob"]), arr(fl["dob_swap"]), arr(fr["dob_swap"]),
        arr(fl["birth_year"]), arr(fr["birth_year"]),
    ).tolist()  # fmt: skip


def test_dob_levels_rank_a_reordered_date_above_a_slip():
    left = [
        "2010-03-07",
        "2010-03-07",
        "2009-12-26",
        "2008-04-23",
        "2010-03-07",
        "2010-03-07",
        "2010-03-07",
        None,
    ]
    right = [
        "2010-03-07",
        "2010-07-03",
        "2010-12-26",
        "2007-04-23",
        "2010-03-08",
        "2010-11-20",
        "2004-08-19",
        "2010-03-07",
    ]
    # equal; day and month transposed; year one out on the same day (two digits change, and one);
    # one-digit slip; same birth year only; nothing; missing.
    assert _dob_levels(left, right) == [4, 3, 3, 3, 2, 1, 0, -1]
    # Two years out on the same day and month is no more than a one-digit slip.
    assert _dob_levels(["2010-03-07"], ["2012-03-07"]) == [2]
    assert _dob_levels(["2010-03-07"], ["2011-03-07"]) == [3]


def test_twins_share_an_address_namesakes_do_not():
    census = pd.DataFrame(
        {
            "eid": ["t1", "t2", "n1", "n2", "u1", "u2", "solo"],
            "surname": ["okonjo", "okonjo", "smith", "smith", "hill", "hill", "hill"],
            "dob": ["2006-05-14"] * 2 + ["2005-06-22"] * 2 + ["2012-10-30"] * 2 + ["2012-10-31"],
            "postcode": ["WS2 8QQ", "WS2 8QQ", "WS2 0NW", "WS3 1AB", "WS8 6FE", None, "WS8 6FE"],
        }
    )
    # Twins at one address; two Smiths born the same day at different addresses are not twins;
    # a pupil with no postcode on record may be the twin of anyone sharing their surname and DOB.
    assert pupils_with_twins(census) == {"t1", "t2", "u1", "u2"}


def test_term_frequency_table_and_adjustment():
    census = pd.DataFrame(
        {"eid": ["a", "b", "c", "d", "d"], "surname": ["smith", "smith", "smith", "okafor", "okafor"]}
    )
    table = term_frequencies(census, "surname")
    assert table.to_dict("list") == {"surname": ["smith", "okafor"], "tf_surname": [0.75, 0.25]}
    gamma = np.array([3, 3, 2, 3, -1])
    left = np.array(["smith", "okafor", "okafr", "zzz", None], dtype=object)
    right = np.array(["smith", "okafor", "okafor", "yyy", "smith"], dtype=object)
    adj = tf_adjustment(gamma, left, right, table, "surname", exact=3, u_exact=0.5)
    # Exact on a common name: log2(0.5 / 0.75); on a rarer one: log2(0.5 / 0.25); elsewhere 0,
    # and 0 where neither side's name is in the census table.
    assert adj == pytest.approx([math.log2(0.5 / 0.75), 1.0, 0.0, 0.0, 0.0])
    floored = tf_adjustment(gamma, left, right, table, "surname", exact=3, u_exact=0.5, minimum=0.5)
    assert floored[1] == pytest.approx(0.0)


@pytest.fixture(scope="module")
def small_run(population, census_rows, social_care_of):
    """Census of 1,500 pupils; social care for 400 of them with every DOB transposed or a year out,
    some names swapped or misspelt, and no UPN, so each goes to the probabilistic stage; both
    engines score them."""
    pupils = population(1500, seed=21)
    picked = pupils.sample(400, random_state=8)
    sc = social_care_of(picked, upn_share=0.0)
    dob = pd.to_datetime(sc["DOB"])
    transposable = (dob.dt.day <= 12) & (dob.dt.day != dob.dt.month)
    swapped = pd.to_datetime(
        pd.DataFrame({"year": dob.dt.year, "month": dob.dt.day, "day": dob.dt.month}), errors="coerce"
    )
    sc["DOB"] = swapped.where(transposable, dob - pd.DateOffset(years=1))
    # Names as records get them wrong: every fourth swapped, every fourth with a doubled letter
    # in the surname (a spelling variant), so the name levels' SQL and numpy meet every branch.
    row = np.arange(len(sc))
    swap = row % 4 == 0
    sc.loc[swap, ["Forename", "Surname"]] = sc.loc[swap, ["Surname", "Forename"]].to_numpy()
    variant = row % 4 == 1
    sc.loc[variant, "Surname"] = [s[:2] + s[1] + s[2:] for s in sc.loc[variant, "Surname"]]
    settings = LinkageSettings()
    census = census_variants(census_rows(pupils), settings)
    source = standardise(sc, "LAchildID", extra_columns=extra_columns(settings))
    labels = pd.concat(
        [upn_stage(source, census, LinkageSettings()), name_dob_stage(source, census, unique_source=True)]
    )
    # Deterministic links as free labels: the census pupils' own records, linked by UPN.
    own = standardise(
        social_care_of(pupils, upn_share=1.0, seed=5), "LAchildID", extra_columns=extra_columns(settings)
    )
    own_labels = upn_stage(own, census, LinkageSettings())
    source_all = pd.concat([source, own.set_index(own.index + len(source))])
    data = EngineInput(
        source=source_all,
        census=census,
        score_eids=pd.Index(source["eid"].unique()),
        labels=pd.concat([labels, own_labels])[["eid_l", "eid_r", "method"]],
    )
    out = {}
    for engine in ("recordlinkage", "splink"):
        out[engine] = get_engine(LinkageSettings(engine=engine)).run(data).pairs
    truth = dict(zip(sc["LAchildID"], picked["UPN"], strict=True))
    return out, source_all, census, truth


def test_both_engines_put_each_pair_at_the_same_levels(small_run):
    pairs, source, census, truth = small_run
    both = pairs["recordlinkage"].merge(pairs["splink"], on=["l", "r"], suffixes=("_rl", "_sp"))
    assert len(both) > 300
    # The doubled letters put pairs at the spelling-variant level, the swaps at the exact level.
    assert {2, 3} <= set(both["gamma_surname_sp"]) and 3 in set(both["gamma_forename_sp"])
    gammas = [c for c in pairs["splink"].columns if c.startswith("gamma_")]
    for g in gammas:
        assert (both[f"{g}_rl"] == both[f"{g}_sp"]).all(), g
    # Nearly every child's own pupil was scored by both (a few with a swapped name and a year-out
    # DOB fall below the candidate floor), each with the date at the transposed / year-out level.
    own = both[source.loc[both["l"], "eid"].map(truth).to_numpy() == census.loc[both["r"], "eid"].to_numpy()]
    assert own["l"].map(source["eid"]).nunique() >= 0.95 * len(truth)
    assert (own["gamma_dob_sp"] == exact_level("dob") - 1).all()


@pytest.mark.parametrize("engine", ["recordlinkage", "splink"])
def test_rarer_exact_names_weigh_more_by_their_frequency_ratio(small_run, engine):
    pairs, source, census, _ = small_run
    p = pairs[engine]
    gammas = [c for c in p.columns if c.startswith("gamma_")]
    exact = p[
        (p["gamma_surname"] == exact_level("surname")) & (p["gamma_forename"] == exact_level("forename"))
    ]
    # Frequencies counted here from the census pupils directly (one name each in this population).
    pupils = census.drop_duplicates("eid")
    tf_s = pupils["surname"].value_counts(normalize=True)
    tf_f = pupils["forename_group"].value_counts(normalize=True)
    surname = census.loc[exact["r"], "surname"].to_numpy()
    forename = census.loc[exact["r"], "forename_group"].to_numpy()
    # Within one pattern of levels, weight + log2(tf_surname) + log2(tf_forename) is a constant.
    residual = exact["match_weight"] + np.log2(tf_s[surname].to_numpy()) + np.log2(tf_f[forename].to_numpy())
    spread = residual.groupby([exact[g] for g in gammas]).agg(lambda r: r.max() - r.min())
    assert len(exact) > 100 and spread.max() < 1e-6
    assert tf_s.max() / tf_s.min() > 2  # the population has common and rarer surnames


@pytest.fixture
def em_underflow(monkeypatch, population, exclusions_of, social_care_of):
    """Pupils, exclusions and social care whose probabilistic stage meets Splink's EM raising (as it
    does when a level's m underflows to zero on small, clean extracts)."""
    from splink.internals.linker_components.training import LinkerTraining

    def underflow(self, *args, **kwargs):
        raise ValueError("m_probability value 0.0 is below the minimum allowed value")

    monkeypatch.setattr(LinkerTraining, "estimate_parameters_using_expectation_maximisation", underflow)
    pupils = population(600, seed=4)
    sc = social_care_of(pupils.sample(120, random_state=1), upn_share=0.5)
    # A year-out DOB on the records without UPN sends them to the probabilistic stage.
    no_upn = sc["UPN"].isna()
    sc.loc[no_upn, "DOB"] = pd.to_datetime(sc.loc[no_upn, "DOB"]) - pd.DateOffset(years=1)
    return pupils, exclusions_of(pupils.sample(50, random_state=2)), sc


def test_splink_em_failure_is_a_warning_not_a_crash(caplog, em_underflow, extracts_for):
    pupils, exclusions, sc = em_underflow
    no_upn = sc["UPN"].isna()
    extracts = extracts_for(pupils, exclusions, sc)
    with caplog.at_level("WARNING", logger="exclusion_risk.linkage"):
        result = link_extracts(extracts, LinkageSettings(engine="splink"), progress=False)
    assert "EM blocked on dob stopped" in caplog.text
    # The UPN links stand, and the rest were still scored and decided.
    decided = result.decisions["social_care"]
    assert len(decided) == len(sc) and (decided["method"] == "upn").sum() == (~no_upn).sum()
    assert set(decided.loc[decided["method"] == "probabilistic", "band"]) <= {"accept", "review", "reject"}


def test_an_engine_warning_goes_to_run_log_and_is_counted_not_printed(tmp_path, em_underflow, census_rows):
    """`link` keeps warnings off the console: every linkage logger, the engines' too, writes run.log."""
    from typer.testing import CliRunner

    from exclusion_risk.cli import app

    pupils, exclusions, sc = em_underflow
    data = tmp_path / "extracts"
    data.mkdir()
    census = census_rows(pupils).assign(FSMeligible="0", SENprovision="N", SENtype=None)
    census.to_csv(data / "census.csv", index=False)
    exclusions = exclusions.assign(SchoolURN="100001", Sessions=2, Reason="PD")
    exclusions.to_csv(data / "exclusions.csv", index=False)
    sc.to_csv(data / "social_care.csv", index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["link", "--data", str(data), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    run_log = (out / "run.log").read_text()
    assert "WARNING exclusion_risk.linkage.engines.splink_engine: splink: EM blocked on dob" in run_log
    assert "warning(s) in" in result.output
    assert "EM blocked" not in result.output
