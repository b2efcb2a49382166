"""The synthetic authority: contract shape, identifiers, progression, calibration, noise, determinism.

Calibration targets are the published figures in the synth issue (Walsall/BCU study, DfE statistics);
tolerances allow for one authority's sampling noise. All full-size checks share `full_authority`.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.contract import CENSUS_COLUMNS, EXCLUSION_COLUMNS, SOCIAL_CARE_COLUMNS
from exclusion_risk.contract import MIS_CENSUS_COLUMNS as MIS_COLUMNS
from exclusion_risk.reference import idaci_lookup, normalise_postcode, postcode_lookup
from exclusion_risk.synth.calibration import load_authority, measure, measure_noise
from exclusion_risk.upn import valid_upn_mask


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def full(full_authority: Path):
    return load_authority(full_authority)


@pytest.fixture(scope="module")
def figures(full) -> dict:
    return measure(full)


@pytest.fixture(scope="module")
def noise(full) -> dict:
    return measure_noise(full)


@pytest.fixture(scope="module")
def small(small_authority: Path):
    return load_authority(small_authority)


# --- shape of the files ---


def test_extracts_have_exactly_the_contract_columns(small_authority: Path) -> None:
    assert list(_read(small_authority, "census.csv").columns) == CENSUS_COLUMNS
    assert list(_read(small_authority, "exclusions.csv").columns) == EXCLUSION_COLUMNS
    assert list(_read(small_authority, "social_care.csv").columns) == SOCIAL_CARE_COLUMNS
    truth = small_authority / "truth"
    assert list(_read(truth, "exclusion_links.csv").columns) == ["RecordID", "upn"]
    assert list(_read(truth, "social_care_links.csv").columns) == ["LAchildID", "upn"]
    assert list(_read(truth, "pupil_years.csv").columns) == [
        "upn",
        "AcademicYear",
        "true_probability",
        "label",
        "label_permanent",
        "label_repeat",
    ]


def test_values_follow_the_contract(small_authority: Path) -> None:
    census = _read(small_authority, "census.csv")
    assert set(census["CensusTerm"]) == {"AUT", "SPR", "SUM"}
    assert set(census["AcademicYear"]) == {"2015/16", "2016/17", "2017/18", "2018/19"}
    assert set(census["SENprovision"]) == {"N", "K", "E"}
    assert (census.loc[census["SENprovision"] == "N", "SENtype"] == "").all()
    assert (census.loc[census["SENprovision"] != "N", "SENtype"] != "").all()
    assert set(census["NCyearActual"]) == {"R"} | {str(g) for g in range(1, 12)}
    assert set(census["FSMeligible"]) == {"0", "1"}
    assert census["SchoolURN"].str.fullmatch(r"335\d{4}").all()
    assert census["DOB"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    # a few extended ethnicity codes, main codes otherwise
    assert census["Ethnicity"].isin(["WENG", "WSCO", "APKA", "AMPK", "AKPA", "WPOL", "BNGN"]).mean() > 0.005
    assert census["Ethnicity"].isin(["WBRI", "APKN", "AIND"]).mean() > 0.6
    ex = _read(small_authority, "exclusions.csv")
    assert set(ex["Category"]) <= {"PERM", "SUSP", "FIXD", "LUNC"} and {"PERM", "FIXD", "SUSP"} <= set(
        ex["Category"]
    )
    codes = {"PP", "PA", "VP", "VA", "BU", "RA", "SM", "DA", "DM", "TH", "PD", "OT"}
    reasons = ex["Reason"].str.split(";")
    assert reasons.map(lambda r: 1 <= len(r) <= 3 and set(r) <= codes).all()
    assert (reasons.map(len) > 1).any()
    assert (ex.loc[ex["Category"] == "PERM", "Sessions"] == "").all()
    assert ex.loc[ex["Category"] != "PERM", "Sessions"].astype(int).between(1, 10).all()
    start = pd.to_datetime(ex["StartDate"])
    assert (start.dt.dayofweek < 5).all() and not start.dt.month.isin([8]).any()
    sc = _read(small_authority, "social_care.csv")
    assert set(sc["Status"]) == {"CIN", "CPP", "CLA"}
    assert set(sc["Sex"]) <= {"M", "F", "1", "2"} and {"1", "2", "M", "F"} <= set(sc["Sex"])
    assert sc["PrimaryNeed"].str.fullmatch(r"N\d").all()
    assert (sc["EndDate"] == "").any() and (sc["EndDate"] != "").any()
    ends = pd.to_datetime(sc["EndDate"].replace("", None))
    assert (ends.dropna() >= pd.to_datetime(sc["StartDate"])[ends.notna()]).all()
    assert sc["Factors"].str.contains("3A").any()


def test_mis_headers_and_uk_dates(synthetic_authority) -> None:
    folder = synthetic_authority(600, 3, ("2017/18", "2018/19"), output={"header_style": "mis"})
    census = _read(folder, "census.csv")
    assert list(census.columns) == MIS_COLUMNS
    assert census["DoB"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert census["EntryDate"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    assert set(census["FSME on Census Day"]) == {"true", "false"}
    assert _read(folder, "exclusions.csv")["StartDate"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()


# --- identifiers ---


def test_census_upns_carry_valid_check_letters(small) -> None:
    census = small.census
    valid = valid_upn_mask(census["UPN"])
    assert valid.mean() > 0.998  # the odd mistyped UPN, as in real returns
    assert census["UPN"].str[1:4].eq("335").mean() > 0.8
    former = census.loc[census["FormerUPN"] != "", "FormerUPN"]
    assert len(former) > 0 and valid_upn_mask(former).all()
    assert former.str[-1].str.isalpha().all()  # temporary UPNs end in a letter
    # one pupil, one UPN within a collection
    assert not census.duplicated(["UPN", "AcademicYear", "CensusTerm"]).any()


def test_truth_links_every_record(small) -> None:
    ex, sc = small.exclusions, small.social_care
    assert ex["upn"].notna().all() and (ex["upn"] != "").all()
    assert ex["upn"].isin(set(small.census["upn"])).all()
    linked = sc[sc["upn"] != ""]
    assert linked["upn"].isin(set(small.census["upn"])).all()
    assert small.pupil_years["upn"].isin(set(small.census["upn"])).all()


# --- progression ---


def _year_group(ncy: pd.Series) -> pd.Series:
    return ncy.replace("R", "0").astype(int)


def test_pupils_progress_through_year_groups(small) -> None:
    aut = small.census[small.census["CensusTerm"] == "AUT"].drop_duplicates(["upn", "AcademicYear"])
    aut = aut.assign(g=_year_group(aut["NCyearActual"]), y=aut["AcademicYear"].str[:4].astype(int))
    nxt = aut.assign(y=aut["y"] + 1)
    both = aut.merge(nxt, on=["upn", "y"], suffixes=("", "_prev"))
    assert len(both) > 10000
    assert (both["g"] == both["g_prev"] + 1).mean() > 0.999
    # a new Reception cohort every year, about a twelfth of the roll
    reception = aut[aut["g"] == 0].groupby("y")["upn"].nunique()
    assert len(reception) == 4 and (reception / aut.groupby("y").size()).between(0.06, 0.11).all()
    assert not set(aut.loc[(aut["g"] == 0) & (aut["y"] > 2015), "upn"]) & set(
        aut.loc[aut["y"] == 2015, "upn"]
    )
    # Year 6 -> Year 7: every pupil moves from a primary (335 2xxx) to a secondary (335 4xxx)
    y7 = both[both["g"] == 7]
    assert len(y7) > 100
    assert (y7["SchoolURN"] != y7["SchoolURN_prev"]).all()
    assert y7["SchoolURN"].str[3].eq("4").all() and y7["SchoolURN_prev"].str[3].eq("2").all()
    # Year 11 leavers do not come back
    assert not (aut["g"] > 11).any()


def test_termly_changes_arrivals_and_attendance(small) -> None:
    census = small.census
    per_year = census.groupby(["upn", "AcademicYear"])
    assert (per_year["SchoolURN"].nunique() > 1).sum() > 20  # in-year school moves
    assert (per_year["FSMeligible"].nunique() > 1).sum() > 50  # FSM changes between terms
    terms = per_year["CensusTerm"].agg(lambda t: ",".join(sorted(set(t))))
    assert (terms == "SPR,SUM").sum() + (terms == "SUM").sum() > 20  # arrivals after the autumn census
    reception = census["NCyearActual"] == "R"
    assert (census.loc[reception, "SessionsPossible"] == "").all()
    older = census[~reception]
    blank = older["SessionsPossible"] == ""
    assert 0.005 < blank.mean() < 0.08  # pupils new to the authority
    poss = older.loc[~blank, "SessionsPossible"].astype(int)
    absent = (
        older.loc[~blank, ["SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence"]]
        .astype(int)
        .sum(axis=1)
    )
    assert poss.between(100, 400).all() and poss.median() > 360
    rate = absent / poss
    assert 0.03 < rate.mean() < 0.08 and 0.05 < (rate >= 0.1).mean() < 0.25


def test_homes_are_real_authority_postcodes_with_their_lsoa(small) -> None:
    census = small.census
    lookup = postcode_lookup().set_index("Postcode")["LSOA11CD"]
    has_pc = census["Postcode"] != ""
    pcs = normalise_postcode(census.loc[has_pc, "Postcode"])
    assert pcs.str.startswith("WS").all() and pcs.isin(lookup.index).all()
    given = has_pc & (census["LSOA"] != "")
    assert (census.loc[given, "LSOA"] == census.loc[given, "Postcode"].map(lookup)).all()
    assert (census.loc[~has_pc, "LSOA"] != "").all()
    assert census.loc[census["LSOA"] != "", "LSOA"].isin(set(idaci_lookup()["LSOA11CD"])).all()


# --- calibration on the full authority (slow: the first user generates 62,536 pupils) ---


@pytest.mark.slow
def test_exclusion_rates_match_the_walsall_study(figures: dict) -> None:
    assert figures["pupils_first_autumn"] == 62536
    for year, share in figures["excluded_share_by_year"].items():
        assert 0.031 < share < 0.039, year
    assert 0.001 <= figures["permanent_share"] <= 0.002


@pytest.mark.slow
def test_relative_risks(figures: dict) -> None:
    assert 2.0 < figures["boys_to_girls"] < 3.1
    assert 2.8 < figures["fsm_to_non_fsm"] < 4.3
    assert 3.0 < figures["sen_support_to_none"] < 5.5
    assert 3.0 < figures["ehc_to_none"] < 5.5
    assert figures["cla_to_average"] > 2.5 and figures["cpp_to_average"] > 2.5


@pytest.mark.slow
def test_semh_year_groups_and_year1_send(figures: dict) -> None:
    assert 0.02 <= figures["semh_share_of_pupils"] <= 0.03
    assert figures["semh_share_of_permanent"] >= 0.15
    assert figures["peak_year_group"] in {"8", "9", "10"}
    rates = figures["rate_by_year_group"]
    assert rates["R"] < rates["1"] < rates["3"] < rates["5"] < rates["7"] < rates["9"]
    assert figures["year1_excluded_with_send"] > 0.6


@pytest.mark.slow
def test_ethnic_groups_are_ordered_as_in_the_study(figures: dict) -> None:
    rate = figures["rate_by_ethnicity"]
    major = ["WBRI", "WOTH", "MWBC", "MWAS", "AIND", "APKN", "ABAN", "BCRB", "BAFR"]  # >= 1% of pupils
    lowest = sorted(major, key=rate.get)[:2]
    highest = sorted(major, key=rate.get)[-2:]
    assert set(lowest) == {"AIND", "ABAN"}
    assert set(highest) == {"BCRB", "MWBC"}
    assert rate["WBRI"] > figures["excluded_share"]


@pytest.mark.slow
def test_school_concentration_unrelated_to_deprivation(figures: dict) -> None:
    assert 0.7 <= figures["top12pct_schools_permanent_share"] <= 0.92
    assert abs(figures["school_effect_deprivation_corr"]) < 0.3


@pytest.mark.slow
def test_state_dependence_fsm_and_social_care(figures: dict) -> None:
    assert figures["after_exclusion_to_after_none"] > 5
    assert 0.2 < figures["fsm_share"] < 0.35
    assert figures["fsm_most_to_least_deprived"] > 2.5
    assert 0.03 <= figures["cin_year_share"] <= 0.04
    assert 0.003 <= figures["cpp_year_share"] <= 0.007
    assert 0.006 <= figures["cla_year_share"] <= 0.009
    assert 0.10 <= figures["social_care_not_in_census_share"] <= 0.15


@pytest.mark.slow
def test_oracle_is_calibrated_and_post_census(full_authority: Path, full) -> None:
    py = pd.read_csv(full_authority / "truth" / "pupil_years.csv")
    p, y = py["true_probability"].to_numpy(), py["label"].to_numpy()
    assert ((p > 0) & (p < 1)).all()
    se = np.sqrt((p * (1 - p)).sum()) / len(p)
    assert abs(y.mean() - p.mean()) < 4 * se
    deciles = pd.qcut(p, 10, labels=False)
    by_decile = pd.DataFrame({"p": p, "y": y}).groupby(deciles).mean()
    assert np.allclose(by_decile["y"], by_decile["p"], atol=0.01, rtol=0.2)
    assert (py["label_permanent"] <= py["label"]).all() and (py["label_repeat"] <= py["label"]).all()
    # events before census day are known at census; labelled events all start after it
    ex = full.exclusions.merge(py[py["label"] == 0][["upn", "AcademicYear"]], on=["upn", "AcademicYear"])
    manifest = json.loads((full_authority / "truth" / "manifest.json").read_text())
    census_day = ex["AcademicYear"].map(manifest["census_days"]).pipe(pd.to_datetime)
    assert len(ex) > 100 and (ex["StartDate"] < census_day).all()


# --- identifier noise, measured against the truth ---


@pytest.mark.slow
def test_every_kind_of_identifier_noise_is_present(noise: dict) -> None:
    ex, sc = noise["exclusions"], noise["social_care"]
    assert 0.01 < ex["upn_blank"] < 0.06 and 0.25 < sc["upn_blank"] < 0.45
    for source in (ex, sc):
        for kind in (
            "upn_invalid",
            "upn_stale",
            "forename_variant",
            "surname_variant",
            "nickname",
            "name_swap",
            "hyphen_part",
            "dob_day_month_swap",
            "dob_one_part_slip",
        ):
            assert source[kind] > 0, kind
    assert sc["upn_other_pupil"] > 0  # a twin recorded under the co-twin's UPN
    assert sc["exact_identity"] < ex["exact_identity"] - 0.15  # social care is the noisier source
    assert 0.10 <= sc["not_in_census"] <= 0.15
    assert sc["twin_pairs_both_known"] >= 5
    assert 0.02 < noise["census"]["twin_share"] < 0.045


@pytest.mark.slow
def test_spelling_variants_include_transliterations(full) -> None:
    spellings = set(full.social_care["Forename"]) | set(full.exclusions["Forename"])
    assert len({"Muhammad", "Mohammed", "Mohamed", "Mohammad"} & spellings) >= 3


# --- determinism and the command line ---


def test_same_seed_same_files_other_seed_differs(tmp_path: Path) -> None:
    from exclusion_risk.synth.config import load_config
    from exclusion_risk.synth.generate import generate_authority

    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate_authority(load_config(pupils=500, seed=seed, years=["2017/18", "2018/19"]), tmp_path / name)
    for f in (
        "census.csv",
        "exclusions.csv",
        "social_care.csv",
        "truth/pupil_years.csv",
        "truth/social_care_links.csv",
    ):
        assert filecmp.cmp(tmp_path / "a" / f, tmp_path / "b" / f, shallow=False), f
    assert not filecmp.cmp(tmp_path / "a" / "census.csv", tmp_path / "c" / "census.csv", shallow=False)


def test_cli_writes_an_authority_and_rejects_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "synth",
            "--out",
            str(tmp_path / "la"),
            "--pupils",
            "400",
            "--years",
            "2017/18,2018/19",
            "--seed",
            "3",
            "--base-rate",
            "0.05",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "la" / "census.csv").is_file() and (
        tmp_path / "la" / "truth" / "pupil_years.csv"
    ).is_file()
    manifest = json.loads((tmp_path / "la" / "truth" / "manifest.json").read_text())
    assert manifest["config"]["risk"]["base_rate"] == 0.05
    config = tmp_path / "c.yaml"
    config.write_text("risk:\n  male: 0.1\nsocial_care:\n  not_in_census_share: 0.2\n")
    result = runner.invoke(
        app,
        [
            "synth",
            "--out",
            str(tmp_path / "lb"),
            "--pupils",
            "300",
            "--years",
            "2018/19",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "lb" / "truth" / "manifest.json").read_text())
    assert manifest["config"]["risk"]["male"] == 0.1 and manifest["config"]["risk"]["fsm_now"] > 0
    for bad in (
        ["--years", "2015/16,2017/18"],
        ["--pupils", "5"],
        ["--header-style", "excel"],
        ["--config", str(tmp_path / "missing.yaml")],
        ["--base-rate", "2"],
    ):
        result = runner.invoke(app, ["synth", "--out", str(tmp_path / "bad"), *bad])
        assert result.exit_code == 2, bad
        assert "Traceback" not in result.output and "synth:" in result.output


# --- the oracle is (almost) a function of what is observable at census ---


def _observable_design(a, manifest: dict, sample: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a point-in-time feature builder sees at a sample of autumn-census pupils (truth links)."""
    census, ex, sc = a.census, a.exclusions, a.social_care
    aut = census[census["CensusTerm"] == "AUT"].drop_duplicates(["upn", "AcademicYear"])
    aut = aut.sample(frac=sample, random_state=0)
    aut["y"] = aut["AcademicYear"].str[:4].astype(int)
    aut["day"] = pd.to_datetime(aut["AcademicYear"].map(manifest["census_days"]))
    census_y = census["AcademicYear"].str[:4].astype(int) * 3 + census["CensusTerm"].map(
        {"AUT": 0, "SPR": 1, "SUM": 2}
    )
    fsm_rows = census.loc[census["FSMeligible"], ["upn"]].assign(k=census_y[census["FSMeligible"]])
    first_fsm = fsm_rows.groupby("upn")["k"].min()
    aut["fsm_before"] = aut["upn"].map(first_fsm).lt(aut["y"] * 3).fillna(False)
    susp = ex[ex["Category"] != "PERM"]
    n_last = susp.groupby(["upn", "start_year"]).size()
    aut["susp_last"] = (
        pd.Series(list(zip(aut["upn"], aut["y"] - 1, strict=True)), index=aut.index).map(n_last).fillna(0)
    )
    first_susp = susp.groupby("upn")["start_year"].min()
    aut["susp_before"] = aut["upn"].map(first_susp).lt(aut["y"] - 1).fillna(False)
    first_perm = ex[ex["Category"] == "PERM"].groupby("upn")["start_year"].min()
    aut["perm_before"] = aut["upn"].map(first_perm).lt(aut["y"]).fillna(False)
    so_far = ex.merge(aut[["upn", "AcademicYear", "day"]], on=["upn", "AcademicYear"])
    so_far = so_far[so_far["StartDate"] < so_far["day"]].groupby(["upn", "AcademicYear"]).size()
    aut["so_far"] = pd.MultiIndex.from_frame(aut[["upn", "AcademicYear"]]).isin(so_far.index)
    linked = sc[sc["upn"] != ""].merge(aut[["upn", "AcademicYear", "day"]], on="upn")
    known = linked[linked["StartDate"] <= linked["day"]]
    is_open = known["EndDate"].isna() | (known["EndDate"] > known["day"])
    key = pd.MultiIndex.from_frame(aut[["upn", "AcademicYear"]])
    for status in ("CIN", "CPP", "CLA"):
        hit = known[is_open & (known["Status"] == status)]
        aut[status] = key.isin(pd.MultiIndex.from_frame(hit[["upn", "AcademicYear"]]))
    aut["sc_any"] = key.isin(pd.MultiIndex.from_frame(known[["upn", "AcademicYear"]]))
    da = known[known["Factors"].str.contains("3A|3B|3C")]
    aut["da"] = key.isin(pd.MultiIndex.from_frame(da[["upn", "AcademicYear"]]))
    aut["past"] = aut["sc_any"] & ~(aut["CIN"] | aut["CPP"] | aut["CLA"])
    poss = pd.to_numeric(aut["SessionsPossible"])
    rate = (
        pd.to_numeric(aut["SessionsAuthorisedAbsence"]) + pd.to_numeric(aut["SessionsUnauthorisedAbsence"])
    ) / poss
    g = _year_group(aut["NCyearActual"])
    lookup = postcode_lookup().set_index("Postcode")["LSOA11CD"]
    lsoa = aut["LSOA"].where(aut["LSOA"] != "", normalise_postcode(aut["Postcode"]).map(lookup))
    idaci = lsoa.map(idaci_lookup().set_index("LSOA11CD")["idaci_decile"])
    sen = aut["SENprovision"]
    x = pd.DataFrame(
        {
            "male": aut["Sex"] == "M",
            "fsm": aut["FSMeligible"],
            "fsm_before": aut["fsm_before"] & ~aut["FSMeligible"],
            "K": sen == "K",
            "E": sen == "E",
            "early": (sen != "N") & (g <= 2),
            "dep": (10 - idaci) / 9,
            "absence": rate.fillna(0),
            "pa": rate.fillna(0) >= 0.1,
            "new": poss.isna() & (g >= 1),
            "susp_any": aut["susp_last"] > 0,
            "susp_log": np.log(aut["susp_last"].clip(lower=1)),
            "susp_before": aut["susp_before"],
            "perm_before": aut["perm_before"],
            "so_far": aut["so_far"],
            "CIN": aut["CIN"],
            "CPP": aut["CPP"],
            "CLA": aut["CLA"],
            "past": aut["past"],
            "da": aut["da"],
        }
    ).astype(float)
    dummies = pd.get_dummies(
        pd.DataFrame(
            {
                "g": g.astype(str),
                "eth": aut["Ethnicity"],
                "school": aut["SchoolURN"],
                "year": aut["AcademicYear"],
                "sen_type": aut["SENtype"].where(sen != "N", "none"),
            }
        ),
        drop_first=True,
        dtype=float,
    )
    return aut, pd.concat([x, dummies], axis=1)


