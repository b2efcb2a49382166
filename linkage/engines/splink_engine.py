"""Probabilistic engine on Splink 5: in-process on DuckDB, or on Spark (linkage.engines.splink_backends).

The comparisons and blocking rules below are Splink's declarative settings, written once (custom
levels in DuckDB's SQL, which Splink translates to the target dialect; Jaro-Winkler is the project's
own function on every engine, linkage.engines.jaro_winkler). The trained model is stored without SQL
(linkage.engines.splink_model) and rebuilt in the dialect of the engine that predicts. Training
follows Splink's documented recipe (deterministic-rule prior, u by random sampling, m by EM
sessions), then replaces m by counts over the earlier stages' links where those links were not
selected on the comparison (Splink's `estimate_m_from_pairwise_labels`).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.linkage.arrow_text import TEXT
from exclusion_risk.linkage.engines import libraries
from exclusion_risk.linkage.engines.base import (
    DETERMINISTIC_RULES,
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
    unestimated_note,
)
from exclusion_risk.linkage.engines.jaro_winkler import UDF_NAME
from exclusion_risk.linkage.engines.levels import pair_levels
from exclusion_risk.linkage.engines.splink_backends import DEFAULT_BACKEND, SplinkBackend, said_out_of_memory
from exclusion_risk.linkage.engines.splink_logging import splink_logging
from exclusion_risk.linkage.engines.splink_model import floor_unseen_levels, level_tables, rebuild, to_stored
from exclusion_risk.linkage.settings import (
    BlockingRule,
    LinkageSettings,
    active_comparisons,
    comparison_levels,
)

log = logging.getLogger(__name__)

# Blocking columns of the EM sessions, and the comparisons each cannot estimate (Splink leaves out
# every comparison that reads a column the session blocks on).
EM_SESSIONS: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = (
    (("dob",), frozenset({"dob"})),
    (("forename_group", "surname"), frozenset({"forename", "surname"})),
)
MIN_LABELS = 50
MAX_LABELS = 200_000  # labelled variant pairs (a seeded sample beyond this)
# Deterministic links whose variant pairs give the label counts of m (a seeded sample beyond this).
MAX_LABEL_LINKS = 100_000
SOURCE_NAME, CENSUS_NAME = "a_source", "b_census"


def unrecorded_comparisons(settings: LinkageSettings, source: pd.DataFrame, census: pd.DataFrame) -> set[str]:
    """Comparisons whose field is missing on every variant row of either side."""
    columns = {c: c for c in ("forename", "surname", "dob", "sex", "postcode", "upn")}
    columns |= {e.name: e.variant_column for e in settings.comparisons.extra}
    out = set()
    for c in active_comparisons(settings):
        col = columns[c]
        if source.empty or census.empty or source[col].isna().all() or census[col].isna().all():
            out.add(c)
    return out


def splink_comparisons(settings: LinkageSettings) -> list[Any]:
    splink = libraries.splink()
    cll, cl = splink.comparison_level_library, splink.comparison_library
    hi, lo = settings.comparisons.name_jw_high, settings.comparisons.name_jw_low
    # Swapped: each name the same as the other side's other name, read through forename groups
    # (equal names have equal groups), as Billy / Smith for Smith / William.
    swapped = "(forename_group_l = surname_group_r AND surname_group_l = forename_group_r)"

    def jw(a: str, b: str) -> str:
        return f"{UDF_NAME}({a}, {b})"

    def custom(sql: str, label: str) -> Any:
        # Written in DuckDB's SQL; Splink translates it to the engine's dialect (sqlglot).
        return cll.CustomLevel(sql, label, base_dialect_str="duckdb")

    def jw_level(column: str, threshold: float) -> Any:
        """Splink's JaroWinklerLevel, on the project's Jaro-Winkler (the same label)."""
        return custom(
            f"{jw(column + '_l', column + '_r')} >= {threshold}",
            f"Jaro-Winkler distance of {column} >= {threshold}",
        )

    def close(field_a: str, side_a: str, field_b: str, side_b: str) -> str:
        """Two names a spelling variant apart (as linkage.engines.base defines it): Jaro-Winkler
        >= high, or >= low with the same Soundex code (`<field>_code`). Written with one call of the
        similarity (the bar is low when the codes agree, else high): the same test at half the cost."""
        a, b = f"{field_a}_{side_a}", f"{field_b}_{side_b}"
        same_code = f"{field_a}_code_{side_a} = {field_b}_code_{side_b}"
        return f"({jw(a, b)} >= CASE WHEN {same_code} THEN {lo} ELSE {hi} END)"

    # Forename and surname swapped with a spelling variant in either (both cross pairs close), or
    # with one of them equal and the other at least Jaro-Winkler >= low.
    near_swap = (
        f"(({close('forename', 'l', 'surname', 'r')} AND {close('surname', 'l', 'forename', 'r')}) "
        f"OR (surname_group_l = forename_group_r AND {jw('forename_l', 'surname_r')} >= {lo}) "
        f"OR (forename_group_l = surname_group_r AND {jw('surname_l', 'forename_r')} >= {lo}))"
    )

    # ISO dates: characters 6-10 are the month and day. Plain SQL, so Spark runs it unchanged.
    year_one_out = (
        "(substr(dob_l, 6, 5) = substr(dob_r, 6, 5) "
        "AND abs(CAST(birth_year_l AS INTEGER) - CAST(birth_year_r AS INTEGER)) = 1)"
    )

    def near(column: str) -> Any:
        return custom(
            f"{close(column, 'l', column, 'r')} OR {near_swap}",
            f"{column} a spelling variant apart, or swapped with variants",
        )

    def exact(level: Any, comparison: str) -> Any:
        """The exact level of a name comparison, term-frequency adjusted when the settings say so."""
        if not settings.comparisons.term_frequency_adjustments:
            return level
        return level.configure(
            tf_adjustment_column=TF_COLUMNS[comparison],
            tf_adjustment_weight=1.0,
            tf_minimum_u_value=settings.comparisons.tf_minimum_u_value,
            # The level is custom (it also takes swapped names): its own u is the exact-match u.
            disable_tf_exact_match_detection=True,
        )

    comps = {
        "forename": [
            cll.NullLevel("forename"),
            exact(
                custom(f"forename_group_l = forename_group_r OR {swapped}", "same forename group or swapped"),
                "forename",
            ),
            near("forename"),
            jw_level("forename", lo),
            cll.ElseLevel(),
        ],
        "surname": [
            cll.NullLevel("surname"),
            exact(custom(f"surname_l = surname_r OR {swapped}", "same surname or swapped"), "surname"),
            near("surname"),
            jw_level("surname", lo),
            cll.ElseLevel(),
        ],
        "dob": [
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            custom(
                f"dob_l = dob_swap_r OR dob_swap_l = dob_r OR {year_one_out}",
                "day and month transposed, or birth year one out",
            ),
            cll.LevenshteinLevel("dob", 1),
            cll.ExactMatchLevel("birth_year"),
            cll.ElseLevel(),
        ],
        "sex": [cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
        "postcode": [
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode"),
            cll.ExactMatchLevel("sector"),
            cll.ExactMatchLevel("district"),
            cll.ElseLevel(),
        ],
        "upn": [cll.NullLevel("upn"), cll.ExactMatchLevel("upn"), cll.ElseLevel()],
    }
    for extra in settings.comparisons.extra:
        col = extra.variant_column
        levels = [cll.NullLevel(col), cll.ExactMatchLevel(col)]
        if extra.kind == "jaro_winkler":
            levels += [jw_level(col, hi), jw_level(col, lo)]
        comps[extra.name] = [*levels, cll.ElseLevel()]
    return [cl.CustomComparison(comps[c], output_column_name=c) for c in active_comparisons(settings)]


def splink_blocking_rule(rule: BlockingRule) -> Any:
    if not rule.swap_names:
        return libraries.splink().block_on(*rule.columns)
    return " AND ".join(f"l.{c} = r.{rule.swapped(c)}" for c in rule.columns)


class NoPairsScored(RuntimeError):
    """Blocking found candidate pairs but the comparisons placed none above the else level: the model
    cannot be working on this engine (a silent empty result would lose every probabilistic link)."""


class SplinkEngine(LinkageEngine):
    name = "splink"

    def __init__(self, settings: LinkageSettings, backend: str = DEFAULT_BACKEND):
        super().__init__(settings)
        self.backend = backend
        # Every backend a linker of this run opened; run() closes them when it is done.
        self._opened: list[SplinkBackend] = []

    def _open_backend(self) -> SplinkBackend:
        backend = SplinkBackend(self.backend)
        self._opened.append(backend)
        return backend

    def _close_backends(self) -> None:
        while self._opened:
            self._opened.pop().close()

    def _settings_creator(self) -> Any:
        return libraries.splink().SettingsCreator(
            link_type="link_only",
            comparisons=splink_comparisons(self.settings),
            blocking_rules_to_generate_predictions=[splink_blocking_rule(r) for r in self.settings.blocking],
            # Matching columns carry the gamma (comparison level) columns the assignment reads.
            retain_matching_columns=True,
            retain_intermediate_calculation_columns=False,
            max_iterations=self.settings.em_iterations,
        )

    def _linker(
        self, source: pd.DataFrame, census: pd.DataFrame, model: Any, backend: SplinkBackend | None = None
    ) -> Any:
        """A linker on its own backend (`linker.backend`): `model` is a SettingsCreator, a Splink model
        dict of the same backend (during training) or a settings dict rebuilt for it."""
        splink = libraries.splink()
        if isinstance(model, dict):  # a saved model: the new linker names itself (no shared uid)
            model = {k: v for k, v in model.items() if k != "linker_uid"}
        backend = backend or self._open_backend()
        # Names sort source first, so Splink puts source records on the left of each pair.
        sdfs = [
            backend.register(_prepare(source), SOURCE_NAME),
            backend.register(_prepare(census), CENSUS_NAME),
        ]
        linker = splink.Linker(sdfs, model, log_level=logging.WARNING)
        linker.backend = backend
        linker.inputs = sdfs
        # Name frequencies from the census pupils (the population), as the recordlinkage engine
        # uses, rather than Splink's default over both inputs' variant rows.
        for column in TF_COLUMNS.values():
            table = backend.register(term_frequencies(census, column), f"tf_{column}")
            linker.table_management.register_term_frequency_lookup(table, column)
        return linker

    def _predicting_linker(self, source: pd.DataFrame, census: pd.DataFrame, stored: dict) -> Any:
        """A linker holding the stored model, rebuilt in this backend's dialect (splink_model.rebuild)."""
        backend = self._open_backend()
        settings_dict = rebuild(stored, self._settings_creator().create_settings_dict(backend.dialect))
        return self._linker(source, census, settings_dict, backend)

    def train(self, data: EngineInput) -> dict[str, Any]:
        """The trained model (numbers only); every linker training opened is closed before it returns,
        so none of their tables is still held while predicting."""
        try:
            return self._train(data)
        finally:
            self._close_backends()

    def _train(self, data: EngineInput) -> dict[str, Any]:
        splink = libraries.splink()
        block_on, em_stopped = splink.block_on, splink.internals.exceptions.EMTrainingException
        linker = self._linker(data.source, data.census, self._settings_creator())
        try:
            linker.training.estimate_probability_two_random_records_match(
                [block_on(*rule) for rule in DETERMINISTIC_RULES], recall=self.settings.prior_recall
            )
        except ValueError:
            log.warning("deterministic rules found too many matches for the prior; keeping the default")
        linker = self._usable_prior(linker, data)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=self.settings.u_sample_pairs, seed=self.settings.seed
        )
        sources = {c: "default" for c in active_comparisons(self.settings)}
        for columns, cannot in EM_SESSIONS:
            # A session takes the comparisons it blocks on out of the linker's model (and sets its
            # own prior) while it runs, and puts them back only when it completes: after a failed
            # one the model lacks them and prediction fails (no gamma_dob). Restore a copy instead.
            before = linker.misc.save_model_to_json()
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*columns),
                    estimate_without_term_frequencies=True,
                    max_pairs=self.settings.em_max_pairs,
                )
            except (ValueError, em_stopped) as error:
                # Splink's EM stops when a level's m underflows to zero, or finds no pairs for its
                # blocking rule (small or very clean data). The session's estimates are lost; the
                # labels below, or the starting values, stand in for them. Only the error's type is
                # logged: a library's message may quote a value.
                blocked_on, kind = "+".join(columns), type(error).__name__
                log.warning("splink: EM blocked on %s stopped (%s); continuing", blocked_on, kind)
                linker = self._linker(data.source, data.census, before)
                continue
            sources |= {c: "em" for c in sources if c not in cannot}
        model = linker.misc.save_model_to_json()
        self._apply_labels(linker, data, model, sources)
        if note := unestimated_note(sources):
            self.notes.append(note)
        floor_unseen_levels(model, comparison_levels(self.settings))
        # Numbers only, no SQL: any backend rebuilds its own dialect from them (splink_model).
        return quantise({"engine": self.name, **to_stored(model), "m_source": sources})

    def _usable_prior(self, linker: Any, data: EngineInput) -> Any:
        """The training linker, on a new one when Splink's prior is not strictly between 0 and 1.

        Splink estimates 0 when the deterministic rules match no pair (a few records without the
        names or DOB the rules read), and its log2 then fails EM and prediction. The floor both
        engines share stands in (linkage.engines.base.prior_from_deterministic_rules: at least one
        expected match); the new linker is the only way Splink offers to set the prior.
        """
        model = linker.misc.save_model_to_json()
        if 0 < model["probability_two_random_records_match"] < 1:
            return linker
        prior = prior_from_deterministic_rules(data.source, data.census, self.settings.prior_recall)
        model["probability_two_random_records_match"] = prior
        self.notes.append(
            "the deterministic rules (UPN; surname + forename + DOB) match no pair here, so the prior "
            "match probability was not estimated: one expected match assumed"
        )
        return self._linker(data.source, data.census, model)

    def _apply_labels(self, linker: Any, data: EngineInput, model: dict, sources: dict[str, str]) -> None:
        """Replace m by label counts, per comparison, from the stages not selected on it.

        Runs on the training linker (its tables are already in DuckDB); `model` keeps the EM values
        of any comparison the labels cannot inform.
        """
        comps = active_comparisons(self.settings)
        if not self.settings.labels_best_pair:
            labelled = labelled_variant_pairs(data)
            if len(labelled) > MAX_LABELS:
                keep = np.random.default_rng(self.settings.seed).permutation(len(labelled))[:MAX_LABELS]
                labelled = labelled.iloc[np.sort(keep)]
        else:
            labelled = self._best_labelled_pairs(data, model, comps)
        if labelled.empty:
            return
        groups: dict[frozenset[str], list[str]] = {}
        for c in comps:
            usable = frozenset(k for k, v in LABEL_BIAS.items() if c not in v)
            groups.setdefault(usable, []).append(c)
        for i, (methods, group) in enumerate(sorted(groups.items(), key=lambda kv: sorted(kv[0]))):
            lab = labelled[labelled["method"].isin(methods)]
            if len(lab) < MIN_LABELS:
                continue
            table = pd.DataFrame(
                {
                    "source_dataset_l": SOURCE_NAME,
                    "unique_id_l": lab["l"].to_numpy(),
                    "source_dataset_r": CENSUS_NAME,
                    "unique_id_r": lab["r"].to_numpy(),
                }
            )
            sdf = linker.table_management.register_labels_table(linker.backend.register(table, f"labels_{i}"))
            linker.training.estimate_m_from_pairwise_labels(sdf)
            labelled_model = linker.misc.save_model_to_json()
            for comp, new in zip(model["comparisons"], labelled_model["comparisons"], strict=True):
                if comp["output_column_name"] in group:
                    for level, new_level in zip(
                        comp["comparison_levels"], new["comparison_levels"], strict=True
                    ):
                        if not level.get("is_null_level"):
                            level["m_probability"] = new_level.get("m_probability")
                    sources[comp["output_column_name"]] = "labels"

    def _best_labelled_pairs(self, data: EngineInput, model: dict, comps: list[str]) -> pd.DataFrame:
        """Each labelled link once, by its best-matching variant pair under the EM model (as scoring
        keeps each entity pair's best). The levels come from the shared numpy implementation of the
        same comparisons (linkage.engines.levels), so no extra SQL round trip is needed."""
        sample = replace(data, labels=label_entity_sample(data.labels, MAX_LABEL_LINKS, self.settings.seed))
        labelled = labelled_variant_pairs(sample).reset_index(drop=True)
        if labelled.empty:
            return labelled
        gammas = pair_levels(
            self.settings, pd.MultiIndex.from_frame(labelled[["l", "r"]]), data.source, data.census
        )
        m, u = level_tables(model, comparison_levels(self.settings))
        return best_variant_pairs(labelled, gammas.reset_index(drop=True), data, comps, m, u)

    def run(self, data: EngineInput, trained: dict[str, Any] | None = None) -> EngineResult:
        to_score = data.source[data.source["eid"].isin(data.score_eids)]
        comps = active_comparisons(self.settings)
        gamma_cols = [f"gamma_{c}" for c in comps]
        if to_score.empty:
            return EngineResult(pairs=empty_pairs(comps), trained=trained)
        self.notes = []
        unrecorded = unrecorded_comparisons(self.settings, data.source, data.census)
        if unrecorded:
            log.info("splink: not recorded in this source, neutral: %s", ", ".join(sorted(unrecorded)))
        try:
            with splink_logging(unrecorded), said_out_of_memory():
                if trained is None or trained.get("engine") != self.name:
                    trained = self.train(data)
                linker = self._predicting_linker(to_score, data.census, copy.deepcopy(trained))
                expected = self._candidate_pairs(linker)
                log.info("splink (%s): blocking rules give %d candidate pairs", self.backend, expected)
                # Pairs far below the review band cannot change a decision: dropping them in SQL keeps
                # the assignment small at regional scale.
                predictions = linker.inference.predict(
                    threshold_match_probability=self.settings.thresholds.candidate_floor, warning_mode="never"
                )
                cols = ["source_dataset_l", "unique_id_l", "unique_id_r", "match_weight", "match_probability"]
                pairs = linker.backend.to_pandas(predictions, cols + gamma_cols)
                if pairs.empty and expected:
                    self._check_levels_agree(linker, gamma_cols, expected)
        finally:
            self._close_backends()
        flipped = (pairs["source_dataset_l"] != SOURCE_NAME).to_numpy()
        pairs["l"] = np.where(flipped, pairs["unique_id_r"], pairs["unique_id_l"]).astype("int64")
        pairs["r"] = np.where(flipped, pairs["unique_id_l"], pairs["unique_id_r"]).astype("int64")
        pairs = pairs.drop(columns=["source_dataset_l", "unique_id_l", "unique_id_r"])
        pairs["match_weight"] = pairs["match_weight"].astype(float)
        pairs["match_probability"] = pairs["match_probability"].astype(float)
        for c in gamma_cols:
            pairs[c] = pairs[c].astype("int64")
        pairs = pairs.sort_values(["l", "r"], kind="stable").reset_index(drop=True)
        return EngineResult(pairs=pairs, trained=trained, notes=list(self.notes), candidate_pairs=expected)

    def count_candidate_pairs(self, data: EngineInput, trained: dict[str, Any]) -> int:
        """How many pairs the blocking rules generate for the entities `data` would score, counted as
        run() counts them before predicting, without predicting: to size a job (on Spark, say)
        before running it. `trained`: the stored model run() would predict with."""
        to_score = data.source[data.source["eid"].isin(data.score_eids)]
        try:
            with said_out_of_memory():
                linker = self._predicting_linker(to_score, data.census, copy.deepcopy(trained))
                return self._candidate_pairs(linker)
        finally:
            self._close_backends()

    def _candidate_pairs(self, linker: Any) -> int:
        """How many pairs the blocking rules generate (Splink's exact count), before predicting."""
        records = libraries.splink().blocking_analysis.count_comparisons_from_blocking_rules(
            linker.inputs,
            blocking_rules=[splink_blocking_rule(r) for r in self.settings.blocking],
            link_type="link_only",
            record_sample_proportion=1.0,
        )
        return int(records[-1]["cumulative_comparison_count"]) if records else 0

    def _check_levels_agree(self, linker: Any, gamma_cols: list[str], expected: int) -> None:
        """Blocking found candidates but none scored above the floor: legitimate when they are all
        poor matches, but not when no candidate agrees on any level of any comparison, which every
        pair that blocking chose must (it agrees exactly on the blocking columns). Then the model's
        comparisons are not working on this engine, and that is an error, never an empty result."""
        everything = linker.inference.predict(warning_mode="never")
        top = linker.backend.to_pandas(everything, [f"max({c}) AS {c}" for c in gamma_cols])
        if top.empty or not (top.fillna(-1).to_numpy() > 0).any():
            raise NoPairsScored(
                f"the {self.backend} backend compared {expected} candidate pairs and placed none above the "
                f"lowest level of any comparison: the trained model does not work on this engine; retrain "
                f"(remove the 'trained' entry from settings.json)"
            )


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """The variant rows as Splink reads them: unique_id (the row), the compared columns as text."""
    out = frame.reset_index(names="unique_id").drop(columns=["eid"])
    return out.astype({c: TEXT for c in out.columns if c != "unique_id"})
