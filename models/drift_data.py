"""Drift's inputs: link and exclusion rates per year, the profile `train` stores, the check `score` runs.

From an authority's data: link rates and exclusion rates per year, the reference profile `train` stores
with each model run, and the drift check that `score` and the service run on each scored cohort.

A source's link rate for a year is the share of its records of that academic year (exclusions and
social-care episodes by the academic year of their StartDate) whose record id is in links.csv. The
exclusion rate of a year is the share of its pupils on a census (autumn, spring or summer) with the
outcome a model predicts after census day (`features.labels`: `any`, `permanent` or `repeat`), for years
whose outcomes are complete; a profile records the census and outcome its rate is of
(`base_rate_of`), and a cohort's latest rate is taken of the same (profiles stored before it: autumn,
`any`). A pooled rate is
withheld (None) when fewer than 10 records stand behind it, or when either part (linked / not linked,
excluded / not) holds 1 to 9: no figure here can be turned back into fewer than 10 pupils. A link rate's
check takes the exact rate all the same, or where only the published figures are stored, the withheld
rate's bounds (`drift_link_rates`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.features.build import prepare, year_numbers
from exclusion_risk.features.census_upload import ATTENDANCE_SO_FAR_FEATURES
from exclusion_risk.features.labels import TARGETS, complete_through, outcome_labels
from exclusion_risk.linkage.history import LinkedExtracts, PupilHistory
from exclusion_risk.models import tracking
from exclusion_risk.models.drift import (
    DEFAULT_RATE_OF,
    PROFILE_ARTIFACT,
    DriftError,
    DriftReport,
    Thresholds,
    compare,
    load_thresholds,
    reference_profile,
)
from exclusion_risk.models.drift_checks import part_of_cohort, shown_rate
from exclusion_risk.models.drift_link_rates import link_entry, profile_fields
from exclusion_risk.models.drift_lookback import first_years
from exclusion_risk.models.drift_published import ROUNDING, published_profile, rounding_step

log = logging.getLogger(__name__)

RATE_COLUMNS = ["census", "label", "year", "pupils", "excluded"]
LINK_SOURCES = {"exclusions": "RecordID", "social_care": "LAchildID"}  # source -> its record id column
NOT_CHECKED = (
    "drift could not be checked: model version {version} has no reference profile (it was trained "
    "before `train` stored one; train and promote again to check drift at every scoring)"
)


@dataclass
class DriftContext:
    """What the drift check needs of an authority's data beyond the scored cohort (aggregates only)."""

    link_counts: pd.DataFrame  # source, year, records, linked
    exclusion_rates: pd.DataFrame  # census, label, year, pupils, excluded (years with complete outcomes)
    first_years: dict[str, str] = field(default_factory=dict)  # source -> its first year in the extracts


# Fewer of a source's records in the year checked than this, and its link rate is not stated: a spring
# scoring's social care rested on 30 records of part of a year, 60% linked, and warned of a 33% drop.
LINK_RATE_MIN_RECORDS = 50


def link_counts(extracts, links: pd.DataFrame, census: pd.DataFrame | None = None) -> pd.DataFrame:
    """Records and linked records per source and academic year (of the record's StartDate). With the
    history's `census`, a record counts as linked only where its pupil was on a census by the record's
    year, as the year's own records can be: a record of a child first on a census years later (social care
    of a child under school age) was counted linked in the reference years and unlinked in the year
    checked, and drift warned of a falling link rate (89% against 60%) where every record of a census
    pupil was linked."""
    first_on_census = pd.Series(dtype="float64")
    if census is not None and len(census):
        starts = year_numbers(census["AcademicYear"])
        first_on_census = starts.groupby(census["UPN"].astype("string").to_numpy()).min()
    rows = []
    for source, id_column in LINK_SOURCES.items():
        frame = getattr(extracts, source)
        if frame is None or frame.empty or id_column not in frame.columns:
            continue
        start = pd.to_datetime(frame["StartDate"], errors="coerce")
        years = calendar.academic_year_start_of(start)
        mine = links[links["source"] == source]
        pupil_of = pd.Series(mine["upn"].astype("string").to_numpy(), index=mine["record_id"].astype(str))
        pupil_of = pupil_of[~pupil_of.index.duplicated()]
        ids = frame[id_column].astype(str)
        linked = ids.isin(pupil_of.index).to_numpy()
        if len(first_on_census):  # linked by then: the pupil on a census by the record's year
            first = ids.map(pupil_of).map(first_on_census).to_numpy(dtype="float64", na_value=float("nan"))
            linked = linked & ~(first > years.to_numpy(dtype="float64", na_value=float("nan")))
        part = pd.DataFrame({"year": years.to_numpy(), "linked": linked})
        part = part[part["year"].notna()]
        grouped = part.groupby("year")["linked"].agg(records="size", linked="sum").reset_index()
        grouped["year"] = grouped["year"].astype(int).map(calendar.format_year)
        rows.append(grouped.assign(source=source))
    if not rows:
        return pd.DataFrame(columns=["source", "year", "records", "linked"])
    return pd.concat(rows, ignore_index=True)[["source", "year", "records", "linked"]]


