"""Drift's finer checks: flags and counts gone rare, school-by-school shifts, cohort coverage.

PSI over a whole authority misses a fault confined to a small part of it: a rare flag gone to zero moves
a few percent of pupils between two cells (PSI about p ln(p / 0.0001), under 0.25 for p under about 4%),
and one school's attendance halved moves only that school's pupils. So, beside `models.drift.compare`:
- prevalence: for binary and count features, the share of pupils (of those with a value) whose value is
  not zero, now against the reference years; a warning when it has fallen to 1/prevalence_ratio or less
  of the reference share (a lost extract, lost links, a blanked column) or risen to prevalence_ratio
  times or more (records counted twice, over-linking, a changed cohort), provided the reference share
  would put at least prevalence_min_expected pupils of the cohort above zero (fewer: chance alone halves
  or doubles it). A feature counted over earlier years also rises as the history behind it lengthens
  (demo authority, 2018/19 against 2016/17 + 2017/18: suspensions before last year 1.1% to 3.3%, school
  moves before last year 0.6% to 2.4%): its warning then says so (`models.drift_lookback`);
- schools: for the census-row features (attendance, FSM: `SCHOOL_FEATURES`), each school with at least
  school_min_pupils pupils both in the cohort and in the reference years is compared with its own pupils
  of the reference years: the mean (a warning at a ratio of school_mean_ratio or more either way, for a
  flag only when the reference share would put prevalence_min_expected of its pupils above zero) and the
  missing rate (a change of school_missing_change or more, and of at least 10 pupils);
- coverage: drift is checked only for a cohort that covers the authority (cohort_min_schools of the
  reference schools, cohort_min_pupils pupils); an upload of part of one gets a single line instead.
The stored school profile holds per school of at least 10 reference pupils only its number of pupils,
each feature's mean and missing rate; a flag's share and a missing rate are withheld (None) where either
part would be 1 to 9 pupils, and a mean of fewer than 10 values is withheld.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models.drift_words import ratio_shown, share_text
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, rounded_rate, share_step
from exclusion_risk.values import and_join, counted
from exclusion_risk.values import one_decimal_percent as _percent

SCHOOL_COLUMN = "SchoolURN"
# Said in place of a share or index withheld: it rests on 1-9 pupils, or beside another figure would give
# such a count (a share and the cohort's size; two nested flags).
WITHHELD = "withheld to protect small numbers"
SHARE_WITHHELD = f"a share ({WITHHELD})"
PART_OF_COHORT = "drift not checked: the upload is part of a cohort ({schools} of {of}{pupils})"
# A whole cohort at none of the model's schools is no part of its authority: a consortium analyst scored
# one authority with another's model and was told only "part of a cohort (0 schools of 7)".
NO_SCHOOL_IN_COMMON = (
    "None of the {of} schools the model learned from is in this census ({pupils:,} pupils at "
    "{present}): the model may be another authority's, or the school codes have changed (a URN where the "
    "LAEstab was). Drift not checked; check which model is the champion before these scores are used"
)


def _small(count: float) -> bool:
    return 0 < count < SUPPRESSION_THRESHOLD


def shown_rate(part: float, total: float) -> float | None:
    """part / total, or None when total is under 10 or either part (part, total - part) is 1 to 9."""
    if total < SUPPRESSION_THRESHOLD or _small(part) or _small(total - part):
        return None
    return float(part) / float(total)


def is_count(f: registry.FeatureDef) -> bool:
    """A binary flag, or a count of events (suspensions, school moves): what a prevalence is taken of."""
    if f.kind == "binary":
        return True
    rng = f.valid_range
    return f.kind == "numeric" and rng is not None and rng.low == 0 and rng.high > 1 and f.source != "school"


def is_school_feature(f: registry.FeatureDef) -> bool:
    """A feature of the pupil's own census row (attendance, FSM) that a school's MIS export could lose."""
    rng = f.valid_range
    return (f.source == "census" and not f.needs_history and f.kind in ("numeric", "binary")
            and rng is not None and rng.low == 0 and rng.high <= 1)  # fmt: skip


def _known(values: pd.Series) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return x[~np.isnan(x)]


def share_above_zero(values, rounded: bool = False) -> tuple[float | None, float | None]:
    """(the share of pupils with a value whose value is not zero, that share where it may be shown;
    `rounded`: as published, `privacy.rounded_rate`, else exact for a check to compare with).

    Withheld as `shown_rate` does, and also when the pupils without a value number 1 to 9: the share is
    an exact fraction of the pupils with one, so beside the cohort's size (which other shares give) it
    would count them (613 pupils, 71/605 above zero: 8 missing, their own rate withheld)."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    known = x[~np.isnan(x)]
    if not known.size:
        return None, None
    nonzero = float(np.count_nonzero(known))
    show = rounded_rate if rounded else shown_rate
    shown = None if _small(x.size - known.size) else show(nonzero, float(known.size))
    return nonzero / known.size, shown


