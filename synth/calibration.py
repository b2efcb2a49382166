"""Measure a generated authority against the published figures it is calibrated to.

Reads the written extracts and the truth folder (this generator's own output; no other stage may read
truth), so the figures are those a user of the files would see. Used by the tests and the bench.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import MIS_CENSUS_HEADERS
from exclusion_risk.reference import idaci_lookup, normalise_postcode, postcode_lookup
from exclusion_risk.upn import valid_upn_mask
from exclusion_risk.values import TRUE_WORDS

from .calendar import census_day
from .names import EXTENDED_CODES, NICKNAMES, variant_table

_MAIN_CODE = {ext: main for main, codes in EXTENDED_CODES.items() for ext in codes}


def _parse_dates(s: pd.Series) -> pd.Series:
    s = s.astype("string")
    uk = s.str.contains("/", regex=False).fillna(False)
    out = pd.to_datetime(s.where(~uk), format="%Y-%m-%d", errors="coerce")
    return out.fillna(pd.to_datetime(s.where(uk), format="%d/%m/%Y", errors="coerce"))


@dataclass
class Authority:
    """The three extracts (contract headers) with each row's true pupil key `upn` attached."""

    census: pd.DataFrame
    exclusions: pd.DataFrame
    social_care: pd.DataFrame
    pupil_years: pd.DataFrame
    schools: pd.DataFrame


def load_authority(folder: Path | str) -> Authority:
    folder = Path(folder)
    census = pd.read_csv(folder / "census.csv", dtype=str, keep_default_na=False)
    census = census.rename(columns={mis: name for name, mis in MIS_CENSUS_HEADERS.items()})
    census["FSMeligible"] = census["FSMeligible"].str.strip().str.lower().isin(TRUE_WORDS)
    # a pupil's key is their latest UPN: rows written under a temporary UPN map through FormerUPN
    former = census.loc[census["FormerUPN"] != "", ["FormerUPN", "UPN"]].drop_duplicates("FormerUPN")
    to_current = dict(zip(former["FormerUPN"], former["UPN"], strict=True))
    census["upn"] = census["UPN"].map(to_current).fillna(census["UPN"])
    census["Ethnicity"] = census["Ethnicity"].map(_MAIN_CODE).fillna(census["Ethnicity"])
    census["SENtype"] = census["SENtype"].replace("BESD", "SEMH")
    census["DOB"] = _parse_dates(census["DOB"])
    ex = pd.read_csv(folder / "exclusions.csv", dtype=str, keep_default_na=False)
    links = pd.read_csv(folder / "truth" / "exclusion_links.csv", dtype=str, keep_default_na=False)
    ex = ex.merge(links, on="RecordID", how="left")
    ex["StartDate"] = _parse_dates(ex["StartDate"])
    ex["DOB"] = _parse_dates(ex["DOB"])
    ex["start_year"] = ex["StartDate"].dt.year - (ex["StartDate"].dt.month < 9)
    ex["AcademicYear"] = ex["start_year"].map(calendar.format_year)
    sc = pd.read_csv(folder / "social_care.csv", dtype=str, keep_default_na=False)
    sc_links = pd.read_csv(folder / "truth" / "social_care_links.csv", dtype=str, keep_default_na=False)
    sc = sc.merge(sc_links, on="LAchildID", how="left")
    for col in ("StartDate", "EndDate", "DOB"):
        sc[col] = _parse_dates(sc[col])
    py = pd.read_csv(folder / "truth" / "pupil_years.csv", dtype={"upn": str, "AcademicYear": str})
    schools = pd.read_csv(folder / "truth" / "schools.csv", dtype={"SchoolURN": str})
    return Authority(census=census, exclusions=ex, social_care=sc, pupil_years=py, schools=schools)