@pytest.mark.slow
def test_true_probability_is_mostly_observable(full_authority: Path, full) -> None:
    """Inverting the documented formula, observables at census leave only the small pupil effect."""
    from exclusion_risk.synth.calendar import fraction_before_census

    manifest = json.loads((full_authority / "truth" / "manifest.json").read_text())
    aut, x = _observable_design(full, manifest, sample=0.3)  # a sample keeps it quick
    py = full.pupil_years.set_index(["upn", "AcademicYear"])["true_probability"]
    p = pd.MultiIndex.from_frame(aut[["upn", "AcademicYear"]]).map(py).to_numpy(dtype=float)
    f = aut["y"].map(fraction_before_census).to_numpy()
    keep = ~np.isnan(p) & x.notna().all(axis=1).to_numpy()
    whole_year = 1 - (1 - p[keep]) ** (1 / (1 - f[keep]))
    logit = np.log(whole_year / (1 - whole_year))
    design = np.c_[np.ones(keep.sum()), x.to_numpy()[keep]]
    coef, *_ = np.linalg.lstsq(design, logit, rcond=None)
    residual = logit - design @ coef
    assert keep.mean() > 0.99
    assert residual.std() < 0.36  # the unobserved pupil effect has SD 0.3
    assert 1 - residual.var() / logit.var() > 0.9


