"""Drift's shares as published: rounded so that none stands for fewer than 10 possible counts.

An exact share is a count: beside the number of pupils, which other reports publish (and a float's exact
fraction gives it anyway), drift's 0.0027706412775175054 of 19,851 pupils on a child protection plan in
2019/20 was 55, and evaluate's and the review's "child protection plan" group (a plan, not looked after)
was 50: 5 pupils on a plan and looked after, given back. Drift's flags are the model's features, nested in
other reports' groups by different definitions (a plan now beside a plan and not looked after, FSM now
beside FSM in the last six years, a pooled cell of rare SEN needs beside describe's folded rows), and
withholding pairs of its own flags could not see them. So every share of the authority's pupils drift
publishes (drift.json, drift.html, the console, and the reference profile `train` logs to MLflow) is
rounded by `privacy.rounded_shares`: to a precision that `total` pupils turn into 10 or more counts (0.1%
of 19,851 pupils, about 20), coarser where the cells' sum would pin one; a count of another report less
one read from a share is then known only to within 10 or more values, never as one count of 1 to 9.

What is computed is not: PSI, the prevalence and missing-rate checks and their warnings are taken on the
exact shares (a profile built in the same process keeps them beside its published copy, `PUBLISHED`);
only the figures printed change. A profile read back from MLflow holds the published figures only, so a
scoring's check compares with those (as it compared with a withheld share as withheld before), a rounded
share read as the range it was rounded from (`rounding_step`). Under 100
pupils no decimal place stands for 10 of them: a share other than 0 or 1 is withheld (None, "withheld"),
as `rounded_rate`'s is; a read-back feature with a withheld share gets no PSI (nor a missing check
where its missing share is the one withheld). Each count
is published once: a flag's or count's share above zero is worked out from its published cells where they
hold it (the "1" and "0" cells; a count's cell of zeros), else rounded from its own counts, so that two
roundings of one count cannot be read together to narrow it. Schools' means, link rates and the
exclusion rate are left exact: no other report publishes a group nested in theirs by another definition
(describe's exclusion rate is the same count).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.models.drift_checks import prevalence
from exclusion_risk.models.drift_link_rates import EXACT
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, rounded_rate, rounded_shares, share_step

PUBLISHED = "published"  # a profile's feature: its shares, missing rate and prevalence as published


def published(entry: dict[str, Any]) -> dict[str, Any]:
    """A profile's feature with its figures as published: its `PUBLISHED` copy, or itself when it is one
    (a profile read back from MLflow)."""
    return entry.get(PUBLISHED, entry)


def published_shares(counts: list[int], total: int) -> list[float | None]:
    """A feature's cell shares as published (its cells hold 0 or 10 or more pupils: pooled); None where
    no decimal place stands for 10 pupils (`privacy.rounded_shares`)."""
    if total <= 0:
        return [0.0 for _ in counts]
    return rounded_shares([int(n) for n in counts], int(total), SUPPRESSION_THRESHOLD, small=True)


def _zeros_cell(feature: dict[str, Any], values: pd.Series) -> bool:
    """Whether a count's first cell holds its zeros and nothing else, missing values a cell of their own."""
    if feature["kind"] != "numeric" or not feature["edges"] or feature["missing_with"] is not None:
        return False
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    known = x[~np.isnan(x)]
    return bool((known == 0).any()) and bool(((known <= feature["edges"][0]) == (known == 0)).all())


def published_prevalence(feature: dict[str, Any], values: pd.Series, exact: float | None,
                         nonzero: float, known: float) -> float | None:  # fmt: skip
    """A flag's or count's share above zero as published: None where the exact one is withheld; worked
    out from the published cells where they hold the same count (module text), printed to their place
    (a function of published figures, it tells no more); else rounded."""
    if exact is None:
        return None
    shares = published(feature)["shares"]
    places = -math.floor(math.log10(share_step(len(values))) + 1e-9)  # as the cells are printed
    cells = feature.get("cells") or []
    if ["0"] in cells and ["1"] in cells:
        zero, one = shares[cells.index(["0"])], shares[cells.index(["1"])]
        if zero is None or one is None:  # no decimal place of them stands for 10 pupils: withheld
            return None
        return round(one / (zero + one), places) if zero + one else None
    if _zeros_cell(feature, values):
        if shares[0] is None or shares[-1] is None:
            return None
        known_share = 1.0 - shares[-1]
        return round(1.0 - shares[0] / known_share, places) if known_share > 0 else None
    return rounded_rate(nonzero, known)


def add_prevalence(feature: dict[str, Any], values: pd.Series) -> None:
    """A flag's or count's share above zero in a profile's feature: exact (`drift_checks.prevalence`,
    None where withheld) and as published."""
    feature["prevalence"] = prevalence(values)
    x = pd.to_numeric(values, errors="coerce")
    nonzero, known = float(x.fillna(0).ne(0).sum()), float(x.notna().sum())
    shown = published_prevalence(feature, values, feature["prevalence"], nonzero, known)
    feature[PUBLISHED]["prevalence"] = shown


# A profile read back from MLflow: the decimal place its shares were published to (`rounding_step`), so
# that `drift.compare` checks a prevalence against every share the rounded reference stands for.
ROUNDING = "rounding"


def _places(value: float) -> int:
    return next((d for d in range(12) if abs(value - round(value, d)) < 1e-12), 12)


def rounding_step(profile: dict[str, Any]) -> float:
    """The decimal place a stored profile's figures were published to: the finest place its shares and
    prevalences use (every feature's are of the same pupils), 0.0 where they are exact (a profile built
    in this process keeps them beside its `PUBLISHED` copy; one stored before shares were rounded) or
    none is finer than a whole (nothing to tell)."""
    values = []
    for feature in (profile.get("features") or {}).values():
        if PUBLISHED in feature:
            return 0.0
        values += [v for v in [*(feature.get("shares") or []), feature.get("prevalence")]
                   if isinstance(v, int | float)]  # fmt: skip
    places = max((_places(float(v)) for v in values), default=0)
    return 0.0 if places in (0, 12) else 10.0**-places


def reference_step(profile: dict[str, Any]) -> float:
    """The place (a step) a profile's shares are printed to (`drift_words.share_text`): a stored
    profile's `ROUNDING`, else its published copies' finest (`rounding_step`)."""
    if ROUNDING in profile:
        return float(profile[ROUNDING])
    features = {name: published(f) for name, f in (profile.get("features") or {}).items()}
    return rounding_step({"features": features})


def published_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile as `train` logs it: each feature's figures replaced by their published copy, without
    the exact link rates (`drift_link_rates.EXACT`)."""
    out = copy.deepcopy(profile)
    out.pop(EXACT, None)  # link rates: the published ones and the withheld ones' bounds only
    for name, feature in out["features"].items():
        shown = feature.pop(PUBLISHED, None)
        if shown is not None:
            out["features"][name] = {**feature, **shown}
    return out