def autumn_roll(a: Authority) -> pd.DataFrame:
    """One row per pupil per year on the autumn census, with whole-year outcomes attached."""
    aut = a.census[a.census["CensusTerm"] == calendar.AUTUMN].drop_duplicates(["upn", "AcademicYear"]).copy()
    ev = a.exclusions
    any_ev = ev.groupby(["upn", "AcademicYear"]).size().rename("events")
    perm = ev[ev["Category"] == "PERM"].groupby(["upn", "AcademicYear"]).size().rename("perms")
    aut = aut.join(any_ev, on=["upn", "AcademicYear"]).join(perm, on=["upn", "AcademicYear"])
    aut["excluded"] = aut["events"].fillna(0) > 0
    aut["permanent"] = aut["perms"].fillna(0) > 0
    sc = a.social_care[a.social_care["upn"] != ""]
    for status in ("CIN", "CPP", "CLA"):
        aut[f"{status.lower()}_open"] = False
        aut[f"{status.lower()}_year"] = False
    for year in aut["AcademicYear"].unique():
        y = int(year[:4])
        day = pd.Timestamp(census_day(y))
        start, end = pd.Timestamp(f"{y}-09-01"), pd.Timestamp(f"{y + 1}-08-31")
        in_year = aut["AcademicYear"] == year
        for status in ("CIN", "CPP", "CLA"):
            s = sc[sc["Status"] == status]
            open_at = s[(s["StartDate"] <= day) & (s["EndDate"].isna() | (s["EndDate"] > day))]["upn"]
            overlap = s[(s["StartDate"] <= end) & (s["EndDate"].isna() | (s["EndDate"] >= start))]["upn"]
            aut.loc[in_year, f"{status.lower()}_open"] = aut.loc[in_year, "upn"].isin(set(open_at))
            aut.loc[in_year, f"{status.lower()}_year"] = aut.loc[in_year, "upn"].isin(set(overlap))
    return aut


def _rate(df: pd.DataFrame, mask: pd.Series, col: str = "excluded") -> float:
    return float(df.loc[mask, col].mean())


def _authority(source: Path | str | Authority) -> Authority:
    return source if isinstance(source, Authority) else load_authority(source)


