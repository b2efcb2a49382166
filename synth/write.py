"""Turn the simulated authority into the three extracts (data contract) and the truth folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import (
    CENSUS_COLUMNS,
    EXCLUSION_COLUMNS,
    MIS_CENSUS_COLUMNS,
    MIS_CENSUS_HEADERS,
    SCHOOL_NAME,
    SOCIAL_CARE_COLUMNS,
)
from exclusion_risk.files import private_dir, write_csv, write_text

from .attendance import Attendance
from .calendar import TERMS, census_day
from .config import SEN_TYPES, SynthConfig
from .exclusions import ExclusionHistory
from .geography import Geography, Schools
from .noise import add_identity_noise, mistype_upn
from .population import Population
from .social_care import OtherChildren


def format_dates(values: np.ndarray, style: str) -> np.ndarray:
    """datetime64 -> ISO `YYYY-MM-DD` or UK `DD/MM/YYYY` strings ("" for NaT); fast on repeats."""
    values = np.asarray(values, dtype="datetime64[D]")
    uniq, inverse = np.unique(values, return_inverse=True)
    iso = np.datetime_as_string(uniq, unit="D").astype(object)
    if style == "uk":
        iso = np.array([f"{s[8:10]}/{s[5:7]}/{s[:4]}" if s != "NaT" else s for s in iso], dtype=object)
    iso[np.isnat(uniq)] = ""
    return iso[inverse.reshape(-1)]


def census_frame(
    config: SynthConfig,
    pop: Population,
    geo: Geography,
    schools: Schools,
    att: Attendance,
    rng: np.random.Generator,
) -> pd.DataFrame:
    pc = config.population
    pupil, k = np.nonzero(pop.present)
    order = np.lexsort((pupil, k))
    pupil, k = pupil[order], k[order]
    t = k // 3
    m = len(pupil)
    upn = np.where(
        (pop.temp_upn[pupil] != "") & (k < pop.temp_until_k[pupil]), pop.temp_upn[pupil], pop.upn[pupil]
    )
    former = np.where((pop.temp_upn[pupil] != "") & (k >= pop.temp_until_k[pupil]), pop.temp_upn[pupil], "")
    for i in np.flatnonzero(rng.random(m) < pc.invalid_upn_rate):
        upn[i] = mistype_upn(upn[i], rng)
    sen = pop.sen[pupil, k]
    sen_code = np.array(SEN_TYPES + ("",), dtype=object)
    sen_type = np.where(sen > 0, sen_code[pop.sen_type[pupil]], "")
    sen_type2 = np.where(sen > 0, sen_code[pop.sen_type2[pupil]], "")
    besd = (t == 0) & (sen_type == "SEMH") & (rng.random(m) < pc.besd_share_first_year)
    sen_type[besd] = "BESD"
    home = pop.home[pupil]
    no_postcode = rng.random(pop.n)[pupil] < pc.no_postcode_rate
    lsoa_given = no_postcode | (rng.random(m) < pc.lsoa_given_share)
    ncy = pop.ncy[pupil, k]
    poss = att.possible[pupil, t]
    blank = poss < 0
    years = np.array([calendar.format_year(y) for y in config.start_years], dtype=object)

    def count(a: np.ndarray) -> pd.Series:
        return pd.Series(a, dtype="Int64").mask(blank)

    df = pd.DataFrame(
        {
            "UPN": upn,
            "FormerUPN": former,
            "Surname": pop.surname[pupil],
            "Forename": pop.forename[pupil],
            "MiddleNames": pop.middle[pupil],
            "PreferredSurname": pop.preferred_surname[pupil],
            "FormerSurname": pop.former_surname[pupil],
            "DOB": format_dates(pop.dob[pupil], config.date_format),
            "Sex": np.where(pop.male[pupil], "M", "F"),
            "Ethnicity": pop.ethnicity_written[pupil],
            "FSMeligible": pop.fsm[pupil, k].astype(np.int8),
            "SENprovision": np.array(["N", "K", "E"], dtype=object)[sen],
            "SENtype": sen_type,
            "NCyearActual": np.where(ncy == 0, "R", ncy.astype(str)).astype(object),
            "Postcode": np.where(no_postcode, "", geo.postcode[home]),
            "LSOA": np.where(lsoa_given, geo.lsoa[home], ""),
            "SchoolURN": schools.urn[pop.school[pupil, k]],
            SCHOOL_NAME: schools.name[pop.school[pupil, k]],
            "AcademicYear": years[t],
            "CensusTerm": np.array(TERMS, dtype=object)[k % 3],
            "SessionsPossible": count(poss),
            "SessionsAuthorisedAbsence": count(att.authorised[pupil, t]),
            "SessionsUnauthorisedAbsence": count(att.unauthorised[pupil, t]),
        },
        columns=CENSUS_COLUMNS,
    )
    if config.output.header_style == "mis":
        entry = _entry_dates(config, pop, pupil, k)
        df["FSMeligible"] = np.where(df["FSMeligible"] == 1, "true", "false")
        df = df.rename(columns=MIS_CENSUS_HEADERS)
        df["EnrolStatus"] = "C"
        df["EntryDate"] = format_dates(entry, config.date_format)
        df["Language"] = pop.language[pupil]
        df["SENNeed2"] = sen_type2
        df = df[MIS_CENSUS_COLUMNS]
    return df


def _entry_dates(config: SynthConfig, pop: Population, pupil: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Date each row's pupil joined the row's school (start of the current spell at that school)."""
    grid = pop.school
    n_terms = grid.shape[1]
    kk = np.arange(n_terms)[None, :]
    starts = (kk == 0) | (grid != np.c_[np.full((grid.shape[0], 1), -2), grid[:, :-1]])
    spell_start = np.maximum.accumulate(np.where(starts, kk, 0), axis=1)
    s = spell_start[pupil, k]
    y0 = config.start_years[0]
    start_year = y0 + s // 3 + (s % 3 > 0)
    dates = _term_start_dates(start_year, s % 3)
    # pupils on roll from the first collection joined when their phase began (Reception or Year 7)
    from_start = (s == 0) & (pop.new_year[pupil] < 0)
    ncy0 = pop.ncy[pupil, 0]
    phase_start = y0 - np.where(ncy0 >= 7, ncy0 - 7, ncy0)
    early = np.array(phase_start - 1970, dtype="datetime64[Y]").astype("datetime64[D]") + np.timedelta64(
        245, "D"
    )
    return np.where(from_start, early, dates)


