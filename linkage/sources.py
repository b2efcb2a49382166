"""The extracts linked to the census pupils, and the rules each links under."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceSpec:
    name: str  # `source` value in links.csv
    id_column: str
    unique_key: bool  # name-DOB key must be unique among this source's entities
    one_to_one: bool  # a pupil may take at most one of this source's entities


SOURCES = (
    SourceSpec("exclusions", "RecordID", unique_key=False, one_to_one=False),
    SourceSpec("social_care", "LAchildID", unique_key=True, one_to_one=True),
)
