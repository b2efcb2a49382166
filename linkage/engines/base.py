"""The probabilistic engine interface, and the comparison levels both engines implement.

An engine receives the standardised variant frames (linkage.standardise), the entities it must
score, and the earlier stages' links as free labels. It returns scored variant pairs with the
comparison level of each field (`gamma_<field>`: -1 missing on either side, 0 disagree, higher
is closer agreement, as Splink numbers them) and the Fellegi-Sunter parameters it used, which the
settings object saves so a rerun reproduces the links exactly.

Levels (the same in both engines):
  forename  3 same forename group or names swapped, 2 spelling variant, 1 JW >= low, 0 else
  surname   3 equal (or swapped),                  2 spelling variant, 1 JW >= low, 0 else
  dob       4 equal, 3 day-month transposed or year one out on the same day and month,
            2 one-character slip, 1 same birth year, 0 else
  sex       1 equal, 0 else
  postcode  3 equal, 2 same sector, 1 same district, 0 else
  upn       1 equal, 0 else
The "near" level (2) of forename and surname is a spelling variant: Jaro-Winkler >= high, or >= low
with the same Soundex code (transliterations such as Tasneem / Tasnim score about 0.91). It also
takes a swap with variants: the source's forename a variant of the census surname and its surname a
variant of the census forename, or one of the two equal and the other at least JW >= low.
Extra comparisons a run configures (settings.comparisons.extra) read the variant column
`x_<name>`: `exact` 1 equal, 0 else; `jaro_winkler` 3 equal, 2 JW >= high, 1 JW >= low, 0 else.
A missing value on either side gives level -1, which has weight 0: neutral evidence.

Term-frequency adjustment (settings.comparisons.term_frequency_adjustments), as Splink defines it:
a pair at the exact level of forename or surname adds log2(u_exact / tf) to its weight, where tf
is the share of census pupils with that forename group or surname (the larger of the two sides'
values where they differ, as in a swap). Both engines use the same census-based tables.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.linkage.arrow_text import in_text
from exclusion_risk.linkage.settings import LinkageSettings

# Comparison -> the variant column whose term frequencies adjust its exact level.
TF_COLUMNS: dict[str, str] = {"forename": "forename_group", "surname": "surname"}


def tf_column_name(column: str) -> str:
    """Name of the frequency column in a term-frequency table (Splink's convention)."""
    return f"tf_{column}"


def term_frequencies(census: pd.DataFrame, column: str) -> pd.DataFrame:
    """Share of census pupils recorded with each value of `column` (each pupil counted once per
    value): columns `column` and tf_<column>, most common first, ties by value."""
    pupils = census[["eid", column]].dropna().drop_duplicates()
    counts = pupils[column].value_counts()
    table = pd.DataFrame(
        {column: counts.index.astype(str), tf_column_name(column): counts.to_numpy() / counts.sum()}
    )
    return table.sort_values(
        [tf_column_name(column), column], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def tf_adjustment(
    gamma: np.ndarray,
    values_l: np.ndarray,
    values_r: np.ndarray,
    table: pd.DataFrame,
    column: str,
    exact: int,
    u_exact: float,
    minimum: float = 0.0,
) -> np.ndarray:
    """log2(u_exact / max(tf_l, tf_r, minimum)) for pairs at level `exact`, 0 elsewhere or where
    neither value is in `table` (Splink's formula with weight 1)."""
    lookup = pd.Series(table[tf_column_name(column)].to_numpy(), index=table[column].to_numpy())
    tf_l = pd.Series(values_l, dtype=object).map(lookup).to_numpy(dtype=float)
    tf_r = pd.Series(values_r, dtype=object).map(lookup).to_numpy(dtype=float)
    tf = np.fmax(tf_l, tf_r)  # fmax ignores a missing side
    at_exact = (np.asarray(gamma) == exact) & ~np.isnan(tf)
    out = np.zeros(len(gamma))
    out[at_exact] = math.log2(u_exact) - np.log2(np.maximum(tf[at_exact], minimum))
    return out


# Which comparisons a deterministic stage's labels say nothing about (they selected on them).
LABEL_BIAS: dict[str, set[str]] = {
    "upn": {"upn"},
    "name_dob": {"forename", "surname", "dob"},
}

# Fields that, taken together, every engine's prior estimate treats as a near-certain match.
DETERMINISTIC_RULES: tuple[tuple[str, ...], ...] = (("upn",), ("surname", "forename_group", "dob"))


@dataclass
class EngineInput:
    source: pd.DataFrame  # variant rows of every source entity (VARIANT_COLUMNS), index = variant id
    census: pd.DataFrame  # census variant rows, index = variant id
    score_eids: pd.Index  # source entities to score (not linked by a deterministic stage)
    labels: pd.DataFrame  # deterministic links: source eid `eid_l`, census eid `eid_r`, `method`


@dataclass
class EngineResult:
    # `l`, `r` (variant ids into source / census), `match_probability`, `match_weight`, gamma_<field>
    pairs: pd.DataFrame
    trained: dict[str, Any]
    # What the engine could not do on this source (a parameter it could not estimate, a fallback it
    # took), one sentence each, naming no record: the pipeline puts them in run.log and the report.
    notes: list[str] = field(default_factory=list)
    # Pairs the blocking rules generate, counted before predicting (None: the engine does not count).
    candidate_pairs: int | None = None


class LinkageEngine(ABC):
    name: str

    def __init__(self, settings: LinkageSettings):
        self.settings = settings
        self.notes: list[str] = []  # an engine is made per source, so these are that source's

    @abstractmethod
    def run(self, data: EngineInput, trained: dict[str, Any] | None = None) -> EngineResult:
        """Estimate parameters (unless `trained` is given) and score the blocked candidate pairs."""


def empty_pairs(comparisons: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "l": pd.Series(dtype="int64"),
            "r": pd.Series(dtype="int64"),
            "match_weight": pd.Series(dtype=float),
            "match_probability": pd.Series(dtype=float),
        }
    )
    for c in comparisons:
        out[f"gamma_{c}"] = pd.Series(dtype="int64")
    return out


def unestimated_note(sources: dict[str, str]) -> str | None:
    """The note for comparisons whose m this source's data could not estimate (`sources` value
    "default": no EM session had pairs, or converged, and too few labels), or None."""
    names = sorted(c for c, how in sources.items() if how == "default")
    if not names:
        return None
    return (
        f"m of {', '.join(names)} not estimated from this data (too few candidate pairs for EM and too "
        f"few earlier links to count); the engine's starting values were used, so review these links"
    )


def paired_pupils(
    census: pd.DataFrame, pairs: pd.DataFrame, columns: list[str] | None = None
) -> pd.DataFrame:
    """`columns` (all when None) of the census's variant rows of the pupils in `pairs["eid_r"]`, in
    census order, index kept: what a check or count over those pairs reads, not every pupil's rows
    deduplicated or joined (2,000,000 pupils: 3,400,000 rows per source, where a few hundred thousand
    pupils are paired)."""
    paired = in_text(census["eid"], pairs["eid_r"])
    return census[paired] if columns is None else census.loc[paired, columns]


def labelled_variant_pairs(data: EngineInput) -> pd.DataFrame:
    """Variant pairs behind each deterministic link, restricted to those sharing the linking key.

    A pupil recorded with three postcodes gives three variant pairs with the same child, but only
    the variants that carry the key the stage linked on are certainly that link's evidence.
    Columns: l, r, method.
    """
    if data.labels.empty:
        return pd.DataFrame({"l": pd.Series(dtype="int64"), "r": pd.Series(dtype="int64"), "method": []})
    keys = (("upn", ["upn"]), ("name_dob", ["surname", "forename_group", "dob"]))
    columns = ["eid", *dict.fromkeys(c for _, key in keys for c in key)]
    src = data.source[columns].reset_index(names="l")
    # Only the labelled pupils' rows, and only the key columns: joining every pupil's rows on text
    # keys held about 1 GB above the run at 2,000,000 pupils (each source's training peak).
    cen = paired_pupils(data.census, data.labels, columns).reset_index(names="r")
    out = []
    for method, key in keys:
        lab = data.labels.loc[data.labels["method"] == method, ["eid_l", "eid_r"]]
        if lab.empty:
            continue
        left = src.merge(lab, left_on="eid", right_on="eid_l")[["l", "eid_r", *key]].dropna(subset=key)
        right = cen[["r", "eid", *key]].dropna(subset=key)
        pairs = left.merge(right, left_on=["eid_r", *key], right_on=["eid", *key])[["l", "r"]]
        out.append(pairs.assign(method=method))
    return pd.concat(out, ignore_index=True).drop_duplicates(["l", "r"])


# Trained parameters are rounded to this many significant digits. DuckDB sums in parallel threads, so
# an EM or label estimate can differ in its last bit between two runs on the same data; rounding
# removes that noise, and a fresh run reproduces the previous one's links byte for byte.
TRAINED_DIGITS = 10


def quantise(value: Any, digits: int = TRAINED_DIGITS) -> Any:
    """Every float in `value` (nested dicts and lists) rounded to `digits` significant digits."""
    if isinstance(value, dict):
        return {k: quantise(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [quantise(v, digits) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value != 0.0:
        return round(value, digits - 1 - math.floor(math.log10(abs(value))))
    return value


def label_entity_sample(labels: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    """At most `cap` deterministic links, drawn with the run's seed (in their original order)."""
    if len(labels) <= cap:
        return labels
    keep = np.sort(np.random.default_rng(seed).permutation(len(labels))[:cap])
    return labels.iloc[keep]


def best_variant_pairs(
    labelled: pd.DataFrame,
    gammas: pd.DataFrame,
    data: EngineInput,
    comparisons: list[str],
    m: dict[str, Any],
    u: dict[str, Any],
) -> pd.DataFrame:
    """Of each labelled link's variant pairs, the one that matches best (highest sum of log2(m/u)).

    The scoring keeps each entity pair's best variant pair (linkage.assign.entity_pairs), so the
    m it uses must describe best pairs too. Counting every variant pair would read a pupil's middle
    name, former surname or one part of a hyphenated surname as a disagreement among true matches.
    `labelled`: l, r, method (labelled_variant_pairs); `gammas`: gamma_<comparison> for the same
    rows in the same order; m and u (lists indexed by level) rank the pairs. Ties go to the lowest
    variant ids, so the choice is deterministic. Returns the chosen rows of `labelled`.
    """
    if labelled.empty:
        return labelled
    weight = np.zeros(len(labelled))
    for c in comparisons:
        g = gammas[f"gamma_{c}"].to_numpy()
        mc, uc = (np.maximum(np.asarray(p[c], dtype=float), 1e-12) for p in (m, u))
        table = np.log2(mc / uc)
        seen = g >= 0
        weight[seen] += table[g[seen]]
    eid_l = data.source["eid"].to_numpy()[data.source.index.get_indexer(labelled["l"])]
    eid_r = data.census["eid"].to_numpy()[data.census.index.get_indexer(labelled["r"])]
    ranked = pd.DataFrame(
        {"eid_l": eid_l, "eid_r": eid_r, "w": weight, "l": labelled["l"], "r": labelled["r"]},
        index=labelled.index,
    ).sort_values(["eid_l", "eid_r", "w", "l", "r"], ascending=[True, True, False, True, True], kind="stable")
    chosen = ranked.drop_duplicates(["eid_l", "eid_r"]).index
    return labelled.loc[labelled.index.isin(chosen)]


def prior_from_deterministic_rules(source: pd.DataFrame, census: pd.DataFrame, recall: float) -> float:
    """Probability two random variant rows match: pairs agreeing on a deterministic rule, over recall.

    The same estimate as Splink's `estimate_probability_two_random_records_match`, so both engines
    start from one prior.
    """
    keys = []
    for rule in DETERMINISTIC_RULES:
        cols = list(rule)
        # the rule's columns picked before the row ids are added: not a copy of every column first
        left = source[cols].reset_index(names="l").dropna()
        right = census[cols].reset_index(names="r").dropna()
        keys.append(left.merge(right, on=cols)[["l", "r"]])
    matched = len(pd.concat(keys).drop_duplicates()) if keys else 0
    total = max(len(source) * len(census), 1)
    return float(min(max(matched / recall, 1.0) / total, 0.5))
