"""`describe --models` (issue #13): the study's model and the full model ranked by one measure on the same
pupils, side by side, with a sentence on the Walsall study's finding (SEN type first) that says only what
the numbers show."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.inspection import permutation_importance

from exclusion_risk.models import describe_models
from exclusion_risk.models.describe_models import _finding, importance_comparison


def _importance(*names: str, means: tuple[float, ...] | None = None) -> dict[str, dict[str, float]]:
    means = means or tuple(1.0 / (i + 1) for i in range(len(names)))
    return {n: {"mean": m, "std": 0.0} for n, m in zip(names, means, strict=True)}


def test_the_finding_agrees_with_the_study_only_when_need_ranks_first():
    study = _importance("sen_type", "sex", "fsm")
    assert "ranks 1st (as the Walsall study found)" in _finding(study, _importance("sen_type"))
    study = _importance("sex", "sen_type", "fsm")
    assert "ranks 2nd (where the Walsall study found it first)" in _finding(study, _importance("sen_type"))


def test_the_finding_names_the_full_models_inputs_ranked_above_need_and_measures_the_cost():
    study = _importance("sen_type", "sex", means=(0.05, 0.01))
    full = _importance("suspensions_last_year", "fsm", "school_suspension_rate", "sen_type",
                       means=(0.04, 0.03, 0.02, 0.01))  # fmt: skip
    sentence = _finding(study, full)
    # fsm is an input of both models' kinds but not of this study model: it counts as "does not have"
    assert "in the full model it ranks 4th, behind 3 input(s) the study model does not have" in sentence
    assert "Suspensions last year" in sentence
    assert "costs the full model less" in sentence  # 0.01 < 0.05: measured
    more = _importance("suspensions_last_year", "sen_type", means=(0.2, 0.1))
    assert "costs the full model less" not in _finding(study, more)  # 0.1 > 0.05: not said


def test_the_models_section_ranks_both_models_on_the_same_pupils(training, monkeypatch):
    result, table = training
    table = table.assign(label_any=table["label"])
    full = result.models["lightgbm"].pipeline
    study = result.models["logistic"].pipeline
    year = result.split.test
    monkeypatch.setattr(describe_models, "_champion", lambda: (full, "lightgbm, version 9 (champion)", year))
    monkeypatch.setattr(describe_models, "_study_pipeline", lambda: (study, "logistic, run 1234abcd"))
    section = importance_comparison(table)
    rows = {r["feature"]: r for r in section["rows"]}
    inputs = [str(c) for c in full[0].feature_names_in_]
    assert set(rows) == set(inputs) | {str(c) for c in study[0].feature_names_in_}
    full_ranks = sorted(rows.values(), key=lambda r: r["full_rank"])
    assert [r["full_rank"] for r in full_ranks] == list(range(1, len(inputs) + 1))
    importances = [r["full_importance"] for r in full_ranks]
    assert importances == sorted(importances, reverse=True)
    # the same measure computed here with scikit-learn on the same sample and seed
    year_rows = table[table["AcademicYear"].eq(year) & table["label_any"].notna()]
    rng = np.random.default_rng(describe_models.SEED)
    n = len(year_rows)
    sample = np.sort(rng.choice(n, 5000, replace=False)) if n > 5000 else np.arange(n)
    rows_used = year_rows.iloc[sample]
    direct = permutation_importance(
        full, rows_used[inputs], rows_used["label_any"].to_numpy(), scoring="average_precision",
        n_repeats=5, random_state=describe_models.SEED,
    )  # fmt: skip
    top = inputs[int(np.argmax(direct.importances_mean))]
    assert rows[top]["full_rank"] == 1
    assert rows[top]["full_importance"] == pytest.approx(direct.importances_mean.max(), abs=1e-5)
    assert section["year"] == year and section["pupils"] == len(rows_used)
