"""Probabilistic engine on the Python Record Linkage Toolkit (recordlinkage), the design's named package.

recordlinkage's `Index` builds the candidate pairs (one `Block` per blocking rule, unioned) and its
`Compare` computes the field comparisons: Jaro-Winkler through `String`, the other levels through
vectorised numpy functions. `Compare` runs each Jaro-Winkler pair through Python (about 50k pairs a
second a core), so comparisons run in `settings.n_jobs` processes and the u and EM samples are
capped. Fellegi-Sunter parameters are estimated as in linkage.engines.fellegi_sunter.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.linkage.engines import fellegi_sunter as fs
from exclusion_risk.linkage.engines.base import (
    LABEL_BIAS,
    TF_COLUMNS,
    EngineInput,
    EngineResult,
    LinkageEngine,
    active_comparisons,
    best_variant_pairs,
    comparison_levels,
    empty_pairs,
    exact_level,
    label_entity_sample,
    labelled_variant_pairs,
    prior_from_deterministic_rules,
    quantise,
    term_frequencies,
    tf_adjustment,
)
from exclusion_risk.linkage.settings import BlockingRule

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


def _arr(s: pd.Series) -> np.ndarray:
    return s.astype(object).where(s.notna(), None).to_numpy()


def _missing(*arrays: np.ndarray) -> np.ndarray:
    out = np.zeros(len(arrays[0]), dtype=bool)
    for a in arrays:
        out |= pd.isna(a)
    return out


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (~_missing(a, b)) & (a == b)


def one_character_slip(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same-length strings differing in exactly one position (a one-digit slip in an ISO date)."""
    ok = ~_missing(a, b)
    out = np.zeros(len(a), dtype=bool)
    if ok.any():
        aa = np.asarray([x for x in a[ok]], dtype="U10")
        bb = np.asarray([x for x in b[ok]], dtype="U10")
        diff = (aa.view("U1").reshape(len(aa), -1) != bb.view("U1").reshape(len(bb), -1)).sum(axis=1)
        out[ok] = diff == 1
    return out


def jaro_winkler_distinct(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Jaro-Winkler similarity (0 when missing), computed once per distinct pair of names.

    recordlinkage's own `String(method="jarowinkler")` calls jellyfish once per pair; names repeat
    so much that scoring each distinct pair once is several times faster, with the same values.
    """
    import jellyfish

    pairs = pd.DataFrame({"a": np.asarray(a, dtype=object), "b": np.asarray(b, dtype=object)})
    codes, uniques = pd.MultiIndex.from_frame(pairs).factorize()
    sims = np.array(
        [
            jellyfish.jaro_winkler_similarity(x, y) if isinstance(x, str) and isinstance(y, str) else 0.0
            for x, y in uniques
        ],
        dtype=float,
    )
    return sims[codes] if len(codes) else np.zeros(0)


def _levels(conditions: list[np.ndarray], missing: np.ndarray) -> np.ndarray:
    """First true condition wins: conditions[0] gives the top level, none true gives 0, missing -1."""
    level = np.zeros(len(missing), dtype=np.int64)
    for i, cond in enumerate(reversed(conditions)):
        level = np.where(cond, i + 1, level)
    return np.where(missing, -1, level)


def spelling_variant(jw: np.ndarray, same_code: np.ndarray | None, high: float, low: float) -> np.ndarray:
    """Names a spelling variant apart: Jaro-Winkler >= high, or >= low with the same Soundex code
    (Tasneem / Tasnim, Hossain / Hussain score about 0.91; random names rarely do both)."""
    close = jw >= high
    return close if same_code is None else close | ((jw >= low) & same_code)


def swapped_with_variants(cross_fs, cross_sf, code_fs, code_sf, equal_fs, equal_sf, high, low):
    """Forename and surname swapped, each a spelling variant of the other side's (cross Jaro-Winklers
    and Soundex codes), or one the same name (same forename group) and the other at least
    Jaro-Winkler >= low."""
    both_close = spelling_variant(cross_fs, code_fs, high, low) & spelling_variant(
        cross_sf, code_sf, high, low
    )
    return both_close | (equal_sf & (cross_fs >= low)) | (equal_fs & (cross_sf >= low))


def _name_levels(same, missing, f_l, f_r, s_l, s_r, jw, high, low, near_swap, same_code, swapped):
    """Levels of one name comparison whose exact level is `same` (or the names swapped)."""
    swapped = _equal(f_l, s_r) & _equal(s_l, f_r) if swapped is None else swapped
    near = spelling_variant(jw, same_code, high, low)
    near = near if near_swap is None else near | near_swap
    return _levels([same | swapped, near, jw >= low], missing)


def forename_levels(
    f_l, f_r, g_l, g_r, s_l, s_r, jw, high, low, near_swap=None, same_code=None, swapped=None
):
    """`near_swap`: swapped with variants (swapped_with_variants); `same_code`: same Soundex code;
    `swapped`: names swapped through forename groups (default: exact equality of the crossed names)."""
    same = _equal(g_l, g_r)
    return _name_levels(
        same, _missing(f_l, f_r), f_l, f_r, s_l, s_r, jw, high, low, near_swap, same_code, swapped
    )


def surname_levels(s_l, s_r, f_l, f_r, jw, high, low, near_swap=None, same_code=None, swapped=None):
    same = _equal(s_l, s_r)
    return _name_levels(
        same, _missing(s_l, s_r), f_l, f_r, s_l, s_r, jw, high, low, near_swap, same_code, swapped
    )


def extra_levels(a, b, kind, high, low):
    """An extra comparison's level: exact 1/0; jaro_winkler 3 equal, 2 >= high, 1 >= low, 0 else."""
    if kind == "exact":
        return exact_levels(a, b)
    jw = jaro_winkler_distinct(pd.Series(a, dtype=object), pd.Series(b, dtype=object))
    return _levels([_equal(a, b), jw >= high, jw >= low], _missing(a, b))


