"""Service latency and throughput, each next to the same work done in-process, in one run (loopback).

    .venv/bin/python bench/service.py [--pupils 10000] [--requests 2000] [--trees 500]

Builds a synthetic authority, trains a LightGBM with exactly `--trees` trees (no early stopping) into a
private MLflow store with `exclusion-risk train` and promotes it with `exclusion-risk promote`, then:

- in-process: `CohortScorer.score_records([pupil])` (the single-pupil fast path) `--requests` times,
  the same pupil through a one-row DataFrame (`score`) for context, and a `--pupils` census CSV
  through the service's own functions (reader -> features with linked history -> scorer);
- over HTTP to `exclusion-risk serve` (uvicorn, 1 worker, 127.0.0.1): GET /health, the same single
  pupil as POST /score `--requests` times in sequence on one keep-alive connection, and the same CSV
  as POST /score/file (JSON and CSV answers).

Targets (the issue's): HTTP single-pupil p99 <= 2 x in-process p99 + 5 ms; /score/file throughput
>= 70% of in-process. Results go to bench/results/service.json (git-ignored). Links come from the
generator's ground truth so the bench measures serving, not linkage.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from exclusion_risk.serving.process import EXCLUSION_RISK, start_service
from exclusion_risk.synth.config import SynthConfig
from exclusion_risk.synth.generate import generate_authority
from exclusion_risk.synth.truth import write_truth_links

REPO = Path(__file__).resolve().parents[1]
SCORED_YEAR = "2018/19"

PUPIL = {
    "upn": "A801200111001", "sex": "M", "ethnicity_group": "White British", "ethnicity_code": "WBRI",
    "nc_year": 9, "fsm": True, "sen_provision": "K", "sen_type": "SEMH", "idaci_decile": 2,
    "absence_rate_last_year": 0.14, "unauthorised_absence_rate_last_year": 0.06,
    "persistent_absence_last_year": True, "suspensions_last_year": 3, "suspension_sessions_last_year": 9,
    "cin_open": False,
}  # fmt: skip


def train_config(trees: int) -> str:
    return f"""
metrics: {{capacities: [0.05], bootstrap: 100, level: 0.95}}
models:
  random_forest: {{enabled: false}}
  logistic: {{enabled: false}}
  lightgbm:
    params: {{learning_rate: 0.05, n_estimators: {trees}, min_child_samples: 50}}
    grid: {{num_leaves: [31]}}
    early_stopping_rounds: null
"""


@dataclass(frozen=True)
class Store:
    """A private MLflow store whose `champion` the bench serves, and the data it was trained on."""

    tracking_uri: str
    extracts: Path
    links: Path  # links.csv from the generator's truth: the bench measures serving, not linkage
    cohort_csv: Path  # the scored year's autumn census as the MIS exported it (names included)


def run_command(tracking_uri: str, *args: str) -> str:
    """`exclusion-risk ARGS` on this MLflow store; its output, or a stop that shows what it said."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    done = subprocess.run([str(EXCLUSION_RISK), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"exclusion-risk {' '.join(args)}: exit {done.returncode}\n"
                         f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def build_store(root: Path, pupils: int, trees: int) -> Store:
    """The store finished in `root` earlier, or a new one: authority -> truth links ->
    `exclusion-risk train` (LightGBM only) -> `exclusion-risk promote --best`."""
    import pandas as pd

    folder = root / "store"
    store = Store(f"sqlite:///{folder / 'mlflow.db'}", root / "authority", folder / "links",
                  folder / f"census_{SCORED_YEAR.replace('/', '-')}.csv")
    done = folder / "promoted.txt"
    if done.is_file():
        return store
    say("building the authority and the champion model")
    # The scored (last) year's roll is about the first year's: a margin covers rejected rows.
    generate_authority(SynthConfig(pupils=int(pupils * 1.06) + 200, seed=7), store.extracts)
    write_truth_links(store.extracts, store.links)
    rows = pd.read_csv(store.extracts / "census.csv", dtype=str, keep_default_na=False)
    rows[(rows["AcademicYear"] == SCORED_YEAR) & (rows["CensusTerm"] == "AUT")].to_csv(
        store.cohort_csv, index=False
    )
    config = folder / "experiment.yaml"
    config.write_text(train_config(trees))
    say("exclusion-risk train")
    run_command(store.tracking_uri, "train", "--data", str(store.extracts), "--links", str(store.links),
                "--config", str(config), "--quiet")
    say("exclusion-risk promote")
    done.write_text(run_command(store.tracking_uri, "promote", "--best", "--metric", "average_precision"))
    return store


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    pick = lambda q: ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))]  # noqa: E731
    return {"p50_ms": round(pick(0.50), 3), "p99_ms": round(pick(0.99), 3), "n": len(ms)}


