"""The bodies of a scoring's answer: scores.csv as `exclusion-risk score` writes it, and the JSON
ScoreResponse, built a slice of rows at a time so that no one C call holds the GIL for long (/health
waits out each one)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from exclusion_risk.contract import SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
from exclusion_risk.files import csv_text
from exclusion_risk.models.score_table import as_written
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

JSON_CHUNK = 10_000  # score rows per to_json call (in C, the GIL held), so no call is given a whole cohort
# Feature records' scores per json.dumps call: json.dumps holds the GIL throughout, 2,000 (with their
# reasons) for about 60 ms, which /health waited out behind each of 15 calls on a 30,000-record body.
JSON_RECORDS_CHUNK = 500


def scores_csv(scores: pd.DataFrame) -> bytes:
    """scores.csv as `exclusion-risk score` writes it: a plain CSV (header on row 1) of the contract's
    columns then the officer's, by the project's one CSV writer (text starting `=`, `+`, `-`, `@`, tab
    or CR is neutralised). The notice travels beside it: in a response header, on the page."""
    return csv_text(as_written(scores[SCORE_COLUMNS + SCORE_OFFICER_COLUMNS])).encode()


def scores_json(envelope: dict[str, Any], scores: pd.DataFrame | list[dict[str, Any]]) -> bytes:
    """The ScoreResponse body, its rows serialised a slice at a time (by pandas in C for a frame) and
    joined once as bytes: each of these C calls holds the GIL, so none is given a whole cohort (/health
    waits out each one; joining 20 MB of text and then encoding it took two such holds of ~50 ms)."""
    columns = [*SCORE_COLUMNS, *SCORE_OFFICER_COLUMNS]
    if isinstance(scores, pd.DataFrame):
        table = scores[columns]
        parts = (table.iloc[i:i + JSON_CHUNK].to_json(orient="records", double_precision=15)
                 for i in range(0, len(scores), JSON_CHUNK))
    else:
        extra = ["missing_features"] if scores and "missing_features" in scores[0] else []  # feature records
        keys = [*columns, *extra]
        parts = (json.dumps([{c: r.get(c) for c in keys} for r in scores[i:i + JSON_RECORDS_CHUNK]],
                            allow_nan=False) for i in range(0, len(scores), JSON_RECORDS_CHUNK))
    rows: list[bytes] = []
    for part in parts:  # each a JSON array of its slice's rows: its elements, comma-separated
        rows += [b",", part[1:-1].encode()]
    head = json.dumps({"notice": DECISION_SUPPORT_NOTICE, **envelope}, allow_nan=False)
    return b"".join([head[:-1].encode(), b', "scores": [', *rows[1:], b"]}"])
