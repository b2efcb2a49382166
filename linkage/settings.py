"""The one settings object of a linkage run: engine, blocking, comparisons, thresholds, trained model.

Like Splink's declarative settings it is saved as `settings.json` beside the outputs. A run given
that file back (`--settings`) reuses the trained parameters it holds, so it reproduces `links.csv`
exactly; a settings file without `trained` parameters makes the engine estimate them again.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exclusion_risk.files import write_text

# Standard comparison -> number of non-null levels (0..n-1); linkage.engines.base describes each level.
COMPARISON_LEVELS: dict[str, int] = {"forename": 4, "surname": 4, "dob": 5, "sex": 2, "postcode": 4, "upn": 2}


def exact_level(comparison: str) -> int:
    """The level (gamma) of exact agreement on a standard comparison: its top level."""
    return COMPARISON_LEVELS[comparison] - 1

# Columns of the standardised variant frames that blocking rules may name.
BLOCKING_COLUMNS = frozenset(
    {
        "dob",
        "birth_year",
        "birth_month",
        "forename",
        "forename_group",
        "forename_code",
        "surname",
        "surname_code",
        "sex",
        "postcode",
        "sector",
        "district",
        "upn",
    }
)


# Prefix of the variant-frame column an extra comparison reads ('street_number' -> 'x_street_number').
EXTRA_PREFIX = "x_"
# Version of a stored Splink model's layout (`linkage.engines.splink_model`): numbers, no engine's SQL.
SPLINK_MODEL_FORMAT = 2
# How far a trained comparison's m or u may add up from 1 (floors of unseen levels; quantised digits)
SUM_TOLERANCE = 1e-4
_EXTRA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class BlockingRule(BaseModel):
    """Candidate pairs agree exactly on `columns`; with `swap_names`, the source's forename columns
    are compared with the census surname columns and vice versa (forename/surname swapped)."""

    model_config = ConfigDict(extra="forbid")
    columns: list[str]
    swap_names: bool = False

    @model_validator(mode="after")
    def _known_columns(self) -> BlockingRule:
        # Extra comparisons' columns (x_<name>) are checked against the run's extras by LinkageSettings.
        unknown = [c for c in self.columns if c not in BLOCKING_COLUMNS and not c.startswith(EXTRA_PREFIX)]
        if unknown or not self.columns:
            raise ValueError(
                f"blocking columns must be among {sorted(BLOCKING_COLUMNS)} or an extra comparison's "
                f"{EXTRA_PREFIX}<name>; got {unknown}"
            )
        return self

    def swapped(self, column: str) -> str:
        """The column this rule reads on the census side for a source `column`."""
        if not self.swap_names:
            return column
        pairs = {
            "forename": "surname",
            "surname": "forename",
            "forename_code": "surname_code",
            "surname_code": "forename_code",
        }
        return pairs.get(column, column)


class ExtraComparison(BaseModel):
    """A field beyond the standard ones that one dataset carries on both sides (FEBRL's street number
    and address, say), compared in this run only. Its values are casefolded with whitespace
    collapsed; a source without the column compares as missing (neutral). `kind`: `exact` (equal /
    else) or `jaro_winkler` (equal / JW >= the name thresholds high, low / else). Blocking rules may
    name it as `x_<name>`."""

    model_config = ConfigDict(extra="forbid")
    name: str
    column: str
    kind: Literal["exact", "jaro_winkler"] = "exact"

    @model_validator(mode="after")
    def _valid_name(self) -> ExtraComparison:
        standard = {"forename", "surname", "dob", "sex", "postcode", "upn"}
        if not _EXTRA_NAME.match(self.name) or self.name in standard:
            raise ValueError(
                f"extra comparison name {self.name!r} must be lower-case letters, digits and underscores "
                f"and not one of {sorted(standard)}"
            )
        return self

    @property
    def variant_column(self) -> str:
        return EXTRA_PREFIX + self.name

    @property
    def levels(self) -> int:
        """Number of non-null comparison levels."""
        return 2 if self.kind == "exact" else 4


DEFAULT_SCHOOL_COMPARISON = ExtraComparison(name="school", column="SchoolURN", kind="exact")


class Comparisons(BaseModel):
    """Comparison levels shared by both engines (their thresholds, not their weights)."""

    model_config = ConfigDict(extra="forbid")
    name_jw_high: float = Field(0.92, gt=0, lt=1)
    name_jw_low: float = Field(0.80, gt=0, lt=1)
    use_upn: bool = True
    use_postcode: bool = True
    use_sex: bool = True
    # Term-frequency adjustment (Splink's): exact agreement on a forename group or surname weighs
    # by how common that name is among the census pupils, so an exact Ogunleye counts for more than
    # an exact Smith. Turning it on measured, on the 62,536-pupil authority (seed 7, Splink engine):
    # social-care recall 0.9958 -> 0.9966 at the same precision (0.9992); largest ethnic-group
    # recall gap 2.3 -> 0.8 points.
    term_frequency_adjustments: bool = True
    # Floor on a name's frequency in the adjustment (0: none, Splink's default); a floor caps the
    # weight one pupil's unique spelling can carry (0.0002 changed none of the seed-7 bench figures).
    tf_minimum_u_value: float = Field(0.0, ge=0, lt=1)
    # Fields compared in addition to the standard ones. The default: the school that recorded an
    # exclusion against the schools the pupil is on the census at (social care has no school, so
    # it compares as missing there). A dataset such as FEBRL adds its own (its address fields).
    extra: list[ExtraComparison] = Field(default_factory=lambda: [DEFAULT_SCHOOL_COMPARISON])

    @model_validator(mode="after")
    def _distinct_extras(self) -> Comparisons:
        names = [e.name for e in self.extra]
        if len(names) != len(set(names)):
            raise ValueError(f"extra comparison names must be distinct; got {names}")
        return self


class Thresholds(BaseModel):
    """Match-probability bands: accept >= accept; clerical review >= review; reject below."""

    model_config = ConfigDict(extra="forbid")
    accept: float = Field(0.97, gt=0, lt=1)
    review: float = Field(0.50, gt=0, lt=1)
    # Scored pairs below this probability are dropped before assignment (they cannot be linked).
    candidate_floor: float = Field(0.001, ge=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.accept:
            raise ValueError("the review threshold must not exceed the accept threshold")
        return self


def default_blocking() -> list[BlockingRule]:
    return [
        BlockingRule(columns=["dob"]),
        BlockingRule(columns=["surname_code", "birth_year"]),
        BlockingRule(columns=["forename_code", "surname_code"]),
        BlockingRule(columns=["forename_code", "surname_code"], swap_names=True),
        BlockingRule(columns=["forename_code", "birth_year", "birth_month"]),
        BlockingRule(columns=["postcode", "birth_year"]),
        BlockingRule(columns=["postcode", "surname_code"]),
        BlockingRule(columns=["postcode", "forename_code"]),
        BlockingRule(columns=["upn"]),
    ]


def national_blocking(extras: Sequence[ExtraComparison] = (DEFAULT_SCHOOL_COMPARISON,)) -> list[BlockingRule]:
    """Blocking that stays selective at national size.

    About 1,650 pupils share each date of birth nationally, so DOB alone gives ~0.66 billion pairs per
    400,000 children-in-need records, and a name code alone grows the same way. Here every rule on DOB
    or on names also needs a name code, a birth year, a postcode district or a school; a postcode alone
    (a few dozen addresses) and a UPN are small wherever they are. A child recorded without names, DOB
    or postcode needs the school (`extras`: the run's extra comparisons; the rules on the school come
    with the default `school` comparison, exclusions'): on a 250,000-pupil simulation, 17 true
    exclusion links that the authority rules found had no DOB and no postcode (13) or no names (2)
    and were found by no rule here until names + school and DOB + school joined, and 10 social-care
    ones needed the postcode alone (no name code or DOB year in common). Set `"blocking": "national"`
    in settings.json."""
    rules = [
        BlockingRule(columns=["dob", "surname_code"]),
        BlockingRule(columns=["dob", "forename_code"]),
        BlockingRule(columns=["dob", "district"]),
        BlockingRule(columns=["forename_code", "surname_code", "birth_year"]),
        BlockingRule(columns=["forename_code", "surname_code", "birth_year"], swap_names=True),
        BlockingRule(columns=["postcode"]),
    ]
    school = [e.variant_column for e in extras if e.name == DEFAULT_SCHOOL_COMPARISON.name]
    for column in school:
        rules += [
            BlockingRule(columns=["forename_code", "surname_code", column]),
            BlockingRule(columns=["dob", column]),
        ]
    return rules + [BlockingRule(columns=["upn"])]


def _authority_blocking(extras: Sequence[ExtraComparison]) -> list[BlockingRule]:
    return default_blocking()


# Named blocking presets a settings file may give instead of a list of rules: extra comparisons -> rules.
BLOCKING_PRESETS: dict[str, Callable[[Sequence[ExtraComparison]], list[BlockingRule]]] = {
    "authority": _authority_blocking,
    "national": national_blocking,
}


class LinkageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: Literal["splink", "recordlinkage"] = "splink"
    # A list of rules, or a preset's name: "authority" (the default rules) or "national" (no block
    # grows with the population; national_blocking; it also sets name_dob_place_check). A preset is
    # saved as its rules.
    blocking: list[BlockingRule] = Field(default_factory=default_blocking)

    @field_validator("blocking", mode="before")
    @classmethod
    def _blocking_names_a_preset(cls, value: Any) -> Any:
        if isinstance(value, str):  # a known preset's name was already made its rules (_blocking_preset)
            raise ValueError(f"blocking must be a list of rules or one of {sorted(BLOCKING_PRESETS)}")
        return value

    comparisons: Comparisons = Field(default_factory=Comparisons)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    # The name-DOB stage links only where the record's and the pupil's postcode districts agree, and
    # their schools (exclusions'), or either has none; a contradicting one goes to the probabilistic
    # stage, which weighs all fields. Among 2,000,000 pupils a name-DOB key unique in the census is
    # often a namesake's (the child absent from the census, or recorded with a variant): on a
    # 300,000-pupil national simulation all 24 false social-care name-DOB links had districts that
    # differ, none of 8,338 true ones did; at 2,000,000 all 11 false exclusion name-DOB links had
    # another school, 1 of 5,208 true ones did. The "national" blocking preset turns it on; off (the
    # default) an authority's links stay as they were, and a settings.json without it loads off.
    name_dob_place_check: bool = False

    @model_validator(mode="before")
    @classmethod
    def _blocking_preset(cls, data: Any) -> Any:
        """A preset's name becomes its rules, made for the file's extra comparisons (the national
        rules block on the school where the school is compared); `"blocking": "national"` also turns
        on the name-DOB place check, unless the file sets it."""
        name = data.get("blocking") if isinstance(data, dict) else None
        if not isinstance(name, str) or name not in BLOCKING_PRESETS:
            return data  # an unknown name is said by _blocking_names_a_preset, at `blocking`
        comparisons = data.get("comparisons")
        try:
            if not isinstance(comparisons, Comparisons):
                comparisons = Comparisons.model_validate(comparisons or {})
            extras: Sequence[ExtraComparison] = comparisons.extra
        except ValidationError:  # said by the comparisons' own validation; the preset's rules wait
            extras = ()
        out = data | {"blocking": BLOCKING_PRESETS[name](extras)}
        return {"name_dob_place_check": True} | out if name == "national" else out

    # Random pairs drawn to estimate u (the chance two different children agree by coincidence).
    u_sample_pairs: int = Field(1_000_000, ge=1000)
    em_max_pairs: int = Field(500_000, ge=1000)
    em_iterations: int = Field(25, ge=0)
    # Assumed recall of the deterministic rules (UPN; surname + forename + DOB) when estimating the
    # prior probability that two random records match, as Splink does.
    prior_recall: float = Field(0.8, gt=0, le=1)
    # Label counts of m from each deterministic link's best-matching variant pair only (as scoring
    # takes it) rather than from every variant pair. Off: measured on the 62,536-pupil authority it
    # lowered social-care recall (0.9952 -> 0.9945 Splink, 0.9937 recordlinkage) at equal precision.
    labels_best_pair: bool = False
    seed: int = 20240901
    # Worker processes for the recordlinkage engine's pairwise comparisons (Splink uses DuckDB threads).
    n_jobs: int = Field(2, ge=1)
    # Parameters estimated by the engine (m, u, prior); filled in after a run.
    trained: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _blocking_extras_known(self) -> LinkageSettings:
        extras = {e.variant_column for e in self.comparisons.extra}
        for rule in self.blocking:
            unknown = [c for c in rule.columns if c.startswith(EXTRA_PREFIX) and c not in extras]
            if unknown:
                raise ValueError(f"blocking rule names {unknown}, which no extra comparison defines")
        return self

    @model_validator(mode="after")
    def _trained_matches_comparisons(self) -> LinkageSettings:
        """Trained parameters must have the levels this version compares (a settings.json written
        before a comparison gained a level cannot reproduce its links; it has to retrain)."""
        expected = comparison_levels(self)
        for source, trained in (self.trained or {}).items():
            if not isinstance(trained, dict):
                continue
            if "model" in trained:  # Splink's own settings, SQL and all: the layout before MODEL_FORMAT 2
                raise ValueError(
                    f"the trained parameters for {source} are in an earlier format that holds one engine's "
                    "SQL (it links nothing on Spark); retrain: remove the 'trained' entry to estimate them "
                    "again"
                )
            # Splink: levels per comparison, in gamma order; recordlinkage: m and u lists per comparison
            kinds = ("comparisons",) if "comparisons" in trained else ("m", "u")
            for kind in kinds:
                table = trained.get(kind)
                if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
                    raise ValueError(
                        f"the trained parameters for {source}: '{kind}' is not a list of levels per "
                        "comparison; remove the 'trained' entry to estimate them again"
                    )  # a number or null there stopped `link` with a traceback
                found = {c: len(v) for c, v in table.items()}
                wrong = [
                    f"{c}: {n} levels here, {found[c]} in the model"
                    for c, n in expected.items()
                    if c in found and found[c] != n
                ]
                wrong += [f"{c}: missing from the model" for c in expected if c not in found]
                wrong += [f"{c}: in the model but not compared here" for c in found if c not in expected]
                if wrong:
                    raise ValueError(
                        f"the trained parameters for {source} do not have the comparisons this version uses "
                        f"({'; '.join(wrong)}" + (f" in '{kind}'" if kind == "u" else "")
                        + "); remove the 'trained' entry to estimate them again"
                    )
            said = _trained_problems(source, trained, self.engine)
            if said:
                raise ValueError(said)
        return self

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)

    def save(self, path: Path) -> None:
        write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path: Path) -> LinkageSettings:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def _probability(value: Any, top_open: bool = False) -> bool:
    """A number in (0, 1] ((0, 1) with `top_open`): JSON text, true/false, NaN or 7.0 are not."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return 0 < value < 1 if top_open else 0 < value <= 1


def _trained_problems(source: str, trained: dict[str, Any], engine: str) -> str | None:
    """Why the trained parameters for `source` cannot be used by a run of `engine`, in one line; None
    where they can. A model of the other engine was thrown away and retrained without a word (on Spark,
    minutes of training the README advises against); a hand-edited m of -0.5, "0.99" or NaN stopped the
    run with a traceback, and one of 7.0 changed which records link, silently."""
    where = f"the trained parameters for {source}"
    made_by = trained.get("engine")
    if made_by is not None and made_by != engine:
        return (f"{where} were estimated by the {made_by} engine, and this run uses {engine}: run with "
                f"--engine {made_by}, or remove the 'trained' entry to estimate them again (train on DuckDB "
                "for a Spark run)")  # fmt: skip
    if "comparisons" in trained and trained.get("format") != SPLINK_MODEL_FORMAT:
        stored = trained.get("format")
        newer = isinstance(stored, int) and not isinstance(stored, bool) and stored > SPLINK_MODEL_FORMAT
        return (f"{where} are in format {stored!r}, " + ("a newer one than this version reads "
                f"({SPLINK_MODEL_FORMAT}): use the version that wrote them, or" if newer else "not one this "
                f"version reads ({SPLINK_MODEL_FORMAT}):") + " remove the 'trained' entry to estimate them "
                "again")  # fmt: skip
    if not _probability(trained.get("prior"), top_open=True):
        return f"{where}: prior is not a probability between 0 and 1; remove the 'trained' entry to retrain"
    if "comparisons" in trained:
        tables = {
            kind: {c: [lv.get(kind) if isinstance(lv, dict) else None for lv in levels]
                   for c, levels in (trained.get("comparisons") or {}).items() if isinstance(levels, list)}
            for kind in ("m", "u")
        }  # fmt: skip
    else:
        tables = {kind: trained.get(kind) or {} for kind in ("m", "u")}
    for kind, table in tables.items():
        for comparison, values in table.items():
            if not isinstance(values, list) or not all(_probability(v) for v in values):
                return (f"{where}: {comparison}'s {kind} values are not each a probability above 0 and at "
                        "most 1; remove the 'trained' entry to estimate them again")  # fmt: skip
            # each comparison's levels share all the pairs between them; the recordlinkage engine raises an
            # unseen level to a floor of 1e-6 without rescaling, so its own models sum to 1 + a few 1e-6
            if abs(sum(values) - 1) > SUM_TOLERANCE:
                return (f"{where}: {comparison}'s {kind} values add up to {sum(values):.6f}, not 1 (edited "
                        "by hand?); remove the 'trained' entry to estimate them again")  # fmt: skip
    return None


def active_comparisons(settings: LinkageSettings) -> list[str]:
    """The comparisons a run makes, in order: the standard ones it uses, then its extra ones."""
    c = settings.comparisons
    names = ["forename", "surname", "dob"]
    if c.use_sex:
        names.append("sex")
    if c.use_postcode:
        names.append("postcode")
    if c.use_upn:
        names.append("upn")
    return names + [e.name for e in c.extra]


def comparison_levels(settings: LinkageSettings) -> dict[str, int]:
    """Number of non-null levels of each active comparison, the run's extra comparisons included."""
    levels = dict(COMPARISON_LEVELS) | {e.name: e.levels for e in settings.comparisons.extra}
    return {c: levels[c] for c in active_comparisons(settings)}
