"""Honest model choice: `promote --best` chooses on the validation year and never reads the test year;
`compare` shows paired differences; model cards and SHAP plots state their scale.

One small training (conftest's `training`) is logged into a temporary MLflow store; the tests then
rewrite logged metrics in that store (a later step of the same metric is the value MLflow reports) to
move the test year and the validation year independently.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app

# `comparison.X` rather than `from ... import X`: each test names what it needs, and fails on its own
from exclusion_risk.models import comparison, plots, tracking
from exclusion_risk.models.explain import Explainer
from exclusion_risk.models.metrics import evaluate
from exclusion_risk.models.promotion import ProtectedInputsRefused, promote
from exclusion_risk.models.training_log import log_training
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

METRIC = "precision_at_5pct"


@pytest.fixture(scope="module")
def store(training, tmp_path_factory):
    """(store URI, TrainRecord, TrainingResult) after logging the small training."""
    result, _ = training
    uri = f"sqlite:///{tmp_path_factory.mktemp('promotion_store') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        record = log_training(result, {"data_hash": "test"})
    return uri, record, result


@pytest.fixture()
def client(store, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store[0])
    mlflow.set_tracking_uri(store[0])
    return mlflow.MlflowClient()


_step = itertools.count(1)


def rewrite(client, record, metric: str, values: dict[str, float]) -> None:
    """Overwrite `metric` of each model run (a later step is what the run then reports)."""
    step = next(_step)
    for model_type, value in values.items():
        client.log_metric(record.runs[model_type], metric, value, step=step)


def champion_type(client) -> str:
    return client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION).tags["model_type"]


def test_each_model_run_logs_its_validation_year_metrics(store, client):
    _, record, result = store
    for model_type, model in result.models.items():
        chosen = max(model.search, key=lambda p: p.score)
        logged = client.get_run(record.runs[model_type]).data.metrics
        for metric in ("precision_at_5pct", "average_precision", "roc_auc", "brier"):
            assert logged[f"validation_{metric}"] == pytest.approx(chosen.validation[metric])


def test_promote_best_chooses_on_the_validation_year_and_never_on_the_test_year(store, client):
    _, record, result = store
    experiment = result.config.experiment
    rewrite(
        client, record, f"validation_{METRIC}", {"logistic": 0.30, "lightgbm": 0.35, "random_forest": 0.32}
    )
    chosen = set()
    # Every ordering of the test-year values, the validation-year best last and first among them.
    for order in itertools.permutations([0.10, 0.40, 0.50]):
        rewrite(
            client, record, METRIC, dict(zip(["logistic", "lightgbm", "random_forest"], order, strict=True))
        )
        promotion = promote(experiment, None, METRIC)
        chosen.add((promotion.model_type, round(promotion.value, 6)))
    assert chosen == {("lightgbm", 0.35)}  # chosen on the validation value, whatever the test year

    # The validation year decides: move it and the choice moves, whatever the test year says.
    rewrite(client, record, f"validation_{METRIC}", {"random_forest": 0.40})
    rewrite(client, record, METRIC, {"logistic": 0.9, "lightgbm": 0.9, "random_forest": 0.0})
    assert promote(experiment, None, METRIC).model_type == "random_forest"
    assert champion_type(client) == "random_forest"
    # A tie goes to the simpler model.
    rewrite(client, record, f"validation_{METRIC}", {"logistic": 0.40})
    assert promote(experiment, None, METRIC).model_type == "logistic"
    # Lower is better for the Brier score, on the validation year too.
    rewrite(client, record, "validation_brier", {"logistic": 0.2, "lightgbm": 0.1, "random_forest": 0.3})
    rewrite(client, record, "brier", {"logistic": 0.01, "lightgbm": 0.5, "random_forest": 0.02})
    assert promote(experiment, None, "brier").model_type == "lightgbm"


def test_promote_prints_and_stores_the_rule_and_reports_the_test_year(store, client):
    _, record, result = store
    rewrite(
        client, record, f"validation_{METRIC}", {"logistic": 0.21, "lightgbm": 0.22, "random_forest": 0.23}
    )
    rewrite(client, record, METRIC, {"logistic": 0.31, "lightgbm": 0.32, "random_forest": 0.3345})
    out = CliRunner().invoke(app, ["promote", "--best", "--metric", METRIC])
    assert out.exit_code == 0, out.output
    rule = f"best validation-year {METRIC}"
    assert f"rule: {rule}" in out.output and "never used to choose" in out.output
    assert f"random_forest has the best validation-year {METRIC} ({result.split.validation})" in out.output
    assert "random_forest 0.2300 (test 0.3345" in out.output  # the test year is reported beside it
    version = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION)
    assert version.tags["promoted_rule"].startswith(rule)
    assert version.tags["promoted_metric"] == METRIC
    assert "test 0.3345" in version.tags["promoted_reason"]
    assert out.output.rstrip().endswith(DECISION_SUPPORT_NOTICE)  # the console said nothing of it
    assert f"Verdict on {METRIC}:" in out.output  # as train and compare end their tables
    help_text = CliRunner().invoke(app, ["promote", "--help"]).output.replace("│", " ")  # the box's borders
    assert "VALIDATION" in help_text.upper() and "never used to choose" in " ".join(help_text.split())


def test_a_metric_with_no_validation_value_is_refused(store, client):
    _, _, result = store
    with pytest.raises(tracking.RegistryError, match="no metric 'happiness'"):
        promote(result.config.experiment, None, "happiness")


def test_a_version_that_takes_sex_and_ethnicity_as_inputs_is_never_promoted(store, client):
    """The study model (models/study.yaml, include_protected) is registered beside the others: an auditor
    made it champion with one `promote N`, and `score` ranked children with it, saying nothing."""
    versions = tracking.registered_versions()
    study = versions[-1]
    before = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION).version
    client.set_model_version_tag(tracking.REGISTERED_MODEL, study.version, "include_protected", "True")
    try:
        with pytest.raises(ProtectedInputsRefused, match="takes sex and ethnicity as inputs"):
            promote(store[2].config.experiment, str(study.version), METRIC)
        result = CliRunner().invoke(app, ["promote", str(study.version)])
        assert result.exit_code == 2 and "never promoted to score children" in " ".join(result.output.split())
        champion = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION)
        assert champion.version == before  # unchanged
    finally:
        client.set_model_version_tag(tracking.REGISTERED_MODEL, study.version, "include_protected", "False")


def test_compare_prints_paired_differences_model_vs_model_and_vs_checklist(store, client):
    _, record, result = store
    logged = pd.read_csv(tracking.download_artifact(record.train_id, comparison.DIFFERENCES_ARTIFACT))
    pairs = set(zip(logged["model"], logged["versus"], strict=True))
    models = ["random_forest", "lightgbm", "logistic"]
    expected = {*itertools.combinations(models, 2), *((m, "checklist") for m in models)}
    assert pairs == expected
    # vs the checklist: the same paired gains the model runs log; model vs model: the estimates' difference
    evaluations = result.evaluations
    for _, row in logged.iterrows():
        if row["versus"] == "checklist":
            gain = result.gains[row["model"]][row["metric"]]
            assert (row["difference"], row["low"], row["high"]) == pytest.approx(
                (gain.estimate, gain.low, gain.high), nan_ok=True  # a withheld metric: NaN
            )
        else:
            a, b = (
                evaluations[row["model"]].metrics[row["metric"]],
                evaluations[row["versus"]].metrics[row["metric"]],
            )
            assert row["difference"] == pytest.approx(a.estimate - b.estimate, nan_ok=True)
        assert row["significant"] == (row["low"] > 0 or row["high"] < 0)
    out = CliRunner().invoke(app, ["compare"])
    assert out.exit_code == 0, out.output
    assert "paired differences on the same test-year pupils" in out.output
    assert out.output.rstrip().endswith(DECISION_SUPPORT_NOTICE)
    for model, versus in pairs:
        assert f"| {model} | {versus} |" in out.output


def test_compare_on_a_run_logged_before_the_differences_shows_the_checklist_gains(store, client, monkeypatch):
    _, _, result = store
    monkeypatch.setattr(tracking, "read_artifact_text", lambda _run_id, _path: None)
    out = CliRunner().invoke(app, ["compare"])
    assert out.exit_code == 0, out.output
    gain = result.gains["lightgbm"][METRIC]
    row = next(line for line in out.output.splitlines() if line.startswith("| lightgbm | checklist |"))
    assert f"{gain.estimate:+.3f} [{gain.low:+.3f}, {gain.high:+.3f}]" in row
    assert "| lightgbm | logistic |" not in out.output and "train again" in out.output


def _fake_result(y, scores, n_boot=200):
    evaluations = evaluate(y, scores, [0.05], n_boot=n_boot, seed=1)
    models = {name: None for name in scores if name != "checklist"}
    return SimpleNamespace(models=models, evaluations=evaluations)


def test_differences_are_paired_and_say_not_significant_when_the_interval_covers_zero():
    rng = np.random.default_rng(0)
    y = rng.random(4000) < 0.1
    signal = y + rng.normal(0, 0.8, y.size)
    scores = {
        "a": signal,
        "b": signal + rng.normal(0, 0.01, y.size),  # all but the same ranking
        "checklist": rng.random(y.size),  # no information
    }
    frame = comparison.difference_frame(_fake_result(y.astype(int), scores))
    auc = frame[frame["metric"] == "roc_auc"].set_index(["model", "versus"])
    near = auc.loc[("a", "b")]
    # Paired: the near-identical models' difference is tight (unpaired intervals would be ~0.03 wide).
    assert near["high"] - near["low"] < 0.005 and near["low"] <= 0 <= near["high"] and not near["significant"]
    assert auc.loc[("a", "checklist"), "significant"] and auc.loc[("a", "checklist"), "low"] > 0
    text = comparison.format_differences(frame)
    row_ab = next(line for line in text.splitlines() if line.startswith("| a | b |"))
    row_ac = next(line for line in text.splitlines() if line.startswith("| a | checklist |"))
    assert comparison.NOT_SIGNIFICANT in row_ab.split("|")[5]  # the roc_auc column
    assert comparison.NOT_SIGNIFICANT not in row_ac.split("|")[5]


def test_model_cards_state_the_shap_scale(store, client):
    _, record, _ = store
    expected = {"random_forest": "probability", "lightgbm": "log-odds", "logistic": "log-odds"}
    for model_type, scale in expected.items():
        path = tracking.download_artifact(record.runs[model_type], "model_card.md")
        with open(path, encoding="utf-8") as handle:
            card = handle.read()
        assert f"mean |SHAP| on test-year pupils, in {scale})" in card
        assert f"on the\n{scale} scale of the raw model score" in card


def test_shap_plots_label_their_axes_with_the_scale(training):
    result, _ = training
    expected = {"random_forest": "probability", "lightgbm": "log-odds", "logistic": "log-odds"}
    sample = result.test_frame[result.feature_cols].head(200)
    for model_type, scale in expected.items():
        explanation = Explainer(result.models[model_type].pipeline).explain(sample)
        beeswarm, bar = plots.shap_figures(explanation, sample, model_type)
        assert scale in beeswarm.axes[0].get_xlabel() and scale in bar.axes[0].get_xlabel()
        plots.close(beeswarm, bar)


def test_the_beeswarm_is_the_same_picture_from_the_same_explanation(training):
    """An auditor's two identical runs logged two different beeswarm PNGs (shap's jitter, unseeded)."""
    import io

    import numpy as np

    result, _ = training
    sample = result.test_frame[result.feature_cols].head(200)
    explanation = Explainer(result.models["lightgbm"].pipeline).explain(sample)
    pictures = []
    for _ in range(2):
        np.random.rand()  # the global generator moved on between the two, as it is in a run
        beeswarm, bar = plots.shap_figures(explanation, sample, "lightgbm")
        buffer = io.BytesIO()
        beeswarm.savefig(buffer, format="png", metadata={"Software": None})
        pictures.append(buffer.getvalue())
        plots.close(beeswarm, bar)
    assert pictures[0] == pictures[1]
