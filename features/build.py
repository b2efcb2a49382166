"""Point-in-time feature table: one row per pupil on each year's reference census, as known on census day.

The reference census is a term of the year (`census`: AUT by default, or SPR / SUM). For reference year
Y and term T (census day d = `census_date(Y, T)`) a feature may use only
- census rows of earlier years (any term) and Y's rows up to and including T's, never a later term's
  (at autumn: no spring or summer row of Y; at spring: no summer row);
- the T row's Sessions* columns, which describe the previous academic year (blank = missing), and
  its attendance so far this year (`linkage.extract_frames.ATTENDANCE_TO_DATE`, from termly files: the
  terms of Y that ended before T's census, so always missing at autumn and wherever the authority
  has no termly attendance);
- exclusions with StartDate <= d (earlier years and this year so far, kept separate);
- social-care episodes with StartDate <= d, open when EndDate is blank or after d;
- school context from years before Y only (its rolls are autumn rolls, whatever T is);
- school moves "last year": moves recorded on the three collections up to and including T's (the
  twelve months before d: at autumn Y-1's spring and summer and Y's autumn, at spring Y-1's summer and
  Y's autumn and spring); every earlier collection's moves are "earlier".
Labels (`features.labels`) use exclusions after d. Everything is vectorised: a handful of groupbys per
year, no per-pupil Python. At autumn the table is exactly what it was before T could be chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import PUPIL_KEY, SCHOOL_NAME
from exclusion_risk.features import labels, registry
from exclusion_risk.features.columns import as_code, as_float, column, stripped
from exclusion_risk.features.home_area import idaci_deciles
from exclusion_risk.features.need import need_level
from exclusion_risk.features.school_codes import successor_codes
from exclusion_risk.linkage import registrations
from exclusion_risk.linkage.codes import NC_YEAR_NUMBERS, reason_group, split_codes
from exclusion_risk.linkage.extract_frames import ATTENDANCE_TO_DATE
from exclusion_risk.linkage.history import RECORDED_UPN, PupilHistory
from exclusion_risk.linkage.upn_columns import tidy_upn_column

AUTUMN_TERM = calendar.TERM_ORDER[calendar.AUTUMN]  # the autumn census's term number (0)
TERMS_A_YEAR = len(calendar.CENSUS_TERMS)  # collections a year: "last year" is this many up to census day
PERSISTENT_ABSENCE = 0.10  # DfE definition: 10% or more of possible sessions missed
FSM_EVER_YEARS = 6
# A school move into Year 3 or Year 7 at the start of a year is the usual infant->junior or
# primary->secondary transfer, not mobility.
TRANSFER_YEARS = (3, 7)
# Shrinkage of a school's earlier exclusion rate toward the authority rate: a school's rate counts as
# much as the authority's after this many pupil-years (a school with 100 pupil-years is weighed half).
SCHOOL_PRIOR_PUPILS = 100.0
NC_YEARS = {**NC_YEAR_NUMBERS, "RECEPTION": 0}
# CIN census assessment factors: 1x alcohol, 2x drugs, 3x domestic abuse, 4x mental health
# (A the child, B a parent or carer, C another person).
FACTOR_PATTERNS = {
    "sc_domestic_abuse": r"(?:^|;)\s*3[ABC]\s*(?=;|$)",
    "sc_mental_health": r"(?:^|;)\s*4[ABC]\s*(?=;|$)",
    "sc_substance_misuse": r"(?:^|;)\s*[12][ABC]\s*(?=;|$)",
}
# The reader's reason groups (linkage.codes.REASON_GROUPS) that have a feature of their own; every
# other group (bullying, damage, drugs, weapons...) counts as `reason_other`.
REASON_GROUP_FEATURES = {
    "physical_assault": "reason_physical_assault",
    "verbal_abuse": "reason_verbal_abuse",
    "persistent_disruption": "reason_disruption",
}

NUMERIC_OUTPUT = ("numeric", "binary")
LABEL_COLUMNS = ["label", "label_any", "label_permanent", "label_repeat"]
# Keys and labels, never model inputs (the models take registry features by name): `upn` as the reference
# census recorded it and PUPIL_KEY, the pupil across years (contract.PUPIL_KEY); the school's name is
# carried beside its URN for the officer's lists (scores.csv's `school_name`).
KEY_COLUMNS = ["upn", PUPIL_KEY, "AcademicYear", "SchoolURN", SCHOOL_NAME]


def year_numbers(years: pd.Series) -> pd.Series:
    """`2016/17` strings -> 2016 (Int64), via the few distinct values."""
    distinct = pd.Series(years.dropna().unique())
    mapping = {}
    for value in distinct:
        try:
            mapping[value] = calendar.start_year(value)
        except ValueError:
            mapping[value] = pd.NA
    return years.map(mapping).astype("Int64")


def _flags_any(frame: pd.DataFrame, key: str, columns: list[str], index: pd.Index) -> pd.DataFrame:
    """Per key: 1.0 when any row has the flag, 0.0 otherwise (keys without rows get 0)."""
    if frame.empty:
        return pd.DataFrame(0.0, index=index, columns=columns)
    out = frame.groupby(key, sort=False)[columns].max().astype("float64")
    return out.reindex(index, fill_value=0.0)


# --- preparation, once per history ----------------------------------------------------------------


@dataclass
class Prepared:
    source: pd.DataFrame  # the census as given; reference rows' attributes are read from it
    pupils: pd.Index  # UPN of each pupil id (`pid`, an int used for fast grouping)
    census: pd.DataFrame  # one row per pupil, year, term; sorted; `move`, numeric year/term, `position`
    exclusions: pd.DataFrame  # linked rows with a StartDate; flags per category and reason
    social_care: pd.DataFrame  # linked rows with a StartDate; factor flags
    school_year: pd.DataFrame  # school, year, pupils, susp, perm (autumn rolls and their exclusions)


def prepare(history: PupilHistory) -> Prepared:
    """The history as the per-year builders read it (once for every reference year)."""
    census, pupils, successors = _prepare_census(history.census)
    exclusions = _prepare_exclusions(history.exclusions, pupils)
    if successors:  # a school under a new code is one school (features.school_codes)
        exclusions["school"] = exclusions["school"].replace(successors)
    return Prepared(
        source=history.census,
        pupils=pupils,
        census=census,
        exclusions=exclusions,
        social_care=_prepare_social_care(history.social_care, pupils),
        school_year=_school_year(census, exclusions),
    )


def _prepare_census(census: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index, dict[str, str]]:
    upn = tidy_upn_column(column(census, "UPN"))
    terms = as_code(column(census, "CensusTerm")).map(calendar.TERM_ORDER).astype("Int64")
    years = year_numbers(column(census, "AcademicYear"))
    keep = upn.notna() & (upn != "") & years.notna() & terms.notna()
    c = pd.DataFrame(
        {
            "upn": upn[keep],
            "year": years[keep].astype("int64"),
            "term": terms[keep].astype("int64"),
            "school": stripped(column(census, "SchoolURN")[keep]),
            "fsm": as_float(column(census, "FSMeligible"))[keep],
            "nc_year": as_code(column(census, "NCyearActual"))[keep].map(NC_YEARS).astype("float64"),
            "order": column(census, "_row")[keep] if "_row" in census.columns else np.arange(keep.sum()),
        }
    )
    c["position"] = np.flatnonzero(keep.to_numpy())
    codes, uniques = pd.factorize(c.pop("upn"))
    c["pid"] = codes
    # A dual registration gives two rows in one collection: the one that stands is the registrations'
    # rule (not the subsidiary school's row, else the first in file order); the report counts the rest.
    is_subsidiary = registrations.subsidiary(census)[keep.to_numpy()]
    c = c.iloc[registrations.standing_order(codes, c["year"], c["term"], is_subsidiary, c["order"])]
    c = c.drop_duplicates(["pid", "year", "term"], keep="first").reset_index(drop=True)
    successors = successor_codes(c, TRANSFER_YEARS)
    if successors:  # the code each row gives stays what the tables show: the school of its day
        c["recorded_school"], c["school"] = c["school"], c["school"].replace(successors)
    same_pupil = c["pid"].eq(c["pid"].shift())
    school = pd.Series(pd.factorize(c["school"])[0], index=c.index)  # -1 where missing
    previous_school = school.shift(fill_value=-1).where(same_pupil, -1)
    new_year = c["year"].gt(c["year"].shift()) & same_pupil
    transfer = new_year & c["term"].eq(AUTUMN_TERM) & c["nc_year"].isin(TRANSFER_YEARS)
    changed = previous_school.ge(0) & school.ge(0) & school.ne(previous_school)
    c["move"] = (changed & ~transfer).astype("float64")
    return c, pd.Index(uniques, dtype="object"), successors


def school_successors(census: pd.DataFrame) -> dict[str, str]:
    """The school codes `census` (a census extract's rows) shows carrying on under another code, as the
    features read them (`features.school_codes`): old code -> new."""
    return _prepare_census(census)[2]


def _pupil_ids(upn: pd.Series, pupils: pd.Index) -> pd.Series:
    """Census pupil id of each linked record; -1 when the UPN is not on the census."""
    ids = pupils.get_indexer(tidy_upn_column(upn).to_numpy(dtype=object, na_value=None))
    return pd.Series(ids, index=upn.index)


def _prepare_exclusions(exclusions: pd.DataFrame, pupils: pd.Index) -> pd.DataFrame:
    pid = _pupil_ids(column(exclusions, "upn"), pupils)
    start = pd.to_datetime(column(exclusions, "StartDate"), errors="coerce")
    keep = pid.ge(0) & start.notna()
    category = as_code(column(exclusions, "Category"))[keep]
    e = pd.DataFrame(
        {
            "pid": pid[keep],
            "start": start[keep],
            "year": calendar.academic_year_start_of(start[keep]).astype("int64"),
            "school": stripped(column(exclusions, "SchoolURN")[keep]),
            "susp": category.isin(["SUSP", "FIXD", "LUNC"]).astype("float64"),
            "perm": category.eq("PERM").astype("float64"),
            "sessions": pd.to_numeric(column(exclusions, "Sessions")[keep], errors="coerce")
            .astype("float64")
            .fillna(0.0),
        }
    )
    reasons = _reason_flags(exclusions.loc[keep])
    return pd.concat([e, reasons], axis=1).reset_index(drop=True)


def _reason_flags(exclusions: pd.DataFrame) -> pd.DataFrame:
    """One 0/1 column per registry reason feature, from ReasonGroups (or raw Reason codes)."""
    if "ReasonGroups" in exclusions.columns:
        source, to_group = exclusions["ReasonGroups"], str.lower
    else:
        source, to_group = column(exclusions, "Reason"), reason_group
    codes, uniques = pd.factorize(source, use_na_sentinel=True)
    names = list(registry.REASON_FEATURES)
    table = np.zeros((len(uniques) + 1, len(names)))  # last row: missing reason, no flags
    for i, text in enumerate(uniques):  # distinct values only: a few dozen combinations
        for token in split_codes(str(text)):
            feature = REASON_GROUP_FEATURES.get(to_group(token), "reason_other")
            table[i, names.index(feature)] = 1.0
    return pd.DataFrame(table[codes], index=exclusions.index, columns=names)


def _prepare_social_care(social_care: pd.DataFrame, pupils: pd.Index) -> pd.DataFrame:
    pid = _pupil_ids(column(social_care, "upn"), pupils)
    start = pd.to_datetime(column(social_care, "StartDate"), errors="coerce")
    keep = pid.ge(0) & start.notna()
    status = as_code(column(social_care, "Status"))[keep]
    s = pd.DataFrame(
        {
            "pid": pid[keep],
            "start": start[keep],
            "end": pd.to_datetime(column(social_care, "EndDate")[keep], errors="coerce"),
            "cin": status.eq("CIN").astype("float64"),
            "cpp": status.eq("CPP").astype("float64"),
            "cla": status.eq("CLA").astype("float64"),
        }
    )
    factors = column(social_care, "Factors")[keep].astype("string").str.upper().fillna("")
    for name, pattern in FACTOR_PATTERNS.items():
        s[name] = factors.str.contains(pattern, regex=True).astype("float64")
    return s.reset_index(drop=True)


def _school_year(census: pd.DataFrame, exclusions: pd.DataFrame) -> pd.DataFrame:
    """Pupils on each school's autumn roll and the exclusions it made, per academic year."""
    autumn = census[census["term"].eq(AUTUMN_TERM) & census["school"].notna()]
    pupils = autumn.groupby(["school", "year"]).size().rename("pupils")
    events = exclusions[exclusions["school"].notna()].groupby(["school", "year"])[["susp", "perm"]].sum()
    table = pd.concat([pupils, events], axis=1).fillna(0.0).reset_index()
    # Exclusions from a year with no autumn census cannot be put on a per-pupil scale.
    years_with_census = set(autumn["year"].unique())
    return table[table["year"].isin(years_with_census)]


# --- one reference year ---------------------------------------------------------------------------


def _reference_rows(prep: Prepared, year: int, term: int = AUTUMN_TERM) -> pd.DataFrame:
    c = prep.census
    return c[c["year"].eq(year) & c["term"].eq(term)].set_index("pid", drop=False)


def _census_features(ref: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """Features from the reference census row alone (`source` holds its original census columns)."""
    rows = source.iloc[ref["position"].to_numpy()]
    rows.index = ref.index
    out = pd.DataFrame(index=ref.index)
    sex = as_code(column(rows, "Sex"))
    out["sex"] = sex.where(sex.isin(["M", "F"]), "unknown").astype(object)
    ethnicity = as_code(column(rows, "Ethnicity"))
    known_code = ethnicity.isin(list(registry.ETHNICITY_GROUPS))
    group = ethnicity.map(registry.ETHNICITY_GROUPS).where(known_code, "unknown")
    out["ethnicity_group"] = group.astype(object)
    out["ethnicity_code"] = ethnicity.where(known_code, "unknown").astype(object)
    out["nc_year"] = ref["nc_year"]
    out["fsm"] = ref["fsm"]
    provision = as_code(column(rows, "SENprovision"))
    provision = provision.where(provision.isin(["N", "K", "E"]), "unknown")
    out["sen_provision"] = provision.astype(object)
    sen_type = as_code(column(rows, "SENtype")).replace({"BESD": "SEMH", "": pd.NA})
    no_need = provision.isin(["N", "unknown"])
    out["sen_type"] = sen_type.fillna(pd.Series(np.where(no_need, "none", "unknown"), index=out.index))
    out["sen_type"] = out["sen_type"].astype(object)
    out["idaci_decile"] = idaci_deciles(column(rows, "Postcode"), column(rows, "LSOA"))
    last_year = ("SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence")
    for period, sessions in (("last_year", last_year), ("this_year", tuple(ATTENDANCE_TO_DATE))):
        out = out.join(_absence_features(rows, sessions, period))
    return out


def _absence_features(rows: pd.DataFrame, sessions: tuple[str, ...], period: str) -> pd.DataFrame:
    """Absence rate, unauthorised absence rate and persistent absence from (possible, authorised,
    unauthorised) session columns; `period` names them (`absence_rate_last_year`)."""
    possible, authorised, unauthorised = (as_float(column(rows, name)) for name in sessions)
    possible = possible.where(possible > 0)
    rate = ((authorised + unauthorised) / possible).clip(0.0, 1.0)
    return pd.DataFrame(
        {
            f"absence_rate_{period}": rate,
            f"unauthorised_absence_rate_{period}": (unauthorised / possible).clip(0.0, 1.0),
            f"persistent_absence_{period}": (rate >= PERSISTENT_ABSENCE).astype(float).where(rate.notna()),
        },
        index=rows.index,
    )


def _census_history_features(prep: Prepared, ref: pd.DataFrame, year: int, term: int) -> pd.DataFrame:
    c = prep.census
    known = c[(c["year"] < year) | (c["year"].eq(year) & c["term"].le(term))]
    known = known[known["pid"].isin(ref.index)]
    out = pd.DataFrame(index=ref.index)
    recent = known[known["year"] > year - FSM_EVER_YEARS]
    out["fsm_ever6"] = recent.groupby("pid")["fsm"].max().reindex(ref.index)
    # The collections of the twelve months up to census day: at autumn Y-1's spring and summer and Y's
    # autumn, as before a reference term could be chosen.
    collection = known["year"] * TERMS_A_YEAR + known["term"]
    last_year = collection.gt(year * TERMS_A_YEAR + term - TERMS_A_YEAR)
    moves = pd.DataFrame(
        {
            "pid": known["pid"],
            "last": known["move"].where(last_year, 0.0),
            "earlier": known["move"].where(~last_year, 0.0),
        }
    )
    totals = moves.groupby("pid")[["last", "earlier"]].sum().reindex(ref.index, fill_value=0.0)
    out["school_moves_last_year"] = totals["last"]
    out["school_moves_earlier"] = totals["earlier"]
    return out


def _exclusion_features(prep: Prepared, ref: pd.DataFrame, year: int, day: pd.Timestamp) -> pd.DataFrame:
    e = prep.exclusions
    e = e[(e["start"] <= day) & e["pid"].isin(ref.index)]
    reason_names = list(registry.REASON_FEATURES)
    parts = pd.DataFrame(
        {
            "pid": e["pid"],
            "suspensions_this_year": e["susp"] * e["year"].eq(year),
            "suspensions_last_year": e["susp"] * e["year"].eq(year - 1),
            "suspensions_earlier": e["susp"] * e["year"].lt(year - 1),
            "suspension_sessions_last_year": e["susp"] * e["sessions"] * e["year"].eq(year - 1),
            "suspension_sessions_earlier": e["susp"] * e["sessions"] * e["year"].lt(year - 1),
            "permanent_exclusions_prior": e["perm"],
            **{name: e[name] for name in reason_names},
        }
    )
    counts = [c for c in parts.columns if c != "pid" and c not in reason_names]
    summed = parts.groupby("pid")[counts].sum().reindex(ref.index, fill_value=0.0)
    flagged = _flags_any(parts, "pid", reason_names, ref.index)
    return pd.concat([summed, flagged], axis=1).astype("float64")


def _social_care_features(prep: Prepared, ref: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    s = prep.social_care
    s = s[(s["start"] <= day) & s["pid"].isin(ref.index)]
    is_open = s["end"].isna() | (s["end"] > day)
    flags = pd.DataFrame(
        {
            "pid": s["pid"],
            "cin_ever": s["cin"],
            "cpp_ever": s["cpp"],
            "cla_ever": s["cla"],
            "cin_open": s["cin"] * is_open,
            "cpp_open": s["cpp"] * is_open,
            "cla_open": s["cla"] * is_open,
            **{name: s[name] for name in FACTOR_PATTERNS},
        }
    )
    names = [c for c in flags.columns if c != "pid"]
    return _flags_any(flags, "pid", names, ref.index)


def school_rates(school_year: pd.DataFrame, year: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Each school's shrunk suspension and permanent-exclusion rate per pupil from years before `year`.

    Returns (rates indexed by SchoolURN, authority rates). Authority rates are NaN when no earlier year
    is in the data, so schools then get NaN: nothing was known.
    """
    earlier = school_year[school_year["year"] < year]
    totals = earlier.groupby("school")[["pupils", "susp", "perm"]].sum()
    pupils = totals["pupils"].sum()
    authority = {
        kind: float(totals[kind].sum() / pupils) if pupils > 0 else float("nan") for kind in ("susp", "perm")
    }
    rates = pd.DataFrame(index=totals.index)
    for kind in ("susp", "perm"):
        rates[kind] = (totals[kind] + SCHOOL_PRIOR_PUPILS * authority[kind]) / (
            totals["pupils"] + SCHOOL_PRIOR_PUPILS
        )
    return rates, authority


def _school_features(prep: Prepared, ref: pd.DataFrame, year: int) -> pd.DataFrame:
    rates, authority = school_rates(prep.school_year, year)
    schools = ref["school"]
    out = pd.DataFrame(index=ref.index)
    # A school with no earlier roll (new, or new to the data) gets the authority's rate.
    out["school_suspension_rate"] = schools.map(rates["susp"]).astype("float64").fillna(authority["susp"])
    out["school_permanent_rate"] = schools.map(rates["perm"]).astype("float64").fillna(authority["perm"])
    return out


def _school_names(ref: pd.DataFrame, source: pd.DataFrame) -> pd.Series:
    """Each reference pupil's school's name as that census gives it: the name most of the school's rows
    carry (ties: the first alphabetically), missing where none of them names it. One name a school,
    so a school's list reads the same for every pupil, a pupil whose row is blank among them."""
    names = stripped(column(source, SCHOOL_NAME).iloc[ref["position"].to_numpy()])
    rows = pd.DataFrame({"school": ref["school"].to_numpy(), "name": names.to_numpy()}).dropna()
    if rows.empty:
        return pd.Series(pd.NA, index=ref.index, dtype="object")
    counts = rows.groupby(["school", "name"]).size().rename("n").reset_index()
    counts = counts.sort_values(["n", "name"], ascending=[False, True], kind="stable")
    best = counts.drop_duplicates("school").set_index("school")["name"]
    return ref["school"].map(best).astype(object)


def _recorded_upns(ref: pd.DataFrame, source: pd.DataFrame, pupils: np.ndarray) -> np.ndarray:
    """The UPN each reference pupil's census row was recorded under (RECORDED_UPN), as the school's list
    for that census shows it; the pupil id where the census holds none (an upload's rows)."""
    if RECORDED_UPN not in source.columns:
        return pupils
    recorded = tidy_upn_column(source[RECORDED_UPN].iloc[ref["position"].to_numpy()]).replace("", pd.NA)
    return recorded.fillna(pd.Series(pupils, index=recorded.index)).to_numpy(dtype=object)


def build_year(prep: Prepared, year: int, census: str = calendar.AUTUMN) -> pd.DataFrame:
    """Features of the pupils on `year`'s `census` (a term code) census (year as its first calendar
    year), as known on that census day; no labels."""
    day = calendar.census_date(year, census)
    term = calendar.TERM_ORDER[census]
    ref = _reference_rows(prep, year, term)
    parts = [
        _census_features(ref, prep.source),
        _census_history_features(prep, ref, year, term),
        _exclusion_features(prep, ref, year, day),
        _social_care_features(prep, ref, day),
        _school_features(prep, ref, year),
    ]
    table = pd.concat(parts, axis=1)
    table.insert(0, SCHOOL_NAME, _school_names(ref, prep.source))
    table.insert(0, "SchoolURN", ref.get("recorded_school", ref["school"]).astype(object))
    table.insert(0, "AcademicYear", calendar.format_year(year))
    pupils = prep.pupils[ref.index.to_numpy()].to_numpy()
    table.insert(0, PUPIL_KEY, pupils)
    table.insert(0, "upn", _recorded_upns(ref, prep.source, pupils))
    table.insert(0, "pid", ref.index.to_numpy())
    return table.reset_index(drop=True)


def finish_table(table: pd.DataFrame) -> pd.DataFrame:
    """The output columns in order (keys, registry features, need level, labels), typed."""
    names = [f.name for f in registry.FEATURES]
    for f in registry.FEATURES:
        if f.kind in NUMERIC_OUTPUT:
            table[f.name] = table[f.name].astype("float64")
        else:
            table[f.name] = table[f.name].astype(object)
    table["need_level"] = need_level(table)
    return table[KEY_COLUMNS + names + ["need_level"] + [c for c in LABEL_COLUMNS if c in table]]


def _empty_table() -> pd.DataFrame:
    columns = KEY_COLUMNS + [f.name for f in registry.FEATURES] + ["need_level"] + LABEL_COLUMNS
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})


def build_feature_table(
    history: PupilHistory,
    years,
    label: str = "any",
    outcomes_through: str | None = None,
    census: str = calendar.AUTUMN,
) -> pd.DataFrame:
    """Features for every pupil on the `census` census (AUT, SPR or SUM; default autumn) of each year in
    `years`, as known on that census day; labels count what happened after it, to 31 August.

    Columns: upn (the UPN on the pupil's row of that census, as scores.csv names the pupil), pupil_upn
    (the pupil across years, links.csv's `upn`), AcademicYear, SchoolURN, SchoolName (the census's name
    for the school, blank where it gives none; a label, not a feature), each registry feature
    (numeric/binary float64, categorical str), need_level (0-3), label (the chosen target: "any",
    "permanent" or "repeat"), label_any, label_permanent, label_repeat. Labels are NaN for years whose
    outcomes are not complete in the data (`labels.complete_through`, or through `outcomes_through`).
    """
    if label not in labels.TARGETS:
        raise ValueError(f"label must be one of {', '.join(labels.TARGETS)}, not {label!r}")
    census = calendar.parse_census(census)
    if isinstance(years, str):
        years = [y for y in years.split(",") if y.strip()]
    years_wanted = sorted({calendar.start_year(y) for y in years})
    prep = prepare(history)
    frames = [build_year(prep, y, census) for y in years_wanted]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _empty_table()
    table = pd.concat(frames, ignore_index=True)
    last_complete = (
        calendar.start_year(outcomes_through)
        if outcomes_through is not None
        else labels.complete_through(prep)
    )
    outcome = labels.outcome_labels(prep.exclusions, table[["pid", "AcademicYear"]], last_complete, census)
    table = pd.concat([table, outcome], axis=1)
    table["label"] = table[f"label_{label}"]
    return finish_table(table)
