"""A trained Splink model stored without SQL, and rebuilt in the dialect of the engine that runs it.

Splink saves a model as its settings: every comparison level's SQL in the dialect it was trained on.
DuckDB quotes identifiers with double quotes (`"dob_l" = "dob_r"`), which Spark SQL reads as string
literals, so a DuckDB-trained model run on Spark compares two constant strings and links nothing.
The stored model therefore holds numbers only: the prior, and m and u of every non-null level of every
comparison (keyed by comparison name and level, gamma order, with the level's label), plus which
columns carry term-frequency adjustments. On load the settings are rebuilt from the project's own
comparison definitions (linkage.engines.splink_engine.splink_comparisons) in the target dialect and
the numbers put back into them; a model whose comparisons or levels are not the definitions' is
refused, naming what differs. The term-frequency tables are not stored: they list pupils' names, and
each run takes them from the census it links (linkage.engines.base.term_frequencies). Also here, on
Splink's model dicts while training: the m and u tables by level, and the floor for unseen levels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exclusion_risk.linkage.settings import SPLINK_MODEL_FORMAT

# Version of the stored layout; a Splink model without it is the earlier SQL-bearing one.
MODEL_FORMAT = SPLINK_MODEL_FORMAT
# The probability a level never seen in training gets (none would give it no weight).
M_FLOOR = 1e-6


class ModelMismatch(ValueError):
    """A stored model that does not fit this version's comparison definitions."""


def _non_null_levels(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """A Splink comparison's levels other than the null level, in gamma order (else level first)."""
    return list(reversed([lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]))


def to_stored(splink_model: dict[str, Any]) -> dict[str, Any]:
    """A Splink model (save_model_to_json) -> the stored layout: prior, and per comparison a list of
    levels in gamma order, each {label, m, u}; the columns whose exact level is frequency-adjusted."""
    comparisons: dict[str, list[dict[str, Any]]] = {}
    tf_columns: dict[str, str] = {}
    for comp in splink_model["comparisons"]:
        name = comp["output_column_name"]
        levels = _non_null_levels(comp)
        comparisons[name] = [
            {"label": lv.get("label_for_charts"), "m": lv.get("m_probability"), "u": lv.get("u_probability")}
            for lv in levels
        ]
        for lv in levels:
            if lv.get("tf_adjustment_column"):
                tf_columns[name] = lv["tf_adjustment_column"]
    return {
        "format": MODEL_FORMAT,
        "prior": splink_model["probability_two_random_records_match"],
        "comparisons": comparisons,
        "term_frequency_columns": tf_columns,
    }


def _differences(stored: dict[str, Any], definitions: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What differs between a stored model's comparisons and the definitions', one phrase each."""
    have = stored.get("comparisons") or {}
    out = [f"comparison {c} missing from the model" for c in definitions if c not in have]
    out += [f"comparison {c} in the model is not defined here" for c in have if c not in definitions]
    for name, levels in definitions.items():
        if name not in have:
            continue
        stored_levels = have[name]
        if len(stored_levels) != len(levels):
            out.append(f"{name}: {len(stored_levels)} levels in the model, {len(levels)} here")
            continue
        for gamma, (old, new) in enumerate(zip(stored_levels, levels, strict=True)):
            if old.get("label") != new.get("label_for_charts"):
                label = new.get("label_for_charts")
                out.append(f"{name} level {gamma} is {old.get('label')!r} in the model, {label!r} here")
    return out


def rebuild(stored: dict[str, Any], settings_dict: dict[str, Any]) -> dict[str, Any]:
    """The Splink settings `settings_dict` (built from the definitions in the target dialect) with the
    stored prior, m and u put into its levels. Raises ModelMismatch naming what differs."""
    if stored.get("format") != MODEL_FORMAT:
        raise ModelMismatch(
            "the trained model is in an earlier format that holds one engine's SQL; retrain: "
            "remove the 'trained' entry from settings.json"
        )
    definitions = {c["output_column_name"]: _non_null_levels(c) for c in settings_dict["comparisons"]}
    wrong = _differences(stored, definitions)
    if wrong:
        raise ModelMismatch(
            f"the trained model does not fit this version's comparisons ({'; '.join(wrong)}); "
            f"remove the 'trained' entry to estimate them again"
        )
    for name, levels in definitions.items():
        for level, values in zip(levels, stored["comparisons"][name], strict=True):
            level["m_probability"] = values["m"]
            level["u_probability"] = values["u"]
    settings_dict["probability_two_random_records_match"] = stored["prior"]
    return settings_dict


def level_tables(model: dict, expected: dict[str, int]) -> tuple[dict, dict]:
    """m and u of each comparison as lists indexed by level (gamma), from a Splink model dict.

    Splink lists a comparison's levels from the closest agreement down, the null level first; gamma
    counts up from the else level. A level not observed (no number) gets a tiny probability.
    """
    m: dict[str, list[float]] = {}
    u: dict[str, list[float]] = {}

    def value(lv: dict, key: str) -> float:
        v = lv.get(key)
        return float(v) if isinstance(v, int | float) and v > 0 else M_FLOOR

    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        if name in expected:
            levels = _non_null_levels(comp)
            m[name] = [value(lv, "m_probability") for lv in levels]
            u[name] = [value(lv, "u_probability") for lv in levels]
    return m, u


def floor_unseen_levels(model: dict, expected: dict[str, int]) -> None:
    """A level never seen in a sample gets a tiny probability rather than none (which has no weight)."""
    for comp in model["comparisons"]:
        levels = _non_null_levels(comp)
        if len(levels) != expected[comp["output_column_name"]]:
            raise ValueError(f"comparison {comp['output_column_name']} has an unexpected number of levels")
        for key in ("m_probability", "u_probability"):
            p = np.maximum(np.array([lv.get(key) or 0.0 for lv in levels], dtype=float), M_FLOOR)
            for lv, value in zip(levels, p / p.sum(), strict=True):
                lv[key] = float(value)