def prevalence(values: pd.Series) -> float | None:
    """The share of pupils with a value whose value is not zero, as published (`share_above_zero`)."""
    return share_above_zero(values)[1]


def nested_withheld(frame: pd.DataFrame, names: list[str]) -> set[str]:
    """Flags and counts of `names` whose pupils above zero are all above zero in another too, with 1 to
    9 pupils between them: both shares are withheld, or their difference would count those pupils (FSM
    now within FSM in the last six years: 17/263 less 15/263; a plan open now within ever).

    Found from the pupils, not listed: every such pair in the data, whatever the registry says."""
    names = [n for n in names if n in frame.columns]
    if len(names) < 2:
        return set()
    values = np.column_stack([pd.to_numeric(frame[n], errors="coerce").to_numpy(dtype=float) for n in names])
    above = (np.nan_to_num(values, nan=0.0) != 0).astype(np.int64)
    together = above.T @ above  # pupils above zero in both
    counts = np.diag(together)
    within = together == counts[:, None]  # row feature's pupils all within the column feature's
    gap = counts[None, :] - counts[:, None]
    inner, outer = np.nonzero(within & (gap > 0) & (gap < SUPPRESSION_THRESHOLD))
    return {names[i] for i in inner} | {names[j] for j in outer}


def pooled_cells(reference: list[float], current: list[float], total: int, numeric: bool):
    """Both share vectors with each current cell of 1 to 9 pupils pooled with a neighbour (numeric: the
    smaller adjacent cell; else the smallest other cell), as the reference's are, so that a published
    PSI cannot be solved back to a count under 10."""
    ref, now = list(reference), [share * total for share in current]
    while len(now) > 1:
        small = [i for i, n in enumerate(now) if _small(round(n))]
        if not small:
            break
        i = min(small, key=lambda k: now[k])
        if numeric:
            left = now[i - 1] if i > 0 else math.inf
            right = now[i + 1] if i + 1 < len(now) else math.inf
            j = i - 1 if left <= right else i + 1
        else:
            j = min((k for k in range(len(now)) if k != i), key=lambda k: now[k])
        for cells in (ref, now):
            cells[j] += cells[i]
            del cells[i]
    return ref, [n / total for n in now] if total else now


def not_warned(rows: list[dict[str, Any]], thresholds) -> list[str]:
    """What crossed the PSI warning level without being a warning, and why (the school-context features
    while `school_context_warns` is false: see models/drift.yaml), as one sentence; none when nothing."""
    over = [r for r in rows if not thresholds.warns_on(r["feature"]) and r["psi"] is not None
            and r["psi"] >= thresholds.psi_warning]  # fmt: skip
    if not over:
        return []
    named = [f"{registry.get(r['feature']).label} ({r['feature']}, population stability index {r['psi']:.2f})"
             for r in over]  # fmt: skip
    verb = "is" if len(over) == 1 else "are"
    return [f"Not warned: {and_join(named)} {verb} at or above the warning level "
            f"{thresholds.psi_warning:.2f}, but the school-context features take one value per school (their "
            "PSI counts whole schools crossing a cell edge) and move as the history behind them lengthens, "
            "so they are notices, not warnings (school_context_warns: false in models/drift.yaml); the "
            "exclusion rate and the exclusion features are checked instead."]


def _ratio_word(ratio: float, factor: float, exact: bool = True, shown: float | None = None) -> str:
    """How far a share or mean moved, in words; `exact=False` for a share withheld, whose ratio to the
    shown reference would give it back (only the direction and the threshold are said). `shown`: the
    ratio of the two shares as published, printed in place of the exact one (which would give the count
    back beside the published reference); the words follow the exact one, as the check does."""
    if ratio == 0:
        return "none at all"
    value = ratio if shown is None else shown
    if ratio <= 1 / factor:
        if not exact:
            return "halved or worse" if factor == 2 else f"{1 / factor:.0%} of it or less"
        return f"{value:.0%} of it: halved or worse" if factor == 2 else f"{value:.0%} of it"
    if not exact:
        return "doubled or more" if factor == 2 else f"{factor:g} times or more"
    return f"{value:.1f} times" + (": doubled or more" if factor == 2 else "")