def year_one_out(d_l: np.ndarray, d_r: np.ndarray) -> np.ndarray:
    """ISO dates on the same day and month whose years differ by exactly one (2009-12-26, 2010-12-26)."""
    ok = ~_missing(d_l, d_r)
    out = np.zeros(len(d_l), dtype=bool)
    if ok.any():
        a = pd.Series(d_l[ok], dtype="string")
        b = pd.Series(d_r[ok], dtype="string")
        years = pd.to_numeric(a.str[:4], errors="coerce") - pd.to_numeric(b.str[:4], errors="coerce")
        out[ok] = ((a.str[5:] == b.str[5:]) & (years.abs() == 1)).fillna(False).to_numpy(dtype=bool)
    return out


def dob_levels(d_l, d_r, sw_l, sw_r, y_l, y_r):
    """Levels as linkage.engines.base lists them: a transposed day and month, or a birth year one out,
    keeps every digit of the date but one field, so it is stronger evidence than any one-digit slip."""
    reordered = _equal(d_l, sw_r) | _equal(sw_l, d_r) | year_one_out(d_l, d_r)
    return _levels(
        [_equal(d_l, d_r), reordered, one_character_slip(d_l, d_r), _equal(y_l, y_r)], _missing(d_l, d_r)
    )


def postcode_levels(p_l, p_r, sec_l, sec_r, dis_l, dis_r):
    return _levels([_equal(p_l, p_r), _equal(sec_l, sec_r), _equal(dis_l, dis_r)], _missing(p_l, p_r))


def exact_levels(a, b):
    return _levels([_equal(a, b)], _missing(a, b))