FILE_REPEATS = 3


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ok(response):
    """The response, or a stop that shows what the service said."""
    if response.status_code != 200:
        raise SystemExit(f"{response.request.method} {response.request.url.path}: {response.status_code} "
                         f"{response.text[:2000]}")
    return response


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def cohort_csv(store, pupils: int) -> bytes:
    """The scored year's autumn census, `pupils` rows the reader accepts, as the MIS exported them."""
    import pandas as pd

    from exclusion_risk.linkage.readers import read_census

    census = pd.read_csv(store.cohort_csv, dtype=str, keep_default_na=False)
    rejected = set(read_census(store.cohort_csv).rejects["row"].dropna().astype(int) - 1)
    clean = census.drop(index=census.index[sorted(rejected)])
    if len(clean) < pupils:
        raise SystemExit(f"the synthetic cohort has {len(clean)} clean rows, fewer than --pupils {pupils}")
    return clean.head(pupils).to_csv(index=False).encode()


def in_process(store, csv: bytes, requests: int, alias: str) -> dict:
    import pandas as pd

    from exclusion_risk.models.scoring import CohortScorer
    from exclusion_risk.serving import scoring
    from exclusion_risk.serving.history import HistoryState
    from exclusion_risk.serving.schemas import FeatureRecord

    say("in-process: loading the model")
    started = time.perf_counter()
    scorer = CohortScorer.load(alias=alias)
    load_seconds = time.perf_counter() - started
    # Exactly what POST /score hands the scorer for PUPIL (validated, need level derived).
    [record] = scoring.feature_records([FeatureRecord(**PUPIL)])
    for _ in range(20):
        scorer.score_records([record])
    say("in-process: single pupil")
    single = timed(lambda: scorer.score_records([record]), requests)
    frame = pd.DataFrame([record])
    say("in-process: one-row DataFrame")
    one_row_frame = timed(lambda: scorer.score(frame), min(requests, 100))

    say("in-process: linked history")
    history = HistoryState(store.extracts, store.links)
    history.load()
    say("in-process: cohort file")

    def file_pipeline(reasons: bool):
        clean, rejects = scoring.read_census_bytes(csv, "census.csv")
        cohort = scoring.census_cohort(clean, rejects, history, scorer.feature_names, None, False)
        return scoring.score_cohort(scorer, cohort, reasons=reasons)

    scored = file_pipeline(False)
    plain = timed(lambda: file_pipeline(False), FILE_REPEATS)
    say("in-process: cohort file with reasons (TreeSHAP)")
    with_reasons = timed(lambda: file_pipeline(True), 1)
    return {
        "registry_load_seconds_warm_imports": round(load_seconds, 2),
        "single_pupil_score_records": percentiles(single),
        "single_pupil_one_row_dataframe": percentiles(one_row_frame),
        "file_pupils": len(scored),
        "file_seconds": round(statistics.median(plain), 3),
        "file_with_reasons_seconds": round(with_reasons[0], 3),
    }