def _term_start_dates(year: np.ndarray, term: np.ndarray) -> np.ndarray:
    base = np.array(year - 1970, dtype="datetime64[Y]").astype("datetime64[D]")
    offset = np.array([245, 4, 109])[term]  # about 3 Sep, 5 Jan, 20 Apr
    return base + offset.astype("timedelta64[D]")


def exclusions_frame(
    config: SynthConfig, pop: Population, schools: Schools, hist: ExclusionHistory, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    ev = hist.events.sort_values(["date", "pupil"], kind="stable").reset_index(drop=True)
    p = ev["pupil"].to_numpy()
    k = ev["k"].to_numpy()
    clean_upn = np.where((pop.temp_upn[p] != "") & (k < pop.temp_until_k[p]), pop.temp_upn[p], pop.upn[p])
    former = np.where((pop.temp_upn[p] != "") & (k >= pop.temp_until_k[p]), pop.temp_upn[p], "")
    noisy = add_identity_noise(
        config.noise.exclusions,
        rng,
        upn=clean_upn,
        former_upn=former,
        twin_upn=_twin_upn(pop, p),
        forename=pop.forename[p],
        middle=pop.middle[p],
        surname=pop.surname[p],
        preferred_surname=pop.preferred_surname[p],
        dob=pop.dob[p],
    )
    record_id = np.array([f"EX{i:07d}" for i in range(1, len(ev) + 1)], dtype=object)
    df = pd.DataFrame(
        {
            "RecordID": record_id,
            "UPN": noisy["upn"],
            "Surname": noisy["surname"],
            "Forename": noisy["forename"],
            "DOB": format_dates(noisy["dob"], config.date_format),
            "Sex": np.where(pop.male[p], "M", "F"),
            "SchoolURN": schools.urn[ev["school"].to_numpy()],
            "Category": ev["Category"].to_numpy(),
            "StartDate": format_dates(ev["date"].to_numpy(), config.date_format),
            "Sessions": pd.Series(ev["Sessions"].to_numpy(), dtype="Int64"),
            "Reason": ev["Reason"].to_numpy(),
        },
        columns=EXCLUSION_COLUMNS,
    )
    links = pd.DataFrame({"RecordID": record_id, "upn": pop.current_upn()[p]})
    return df, links


def _twin_upn(pop: Population, p: np.ndarray) -> np.ndarray:
    tw = pop.twin[p]
    return np.where(tw >= 0, pop.current_upn()[np.maximum(tw, 0)], "")


def social_care_frame(
    config: SynthConfig,
    pop: Population,
    geo: Geography,
    others: OtherChildren,
    episodes: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    extract_end = np.datetime64(f"{config.start_years[-1] + 1}-08-31")
    ep = episodes[episodes["start"].to_numpy() <= extract_end].copy()
    children = np.unique(ep["child"].to_numpy())
    c = len(children)
    in_census = children < pop.n
    pi = np.where(in_census, children, 0)
    oi = np.where(in_census, 0, children - pop.n)
    current = pop.current_upn()

    def pick(a_pop: np.ndarray, a_other: np.ndarray) -> np.ndarray:
        return np.where(in_census, a_pop[pi], a_other[oi])

    blank = np.full(len(others.male), "", dtype=object)
    male = pick(pop.male, others.male)
    noisy = add_identity_noise(
        config.noise.social_care,
        rng,
        upn=pick(current, others.upn),
        former_upn=np.where(in_census, np.where(pop.temp_upn[pi] != current[pi], pop.temp_upn[pi], ""), ""),
        twin_upn=np.where(in_census, _twin_upn(pop, pi), ""),
        forename=pick(pop.forename, others.forename),
        middle=pick(pop.middle, blank),
        surname=pick(pop.surname, others.surname),
        preferred_surname=pick(pop.preferred_surname, blank),
        dob=pick(pop.dob, others.dob),
    )
    upper = rng.random(c) < 0.2  # some case-management systems hold surnames in capitals
    noisy["surname"] = np.where(
        upper, np.char.upper(noisy["surname"].astype(str)).astype(object), noisy["surname"]
    )
    home = pick(pop.home, others.home)
    stale = rng.random(c) < config.noise.social_care.postcode_stale
    home = np.where(stale, _nearby(geo, home, rng), home)
    cin_codes = rng.random(c) < config.social_care.cin_code_sex_share
    sex = np.where(cin_codes, np.where(male, "1", "2"), np.where(male, "M", "F"))
    ethnicity = pick(pop.ethnicity, others.ethnicity)
    ethnicity = np.where(rng.random(c) < 0.05, "", ethnicity)
    ids = rng.choice(np.arange(100000, 999999), c, replace=False)
    la_child_id = np.array([f"{config.authority.la_number}C{i}" for i in ids], dtype=object)

    row_child = np.searchsorted(children, ep["child"].to_numpy())
    end = ep["end"].to_numpy()
    end = np.where(end > extract_end, np.datetime64("NaT"), end)
    df = (
        pd.DataFrame(
            {
                "LAchildID": la_child_id[row_child],
                "UPN": noisy["upn"][row_child],
                "Surname": noisy["surname"][row_child],
                "Forename": noisy["forename"][row_child],
                "DOB": format_dates(noisy["dob"], config.date_format)[row_child],
                "Sex": sex[row_child],
                "Ethnicity": ethnicity[row_child],
                "Postcode": geo.postcode[home][row_child],
                "Status": ep["Status"].to_numpy(),
                "StartDate": format_dates(ep["start"].to_numpy(), config.date_format),
                "EndDate": format_dates(end, config.date_format),
                "PrimaryNeed": ep["PrimaryNeed"].to_numpy(),
                "Factors": ep["Factors"].to_numpy(),
                "_start": ep["start"].to_numpy(),
            },
            columns=[*SOCIAL_CARE_COLUMNS, "_start"],
        )
        .sort_values(["LAchildID", "_start", "Status"])
        .drop(columns="_start")
    )
    links = pd.DataFrame({"LAchildID": la_child_id, "upn": np.where(in_census, current[pi], "")})
    return df.reset_index(drop=True), links.sort_values("LAchildID").reset_index(drop=True)


def _nearby(geo: Geography, home: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another postcode in the same district (the family's previous address)."""
    order = np.argsort(geo.district, kind="stable")
    districts, first, counts = np.unique(geo.district[order], return_index=True, return_counts=True)
    d = np.searchsorted(districts, geo.district[home])
    return order[first[d] + (rng.random(len(home)) * counts[d]).astype(np.int64)]


def pupil_years_frame(config: SynthConfig, pop: Population, hist: ExclusionHistory) -> pd.DataFrame:
    py = hist.pupil_years
    years = np.array([calendar.format_year(y) for y in config.start_years], dtype=object)
    return pd.DataFrame(
        {
            "upn": pop.current_upn()[py["pupil"].to_numpy()],
            "AcademicYear": years[py["t"].to_numpy()],
            "true_probability": py["true_probability"].to_numpy(),
            "label": py["label"].astype(np.int8).to_numpy(),
            "label_permanent": py["label_permanent"].astype(np.int8).to_numpy(),
            "label_repeat": py["label_repeat"].astype(np.int8).to_numpy(),
        }
    )


def write_all(
    out: Path,
    config: SynthConfig,
    frames: dict[str, pd.DataFrame],
    truth: dict[str, pd.DataFrame],
    manifest: dict,
    termly: dict[str, pd.DataFrame] | None = None,
) -> None:
    """The extracts, the termly attendance files (`attendance/`) and the truth tables as CSV; private
    (0600 in 0700 folders) because they look exactly like an authority's identifying extracts, and
    whoever finds a copy cannot tell."""
    private_dir(out / "truth")
    if termly:
        private_dir(out / "attendance")
    for name, df in (termly or {}).items():
        write_csv(df, out / "attendance" / f"{name}.csv", private=True, engine="arrow")
    # Arrow's unquoted writer: no value needs quoting, and pandas takes ~10x longer on the census;
    # floats keep their shortest exact form, so `true_probability` round-trips exactly.
    for name, df in frames.items():
        write_csv(df, out / f"{name}.csv", private=True, engine="arrow")
    for name, df in truth.items():
        write_csv(df, out / "truth" / f"{name}.csv", private=True, engine="arrow")
    write_text(out / "truth" / "manifest.json", json.dumps(manifest, indent=2, default=str))


def census_dates(config: SynthConfig) -> dict[str, str]:
    return {calendar.format_year(y): str(census_day(y)) for y in config.start_years}
