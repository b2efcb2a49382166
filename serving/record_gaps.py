"""What feature records leave out: each record's missing features, and records with none at all.

A feature left out of a record is scored as missing (the model handles missing values), and the
response says which, per score (`missing_features`) and for the request (the envelope's list and a
warning). A record with none of the model's features is refused (422; left out and listed in
`rejected` with `skip_invalid=true`): it would be scored low risk, green, for a pupil nothing is known
about, understating risk without a word, which the service refuses for census rows without a history
too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.scoring import feature_records, left_out_warning
from exclusion_risk.values import counted

MAX_LISTED = 100


def record_gaps(records: list[dict[str, Any]], feature_names: list[str]) -> list[list[str]]:
    """Each record's missing features (None or absent), in the model's order."""
    return [[name for name in feature_names if record.get(name) is None] for record in records]


def featureless(gaps: list[list[str]], width: int) -> list[dict]:
    """(row, field, reason) for every record with none of the model's `width` features."""
    reason = (f"none of the model's {width} features is given: the pupil would be scored as low risk "
              "with nothing known about them")
    return [{"row": i + 1, "field": "pupils", "reason": reason}
            for i, gap in enumerate(gaps) if len(gap) == width]


def drop_featureless(records: list[dict[str, Any]], gaps: list[list[str]], width: int,
                     skip_invalid: bool) -> tuple[list[dict[str, Any]], list[list[str]], list[dict]]:
    """(records, gaps, rejected) with the featureless records left out, or a 422 naming them unless
    `skip_invalid` and some record is left to score."""
    empty = featureless(gaps, width)
    if not empty:
        return records, gaps, []
    if not skip_invalid or len(empty) == len(records):
        raise RequestProblem(
            422, f"{counted(len(empty), 'feature record gives', 'feature records give')} none of the model's "
            "features; nothing was scored. "
            "Send what is known about each pupil (or skip_invalid=true to score the others).",
            empty[:MAX_LISTED],
        )
    kept = [i for i, gap in enumerate(gaps) if len(gap) < width]
    return [records[i] for i in kept], [gaps[i] for i in kept], empty[:MAX_LISTED]


def gap_summary(gaps: list[list[str]], feature_names: list[str]) -> tuple[list[str], list[str]]:
    """(the features missing from at least one record, in the model's order; the warnings)."""
    missing = {name for gap in gaps for name in gap}
    lacking = sum(1 for gap in gaps if gap)
    warnings = []
    if lacking:
        verb = "lacks" if lacking == 1 else "lack"
        warnings.append(
            f"{lacking:,} of {counted(len(gaps), 'feature record')} {verb} some of the model's "
            f"{len(feature_names)} features, scored as missing (each score's `missing_features` lists "
            "them): their risk may be understated."
        )
    return [name for name in feature_names if name in missing], warnings


@dataclass
class CheckedRecords:
    """Feature records as POST /score and POST /explain both read them: those kept, each one's missing
    features, the featureless ones left out (`rejected`), and what the envelope says of the gaps."""

    records: list[dict[str, Any]]
    gaps: list[list[str]]
    rejected: list[dict]
    missing_features: list[str]
    warnings: list[str]


def checked_records(pupils: list, feature_names: list[str], skip_invalid: bool) -> CheckedRecords:
    """`pupils` (validated FeatureRecords) as plain records (`scoring.feature_records`), a featureless
    one refused or, with `skip_invalid`, left out and counted; the gaps listed and warned of. One reading
    for both routes: /explain once built its cohort without them, so a record giving one feature of 32
    was explained with no missing features and no warning, beside /score's 31 and a warning."""
    records = feature_records(pupils)
    gaps = record_gaps(records, feature_names)
    records, gaps, rejected = drop_featureless(records, gaps, len(feature_names), skip_invalid)
    left_out = left_out_warning(len(pupils) - len(records), len(rejected), "feature record")
    missing, warnings = gap_summary(gaps, feature_names)
    return CheckedRecords(records, gaps, rejected, missing, left_out + warnings)
