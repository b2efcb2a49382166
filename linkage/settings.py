"""The one settings object of a linkage run: engine, blocking, comparisons, thresholds, trained model.

Like Splink's declarative settings it is saved as `settings.json` beside the outputs. A run given
that file back (`--settings`) reuses the trained parameters it holds, so it reproduces `links.csv`
exactly; a settings file without `trained` parameters makes the engine estimate them again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class BlockingRule(BaseModel):
    """Candidate pairs agree exactly on `columns`; with `swap_names`, the source's forename columns
    are compared with the census surname columns and vice versa (forename/surname swapped)."""

    model_config = ConfigDict(extra="forbid")
    columns: list[str]
    swap_names: bool = False

    @model_validator(mode="after")
    def _known_columns(self) -> BlockingRule:
        unknown = [c for c in self.columns if c not in BLOCKING_COLUMNS]
        if unknown or not self.columns:
            raise ValueError(f"blocking columns must be among {sorted(BLOCKING_COLUMNS)}; got {unknown}")
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


class Comparisons(BaseModel):
    """Comparison levels shared by both engines (their thresholds, not their weights)."""

    model_config = ConfigDict(extra="forbid")
    name_jw_high: float = Field(0.92, gt=0, lt=1)
    name_jw_low: float = Field(0.80, gt=0, lt=1)
    use_upn: bool = True
    use_postcode: bool = True
    use_sex: bool = True


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


class LinkageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: Literal["splink", "recordlinkage"] = "splink"
    blocking: list[BlockingRule] = Field(default_factory=default_blocking)
    comparisons: Comparisons = Field(default_factory=Comparisons)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    # Random pairs drawn to estimate u (the chance two different children agree by coincidence).
    u_sample_pairs: int = Field(1_000_000, ge=1000)
    em_max_pairs: int = Field(500_000, ge=1000)
    em_iterations: int = Field(25, ge=0)
    # Assumed recall of the deterministic rules (UPN; surname + forename + DOB) when estimating the
    # prior probability that two random records match, as Splink does.
    prior_recall: float = Field(0.8, gt=0, le=1)
    seed: int = 20240901
    # Worker processes for the recordlinkage engine's pairwise comparisons (Splink uses DuckDB threads).
    n_jobs: int = Field(2, ge=1)
    # Parameters estimated by the engine (m, u, prior); filled in after a run.
    trained: dict[str, Any] | None = None

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinkageSettings:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
