"""Drift: how far a cohort is from the years a model learned from, and when that deserves a warning.

A reference profile holds, for the reference years (a model's training years), aggregates only:
- per registry feature, the cells of its distribution and each cell's share of pupils: numeric features
  are cut at the reference deciles (ties merged: a count that is mostly 0 gets few cells), with missing
  values as a cell of their own; binary and categorical features have a cell per value. A cell holding
  1 to 9 reference pupils is pooled with a neighbour (numeric: the smaller adjacent cell; categorical: the
  rare values together, then with the smallest other cell; missing: with the largest cell), so that no
  share can be turned back into fewer than 10 pupils;
- per source, the share of its records linked to a census pupil; the exclusion rate (any suspension or
  permanent exclusion after the autumn census). Both withheld (None) where a count under 10 would show (a
  link rate is checked all the same: `models.drift_link_rates`).
Computed on exact shares; published (drift.json and .html, the console, the profile `train` logs) with
every share of pupils rounded so that it stands for 10 or more counts (`models.drift_published`: why).
`compare` places a cohort in the profile's cells and reports each feature's population stability index
(PSI = sum over cells of (current - reference) * ln(current / reference), an empty cell counted as
EPSILON), its missing rates, the link-rate and base-rate changes, and a plain sentence per warning.
Thresholds: `models/drift.yaml` (`load_thresholds`). `exclusion-risk drift` builds a profile from the
reference years' data; `train` stores one with each model run (PROFILE_ARTIFACT) for `score` and the
service to compare against.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from exclusion_risk import calendar
from exclusion_risk.features import registry
from exclusion_risk.features.columns import on_distinct
from exclusion_risk.features.labels import TARGET_PHRASES
from exclusion_risk.models.drift_checks import (
    SHARE_WITHHELD,
    WITHHELD,
    _small,
    check_prevalence,
    check_schools,
    is_count,
    nested_withheld,
    not_warned,
    pooled_cells,
    school_profile,
)
from exclusion_risk.models.drift_link_rates import check_link_rates, relative_change
from exclusion_risk.models.drift_lookback import clause, lengthened, notes
from exclusion_risk.models.drift_published import (
    PUBLISHED,
    add_prevalence,
    published,
    published_shares,
    reference_step,
)
from exclusion_risk.models.drift_words import printed_row
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE, SUPPRESSION_THRESHOLD, rounded_rate
from exclusion_risk.values import one_decimal_percent as _percent

# The census and outcome of a profile's exclusion rate where the profile does not say (stored before it did)
DEFAULT_RATE_OF = {"census": calendar.AUTUMN, "label": "any"}

DEFAULT_THRESHOLDS = Path(__file__).with_name("drift.yaml")
PROFILE_ARTIFACT = "drift/reference_profile.json"
PROFILE_VERSION = 1
EPSILON = 1e-4  # the share an empty cell counts as, so that PSI stays finite (the usual 0.0001)
DECILES = np.linspace(0.1, 0.9, 9)
MISSING = "missing"  # the cell of missing values (a categorical feature's "unknown" counts as missing)
# Values that say "not known" as "unknown" does: the ethnicity codes (refused, not obtained) that
# ethnicity_group maps to "unknown", so that ethnicity_code counts them missing as ethnicity_group does.
NOT_KNOWN = frozenset({"unknown", *(c for c, g in registry.ETHNICITY_GROUPS.items() if g == "unknown")})
SCHOOL_SOURCE = "school"  # the registry source of the school-context features (see models/drift.yaml)


class DriftError(ValueError):
    """A thresholds file or a profile that cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Thresholds:
    psi_notice: float = 0.10
    psi_warning: float = 0.25
    missing_change: float = 0.10
    link_rate_drop: float = 0.20
    base_rate_change: float = 0.25
    prevalence_ratio: float = 2.0
    prevalence_min_expected: float = 30
    school_min_pupils: float = 30
    school_mean_ratio: float = 2.0
    school_missing_change: float = 0.25
    cohort_min_schools: float = 0.8
    cohort_min_pupils: float = 1000
    school_context_warns: bool = False  # see models/drift.yaml

    def as_dict(self) -> dict[str, float | bool]:
        return asdict(self)

    def warns_on(self, name: str) -> bool:
        """Whether a shift of this feature (PSI, missing rate) is a warning (else a notice at most)."""
        return self.school_context_warns or registry.get(name).source != SCHOOL_SOURCE


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """models/drift.yaml, with the keys `path` gives (if any) replacing its values."""
    values = _read_yaml(DEFAULT_THRESHOLDS)
    if path is not None:
        values.update(_read_yaml(Path(path)))
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise DriftError(
            f"unknown drift threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    for name, value in values.items():
        if name == "school_context_warns":
            if not isinstance(value, bool):
                raise DriftError(f"drift setting {name} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
            raise DriftError(f"drift threshold {name} must be a positive number")
    thresholds = Thresholds(**{k: v if isinstance(v, bool) else float(v) for k, v in values.items()})
    if thresholds.psi_notice > thresholds.psi_warning:
        raise DriftError("drift threshold psi_notice must not be above psi_warning")
    for name in ("prevalence_ratio", "school_mean_ratio"):
        if getattr(thresholds, name) <= 1:
            raise DriftError(f"drift threshold {name} must be above 1 (2 = halved or doubled)")
    if thresholds.cohort_min_schools > 1:
        raise DriftError("drift threshold cohort_min_schools is a share of schools, at most 1")
    return thresholds


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DriftError(
            f"cannot read drift thresholds {path}: {exc.strerror or type(exc).__name__}"
        ) from None
    except yaml.YAMLError:
        raise DriftError(f"drift thresholds {path} is not valid YAML") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise DriftError(f"drift thresholds {path} must be a mapping of threshold: value")
    return dict(values)


# --- PSI --------------------------------------------------------------------------------------------


def psi(reference: Any, current: Any, epsilon: float = EPSILON) -> float:
    """Population stability index of two share vectors over the same cells (empty cells as `epsilon`)."""
    r = np.maximum(np.asarray(reference, dtype=float), epsilon)
    c = np.maximum(np.asarray(current, dtype=float), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


# --- one feature's profile ----------------------------------------------------------------------------


def _numeric_edges(values: np.ndarray) -> list[float]:
    """Reference deciles, ties merged; interval cells are (-inf, e0], (e0, e1], ..., (e_last, inf).

    Each edge is moved to the middle of the gap between the reference values either side of it (the
    reference cells are unchanged): a decile falls on a value many pupils share (a school's rate, a
    count), and an edge left there would send all of them to the next cell when that value moves a
    little in another year.
    """
    if values.size == 0:
        return []
    distinct = np.unique(values)
    edges = []
    for edge in np.unique(np.quantile(values, DECILES)):
        below = distinct[distinct <= edge].max()
        above = distinct[distinct > edge]
        edges.append(float((below + above.min()) / 2) if above.size else float(edge))
    return sorted(set(edges))  # two deciles in one gap give one edge


def _numeric_profile(values: pd.Series) -> dict[str, Any]:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    known = x[~np.isnan(x)]
    edges = _numeric_edges(known)
    counts = list(np.bincount(np.searchsorted(edges, known, side="left"), minlength=len(edges) + 1))
    while len(counts) > 1:  # pool each interval cell of 1-9 pupils with its smaller neighbour
        small = [i for i, n in enumerate(counts) if _small(n)]
        if not small:
            break
        i = min(small, key=lambda j: counts[j])
        left, right = counts[i - 1] if i > 0 else math.inf, counts[i + 1] if i + 1 < len(counts) else math.inf
        j = i - 1 if left <= right else i + 1
        lo = min(i, j)
        counts[lo : lo + 2] = [counts[lo] + counts[lo + 1]]
        del edges[lo]
    missing = int(np.isnan(x).sum())
    missing_with = None
    if _small(missing) or (len(counts) == 1 and _small(counts[0])):
        missing_with = int(np.argmax(counts))  # the largest cell (one cell: everything together)
        counts[missing_with] += missing
    else:
        counts.append(missing)
    return {"kind": "numeric", "edges": edges, "missing_with": missing_with, **_shares(counts, len(x))}


def _labels(values: pd.Series, kind: str) -> pd.Series:
    """Values as the strings categorical cells hold: binary 0/1 as "0"/"1"; NaN and NOT_KNOWN as MISSING."""
    if kind == "binary":
        # on the few distinct values: a service upload runs this on every binary feature of the cohort
        def names(u: pd.Series) -> pd.Series:
            return u.map(lambda v: str(int(v)) if float(v).is_integer() else str(v))

        return on_distinct(pd.to_numeric(values, errors="coerce"), names).fillna(MISSING).astype(object)
    text = values.astype(object).where(values.notna(), MISSING).astype(str)
    return text.where(~text.isin(NOT_KNOWN), MISSING)


def _categorical_profile(values: pd.Series, kind: str) -> dict[str, Any]:
    counts = _labels(values, kind).value_counts(sort=False)
    common = sorted(str(v) for v, n in counts.items() if not _small(n))
    rare = sorted(str(v) for v, n in counts.items() if _small(n))
    cells = [[value] for value in common]
    cell_counts = [int(counts[value]) for value in common]
    other = None
    if rare:
        cells.append(rare)
        cell_counts.append(int(counts[rare].sum()))
        other = len(cells) - 1
        if _small(cell_counts[other]) and len(cells) > 1:  # still too few: with the smallest other cell
            j = min(range(len(cells) - 1), key=lambda i: cell_counts[i])
            cells[j] = sorted(cells[j] + cells.pop())
            cell_counts[j] += cell_counts.pop()
            other = j
    return {"kind": kind, "cells": cells, "other": other, **_shares(cell_counts, len(values))}


def _shares(counts: list[float], total: int) -> dict[str, Any]:
    """The cells' exact shares, and (PUBLISHED) as published (`drift_published`)."""
    exact = [0.0 for _ in counts] if total == 0 else [float(n) / total for n in counts]
    return {"shares": exact, PUBLISHED: {"shares": published_shares(counts, total)}}


def feature_profile(values: pd.Series, kind: str) -> dict[str, Any]:
    """One feature's cells and reference shares (module docstring), with its reference missing rate."""
    profile = _numeric_profile(values) if kind == "numeric" else _categorical_profile(values, kind)
    profile["missing"] = _reference_missing(profile)
    profile[PUBLISHED]["missing"] = _reference_missing({**profile, **profile[PUBLISHED]})
    return profile


def _reference_missing(profile: dict[str, Any]) -> float | None:
    """The share missing, or None when missing values share a cell with others (under 10 of them)."""
    if profile["kind"] == "numeric":
        return None if profile["missing_with"] is not None else profile["shares"][-1]
    for cell, share in zip(profile["cells"], profile["shares"], strict=True):
        if MISSING in cell:
            return share if cell == [MISSING] else None
    return 0.0


def current_shares(profile: dict[str, Any], values: pd.Series) -> tuple[list[float], list[float]]:
    """(reference shares, current shares) over the profile's cells, plus a cell for categories the
    reference never saw when it has no pooled cell to hold them."""
    reference = list(profile["shares"])
    total = len(values)
    if profile["kind"] == "numeric":
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        known = ~np.isnan(x)
        cells = np.searchsorted(profile["edges"], x[known], side="left")
        counts = np.bincount(cells, minlength=len(profile["edges"]) + 1).astype(float)
        missing = float((~known).sum())
        if profile["missing_with"] is None:
            counts = np.append(counts, missing)
        else:
            counts[profile["missing_with"]] += missing
        return reference, list(counts / total) if total else [0.0] * len(counts)
    labels = _labels(values, profile["kind"])
    where = {value: i for i, cell in enumerate(profile["cells"]) for value in cell}
    unseen = profile["other"] if profile["other"] is not None else len(reference)
    cells = labels.map(where).fillna(unseen).astype(int).to_numpy()
    counts = np.bincount(cells, minlength=len(reference) + 1).astype(float)
    if counts[-1] or profile["other"] is None:
        reference.append(0.0)
    counts = counts[: len(reference)]
    return reference, list(counts / total) if total else [0.0] * len(counts)


def reference_profile(
    table: pd.DataFrame,
    years: list[str],
    link_rates: dict[str, float | None] | None = None,
    base_rate: float | None = None,
    names: list[str] | None = None,
) -> dict[str, Any]:
    """The profile of `years`' rows of a feature table (aggregates only; see the module docstring): every
    registry feature in the table, or those of `names` (a model's inputs)."""
    rows = table[table["AcademicYear"].isin(years)]
    if len(rows) < SUPPRESSION_THRESHOLD:
        raise DriftError(f"too few pupils in {', '.join(years) or 'no year'} to profile for drift")
    features = {}
    for f in registry.FEATURES:
        if f.name in rows.columns and (names is None or f.name in names):
            values = _possible(rows, f)
            if values is None:
                continue
            features[f.name] = feature_profile(values, f.kind)
            if is_count(f):
                add_prevalence(features[f.name], values)
    # nested flags 1-9 pupils apart: their shares would count those pupils, so neither is profiled
    withheld = sorted(nested_withheld(rows, [n for n, f in features.items() if "prevalence" in f]))
    features = {name: profiled for name, profiled in features.items() if name not in withheld}
    return {
        "version": PROFILE_VERSION,
        "years": list(years),
        "features": features,
        "withheld_features": withheld,
        "link_rates": dict(link_rates or {}),
        "base_rate": base_rate,
        "schools": school_profile(rows, list(features)),
    }


def _possible(rows: pd.DataFrame, f: registry.FeatureDef) -> pd.Series | None:
    """A feature's reference values, less those of a year in which a school-context feature cannot exist
    (missing for every pupil: the first census year has no earlier year to take a school's rate from);
    None when no reference year has it."""
    values = rows[f.name]
    if f.source != SCHOOL_SOURCE:
        return values
    has = pd.to_numeric(values, errors="coerce").notna().groupby(rows["AcademicYear"]).transform("any")
    return values[has] if has.any() else None


# --- comparing a cohort with a profile ------------------------------------------------------------------


@dataclass
class DriftReport:
    year: str
    reference_years: list[str]
    features: list[dict[str, Any]]
    link_rates: list[dict[str, Any]]
    base_rate: dict[str, Any]
    thresholds: Thresholds
    warnings: list[str] = field(default_factory=list)
    schools: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what is not warned and why; shorter look-backs
    lookback: list[dict[str, Any]] = field(default_factory=list)  # `drift_lookback.lengthened`'s rows

    def document(self) -> dict[str, Any]:
        """drift.json: the decision-support notice, features, schools (those that warn), link_rates,
        base_rate, reference_years, year, thresholds, warnings, notes, lookback."""
        return {
            "notice": DECISION_SUPPORT_NOTICE,
            "features": self.features,
            "schools": self.schools,
            "link_rates": self.link_rates,
            "base_rate": self.base_rate,
            "reference_years": self.reference_years,
            "year": self.year,
            "thresholds": self.thresholds.as_dict(),
            "warnings": self.warnings,
            "notes": self.notes,
            "lookback": self.lookback,
        }


def _years_text(years: list[str]) -> str:
    return ", ".join(years) if len(years) < 3 else f"{years[0]} to {years[-1]}"


def compare(
    profile: dict[str, Any],
    cohort: pd.DataFrame,
    year: str,
    thresholds: Thresholds,
    link_rates: dict[str, float | None] | None = None,
    base_rate: tuple[str, float | None] | None = None,
    first_years: dict[str, str] | None = None,
) -> DriftReport:
    """The cohort's drift from `profile`: `link_rates` are the cohort year's per source (a rate, or
    `drift_link_rates.link_entry`'s exact, published and bounds), `base_rate`
    (year, rate) the exclusion rate of the latest year with complete outcomes, `first_years` each
    source's first year in the extracts (`drift_lookback.first_years`: history features whose reference
    years look back less far are named)."""
    reference_years = list(profile["years"])
    since = _years_text(reference_years)
    report = DriftReport(year, reference_years, [], [], {}, thresholds)
    names = [n for n in profile["features"] if n in cohort.columns]
    report.lookback = lengthened(reference_years, year, first_years or {}, names)
    longer = {row["feature"]: clause(row, year) for row in report.lookback}
    nested = nested_withheld(cohort, [n for n, f in profile["features"].items() if "prevalence" in f])
    step = reference_step(profile)  # the place the reference's shares are printed to
    for name, feature in profile["features"].items():
        if name not in cohort.columns:
            continue
        shares, now = current_shares(feature, cohort[name])
        hidden = None in feature["shares"]  # a stored profile's, withheld under 100 pupils: not checked
        value = None if hidden else psi(*pooled_cells(shares, now, len(cohort), feature["kind"] == "numeric"))
        missing_now = _current_missing(feature, cohort[name])
        before, shown = feature["missing"], published(feature)  # exact (here) and as published
        moved = (abs(missing_now - (before or 0.0)) >= thresholds.missing_change and thresholds.warns_on(name)
                 and not (hidden and before is None))  # fmt: skip
        high = value is not None and value >= thresholds.psi_warning and thresholds.warns_on(name)
        if high and moved:  # one warning per fault: the shift, when the known values shifted too
            high = psi(*_known_cells(feature, shares, now)) >= thresholds.psi_warning
        row = {
            "feature": name,
            "psi": None if name in nested or value is None else round(value, 2),  # a flag's gives its share
            "missing_reference": shown["missing"],
            "missing_current": rounded_rate(round(missing_now * len(cohort)), len(cohort)),
            "prevalence_reference": None,  # a flag's or count's share above zero (`drift_checks`)
            "prevalence_current": None,
        }
        label = registry.get(name).label
        common = None
        if "prevalence" in feature:
            shares_, common = check_prevalence(
                name, feature["prevalence"], cohort[name], year, since, thresholds, name in nested,
                longer.get(name), shown.get("prevalence"), profile.get("rounding", 0.0), step)  # fmt: skip
            row.update(shares_)
        row["printed"] = printed_row(row, feature, cohort[name], missing_now, step, PUBLISHED in feature)
        report.features.append({**row, "warning": bool(high or moved or common)})
        if common:
            report.warnings.append(common)
        if high:
            index = f"({WITHHELD})" if name in nested else f"{value:.2f}"
            report.warnings.append(
                f"{label} ({name}) has shifted in {year} against {since}: population stability index "
                f"{index}, at or above the warning level {thresholds.psi_warning:.2f}."
            )
        if moved:
            was = SHARE_WITHHELD if shown["missing"] is None else row["printed"]["missing_reference"]
            now = SHARE_WITHHELD if row["missing_current"] is None else row["printed"]["missing_current"]
            report.warnings.append(f"{label} ({name}) is missing for {now} of pupils in {year} against {was} "
                                   f"in {since}.")  # fmt: skip
    report.schools, said = check_schools(profile, cohort, year, since, thresholds)
    report.warnings.extend(said)
    report.notes = [*not_warned(report.features, thresholds), *notes(report.lookback, year)]
    check_link_rates(report, profile, link_rates or {}, since)
    _base_rate(report, profile.get("base_rate"), base_rate, since, profile.get("base_rate_of"))
    return report


def _known_cells(feature: dict[str, Any], reference: list[float], current: list[float]):
    """The share vectors less the missing cell, each rescaled to 1 (a missing cell of its own only)."""
    if feature["kind"] == "numeric":
        at = len(feature["shares"]) - 1 if feature["missing_with"] is None else None
    else:
        at = next((i for i, cell in enumerate(feature["cells"]) if cell == [MISSING]), None)
    if at is None:
        return reference, current
    ref = [v for i, v in enumerate(reference) if i != at]
    now = [v for i, v in enumerate(current) if i != at]
    return [v / (sum(ref) or 1) for v in ref], [v / (sum(now) or 1) for v in now]


def _current_missing(feature: dict[str, Any], values: pd.Series) -> float:
    if not len(values):
        return 0.0
    if feature["kind"] == "numeric":
        return float(pd.to_numeric(values, errors="coerce").isna().mean())
    return float(_labels(values, feature["kind"]).eq(MISSING).mean())


def _base_rate(
    report: DriftReport, reference: float | None, current: tuple | None, since: str, of: dict | None
) -> None:
    latest, now = current if current is not None else (None, None)
    of = of or DEFAULT_RATE_OF
    change = relative_change(reference, now)
    warn = change is not None and abs(change) >= report.thresholds.base_rate_change
    report.base_rate = {"latest_complete_year": latest, "current": now, "reference": reference,
                        "reference_years": report.reference_years, "relative_change": change,
                        "census": calendar.census_name(of["census"]), "label": of["label"],
                        "warning": warn}  # fmt: skip
    if warn:
        direction = "higher" if change > 0 else "lower"
        report.warnings.append(
            f"The share of pupils with {TARGET_PHRASES[of['label']]} after the "
            f"{calendar.census_name(of['census'])} census in {latest} (the latest year with complete "
            f"outcomes) is {_percent(now)} against {_percent(reference)} in {since}, {abs(change):.0%} "
            f"{direction}: the model's probabilities may no longer be calibrated."
        )