def test_termly_attendance_adds_up_to_the_next_census_and_gives_attendance_so_far(small_authority):
    """One file per term of every year; a year's three terms add up to the next year's census
    `Sessions*` for the pupil (the same UPN on both: a pupil who changed UPN during the year is split
    over the two), never more absence than sessions; read back into the linked history, spring rows get
    the pupil's autumn term, under whichever UPN it was recorded."""
    from exclusion_risk.linkage.history import pupil_history
    from exclusion_risk.linkage.readers import read_extracts

    folder = Path(small_authority) / "attendance"
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 12 and names[:3] == [f"attendance_2015-16_{t}.csv" for t in ("AUT", "SPR", "SUM")]
    year = pd.concat([_read(folder, f"attendance_2016-17_{t}.csv") for t in ("AUT", "SPR", "SUM")])
    counts = ["TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised"]
    year[counts] = year[counts].astype(int)
    assert (year[counts[1]] + year[counts[2]] <= year[counts[0]]).all() and (year[counts] >= 0).all(axis=None)
    totals = year.groupby("UPN")[counts].sum()
    census = _read(Path(small_authority), "census.csv")
    later = census[(census["AcademicYear"] == "2017/18") & (census["CensusTerm"] == "AUT")]
    later = later[later["SessionsPossible"] != ""].drop_duplicates("UPN").set_index("UPN")
    both = later.join(totals, how="inner")
    assert len(both) > 0.9 * len(later)
    agree = both["SessionsPossible"].astype(int).eq(both["TermlySessionsPossible"])
    agree &= both["SessionsUnauthorisedAbsence"].astype(int).eq(both["TermlySessionsUnauthorised"])
    assert agree.mean() > 0.99
    no_links = pd.DataFrame({"source": [], "record_id": [], "upn": []}, dtype="string")
    history = pupil_history(read_extracts(small_authority), no_links)
    read = history.census
    spring = read[(read["AcademicYear"] == "2016/17") & (read["CensusTerm"] == "SPR")]
    assert spring["SessionsPossibleToDate"].notna().mean() > 0.95
    autumn_term = _read(folder, "attendance_2016-17_AUT.csv").set_index("UPN")["TermlySessionsPossible"]
    by_pupil = autumn_term.astype(int).rename(index=lambda u: history.pupil_of_upn.get(u, u))
    matched = spring.set_index("UPN")["SessionsPossibleToDate"].dropna().astype(int)
    assert matched.eq(by_pupil.groupby(level=0).sum().reindex(matched.index)).all()
