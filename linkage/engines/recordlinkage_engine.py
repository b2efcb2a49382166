"""Probabilistic engine on the Python Record Linkage Toolkit (recordlinkage), the design's named package.

recordlinkage's `Index` builds the candidate pairs (one `Block` per blocking rule, unioned) and its
`Compare` computes the names' Jaro-Winkler similarities; the comparison levels follow from them in
numpy (linkage.engines.levels). Jaro-Winkler runs in Python (about 50k pairs a second a core), so
`Compare` spreads a large batch over `settings.n_jobs` processes and the u and EM samples are
capped. Fellegi-Sunter parameters are estimated as in linkage.engines.fellegi_sunter.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.linkage.engines import fellegi_sunter as fs
from exclusion_risk.linkage.engines import libraries
from exclusion_risk.linkage.engines.base import (
    LABEL_BIAS,
    TF_COLUMNS,
    EngineInput,
    EngineResult,
    LinkageEngine,
    best_variant_pairs,
    empty_pairs,
    label_entity_sample,
    labelled_variant_pairs,
    prior_from_deterministic_rules,
    quantise,
    term_frequencies,
    tf_adjustment,
    unestimated_note,
)
from exclusion_risk.linkage.engines.levels import as_objects, empty_levels, jaro_winkler_distinct, pair_levels
from exclusion_risk.linkage.settings import BlockingRule, active_comparisons, comparison_levels, exact_level

log = logging.getLogger(__name__)
# recordlinkage logs every indexing and comparing step at INFO; the run log wants stage totals only.
logging.getLogger("recordlinkage").setLevel(logging.WARNING)

# Blocking rules of the two EM sessions, and the comparisons each may not estimate.
EM_SESSIONS: tuple[tuple[list[str], set[str]], ...] = (
    (["dob"], {"dob"}),
    (["forename_group", "surname"], {"forename", "surname"}),
)
MIN_LABELS = 50  # fewer labelled pairs than this and a comparison's m comes from EM instead
# Jaro-Winkler in Python is the slow part: cap the sampled pairs used for estimation.
MAX_U_PAIRS = 400_000
MAX_EM_PAIRS = 150_000
# Deterministic links whose variant pairs are compared for the label counts of m.
MAX_LABEL_LINKS = 50_000


class RecordLinkageEngine(LinkageEngine):
    name = "recordlinkage"

    # --- candidate pairs and comparisons -------------------------------------------------------
    def candidate_pairs(
        self, source: pd.DataFrame, census: pd.DataFrame, rules: list[BlockingRule]
    ) -> pd.MultiIndex:
        indexer = libraries.recordlinkage().Index()
        for rule in rules:
            indexer.block(left_on=list(rule.columns), right_on=[rule.swapped(c) for c in rule.columns])
        pairs = indexer.index(source, census)
        return pairs.sort_values() if len(pairs) else pairs

    def compare(self, pairs: pd.MultiIndex, source: pd.DataFrame, census: pd.DataFrame) -> pd.DataFrame:
        """gamma_<field> for each pair (index = pairs); the names' Jaro-Winkler through recordlinkage's
        `Compare`, which spreads the pairs over `settings.n_jobs` processes on a large batch."""
        if len(pairs) == 0:
            return empty_levels(pairs, self.settings)
        cmp = libraries.recordlinkage().Compare(n_jobs=self.settings.n_jobs if len(pairs) > 200_000 else 1)
        cmp.compare_vectorized(jaro_winkler_distinct, "forename", "forename", label="jw_forename")
        cmp.compare_vectorized(jaro_winkler_distinct, "surname", "surname", label="jw_surname")
        features = cmp.compute(pairs, source, census)
        jw_forename, jw_surname = features["jw_forename"].to_numpy(), features["jw_surname"].to_numpy()
        return pair_levels(self.settings, pairs, source, census, jw_forename, jw_surname)

    # --- estimation ----------------------------------------------------------------------------
    def _sample(self, pairs: pd.MultiIndex, n: int, rng: np.random.Generator) -> pd.MultiIndex:
        if len(pairs) <= n:
            return pairs
        return pairs[np.sort(rng.choice(len(pairs), size=n, replace=False))]

    def train(self, data: EngineInput) -> dict[str, Any]:
        comps = active_comparisons(self.settings)
        levels = comparison_levels(self.settings)
        rng = np.random.default_rng(self.settings.seed)
        src, cen = data.source, data.census
        # u: comparison levels among random pairs, which are almost all of different children.
        n_u = min(self.settings.u_sample_pairs, MAX_U_PAIRS)
        li = rng.integers(0, len(src), size=n_u)
        ri = rng.integers(0, len(cen), size=n_u)
        random_pairs = pd.MultiIndex.from_arrays([src.index[li], cen.index[ri]]).unique()
        u = fs.level_frequencies(self.compare(random_pairs, src, cen), comps, pseudo=1.0, levels=levels)
        u = {c: v if v is not None else [1.0 / levels[c]] * levels[c] for c, v in u.items()}
        # m by EM, one session per blocking rule, averaging where two sessions estimate a comparison.
        estimates: dict[str, list[list[float]]] = {c: [] for c in comps}
        for columns, excluded in EM_SESSIONS:
            rule = BlockingRule.model_construct(columns=columns, swap_names=False)
            pairs = self._sample(self.candidate_pairs(src, cen, [rule]), MAX_EM_PAIRS, rng)
            est = [c for c in comps if c not in excluded]
            m = fs.expectation_maximisation(
                self.compare(pairs, src, cen),
                est,
                fs.default_m(comps, levels),
                u,
                self.settings.em_iterations,
                levels=levels,
            )
            for c, v in m.items():
                estimates[c].append(v)
        m = {
            c: (list(np.mean(v, axis=0)) if v else fs.default_m([c], levels)[c]) for c, v in estimates.items()
        }
        # Free labels from the deterministic stages replace EM where they are unbiased.
        best = self.settings.labels_best_pair
        if best:  # each labelled link counts once, by its best-matching variant pair
            data = replace(data, labels=label_entity_sample(data.labels, MAX_LABEL_LINKS, self.settings.seed))
        labelled = labelled_variant_pairs(data).reset_index(drop=True)
        # A comparison no EM session estimated (no blocked pairs: a few records) keeps default_m.
        sources: dict[str, str] = {c: "em" if estimates[c] else "default" for c in comps}
        if len(labelled):
            if not best:
                labelled = labelled.iloc[np.sort(rng.permutation(len(labelled))[:MAX_EM_PAIRS])]
                labelled = labelled.reset_index(drop=True)
            gam = self.compare(pd.MultiIndex.from_frame(labelled[["l", "r"]]), src, cen)
            if best:
                labelled = best_variant_pairs(labelled, gam.reset_index(drop=True), data, comps, m, u)
                gam = gam.iloc[labelled.index.to_numpy()]
            methods = labelled["method"].to_numpy()
            for c in comps:
                usable = ~np.isin(methods, [k for k, v in LABEL_BIAS.items() if c in v])
                g = gam.loc[usable]
                if (g[f"gamma_{c}"] >= 0).sum() >= MIN_LABELS:
                    m[c] = fs.level_frequencies(g, [c], pseudo=0.5, levels=levels)[c]
                    sources[c] = "labels"
        prior = prior_from_deterministic_rules(src, cen, self.settings.prior_recall)
        if note := unestimated_note(sources):
            self.notes.append(note)
        return quantise({"engine": self.name, "prior": prior, "m": m, "u": u, "m_source": sources})

    def tf_adjustments(
        self, gam: pd.DataFrame, source: pd.DataFrame, census: pd.DataFrame, u: dict[str, list[float]]
    ) -> np.ndarray:
        """Sum of the term-frequency adjustments (linkage.engines.base.tf_adjustment) of each pair."""
        total = np.zeros(len(gam))
        c = self.settings.comparisons
        if not c.term_frequency_adjustments or gam.empty:
            return total
        left = source.index.get_indexer(gam.index.get_level_values(0))
        right = census.index.get_indexer(gam.index.get_level_values(1))
        for comparison, column in TF_COLUMNS.items():
            exact = exact_level(comparison)
            total += tf_adjustment(
                gam[f"gamma_{comparison}"].to_numpy(),
                as_objects(source[column])[left],
                as_objects(census[column])[right],
                term_frequencies(census, column),
                column,
                exact,
                u[comparison][exact],
                c.tf_minimum_u_value,
            )
        return total

    # --- scoring -------------------------------------------------------------------------------
    def run(self, data: EngineInput, trained: dict[str, Any] | None = None) -> EngineResult:
        comps = active_comparisons(self.settings)
        to_score = data.source[data.source["eid"].isin(data.score_eids)]
        if to_score.empty:
            return EngineResult(pairs=empty_pairs(comps), trained=trained)
        self.notes = []
        if trained is None or trained.get("engine") != self.name:
            trained = self.train(data)
        pairs = self.candidate_pairs(to_score, data.census, self.settings.blocking)
        log.info("recordlinkage: %d candidate pairs", len(pairs))
        gam = self.compare(pairs, to_score, data.census)
        prior = trained["prior"]
        weight = np.log2(prior / (1 - prior)) + fs.log2_bayes_factors(gam, comps, trained["m"], trained["u"])
        weight += self.tf_adjustments(gam, to_score, data.census, trained["u"])
        result = gam.reset_index(names=["l", "r"])
        result["match_weight"] = weight
        result["match_probability"] = fs.probability(weight)
        # As in the Splink engine: pairs far below the review band cannot change a decision.
        result = result[result["match_probability"] >= self.settings.thresholds.candidate_floor]
        result = result.reset_index(drop=True)
        return EngineResult(pairs=result, trained=trained, notes=list(self.notes))
