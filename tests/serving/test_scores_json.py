"""scores_json writes every score once, in order, whatever the slices it serialises them in."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from exclusion_risk.contract import SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.serving import score_bodies

COLUMNS = [*SCORE_COLUMNS, *SCORE_OFFICER_COLUMNS]


def _rows(n: int) -> list[dict]:
    return [{c: (f"{c}-{i}" if j % 2 else round(i / 7, 6)) for j, c in enumerate(COLUMNS)} for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, score_bodies.JSON_RECORDS_CHUNK, score_bodies.JSON_RECORDS_CHUNK * 2 + 1,
                               score_bodies.JSON_CHUNK + 3])  # fmt: skip
def test_every_row_once_in_order_from_records_and_from_a_frame(n):
    rows = _rows(n)
    envelope = {"model_version": "7", "pupils": n}
    for scores in (rows, pd.DataFrame(rows, columns=COLUMNS)):
        body = json.loads(score_bodies.scores_json(envelope, scores))
        assert body["notice"] == DECISION_SUPPORT_NOTICE and body["model_version"] == "7"
        assert [{c: r[c] for c in COLUMNS} for r in body["scores"]] == rows