def link_entries(counts: pd.DataFrame, years: list[str]) -> dict[str, dict[str, Any]]:
    """Each source's link rate pooled over `years`: exact (for the check), as published and, where that
    is withheld, its bounds (`drift_link_rates.link_entry`)."""
    rows = counts[counts["year"].isin(years)]
    return {source: link_entry(rows.loc[rows["source"] == source, "linked"].sum(),
                               rows.loc[rows["source"] == source, "records"].sum())
            for source in sorted(counts["source"].unique())}  # fmt: skip


def current_link_entries(counts: pd.DataFrame, year: str) -> dict[str, dict[str, Any] | None]:
    """`link_entries` of the year checked, None (not stated, so not checked) under LINK_RATE_MIN_RECORDS
    records."""
    records = counts[counts["year"].eq(year)].groupby("source")["records"].sum()
    return {source: entry if records.get(source, 0) >= LINK_RATE_MIN_RECORDS else None
            for source, entry in link_entries(counts, [year]).items()}  # fmt: skip


def exclusion_rates(history: PupilHistory) -> pd.DataFrame:
    """Pupils on each census and those with each outcome after census day, per year with complete
    outcomes (the same pupils and labels as `features.build_feature_table`, without its features)."""
    prep = prepare(history)
    last_complete = complete_through(prep)
    parts = []
    for census in calendar.CENSUS_TERMS:
        rows = prep.census[prep.census["term"].eq(calendar.TERM_ORDER[census])]
        rows = rows.drop_duplicates(["pid", "year"])  # a dual-registered pupil is one pupil
        keys = pd.DataFrame({"pid": rows["pid"].to_numpy(),
                             "AcademicYear": rows["year"].map(calendar.format_year).to_numpy()})  # fmt: skip
        labels = outcome_labels(prep.exclusions, keys, last_complete, census)
        for label in TARGETS:
            known = keys.assign(excluded=labels[f"label_{label}"].to_numpy()).dropna(subset=["excluded"])
            counts = known.groupby("AcademicYear")["excluded"].agg(pupils="size", excluded="sum")
            counts = counts.reset_index().rename(columns={"AcademicYear": "year"})
            parts.append(counts.assign(census=census, label=label))
    return pd.concat(parts, ignore_index=True)[RATE_COLUMNS]


def rates_of(rates: pd.DataFrame, of: dict[str, str]) -> pd.DataFrame:
    """The rows of `exclusion_rates` for one census and outcome (`of`: {"census": code, "label": ...})."""
    return rates[rates["census"].eq(of["census"]) & rates["label"].eq(of["label"])]


def base_rate(rates: pd.DataFrame, years: list[str]) -> float | None:
    rows = rates[rates["year"].isin(years)]
    return shown_rate(rows["excluded"].sum(), rows["pupils"].sum()) if len(rows) else None


def latest_base_rate(rates: pd.DataFrame) -> tuple[str, float | None] | None:
    """(latest year with complete outcomes, its exclusion rate); None when no year is complete."""
    if rates.empty:
        return None
    latest = str(max(rates["year"]))
    return latest, base_rate(rates, [latest])


def context_of(linked: LinkedExtracts) -> DriftContext:
    """Link counts and exclusion rates of a loaded authority (computed once; aggregates only)."""
    return DriftContext(link_counts(linked.extracts, linked.links, linked.history.census),
                        exclusion_rates(linked.history),
                        first_years(linked.extracts))  # fmt: skip