def check_prevalence(name: str, reference: float | None, values: pd.Series, year: str, since: str,
                     thresholds, withhold: bool = False, lengthened: str | None = None,
                     reference_shown: float | None = None, step: float = 0.0,
                     printed_step: float = 0.0) -> tuple[dict[str, Any], str | None]:  # fmt: skip
    """(the row's prevalence fields, a warning sentence or None) for one count or flag feature;
    `withhold`: its share is withheld whatever its counts (`nested_withheld`); `lengthened`: why a rise
    may be the history lengthening (`drift_lookback.clause`), said after a rise's sentence. Checked on
    the exact shares (`reference`); printed as published (`reference_shown`: the profile's published
    figure, a stored profile's `reference` itself; None where withheld, never the exact one in its place;
    the cohort's rounded, `share_above_zero`). `step`: the place a reference read back from MLflow was
    published to; it stands for any share within half a step, and only a change past the ratio from every
    one of them warns (a stored 0.01 for 1.49%, 2.39% now, read 2.4 times before). `printed_step`: the
    place the reference is printed to; each share is printed to its own (`drift_words.share_text`), and
    the ratio of the printed shares only where it agrees with the exact one (`drift_words.ratio_shown`)."""
    known = _known(values)
    now, shown = share_above_zero(values, rounded=True)
    shown = None if withhold else shown
    row = {"prevalence_reference": reference_shown, "prevalence_current": shown}
    if reference is None or now is None or reference * known.size < thresholds.prevalence_min_expected:
        return row, None
    ratio, factor = now / reference, thresholds.prevalence_ratio
    if now * factor > reference - step / 2 and now < factor * (reference + step / 2):
        return row, None
    label = registry.get(name).label
    was = "no pupil" if now == 0 else share_text(shown, share_step(known.size), now, SHARE_WITHHELD)
    printable = ratio_shown(ratio, factor, shown, reference_shown)
    moved = _ratio_word(ratio, factor, printable, shown / reference_shown if printable else None)
    before = share_text(reference_shown, printed_step, None if step else reference, SHARE_WITHHELD)
    sentence = (f"{label} ({name}) is above zero for {was} in {year} against {before} of "
                f"pupils in {since} ({moved})")  # fmt: skip
    if ratio < 1:
        return row, sentence + ": check the extract or its linking."
    if lengthened:
        return row, f"{sentence}. {lengthened}"
    return row, f"{sentence}: check the extract or its linking (records counted twice, wrong links)."


# --- schools --------------------------------------------------------------------------------------------


def _school_stats(rows: pd.DataFrame, name: str, kind: str) -> tuple[float | None, float | None, int]:
    """(mean, missing rate, values known) of one feature at one school, withheld as the docstring says."""
    x = pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)
    known = x[~np.isnan(x)]
    missing = shown_rate(float(x.size - known.size), float(x.size))
    if kind == "binary":
        mean = share_above_zero(x)[1]
    else:
        mean = float(known.mean()) if known.size >= SUPPRESSION_THRESHOLD else None
    return mean, missing, int(known.size)


def school_profile(rows: pd.DataFrame, names: list[str]) -> dict[str, Any]:
    """Per school of at least 10 reference pupils: its pupils and, per census-row feature of `names`,
    the mean and missing rate of its pupils in the reference years."""
    if SCHOOL_COLUMN not in rows.columns:
        return {}
    features = [f for f in registry.FEATURES if f.name in names and is_school_feature(f)]
    schools = {}
    for urn, part in rows.groupby(rows[SCHOOL_COLUMN].astype(str), sort=True):
        if len(part) < SUPPRESSION_THRESHOLD or not urn or urn == "nan":
            continue
        stats = {}
        nested = nested_withheld(part, [f.name for f in features if f.kind == "binary"])  # mean x pupils
        for f in features:
            mean, missing, _ = _school_stats(part, f.name, f.kind)
            stats[f.name] = {"mean": None if f.name in nested else mean, "missing": missing}
        schools[urn] = {"pupils": len(part), "features": stats}
    return schools


