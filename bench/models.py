"""Models against the oracle: each model's test-year metrics next to the generator's true probabilities.

    .venv/bin/python bench/models.py                       # 62,536 pupils x 4 years (seed 7)
    .venv/bin/python bench/models.py --pupils 10000 --quick
    .venv/bin/python bench/models.py --data DIR --protected-too   # also: sex/ethnicity as inputs

One run of the whole `exclusion-risk train` flow (read -> link -> features -> train -> MLflow, into a
temporary store) on a synthetic authority, timed per stage. Then, on the same test-year pupils and with
the same bootstrap replicates, the oracle (truth/pupil_years.csv `true_probability`) is scored next to
every model and the checklist, and each model's metrics are printed as ratios to the oracle's.
Targets: best model ROC-AUC >= 0.97 x oracle, precision at top 5% >= 0.9 x oracle, Brier within 5% of
the oracle's (ratio <= 1.05); the full train <= 120 s on 2 cores.

Then the same train at the spring census (features as known on spring census day, outcomes after it)
and its ratios beside the autumn ones (`--no-spring` skips it). The generator writes one truth per
pupil-year, the probability of an outcome after the autumn census; no spring truth exists, so at spring
the "oracle" is that autumn probability scored against the spring labels: a reference point, not the
best a model could do (a model that sees the autumn term's events can beat it).
Results go to bench/results/models.json (`spring`: the spring run's rows and ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TARGETS = {"roc_auc": 0.97, "precision_at_5pct": 0.9, "brier": 1.05, "train_seconds": 120.0}


def authority(folder: Path | None, pupils: int, seed: int) -> Path:
    if folder is not None:
        return folder
    from exclusion_risk.synth.config import load_config
    from exclusion_risk.synth.generate import generate_authority

    out = ROOT / "data" / "bench" / f"synth_{pupils}_{seed}"
    if not (out / "truth" / "manifest.json").is_file():
        print(f"generating a synthetic authority of {pupils:,} pupils in {out} ...", flush=True)
        generate_authority(load_config(pupils=pupils, seed=seed), out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="an existing synthetic authority (with truth/)")
    parser.add_argument("--pupils", type=int, default=62536)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--config", type=Path, help="experiment config (default: models/experiment.yaml)")
    parser.add_argument("--links", type=Path, help="reuse an earlier link run's folder instead of linking")
    parser.add_argument(
        "--quick", action="store_true", help="200 bootstrap replicates instead of the config's"
    )
    parser.add_argument("--no-spring", action="store_true", help="skip the spring-census train")
    parser.add_argument(
        "--protected-too",
        action="store_true",
        help="also train with sex and ethnicity as inputs (same linked data, not logged) and show the gap",
    )
    args = parser.parse_args()

    data = authority(args.data, args.pupils, args.seed)
    store = Path(tempfile.mkdtemp(prefix="bench_mlruns_"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store / 'mlflow.db'}"

    import numpy as np
    import pandas as pd

    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.fingerprint import data_fingerprint
    from exclusion_risk.models.metrics import evaluate
    from exclusion_risk.models.train import load_training_data, train_models
    from exclusion_risk.models.training_log import log_training

    config = load_config(args.config)
    if args.quick:
        config = config.model_copy(update={"metrics": config.metrics.model_copy(update={"bootstrap": 200})})

    shown = ("roc_auc", "average_precision", "precision_at_5pct", "brier")
    truth = pd.read_csv(data / "truth" / "pupil_years.csv", dtype={"upn": str, "AcademicYear": str})

    def oracle_run(config):
        """Train at `config.census`, log to the temporary store, and score the oracle beside the models
        on exactly the test rows the models were scored on, with the same replicates."""
        started = time.perf_counter()
        loaded = load_training_data(data, config, args.links, log=print)
        result = train_models(loaded.table, config, loaded.feature_cols, make_preprocessor, log=print)
        t0 = time.perf_counter()
        fingerprint = data_fingerprint(loaded.files, loaded.table, loaded.feature_cols, loaded.counts)
        log_training(result, fingerprint)
        mlflow_seconds = time.perf_counter() - t0
        total = time.perf_counter() - started
        test_rows = loaded.table.loc[result.test_frame.index, ["upn", "AcademicYear", "label"]]
        joined = test_rows.merge(truth, on=["upn", "AcademicYear"], how="left", suffixes=("", "_truth"))
        covered = joined["true_probability"].notna().to_numpy()
        y = result.test_labels[covered]
        scores = {"oracle": joined["true_probability"].to_numpy()[covered]}
        scores.update({name: p[covered] for name, p in result.test_scores.items()})
        evals = evaluate(
            y, scores, config.metrics.capacities, n_boot=config.metrics.bootstrap, seed=config.seed
        )
        oracle = evals["oracle"].metrics
        label_agreement = float((joined["label"] == joined["label_truth"]).mean())
        rows = {}
        header = f"{'model':14s}" + "".join(f"{m:>30s}" for m in shown) + f"{'train s':>10s}"
        print(f"\nTest year {result.split.test}, {config.census} census: {covered.sum():,} pupils, "
              f"{int(y.sum()):,} excluded ({y.mean():.2%}); truth labels agree with linked labels for "
              f"{label_agreement:.2%}")  # fmt: skip
        print(header)
        for name, ev in evals.items():
            cells = []
            rows[name] = {}
            for metric in shown:
                iv = ev.metrics[metric]
                ratio = iv.estimate / oracle[metric].estimate
                rows[name][metric] = {
                    "estimate": iv.estimate,
                    "low": iv.low,
                    "high": iv.high,
                    "ratio_to_oracle": ratio,
                }
                cells.append(f"{iv.estimate:.4f} [{iv.low:.3f},{iv.high:.3f}] x{ratio:.3f}")
            seconds = result.models[name].train_seconds if name in result.models else float("nan")
            rows[name]["train_seconds"] = seconds
            print(f"{name:14s}" + "".join(f"{c:>30s}" for c in cells) + f"{seconds:10.1f}")
        return loaded, result, rows, covered, y, scores, oracle, label_agreement, mlflow_seconds, total

    loaded, result, rows, covered, y, scores, oracle, label_agreement, mlflow_seconds, total = oracle_run(
        config
    )
    spring_rows = {}
    if not args.no_spring:
        spring_config = config.model_copy(update={"census": "spring"})
        spring_rows = oracle_run(spring_config)[2]
        print("\nRatio to the oracle, autumn | spring census (spring's oracle: the autumn truth, see above):")
        print(f"{'model':14s}" + "".join(f"{m:>26s}" for m in shown))
        for name in rows:
            cells = [
                f"x{rows[name][m]['ratio_to_oracle']:.3f} | x{spring_rows[name][m]['ratio_to_oracle']:.3f}"
                for m in shown
            ]
            print(f"{name:14s}" + "".join(f"{c:>26s}" for c in cells))

    best = max(result.models, key=lambda m: rows[m]["roc_auc"]["estimate"])
    best_p5 = max(result.models, key=lambda m: rows[m]["precision_at_5pct"]["estimate"])
    checks = {
        f"best ROC-AUC ({best}) >= {TARGETS['roc_auc']} x oracle": rows[best]["roc_auc"]["ratio_to_oracle"]
        >= TARGETS["roc_auc"],
        f"best precision@5% ({best_p5}) >= {TARGETS['precision_at_5pct']} x oracle": rows[best_p5][
            "precision_at_5pct"
        ]["ratio_to_oracle"]
        >= TARGETS["precision_at_5pct"],
        f"champion-candidate Brier ({best_p5}) <= {TARGETS['brier']} x oracle": rows[best_p5]["brier"][
            "ratio_to_oracle"
        ]
        <= TARGETS["brier"],
        f"full train {total:.0f}s <= {TARGETS['train_seconds']:.0f}s": total <= TARGETS["train_seconds"],
    }
    stages = {
        **loaded.seconds,
        **{k: v for k, v in result.seconds.items() if k != "total"},
        "mlflow": mlflow_seconds,
    }
    print("\nstage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()) + f"; total {total:.1f}")
    for text, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISS'}] {text}")
    sizes = {}
    for name, model in result.models.items():
        est = model.pipeline[-1].estimator
        if hasattr(est, "booster_"):
            sizes[name] = {
                "trees": est.booster_.num_trees(),
                "leaves": int(model.params.get("num_leaves", 31)),
            }
        elif hasattr(est, "estimators_"):
            leaves = [t.get_n_leaves() for t in est.estimators_]
            sizes[name] = {"trees": len(leaves), "mean_leaves": float(np.mean(leaves)),
                           "max_depth": int(max(t.get_depth() for t in est.estimators_))}  # fmt: skip
    print("model sizes: " + json.dumps(sizes))

    protected_rows = {}
    if args.protected_too:
        from exclusion_risk.models.train import model_features

        flipped = config.model_copy(
            update={"features": config.features.model_copy(update={"include_protected": True})}
        )
        print("\nSame data with sex and ethnicity as model inputs (not logged):")
        other = train_models(loaded.table, flipped, model_features(flipped), make_preprocessor)
        both = {"oracle": scores["oracle"], **{n: p[covered] for n, p in other.test_scores.items()}}
        other_evals = evaluate(y, both, flipped.metrics.capacities, n_boot=flipped.metrics.bootstrap, seed=1)
        for name, ev in other_evals.items():
            if name == "oracle":
                continue
            protected_rows[name] = {
                m: {
                    "estimate": ev.metrics[m].estimate,
                    "ratio_to_oracle": ev.metrics[m].estimate / oracle[m].estimate,
                }
                for m in shown
            }
            cells = [
                f"{ev.metrics[m].estimate:.4f} x{ev.metrics[m].estimate / oracle[m].estimate:.3f}"
                for m in shown
            ]
            print(f"{name:14s}" + "".join(f"{c:>30s}" for c in cells))

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "data": str(data), "pupils_test_year": int(covered.sum()), "positives": int(y.sum()),
        "split": result.split.describe(), "config_hash": config.fingerprint(), "rows": rows,
        "stage_seconds": stages, "total_seconds": total, "targets": TARGETS,
        "checks": {k: bool(v) for k, v in checks.items()}, "model_sizes": sizes, "cpu_count": os.cpu_count(),
        "label_agreement_with_truth": label_agreement, "with_protected_characteristics": protected_rows,
        "spring": {"rows": spring_rows, "oracle": "the autumn-census truth (no spring truth is generated)"},
    }  # fmt: skip
    (out / "models.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out / 'models.json'}")


if __name__ == "__main__":
    main()