def profile_for(
    table: pd.DataFrame,
    years: list[str],
    context: DriftContext | None,
    names: list[str] | None = None,
    of: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The reference profile of `years`' rows of a feature table (every registry feature, or `names`),
    with the link rates and exclusion rate of those years from `context` (without one: no link rates,
    the exclusion rate from the table's label column); `of` names the census and outcome of the rate
    (default: the autumn census, `any`)."""
    years, of = list(years), of or DEFAULT_RATE_OF
    if context is not None:
        links, rates = link_entries(context.link_counts, years), rates_of(context.exclusion_rates, of)
    else:
        links, rates = {}, pd.DataFrame(columns=["year", "pupils", "excluded"])
        column = f"label_{of['label']}"
        if column in table.columns:
            rows = table[table[column].notna()]
            rates = rows.groupby("AcademicYear")[column].agg(pupils="size", excluded="sum").reset_index()
            rates = rates.rename(columns={"AcademicYear": "year"})
    profile = reference_profile(table, years, None, base_rate(rates, years), names)
    return profile | profile_fields(links) | {"base_rate_of": dict(of)}


def training_profile(
    table: pd.DataFrame, years: list[str], context: DriftContext | None, names: list[str], of: dict[str, str]
) -> dict[str, Any] | None:
    """`profile_for` a training run's years and model inputs (`names`: what the model sees; protected
    characteristics only when it takes them) and its census and outcome (`of`), None when they cannot be
    profiled (too few pupils). As published (`drift_published.published_profile`): MLflow is read by
    others, and an exact share is a count."""
    try:
        return published_profile(profile_for(table, years, context, names, of))
    except DriftError:
        return None


def drift_report(
    profile: dict[str, Any],
    cohort: pd.DataFrame,
    year: str,
    context: DriftContext | None,
    thresholds: Thresholds,
    info: dict[str, Any] | None = None,
) -> DriftReport:
    """`cohort` (features of `year`) against `profile`, with the year's link rates and the latest
    complete year's exclusion rate (not a reference year) when `context` is known."""
    current_links, latest, first = None, None, None
    if context is not None:
        first = context.first_years
        current_links = current_link_entries(context.link_counts, year)
        rates = rates_of(context.exclusion_rates, profile.get("base_rate_of") or DEFAULT_RATE_OF)
        latest = latest_base_rate(rates[~rates["year"].isin(profile.get("years") or [])])
    return compare(profile, cohort, year, thresholds, current_links, latest, first)


@lru_cache(maxsize=8)
def _profile_text(run_id: str) -> str | None:
    return tracking.read_artifact_text(run_id, PROFILE_ARTIFACT)


def stored_profile(run_id: str | None) -> dict[str, Any] | None:
    """The reference profile stored with a model run; None when it has none (trained before profiles)."""
    text = _profile_text(run_id) if run_id else None
    if text is None:
        return None
    try:
        profile = json.loads(text)
    except ValueError:
        return None
    if not isinstance(profile, dict) or "features" not in profile:
        return None
    return {**profile, ROUNDING: rounding_step(profile)}  # its shares as published: rounded


def scoring_drift_lines(
    info: dict[str, Any],
    cohort: pd.DataFrame,
    year: str,
    linked: LinkedExtracts | None = None,
    context: DriftContext | None = None,
    not_computed: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """What a scoring says about drift: each warning sentence (none when quiet), or one line saying drift
    could not be checked for a model without a stored profile, or was not checked on a cohort that does
    not cover the authority (`drift_checks.part_of_cohort`). Features in `not_computed` (those a scoring
    without history could not compute) are left out. The year's link rates and the latest exclusion rate
    come from `context`, or are counted on `linked` (only when there is a profile)."""
    profile = stored_profile(info.get("run_id"))
    if profile is None:
        return [NOT_CHECKED.format(version=info.get("version", "?"))]
    try:
        thresholds = load_thresholds()
    except DriftError as exc:  # a broken thresholds file: say so, never stop a scoring for it
        return [f"drift could not be checked: {exc}"]
    partial = part_of_cohort(profile, cohort, thresholds)
    if partial is not None:
        return [partial]
    if context is None and linked is not None:
        context = context_of(linked)
    cohort = cohort.drop(columns=[c for c in not_computed if c in cohort.columns])
    return drift_report(profile, cohort, year, context, thresholds, info).warnings


def inputs_wholly_missing(info: dict[str, Any], cohort: pd.DataFrame) -> list[str]:
    """This year's attendance so far (the termly attendance files' features) where it is missing for every
    pupil of `cohort` and the training years held it for most pupils (a stored reference missing rate
    under half, or too few missing to publish): scored as missing, it moves every pupil's score at once.
    A spring model scored without the termly attendance files (missing for all 3,054 pupils, against 1%
    in training) rated 1,958 pupils red, against 149 with them. Last year's features, missing for every
    pupil where the history starts at the scored year, are said instead (`score_notes.history_start_lines`:
    a first year is scored). None without a stored profile or pupils."""
    profile = stored_profile(info.get("run_id"))
    if profile is None or cohort.empty:
        return []
    absent = []
    for name, feature in profile["features"].items():
        reference = feature.get("missing") if isinstance(feature, dict) else None
        held = (reference is None or reference < 0.5) and name in ATTENDANCE_SO_FAR_FEATURES
        if held and name in cohort.columns and cohort[name].isna().all():
            absent.append(name)
    return absent