def check_schools(profile: dict[str, Any], cohort: pd.DataFrame, year: str, since: str,
                  thresholds) -> tuple[list[dict[str, Any]], list[str]]:  # fmt: skip
    """(a row per school and feature that warns, their sentences): each school against its own pupils."""
    schools = profile.get("schools") or {}
    if not schools or SCHOOL_COLUMN not in cohort.columns:
        return [], []
    least = thresholds.school_min_pupils
    groups = dict(list(cohort.groupby(cohort[SCHOOL_COLUMN].astype(str))))
    rows, sentences = [], []
    for urn, reference in schools.items():
        part = groups.get(urn)
        if part is None or len(part) < least or reference["pupils"] < least:
            continue
        flags = [n for n in reference["features"] if n in part.columns and registry.get(n).kind == "binary"]
        nested = nested_withheld(part, flags)
        for name, before in reference["features"].items():
            if name not in part.columns:
                continue
            kind = registry.get(name).kind
            x = pd.to_numeric(part[name], errors="coerce").to_numpy(dtype=float)
            known = x[~np.isnan(x)]
            missing_now = 1 - known.size / x.size
            row = {"school": urn, "feature": name, "mean_reference": before["mean"], "mean_current": None,
                   "missing_reference": before["missing"],
                   "missing_current": shown_rate(float(x.size - known.size), float(x.size))}  # fmt: skip
            said = _school_missing(name, urn, before["missing"], missing_now, x.size, year, since, thresholds)
            if said is None and known.size:
                row["mean_current"], said = _school_mean(name, kind, urn, before["mean"], x, year, since,
                                                         thresholds, name in nested)  # fmt: skip
            elif known.size:
                row["mean_current"] = None if name in nested else _school_stats(part, name, kind)[0]
            if said:
                rows.append({**row, "warning": True})
                sentences.append(said)
    return rows, sentences


def _school_missing(name, urn, before, now, pupils, year, since, thresholds) -> str | None:
    if before is None or not thresholds.warns_on(name):
        return None
    change = abs(now - before)
    if change < thresholds.school_missing_change or change * pupils < SUPPRESSION_THRESHOLD:
        return None
    shown = shown_rate(now * pupils, pupils)
    text = SHARE_WITHHELD if shown is None else _percent(shown)
    return (f"At school {urn}: {registry.get(name).label} ({name}) is missing for {text} of pupils in {year} "
            f"against {_percent(before)} in {since}.")  # fmt: skip


def _school_mean(name, kind, urn, before, x, year, since, thresholds,
                 withhold: bool = False) -> tuple[float | None, str | None]:  # fmt: skip
    known = x[~np.isnan(x)]
    if kind == "binary":
        now, shown = share_above_zero(x)
        shown = None if withhold else shown
    else:
        now = float(np.mean(known)) if known.size >= SUPPRESSION_THRESHOLD else None
        shown = now
    if before is None or before <= 0 or now is None:
        return shown, None
    if kind == "binary" and before * known.size < thresholds.prevalence_min_expected:
        return shown, None
    ratio, factor = now / before, thresholds.school_mean_ratio
    if 1 / factor < ratio < factor:
        return shown, None
    label = registry.get(name).label
    if kind == "binary":
        value = WITHHELD if shown is None else _percent(shown)
        moved = _ratio_word(ratio, factor, shown is not None)
        return shown, (f"At school {urn}: the share of pupils with {label} ({name}) is {value} in {year} "
                       f"against {_percent(before)} in {since} ({moved}).")  # fmt: skip
    return shown, (f"At school {urn}: the mean {label.lower()} ({name}) is {now:.2f} in {year} against "
                   f"{before:.2f} in {since} ({_ratio_word(ratio, factor)}).")  # fmt: skip


# --- coverage -------------------------------------------------------------------------------------------


def learned_schools(profile: dict[str, Any] | None) -> set[str]:
    """The schools a stored profile (a model's training years) holds: its `schools` keys."""
    return set((profile or {}).get("schools") or {})


def part_of_cohort(profile: dict[str, Any], cohort: pd.DataFrame, thresholds) -> str | None:
    """The one line for a cohort that does not cover the authority (too few of the reference schools or
    pupils: a part of it would differ from the whole by design), None when it does."""
    schools = learned_schools(profile)
    present = set(cohort[SCHOOL_COLUMN].astype(str)) if SCHOOL_COLUMN in cohort.columns else set()
    held = len(schools & present)
    if schools and not held and len(cohort) >= thresholds.cohort_min_pupils:
        return NO_SCHOOL_IN_COMMON.format(pupils=len(cohort), present=counted(len(present), "school"),
                                          of=len(schools))  # fmt: skip
    enough_schools = not schools or held >= thresholds.cohort_min_schools * len(schools)
    if enough_schools and len(cohort) >= thresholds.cohort_min_pupils:
        return None
    pupils = ""
    if len(cohort) < thresholds.cohort_min_pupils:
        pupils = f"; {len(cohort):,} pupils, under {thresholds.cohort_min_pupils:,.0f}"
    return PART_OF_COHORT.format(schools=counted(held, "school"), of=len(schools), pupils=pupils)
