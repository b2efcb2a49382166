"""The validation year's precision and recall at k% are logged, printed and stored in search.csv only
where its top k% does not hold 1-9 pupils with or without the outcome (as the test year's)."""

# ruff: noqa: F811
from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from exclusion_risk.models.metrics import top_share, withheld_point_selections
from exclusion_risk.models.tracking import VALIDATION_WITHHELD_TAG
from tests.models.test_tracking import run, store, uri  # noqa: F401


def _validation_pupils(client: MlflowClient, parent_id: str) -> int:
    counts = mlflow.artifacts.load_dict(f"runs:/{parent_id}/data/split_counts.json")["rows"]
    return int(counts["validation"]["rows"])


def _pupils_pinned(value: float, n: int, capacity: float) -> int:
    top = top_share(n, capacity)
    hits = round(value * top)
    return min(hits, top - hits)


def test_no_logged_or_stored_validation_precision_gives_back_1_to_9_pupils(store, uri):
    client = MlflowClient()
    models = [r for r in client.search_runs([client.get_experiment_by_name("exclusion-risk").experiment_id])
              if r.data.tags.get("kind") == "model"]  # fmt: skip
    withheld_somewhere = False
    for model_run in models:
        n = _validation_pupils(client, model_run.data.tags["train_id"])
        for name, value in model_run.data.metrics.items():
            if name.startswith("validation_precision_at_"):
                k = float(name.removeprefix("validation_precision_at_").removesuffix("pct")) / 100
                assert not 0 < _pupils_pinned(value, n, k) < 10, (model_run.data.tags["model_type"], name)
        withheld_somewhere |= bool(model_run.data.tags.get(VALIDATION_WITHHELD_TAG))
    parent = models[0].data.tags["train_id"]
    search = pd.read_csv(mlflow.artifacts.download_artifacts(f"runs:/{parent}/search/search.csv"))
    n = _validation_pupils(client, parent)
    for column in (c for c in search.columns if c.startswith("validation_precision_at_")):
        k = float(column.removeprefix("validation_precision_at_").removesuffix("pct")) / 100
        for value in search[column]:
            if value != "withheld":
                assert not 0 < _pupils_pinned(float(value), n, k) < 10, column
    assert withheld_somewhere, "the top 0.1% of the validation year (7 pupils) is a case to guard"


def test_promote_by_a_withheld_validation_metric_says_why(store, uri):
    client = MlflowClient()
    tagged = [r for r in client.search_runs([client.get_experiment_by_name("exclusion-risk").experiment_id])
              if r.data.tags.get(VALIDATION_WITHHELD_TAG)]  # fmt: skip
    metric = tagged[0].data.tags[VALIDATION_WITHHELD_TAG].split(",")[0]
    out = run("promote", "--best", "--metric", metric)
    assert out.exit_code != 0
    assert "withheld" in out.output and "1-9 pupils" in out.output and "Traceback" not in out.output


@pytest.mark.parametrize("hits, expect_withheld", [(3, True), (25, False)])
def test_a_point_precision_resting_on_1_to_9_pupils_is_withheld(hits, expect_withheld):
    n = 1000  # the top 1% is 10 pupils, the top 5% 50
    values = {"precision_at_1pct": 0.3, "recall_at_1pct": 0.1,
              "precision_at_5pct": hits / 50, "recall_at_5pct": 0.5, "roc_auc": 0.8}  # fmt: skip
    shown = withheld_point_selections(values, n, [0.01, 0.05])
    assert (shown["precision_at_1pct"] != shown["precision_at_1pct"]) is True  # 3 of 10 pupils
    assert (shown["precision_at_5pct"] != shown["precision_at_5pct"]) is expect_withheld
    assert shown["roc_auc"] == 0.8