def over_http(store, csv: bytes, requests: int, alias: str, workdir: Path) -> dict:
    import httpx

    say("HTTP: starting the server")
    started = time.perf_counter()
    service = start_service(workdir, {
        "MLFLOW_TRACKING_URI": store.tracking_uri,
        "EXCLUSION_RISK_REGISTRY_ALIAS": alias,
        "EXCLUSION_RISK_EXTRACTS_DIR": str(store.extracts),
        "EXCLUSION_RISK_LINKS_DIR": str(store.links),
    }, wait_ready=False)
    try:
        service.wait_for("ready", timeout=600)
        ready_seconds = time.perf_counter() - started
        body = {"pupils": [PUPIL]}
        with httpx.Client(base_url=service.base_url, headers={"X-API-Key": service.keys["scorer"]},
                          timeout=300) as client:
            health = timed(lambda: ok(client.get("/health")), 200)
            for _ in range(20):
                ok(client.post("/score", json=body))
            say("HTTP: single pupil")
            single = timed(lambda: ok(client.post("/score", json=body)), requests)
            csv_headers = {"Content-Type": "text/csv"}
            say("HTTP: cohort file")

            def upload(reasons: bool, fmt: str = "json"):
                params = {"reasons": str(reasons).lower(), "format": fmt}
                return ok(client.post("/score/file", params=params, content=csv, headers=csv_headers))

            pupils = upload(False).json()["pupils"]
            file_json = timed(lambda: upload(False), FILE_REPEATS)
            file_csv = timed(lambda: upload(False, "csv"), FILE_REPEATS)
            say("HTTP: cohort file with reasons (TreeSHAP)")
            with_reasons = timed(lambda: upload(True), 1)
    finally:
        service.stop()
    return {
        "start_to_ready_seconds": round(ready_seconds, 2),
        "health": percentiles(health),
        "single_pupil": percentiles(single),
        "file_pupils": pupils,
        "file_json_seconds": round(statistics.median(file_json), 3),
        "file_csv_seconds": round(statistics.median(file_csv), 3),
        "file_with_reasons_json_seconds": round(with_reasons[0], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=None, help="Keep (and reuse) the store here.")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "service.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        root = args.workdir or Path(tmp)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'store' / 'mlflow.db'}"
        started = time.perf_counter()
        store = build_store(root, args.pupils, args.trees)
        build_seconds = time.perf_counter() - started
        csv = cohort_csv(store, args.pupils)
        local = in_process(store, csv, args.requests, "champion")
        remote = over_http(store, csv, args.requests, "champion", root / "server")

    inproc_p99 = local["single_pupil_score_records"]["p99_ms"]
    http_p99 = remote["single_pupil"]["p99_ms"]
    p99_limit = 2 * inproc_p99 + 5
    inproc_rate = local["file_pupils"] / local["file_seconds"]
    http_rate = remote["file_pupils"] / remote["file_json_seconds"]
    reasons_ratio = local["file_with_reasons_seconds"] / remote["file_with_reasons_json_seconds"]
    result = {
        "settings": {"pupils": args.pupils, "requests": args.requests, "trees": args.trees,
                     "cpus": os.cpu_count(), "setup_seconds": round(build_seconds, 1)},
        "in_process": local,
        "http": remote,
        "targets": {
            "single_p99_ms": http_p99, "single_p99_limit_ms": round(p99_limit, 3),
            "single_p99_met": http_p99 <= p99_limit,
            "file_pupils_per_s_http": round(http_rate), "file_pupils_per_s_in_process": round(inproc_rate),
            "file_throughput_ratio": round(http_rate / inproc_rate, 3),
            "file_throughput_met": http_rate >= 0.7 * inproc_rate,
            "file_with_reasons_throughput_ratio": round(reasons_ratio, 3),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))

    s, h = local["single_pupil_score_records"], remote["single_pupil"]
    d = local["single_pupil_one_row_dataframe"]
    t = result["targets"]
    print(f"model: LightGBM, {args.trees} trees; cohort {args.pupils:,} pupils; {os.cpu_count()} CPUs")
    print(f"server start -> ready            {remote['start_to_ready_seconds']:8.2f} s")
    print(f"GET /health                      p50 {remote['health']['p50_ms']:7.2f} ms")
    print(f"in-process score_records (1)     p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms")
    print(f"in-process one-row DataFrame     p50 {d['p50_ms']:7.2f} ms  p99 {d['p99_ms']:7.2f} ms")
    print(f"POST /score (1 pupil, n={h['n']})  p50 {h['p50_ms']:7.2f} ms  p99 {h['p99_ms']:7.2f} ms"
          f"  (limit {t['single_p99_limit_ms']:.2f} ms: {'met' if t['single_p99_met'] else 'MISSED'})")
    verdict = "met" if t["file_throughput_met"] else "MISSED"
    print(f"in-process cohort file           {local['file_seconds']:7.3f} s ({inproc_rate:,.0f} pupils/s; "
          "reader -> features with history -> scorer)")
    print(f"POST /score/file JSON            {remote['file_json_seconds']:7.3f} s "
          f"({http_rate:,.0f} pupils/s, {t['file_throughput_ratio']:.0%} of in-process: {verdict})")
    print(f"POST /score/file CSV             {remote['file_csv_seconds']:7.3f} s")
    print(f"with reasons: in-process         {local['file_with_reasons_seconds']:7.3f} s; "
          f"POST /score/file {remote['file_with_reasons_json_seconds']:.3f} s ({reasons_ratio:.0%})")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
