"""Cohort scoring with reasons: pupils per second and peak memory, next to raw Booster calls, same run.

    .venv/bin/python bench/scoring.py                # 100,000 pupils (about 3 minutes on 2 cores)
    .venv/bin/python bench/scoring.py --pupils 20000 --quick

Measures, on one feature matrix:
- raw `Booster.predict` (raw score) and `Booster.predict(pred_contrib=True)` (TreeSHAP), the references;
- `CohortScorer.score(features, reasons=True)`: preprocessing + TreeSHAP + calibration + risk matrix +
  plain-English reasons; its ratio to the raw pred_contrib call is the project's overhead (target <= 1.3);
- the time for reasons for a 62,536-pupil authority (target <= 60 s), extrapolated per pupil;
- model size vs precision at 5% (with its 95% interval) vs explanation cost: the trained LightGBM
  (early-stopped) and a 500-tree, 31-leaf reference; the random forest's TreeSHAP cost (the product's,
  the forest as a LightGBM Booster, beside shap.TreeExplainer's),
  configured (depth-limited) and unconstrained.
Data: the models stage's synthetic feature table (`exclusion_risk.synth.feature_table`), labels from a
known logit.
Results go to bench/results/scoring.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import threading
import time
from pathlib import Path

import psutil

from exclusion_risk.synth.feature_table import FEATURES, feature_table

ROOT = Path(__file__).resolve().parents[1]

AUTHORITY = 62_536


class PeakMemory:
    """Peak resident memory of this process while the block runs (sampled every 5 ms)."""

    def __enter__(self):
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        self.added_mb = (self.peak - self.start) / 2**20


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def train(pupils: int, seed: int):
    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.train import train_models

    config = load_config(None)
    config = config.model_copy(update={"metrics": config.metrics.model_copy(update={"bootstrap": 200})})
    table, _ = feature_table(pupils, seed=seed)
    result = train_models(table, config, FEATURES, functools.partial(make_preprocessor, missing="impute"))
    return result, table


def reference_lightgbm(result, table, trees: int, leaves: int):
    """The trained LightGBM refitted at a fixed size (no early stopping), same data and calibration."""
    import lightgbm as lgb

    from exclusion_risk.models.calibration import CalibratedClassifier
    from exclusion_risk.models.estimators import assemble

    pipeline = result.models["lightgbm"].pipeline
    pre = pipeline[0]
    fit = table[
        table["AcademicYear"].isin([*result.split.train, result.split.validation]) & table["label"].notna()
    ]
    est = lgb.LGBMClassifier(
        n_estimators=trees,
        num_leaves=leaves,
        learning_rate=0.05,
        min_child_samples=50,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        verbose=-1,
        n_jobs=2,
    )
    est.fit(pre.transform(fit[result.feature_cols]), fit["label"].to_numpy(int))
    calibrator = pipeline.steps[-1][1]
    val = table[(table["AcademicYear"] == result.split.validation) & table["label"].notna()]
    calibrated = CalibratedClassifier(est, method=calibrator.method).fit(
        pre.transform(val[result.feature_cols]), val["label"].to_numpy(int)
    )
    return assemble(pre, calibrated)


def precision_at_5(y, scores: dict):
    from exclusion_risk.models.metrics import evaluate

    evaluations = evaluate(y, scores, [0.05], n_boot=200, seed=0)
    return {name: ev.metrics["precision_at_5pct"] for name, ev in evaluations.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pupils", type=int, default=100_000, help="cohort size to score")
    parser.add_argument(
        "--train-pupils", type=int, default=20_000, help="pupils per year in the training data"
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip the 500-tree and unconstrained-forest references"
    )
    args = parser.parse_args()

    import lightgbm as lgb

    from exclusion_risk.models.scoring import CohortScorer

    print(f"training on {args.train_pupils:,} pupils x 4 years ...", flush=True)
    t_train, (result, table) = timed(lambda: train(args.train_pupils, seed=0))
    print(f"  trained in {t_train:.0f}s", flush=True)
    cohort, _ = feature_table(args.pupils, years=("2018/19",), seed=1)
    test = table[(table["AcademicYear"] == result.split.test) & table["label"].notna()]
    y_test = test["label"].to_numpy()

    pipeline = result.models["lightgbm"].pipeline
    scorer = CohortScorer(pipeline, "bench")
    booster = scorer.explainer.parts.estimator.booster_
    scorer.score(cohort.head(1000))  # warm caches (describer, imports) as a long-running service would be

    t_transform, X = timed(lambda: scorer.explainer.matrix(cohort), repeat=2)
    t_raw, _ = timed(lambda: booster.predict(X, raw_score=True), repeat=2)
    with PeakMemory() as mem_contrib:
        t_contrib, _ = timed(lambda: booster.predict(X, pred_contrib=True), repeat=2)
    with PeakMemory() as mem_score:
        t_score, scores = timed(lambda: scorer.score(cohort, reasons=True), repeat=2)
    t_plain, _ = timed(lambda: scorer.score(cohort, reasons=False), repeat=2)
    n = len(cohort)
    trees, leaves = booster.num_trees(), result.models["lightgbm"].params.get("num_leaves")
    lines = {
        "pupils": n,
        "model": {"trees": trees, "num_leaves": leaves, "features_in": X.shape[1]},
        "seconds": {
            "preprocess_transform": t_transform,
            "booster_raw_predict": t_raw,
            "booster_pred_contrib": t_contrib,
            "score_with_reasons": t_score,
            "score_without_reasons": t_plain,
        },
        "pupils_per_second": {
            "booster_pred_contrib": n / t_contrib,
            "score_with_reasons": n / t_score,
            "booster_raw_predict": n / t_raw,
        },
        "overhead_vs_pred_contrib": t_score / t_contrib,
        "reasons_for_62536_pupils_s": t_score / n * AUTHORITY,
        "peak_memory_added_mb": {
            "pred_contrib": mem_contrib.added_mb,
            "score_with_reasons": mem_score.added_mb,
        },
        "reasons_filled": float((scores["reasons"] != "").mean()),
    }

    # Model size vs precision at capacity vs explanation cost.
    sample = X[:5000]
    per_pupil = lambda b: timed(lambda: b.predict(sample, pred_contrib=True))[0] / len(sample) * 1000  # noqa: E731
    sizes = {"trained (early-stopped)": (pipeline, per_pupil(booster))}
    if not args.quick:
        big = reference_lightgbm(result, table, trees=500, leaves=31)
        sizes["500 trees x 31 leaves"] = (big, per_pupil(big[-1].estimator.booster_))
    precision = precision_at_5(
        y_test, {k: p.predict_proba(test[result.feature_cols])[:, 1] for k, (p, _) in sizes.items()}
    )
    lines["lightgbm_size_tradeoff"] = {
        name: {
            "trees": (p[-1].estimator.booster_.num_trees()),
            "ms_per_pupil_pred_contrib": ms,
            "precision_at_5pct": str(precision[name]),
            "reasons_62536_s_estimate": ms / 1000 * AUTHORITY * t_score / t_contrib,
        }
        for name, (p, ms) in sizes.items()
    }

    # Random forest: TreeSHAP cost per pupil, the product's (the forest as a LightGBM Booster, in
    # threads: models.forest_booster) next to shap.TreeExplainer's on the same rows; unconstrained reference.
    import shap
    from sklearn.ensemble import RandomForestClassifier

    rf_scorer = CohortScorer(result.models["random_forest"].pipeline, "bench")
    Xrf = rf_scorer.explainer.matrix(cohort.head(2000))
    t_rf, _ = timed(lambda: rf_scorer.explainer.explain_matrix(Xrf))
    configured = shap.TreeExplainer(rf_scorer.explainer.parts.estimator)
    t_shap, _ = timed(lambda: configured.shap_values(Xrf, check_additivity=False))
    forest = {"configured": {"params": {k: v for k, v in result.models["random_forest"].params.items()},
                             "ms_per_pupil": t_rf / len(Xrf) * 1000,
                             "shap_treeexplainer_ms_per_pupil": t_shap / len(Xrf) * 1000}}  # fmt: skip
    if not args.quick:
        fit = table[table["AcademicYear"].isin(result.split.train) & table["label"].notna()]
        Xfit = rf_scorer.explainer.parts.transform(fit)
        free = RandomForestClassifier(n_estimators=500, n_jobs=2, random_state=0).fit(
            Xfit, fit["label"].astype(int)
        )
        explainer = shap.TreeExplainer(free)
        t_free, _ = timed(lambda: explainer.shap_values(Xrf[:10], check_additivity=False))
        forest["unconstrained 500 trees"] = {"ms_per_pupil": t_free / 10 * 1000}
    lines["random_forest_treeshap"] = forest
    for facts in forest.values():
        facts["reasons_62536_s_estimate"] = facts["ms_per_pupil"] / 1000 * AUTHORITY

    print(json.dumps(lines, indent=2, default=str))
    rf = forest["configured"]
    print(f"\nrandom forest TreeSHAP: {rf['ms_per_pupil']:.3f} ms/pupil as a Booster "
          f"(shap.TreeExplainer on the same rows: {rf['shap_treeexplainer_ms_per_pupil']:.3f} ms/pupil)")
    print(
        f"{n:,} pupils: Booster.predict {n / t_raw:,.0f}/s, pred_contrib {n / t_contrib:,.0f}/s, "
        f"score+reasons {n / t_score:,.0f}/s "
        f"(overhead {t_score / t_contrib:.2f}x pred_contrib, target <= 1.3); "
        f"62,536 pupils with reasons: {t_score / n * AUTHORITY:.1f}s (target <= 60s); "
        f"peak memory +{mem_score.added_mb:.0f} MB (pred_contrib alone +{mem_contrib.added_mb:.0f} MB)"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scoring.json").write_text(json.dumps(lines, indent=2, default=str))
    print(f"wrote {out / 'scoring.json'}; lightgbm threads: {lgb.__version__}")


if __name__ == "__main__":
    main()