def measure(source: Path | str | Authority) -> dict[str, float | dict]:
    """The calibration figures of a generated authority (targets: tests/synth/test_authority.py)."""
    a = _authority(source)
    aut = autumn_roll(a)
    out: dict[str, float | dict] = {}
    out["pupils_first_autumn"] = int((aut["AcademicYear"] == aut["AcademicYear"].min()).sum())
    out["excluded_share_by_year"] = aut.groupby("AcademicYear")["excluded"].mean().round(5).to_dict()
    out["excluded_share"] = float(aut["excluded"].mean())
    out["permanent_share"] = float(aut["permanent"].mean())
    overall = out["excluded_share"]
    out["boys_to_girls"] = _rate(aut, aut["Sex"] == "M") / _rate(aut, aut["Sex"] == "F")
    out["fsm_to_non_fsm"] = _rate(aut, aut["FSMeligible"]) / _rate(aut, ~aut["FSMeligible"])
    no_sen = _rate(aut, aut["SENprovision"] == "N")
    out["sen_support_to_none"] = _rate(aut, aut["SENprovision"] == "K") / no_sen
    out["ehc_to_none"] = _rate(aut, aut["SENprovision"] == "E") / no_sen
    semh = aut["SENtype"] == "SEMH"
    out["semh_share_of_pupils"] = float(semh.mean())
    out["semh_share_of_permanent"] = float(semh[aut["permanent"]].mean())
    by_year_group = aut.groupby("NCyearActual")["excluded"].mean()
    out["rate_by_year_group"] = by_year_group.round(5).to_dict()
    out["peak_year_group"] = str(by_year_group.idxmax())
    y1 = aut[(aut["NCyearActual"] == "1") & aut["excluded"]]
    out["year1_excluded_with_send"] = float((y1["SENprovision"] != "N").mean())
    out["rate_by_ethnicity"] = aut.groupby("Ethnicity")["excluded"].mean().round(5).to_dict()
    out["cla_to_average"] = _rate(aut, aut["cla_open"]) / overall
    out["cpp_to_average"] = _rate(aut, aut["cpp_open"]) / overall
    out["cin_year_share"] = float(aut["cin_year"].mean())
    out["cpp_year_share"] = float(aut["cpp_year"].mean())
    out["cla_year_share"] = float(aut["cla_year"].mean())

    # a few schools make most permanent exclusions, and not because of where they are
    perms = (
        a.exclusions[a.exclusions["Category"] == "PERM"]
        .groupby("SchoolURN")
        .size()
        .sort_values(ascending=False)
    )
    n_schools = a.census["SchoolURN"].nunique()
    top = max(1, int(round(0.12 * n_schools)))
    out["top12pct_schools_permanent_share"] = float(perms.head(top).sum() / max(perms.sum(), 1))
    idaci = _school_deprivation(a.census)
    schools = a.schools.merge(idaci, on="SchoolURN")
    out["school_effect_deprivation_corr"] = float(np.corrcoef(schools["effect"], schools["mean_idaci"])[0, 1])

    # state dependence: last year's exclusion and this year's
    prev = aut[["upn", "AcademicYear", "excluded"]].copy()
    prev["AcademicYear"] = prev["AcademicYear"].map(lambda y: calendar.shift_year(y, 1))
    both = aut.merge(prev.rename(columns={"excluded": "excluded_last_year"}), on=["upn", "AcademicYear"])
    out["after_exclusion_to_after_none"] = _rate(both, both["excluded_last_year"]) / _rate(
        both, ~both["excluded_last_year"]
    )
    # FSM follows deprivation
    aut_idaci = _pupil_idaci(aut)
    out["fsm_share"] = float(aut["FSMeligible"].mean())
    out["fsm_most_to_least_deprived"] = float(
        aut.loc[aut_idaci <= 2, "FSMeligible"].mean() / aut.loc[aut_idaci >= 7, "FSMeligible"].mean()
    )
    sc_children = a.social_care.drop_duplicates("LAchildID")
    out["social_care_not_in_census_share"] = float((sc_children["upn"] == "").mean())
    out["oracle_mean_probability"] = float(a.pupil_years["true_probability"].mean())
    out["post_census_label_share"] = float(a.pupil_years["label"].mean())
    return out


def _pupil_idaci(df: pd.DataFrame) -> pd.Series:
    lookup = idaci_lookup().set_index("LSOA11CD")["idaci_decile"]
    pcs = postcode_lookup().set_index("Postcode")["LSOA11CD"]
    lsoa = df["LSOA"].where(df["LSOA"] != "", normalise_postcode(df["Postcode"]).map(pcs))
    return lsoa.map(lookup)


def _school_deprivation(census: pd.DataFrame) -> pd.DataFrame:
    aut = census[census["CensusTerm"] == calendar.AUTUMN]
    dec = _pupil_idaci(aut)
    return dec.groupby(aut["SchoolURN"]).mean().rename("mean_idaci").reset_index()


def _identity(census: pd.DataFrame) -> pd.DataFrame:
    """Each pupil's identity on their latest census row, keyed by `upn`."""
    term = census["CensusTerm"].map(calendar.TERM_ORDER)
    latest = census.assign(_o=census["AcademicYear"] + term.astype(str)).sort_values("_o")
    return latest.drop_duplicates("upn", keep="last").set_index("upn")


def twin_groups(census: pd.DataFrame) -> pd.DataFrame:
    """Pupils sharing surname, date of birth and postcode with another pupil (twins), with a group id."""
    aut = census[census["CensusTerm"] == calendar.AUTUMN].drop_duplicates("upn")
    key = aut["Surname"] + "|" + aut["DOB"].astype(str) + "|" + aut["Postcode"]
    sizes = key.map(key.value_counts())
    twins = aut.loc[(sizes >= 2) & (aut["Postcode"] != ""), ["upn"]].copy()
    twins["group"] = key[twins.index]
    return twins