class RecordLinkageEngine(LinkageEngine):
    name = "recordlinkage"

    # --- candidate pairs and comparisons -------------------------------------------------------
    def candidate_pairs(
        self, source: pd.DataFrame, census: pd.DataFrame, rules: list[BlockingRule]
    ) -> pd.MultiIndex:
        import recordlinkage

        indexer = recordlinkage.Index()
        for rule in rules:
            indexer.block(left_on=list(rule.columns), right_on=[rule.swapped(c) for c in rule.columns])
        pairs = indexer.index(source, census)
        return pairs.sort_values() if len(pairs) else pairs

    def compare(self, pairs: pd.MultiIndex, source: pd.DataFrame, census: pd.DataFrame) -> pd.DataFrame:
        """gamma_<field> for each pair (index = pairs)."""
        import recordlinkage

        comps = active_comparisons(self.settings)
        out = pd.DataFrame(index=pairs)
        if len(pairs) == 0:
            for c in comps:
                out[f"gamma_{c}"] = np.zeros(0, dtype=np.int64)
            return out
        cmp = recordlinkage.Compare(n_jobs=self.settings.n_jobs if len(pairs) > 200_000 else 1)
        cmp.compare_vectorized(jaro_winkler_distinct, "forename", "forename", label="jw_forename")
        cmp.compare_vectorized(jaro_winkler_distinct, "surname", "surname", label="jw_surname")
        features = cmp.compute(pairs, source, census)
        lpos = source.index.get_indexer(pairs.get_level_values(0))
        rpos = census.index.get_indexer(pairs.get_level_values(1))

        def side(frame, pos, col):
            return _arr(frame[col])[pos]

        L = {c: side(source, lpos, c) for c in source.columns if c != "eid"}
        R = {c: side(census, rpos, c) for c in census.columns if c != "eid"}
        hi, lo = self.settings.comparisons.name_jw_high, self.settings.comparisons.name_jw_low
        jw_f = features["jw_forename"].to_numpy()
        jw_s = features["jw_surname"].to_numpy()
        cross_fs = jaro_winkler_distinct(pd.Series(L["forename"]), pd.Series(R["surname"]))
        cross_sf = jaro_winkler_distinct(pd.Series(L["surname"]), pd.Series(R["forename"]))
        # Each name the same as the other side's other name, read through forename groups
        # (`surname_group`: the surname's forename group; equal names have equal groups), as
        # Billy / Smith for Smith / William.
        same_fs = _equal(L["forename_group"], R["surname_group"])
        same_sf = _equal(L["surname_group"], R["forename_group"])
        swapped = same_fs & same_sf
        near_swap = swapped_with_variants(
            cross_fs,
            cross_sf,
            _equal(L["forename_code"], R["surname_code"]),
            _equal(L["surname_code"], R["forename_code"]),
            same_fs,
            same_sf,
            hi,
            lo,
        )
        sounds_f = _equal(L["forename_code"], R["forename_code"])
        sounds_s = _equal(L["surname_code"], R["surname_code"])
        out["gamma_forename"] = forename_levels(
            L["forename"],
            R["forename"],
            L["forename_group"],
            R["forename_group"],
            L["surname"],
            R["surname"],
            jw_f,
            hi,
            lo,
            near_swap,
            sounds_f,
            swapped,
        )
        out["gamma_surname"] = surname_levels(
            L["surname"],
            R["surname"],
            L["forename"],
            R["forename"],
            jw_s,
            hi,
            lo,
            near_swap,
            sounds_s,
            swapped,
        )
        out["gamma_dob"] = dob_levels(
            L["dob"], R["dob"], L["dob_swap"], R["dob_swap"], L["birth_year"], R["birth_year"]
        )
        if "sex" in comps:
            out["gamma_sex"] = exact_levels(L["sex"], R["sex"])
        if "postcode" in comps:
            out["gamma_postcode"] = postcode_levels(
                L["postcode"], R["postcode"], L["sector"], R["sector"], L["district"], R["district"]
            )
        if "upn" in comps:
            out["gamma_upn"] = exact_levels(L["upn"], R["upn"])
        for extra in self.settings.comparisons.extra:
            col = extra.variant_column
            out[f"gamma_{extra.name}"] = extra_levels(L[col], R[col], extra.kind, hi, lo)
        return out

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
        sources: dict[str, str] = {c: "em" for c in comps}
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
                _arr(source[column])[left],
                _arr(census[column])[right],
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
        return EngineResult(pairs=result, trained=trained)
