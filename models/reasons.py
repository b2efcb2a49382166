"""Reasons in plain English: each pupil's largest contributions, as the feature registry words them.

Three texts per pupil, the scores.csv columns `reason_columns` gives ("; "-joined phrases):
- `reasons`: the child's own factors raising the risk most (top `n`);
- `reasons_lowering`: the child's own factors lowering it most (top `n`), never an adverse factor the
  child has (the registry's `adverse_from`: a safeguarding or social-care record, a suspension or
  exclusion, persistent absence, a school move, free school meals). A negative contribution of one is
  the effect of the inputs it overlaps with in the model (CPP beside CIN), not protection: the score
  keeps it, the words leave it out, so no one reads "drug misuse lowers the risk". Nor a factor whose
  value is not known (a history withheld from a pupil whose date of birth it does not hold, a term not
  yet recorded): how the model treats a missing value is not something about the child, and "social care:
  not known" offered as lowering the risk reads as reassurance (it may still be given as raising it);
- `context`: every context factor (year group, the school's record, the home area: the registry's
  `context` features) that moves the score by the floor or more, largest first, each phrase marked
  "(raises risk)" or "(lowers risk)". Context never fills `reasons`: "in Year 9" or a school's suspension
  rate is where a child is, not something about the child.
`top_factors` gives factors with their contributions for the audit view (`CohortScorer.explain`), each
tagged `context`. Protected characteristics are never offered as reasons or context: the fairness
review reports them. A contribution below `MIN_REASON_CONTRIBUTION` (on the explained scale, see
`models.explain`) is too small to be worth a practitioner's attention.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.models.explain import Explanation

# A factor is given as a reason only when it moves the raw score by at least this much.
MIN_REASON_CONTRIBUTION = {"log-odds": 0.05, "probability": 0.002}
# Columns the registry describes; any other column (a model trained on extra inputs) keeps its own name
# and counts as the child's own factor.
REGISTRY_NAMES = frozenset(f.name for f in registry.FEATURES)
CONTEXT_NAMES = frozenset(registry.context_names())
# What the lists of reasons are, for the outputs that carry them as columns (the workbook's notice sheet;
# scores.html and the page say the same in their own words)
REASON_COLUMNS_NOTE = (
    "reasons: the child's own factors that raise the score most; reasons_lowering: those that lower it "
    "most, except that a safeguarding, exclusion, absence, school-move or free-school-meals factor the "
    "child has is never listed as lowering the risk (where the model gives it a negative weight, that is "
    "the effect of other factors it overlaps with), nor is a factor whose value is not known; context: "
    "year group, the school's exclusion record and the home area's deprivation, given apart as they are "
    "not about the child; each is marked with the direction it moves this pupil's score, which depends on "
    "the other factors the model reads it with, so one school's figure can raise one pupil's score and "
    "lower another's."
)
RAISES, LOWERS = " (raises risk)", " (lowers risk)"  # the direction a context phrase carries


def feature_label(name: str) -> str:
    """The registry's plain-English label of a feature ("Suspensions last year")."""
    return registry.get(name).label if name in REGISTRY_NAMES else name


class Describer:
    """registry.describe with a cache: a cohort repeats the same (feature, value) pairs many times."""

    def __init__(self):
        self._cache: dict[tuple[str, object], str] = {}

    def __call__(self, name: str, value) -> str:
        key = (name, _cache_key(value))
        phrase = self._cache.get(key)
        if phrase is None:
            phrase = registry.describe(name, value)
            if len(self._cache) < 200_000:
                self._cache[key] = phrase
        return phrase


def _cache_key(value):
    if registry.is_missing(value):
        return None
    if isinstance(value, (float, np.floating)):
        return round(float(value), 6)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def _usable(features: list[str], include_protected: bool, context: bool | None) -> np.ndarray:
    """Which columns may be offered: protected ones only when asked; context ones, the child's own, or
    both (`context` True, False or None)."""
    keep = []
    for name in features:
        protected = name in REGISTRY_NAMES and registry.get(name).protected
        in_group = context is None or (name in CONTEXT_NAMES) == context
        keep.append(in_group and (include_protected or not protected))
    return np.array(keep, dtype=bool)


