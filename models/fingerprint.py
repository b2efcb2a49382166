"""The data fingerprint of a train run: hashes and counts that identify the data it used, never the data.

Logged as data/fingerprint.json, with its short `data_hash` as a param and tag: two runs with the same
hash were trained on the same extracts, feature table and feature list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from exclusion_risk.models import tracking
from exclusion_risk.privacy import suppress_count


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_fingerprint(
    files: Iterable[Path],
    table: pd.DataFrame,
    feature_cols: list[str],
    counts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Hashes and counts that identify the data a run used; no row, UPN or name is included."""
    file_facts = {
        p.name: {"sha256": _file_sha256(p), "bytes": p.stat().st_size}
        for p in sorted(files, key=lambda p: p.name)
    }
    years = year_counts(table)
    content = pd.util.hash_pandas_object(table[[*feature_cols, "label"]], index=False).to_numpy()
    table_hash = hashlib.sha256(content.tobytes()).hexdigest()
    features_hash = hashlib.sha256(",".join(feature_cols).encode()).hexdigest()
    whole = json.dumps({"files": file_facts, "table": table_hash, "features": features_hash}, sort_keys=True)
    return {
        "data_hash": hashlib.sha256(whole.encode()).hexdigest()[:16],
        "files": file_facts,
        "row_counts": counts or {},
        "feature_table": {"rows": int(len(table)), "sha256": table_hash, "years": years},
        "features": {"names": list(feature_cols), "sha256": features_hash},
    }


def year_counts(table: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Each academic year's pupils, pupils with a known outcome and pupils with it (`label`): what the
    fingerprint keeps, and what extracts given later are held to (`data_differs`), counted one way."""
    per_year = table.groupby("AcademicYear", sort=True)["label"].agg(["size", "count", "sum"])
    return {
        str(year): {"pupils": int(r["size"]), "labelled": int(r["count"]), "positives": int(r["sum"])}
        for year, r in per_year.iterrows()
    }


def _short_hash(digests: dict) -> str:
    """One short hash of a {file: sha256} dict: two with the same hash name the same files."""
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()[:16]


# what the readers read: an extract's CSV or Parquet file, or the .txt/.tsv stand-in read in its place
_EXTRACT_SUFFIXES = (".csv", ".parquet", ".txt", ".tsv")


def extracts_source(data: Path) -> dict[str, Any]:
    """Which extracts an output was made from, as digests, never their contents: each extract file's
    sha256 (the files of `data` and of its attendance/ folder) and `extracts_hash`, one short hash of
    them all. Two outputs with the same hash came from the same files; a consortium's two authorities'
    describe, drift, evaluation and fairness files, once copied, could not be told apart."""
    folders = [data, data / "attendance"]
    files = [p for folder in folders if folder.is_dir() for p in sorted(folder.iterdir())
             if p.is_file() and p.suffix.lower() in _EXTRACT_SUFFIXES]  # fmt: skip
    digests = {p.relative_to(data).as_posix(): _file_sha256(p) for p in files}
    return {"extracts_hash": _short_hash(digests), "files": digests}


# ---- the training data's years, against extracts given later -------------------------------------

YEAR_FACTS = ("pupils", "labelled", "positives")


def data_differs(kept_years: dict, table: pd.DataFrame, years: list[str],
                 facts: tuple[str, ...] = YEAR_FACTS) -> str | None:
    """Where `table` (a feature table built from the extracts given) is not the one a run was trained
    on: the first of `years` whose `facts` (pupils, pupils with a known outcome, pupils with it) differ
    from the training run's data fingerprint (`kept_years`: its feature_table's years), in words (the
    year's totals, never a pupil); None where each agrees, or the fingerprint does not hold the year.
    `facts`: ("pupils",) where the table's outcome may be another label's than the run's."""
    counted = year_counts(table)
    for year in years:
        then = kept_years.get(year)
        if not isinstance(then, dict):
            continue
        now = counted.get(year, dict.fromkeys(YEAR_FACTS, 0))
        if any(now[key] != then.get(key) for key in facts):
            trained = ", ".join(f"{_shown(then[key])} {_WORDS[key]}" for key in facts)
            given = ", ".join(_given(int(then[key]), now[key], _WORDS[key]) for key in facts)
            return f"{year}: {trained} when it was trained, {given} in these"
    return None


_WORDS = {"pupils": "pupils", "labelled": "with a known outcome", "positives": "with it"}


def _given(then: int, now: int, word: str) -> str:
    """A count now as a report shows it (1-9 as "<10": the review page beside it withholds them), and
    where it is 1-9 away from the count then, only which way: the two beside each other gave it back
    (1,200 then, 1,203 now: 3 pupils added since)."""
    if 0 < abs(now - then) < 10:
        return f"under 10 {'more' if now > then else 'fewer'} {word}"
    return f"{_shown(now)} {word}"


def _shown(count: int) -> str:
    shown = suppress_count(int(count))
    return shown if isinstance(shown, str) else f"{shown:,}"


def _stored(train_id: str | None) -> dict:
    """A training run's data fingerprint as logged (data/fingerprint.json); {} where it kept none."""
    text = tracking.read_artifact_text(train_id, "data/fingerprint.json") if train_id else None
    stored = json.loads(text) if text else None
    return stored if isinstance(stored, dict) else {}


def kept_years(train_id: str | None) -> dict:
    """A training run's data fingerprint's years; {} where it kept none."""
    return _years_of(_stored(train_id))


def trained_extracts(train_id: str | None) -> str | None:
    """One short hash of the extract files a train run read (its data fingerprint's `files`); None where it
    kept none. Two runs of one authority's extracts with other features share it, where their `data_hash`
    (which covers the feature table and list) differs: `compare` read a with- and a without-protected
    characteristics run as "of different pupils" by that."""
    return _extracts_of(_stored(train_id))


def trained_data(train_id: str | None) -> tuple[str | None, dict]:
    """(`trained_extracts`, `kept_years`) of a train run, from one read of its fingerprint."""
    stored = _stored(train_id)
    return _extracts_of(stored), _years_of(stored)


def _years_of(stored: dict) -> dict:
    years = stored.get("feature_table", {}).get("years")
    return years if isinstance(years, dict) else {}


def _extracts_of(stored: dict) -> str | None:
    files = stored.get("files")
    if not isinstance(files, dict) or not files:
        return None
    digests = {name: facts.get("sha256") for name, facts in files.items() if isinstance(facts, dict)}
    return _short_hash(digests)