def measure_noise(source: Path | str | Authority) -> dict[str, dict[str, float]]:
    """Identifier noise in exclusions and social care, measured against the true links."""
    a = _authority(source)
    ident = _identity(a.census)
    pupils = set(ident.index)
    formers = a.census.loc[a.census["FormerUPN"] != "", ["upn", "FormerUPN"]].drop_duplicates()
    former_of = dict(zip(formers["FormerUPN"], formers["upn"], strict=True))
    variants = variant_table()
    twins = twin_groups(a.census)
    out: dict[str, dict[str, float]] = {}
    sc_children = a.social_care.drop_duplicates("LAchildID")
    for source, df in (("exclusions", a.exclusions), ("social_care", sc_children)):
        df = df[df["upn"].isin(pupils)]  # (a pupil whose only census row has a mistyped UPN drops out)
        truth = ident.reindex(df["upn"])
        f, s, d = df["Forename"].to_numpy(), df["Surname"].to_numpy(), df["DOB"]
        tf, ts, td = (
            truth["Forename"].to_numpy(),
            truth["Surname"].to_numpy(),
            truth["DOB"].reset_index(drop=True),
        )
        d = d.reset_index(drop=True)
        mid = truth["MiddleNames"].to_numpy()
        valid = valid_upn_mask(df["UPN"]).to_numpy()
        upn, key = df["UPN"].to_numpy(), df["upn"].to_numpy()
        swapped_dob = pd.to_datetime(
            dict(
                year=td.dt.year,
                month=td.dt.day.where(td.dt.day <= 12, td.dt.month),
                day=td.dt.month.where(td.dt.day <= 12, td.dt.day),
            ),
            errors="coerce",
        )
        parts_differ = (
            (d.dt.year != td.dt.year).astype(int)
            + (d.dt.month != td.dt.month).astype(int)
            + (d.dt.day != td.dt.day).astype(int)
        )
        rates = {
            "records": float(len(df)),
            "upn_blank": float((upn == "").mean()),
            "upn_invalid": float(((upn != "") & ~valid).mean()),
            "upn_stale": float(
                np.mean([former_of.get(u) == k and u != k for u, k in zip(upn, key, strict=True)])
            ),
            "upn_other_pupil": float(
                np.mean(
                    valid
                    & (upn != key)
                    & np.array([u in pupils for u in upn])
                    & np.array([former_of.get(u) != k for u, k in zip(upn, key, strict=True)])
                )
            ),
            "forename_variant": float(
                np.mean([x != y and x in variants.get(y, ()) for x, y in zip(f, tf, strict=True)])
            ),
            "surname_variant": float(
                np.mean([x != y and x in variants.get(y, ()) for x, y in zip(s, ts, strict=True)])
            ),
            "nickname": float(
                np.mean(
                    [
                        x != y and (x in NICKNAMES.get(y, ()) or x == m)
                        for x, y, m in zip(f, tf, mid, strict=True)
                    ]
                )
            ),
            "name_swap": float(np.mean((f == ts) & (s == tf) & (f != s))),
            "hyphen_part": float(
                np.mean([("-" in y) and x in y.split("-") for x, y in zip(s, ts, strict=True)])
            ),
            "surname_upper_case": float(
                np.mean([x != y and x == y.upper() for x, y in zip(s, ts, strict=True)])
            ),
            "dob_day_month_swap": float(((d != td) & (d == swapped_dob)).mean()),
            "dob_one_part_slip": float(((parts_differ == 1) & d.notna()).mean()),
            "exact_identity": float(np.mean((f == tf) & (s == ts) & (d == td).to_numpy())),
        }
        if source == "social_care":
            rates["not_in_census"] = float((sc_children["upn"] == "").mean())
            linked_twins = twins[twins["upn"].isin(sc_children["upn"])]
            rates["twin_pairs_both_known"] = float((linked_twins.groupby("group").size() >= 2).sum())
        out[source] = rates
    autumn_pupils = a.census.loc[a.census["CensusTerm"] == calendar.AUTUMN, "upn"].nunique()
    out["census"] = {"twin_share": float(len(twins) / autumn_pupils)}
    return out