def _floor(explanation: Explanation, min_contribution: float | None) -> float:
    return MIN_REASON_CONTRIBUTION[explanation.scale] if min_contribution is None else min_contribution


def _select_top(key: np.ndarray, usable: np.ndarray, n: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Per pupil, the column indices of the `n` largest `key` values among usable columns (per feature,
    or per pupil and feature) at or above `floor` (largest first) and those values; places with no
    qualifying factor hold -inf."""
    allowed = np.broadcast_to(usable if usable.ndim == 2 else usable[None, :], key.shape)
    masked = np.where(allowed & (key >= floor), key, -np.inf)
    k = min(n, int(allowed.any(axis=0).sum()), masked.shape[1])
    if k == 0 or masked.shape[0] == 0:
        empty = np.empty((masked.shape[0], 0))
        return empty.astype(int), empty
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(masked, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    return top, np.take_along_axis(masked, top, axis=1)


def _signed(explanation: Explanation, direction: str) -> np.ndarray:
    if direction not in ("raising", "lowering"):
        raise ValueError("direction must be 'raising' or 'lowering'")
    return explanation.contributions if direction == "raising" else -explanation.contributions


def _value_columns(explanation: Explanation, values: pd.DataFrame | list[dict]) -> dict[str, np.ndarray]:
    if isinstance(values, pd.DataFrame):
        return {f: values[f].to_numpy(dtype=object) for f in explanation.features}
    # a list of records (feature name -> value), the service's one-pupil path
    return {f: np.array([record.get(f) for record in values], dtype=object) for f in explanation.features}


def _adverse_present(explanation: Explanation, value_columns: dict[str, np.ndarray]) -> np.ndarray:
    """(pupils x features) True where the pupil has an adverse factor (`registry.FeatureDef.adverse`)."""
    present = np.zeros(explanation.contributions.shape, dtype=bool)
    for j, name in enumerate(explanation.features):
        feature = registry.get(name) if name in REGISTRY_NAMES else None
        if feature is None or feature.adverse_from is None:
            continue
        column = value_columns[name]
        try:  # numbers and None: one comparison (NaN is never adverse)
            numbers = column.astype(float)
        except (TypeError, ValueError):  # words ("yes"), pd.NA: each distinct value asked once
            codes, uniques = pd.factorize(pd.Series(column, dtype=object), use_na_sentinel=False)
            present[:, j] = np.array([feature.adverse(v) for v in uniques], dtype=bool)[codes]
            continue
        known = ~np.isnan(numbers)
        if feature.kind == "binary":  # a flag read as FeatureDef.adverse reads it: set is 1, then compared
            numbers = (numbers != 0).astype(float)
        present[:, j] = known & (numbers >= feature.adverse_from)
    return present


def _not_known(explanation: Explanation, value_columns: dict[str, np.ndarray]) -> np.ndarray:
    """(pupils x features) True where the pupil's value is missing (None, NaN, NA)."""
    return np.column_stack([pd.isna(value_columns[f]) for f in explanation.features]).reshape(
        explanation.contributions.shape
    )


def _child_usable(explanation, value_columns, usable: np.ndarray, direction: str) -> np.ndarray:
    """`usable`, less (for the lowering direction) each pupil's adverse factors and the factors whose
    value is not known (the module text)."""
    if direction != "lowering":
        return usable
    hidden = _adverse_present(explanation, value_columns) | _not_known(explanation, value_columns)
    return usable[None, :] & ~hidden


def top_factors(
    explanation: Explanation,
    values: pd.DataFrame | list[dict],
    n: int = 3,
    direction: str = "raising",
    include_protected: bool = False,
    describer: Describer | None = None,
    min_contribution: float | None = None,
    context: bool | None = None,
) -> list[list[dict]]:
    """For each pupil, up to `n` factors raising (or lowering) the raw score, largest first.

    Each factor: feature, label, value phrase (plain English), contribution (raw scale), and `context`
    (True for the year group, school and home-area features). `context` narrows the choice to context
    factors (True) or the child's own (False); None takes both. Protected characteristics are left out
    unless asked for: they are reported in the fairness review, not offered as reasons about a child.
    """
    describer = describer or Describer()
    key = _signed(explanation, direction)
    value_columns = _value_columns(explanation, values)
    usable = _child_usable(
        explanation, value_columns, _usable(explanation.features, include_protected, context), direction
    )
    top, chosen = _select_top(key, usable, n, _floor(explanation, min_contribution))
    if top.shape[1] == 0:
        return [[] for _ in range(top.shape[0])]
    sign = 1.0 if direction == "raising" else -1.0
    out = []
    for row in range(top.shape[0]):
        factors = []
        for j, c in zip(top[row], chosen[row], strict=True):
            if not np.isfinite(c):
                break
            name = explanation.features[j]
            factors.append(
                {
                    "feature": name,
                    "label": feature_label(name),
                    "value": describer(name, value_columns[name][row]),
                    "contribution": float(sign * c),
                    "context": name in CONTEXT_NAMES,
                }
            )
        out.append(factors)
    return out


def _texts(
    explanation: Explanation,
    value_columns: dict[str, np.ndarray],
    top: np.ndarray,
    chosen: np.ndarray,
    describer: Describer,
    directions: np.ndarray | None = None,
) -> list[str]:
    """The chosen factors' phrases, "; "-joined per pupil: the same text as joining `top_factors` values,
    without building a dict per factor. A cohort repeats the same few (feature, value) phrases, so each
    feature's phrases are rendered once per distinct value and placed with array indexing (on 100,000
    pupils per-factor dicts cost as much as TreeSHAP). `directions` (pupils x features, True where a
    factor raises the score): mark each phrase with it."""
    rows_total, k = top.shape
    if k == 0:
        return [""] * rows_total
    phrases = np.full((rows_total, k), None, dtype=object)
    present = np.isfinite(chosen)
    for j, name in enumerate(explanation.features):
        rows, ranks = np.nonzero((top == j) & present)
        if rows.size == 0:
            continue
        column = pd.Series(value_columns[name][rows], dtype=object)
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        words = np.array([describer(name, value) for value in uniques], dtype=object)[codes]
        if directions is not None:
            words = words + np.where(directions[rows, j], RAISES, LOWERS).astype(object)
        phrases[rows, ranks] = words
    # A pupil's factors fill ranks 0, 1, ... in order (the unqualified sort last), so each text is the
    # first phrase with the next ones appended while there are any: k array additions, no per-row join.
    texts = np.where(present[:, 0], phrases[:, 0], "").astype(object)
    for rank in range(1, k):
        more = present[:, rank]
        texts[more] = texts[more] + "; " + phrases[more, rank]
    return texts.tolist()


def reason_columns(
    explanation: Explanation,
    values: pd.DataFrame | list[dict],
    n: int = 3,
    describer: Describer | None = None,
) -> dict[str, list[str]]:
    """scores.csv's `reasons`, `reasons_lowering` and `context` for every pupil (see the module text)."""
    describer = describer or Describer()
    value_columns = _value_columns(explanation, values)
    floor = _floor(explanation, None)
    child = _usable(explanation.features, False, context=False)
    out = {}
    raising = explanation.contributions
    for column, direction in (("reasons", "raising"), ("reasons_lowering", "lowering")):
        key = raising if direction == "raising" else -raising
        top, chosen = _select_top(key, _child_usable(explanation, value_columns, child, direction), n, floor)
        out[column] = _texts(explanation, value_columns, top, chosen, describer)
    context = _usable(explanation.features, False, context=True)
    top, chosen = _select_top(np.abs(explanation.contributions), context, int(context.sum()), floor)
    out["context"] = _texts(
        explanation, value_columns, top, chosen, describer, directions=explanation.contributions > 0
    )
    return out
