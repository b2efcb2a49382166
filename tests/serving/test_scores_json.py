"""scores_json writes every score once, in order, whatever the slices it serialises them in."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from exclusion_risk.serving import scoring

COLUMNS = [*scoring.SCORE_COLUMNS, *scoring.SCORE_OFFICER_COLUMNS]


def _rows(n: int) -> list[dict]:
    return [{c: (f"{c}-{i}" if j % 2 else round(i / 7, 6)) for j, c in enumerate(COLUMNS)} for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, scoring.JSON_RECORDS_CHUNK, scoring.JSON_RECORDS_CHUNK * 2 + 1,
                               scoring.JSON_CHUNK + 3])  # fmt: skip
def test_every_row_once_in_order_from_records_and_from_a_frame(n):
    rows = _rows(n)
    envelope = {"model_version": "7", "pupils": n}
    for scores in (rows, pd.DataFrame(rows, columns=COLUMNS)):
        body = json.loads(scoring.scores_json(envelope, scores))
        assert body["notice"] == scoring.DECISION_SUPPORT_NOTICE and body["model_version"] == "7"
        assert [{c: r[c] for c in COLUMNS} for r in body["scores"]] == rows
