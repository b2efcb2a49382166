"""The national simulation's Spark slice: one stage of the same job on DuckDB and on Spark local[2].

    .venv/bin/python bench/spark_slice.py DATA OUT [--children 5000] [--full-count]

DATA is a national-sim folder (`synth`) and OUT the folder its DuckDB linkage wrote (settings.json
holds the trained model). The slice is the social-care probabilistic stage on the census and
social-care rows of the first postcode districts (sorted) that hold `--children` social-care
children, predict-only with the DuckDB-trained model, so both engines do exactly the same work:
candidate pairs (equal on both, or the slice is wrong), pairs kept, seconds, and Spark's ratio to
DuckDB. Spark's start (JVM, session) is timed apart from the stage. `--full-count` also counts the
whole job's social-care candidate pairs on Spark (the full census registered in Spark: minutes).
bench/linkage.py runs this in a child process, so the JVM never counts against the DuckDB peak.
It prints the slice's figures as one JSON line, then the whole-job count's as another.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from exclusion_risk.linkage.engines import EngineInput, get_engine
from exclusion_risk.linkage.pipeline import census_variants, extra_columns
from exclusion_risk.linkage.readers import read_extracts
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.stages import name_dob_stage, upn_stage
from exclusion_risk.linkage.standardise import postcode_fields, standardise
from exclusion_risk.spark_session import local_session, unavailable_reason

SOURCE = "social_care"
# Spark's local default driver heap (1 GB) ran out ("Java heap space") on a 27,000-pupil slice; with
# 4 GB the whole 2,000,000-pupil job's count failed, with 8 GB it ran (2026-12-03).
# (local_session's default is 4 GB; SPARK_DRIVER_MEMORY sets it)
SPARK_DRIVER = {False: "4g", True: "8g"}


def stage_input(census: pd.DataFrame, social_care: pd.DataFrame, settings: LinkageSettings) -> EngineInput:
    """The social-care probabilistic stage's input, as linkage.pipeline builds it: variants, and the
    children the UPN and name-DOB stages left."""
    census_v = census_variants(census, settings)
    source = standardise(social_care, "LAchildID", extra_columns=extra_columns(settings))
    by_upn = upn_stage(source, census_v, settings)
    rest = source[~source["eid"].isin(by_upn["eid_l"])]
    by_key = name_dob_stage(rest, census_v, unique_source=True, settings=settings)
    det = pd.concat([by_upn, by_key], ignore_index=True)
    children = pd.Index(social_care["LAchildID"].astype("string").unique())
    remaining = children.difference(pd.Index(det["eid_l"]))
    return EngineInput(
        source=source, census=census_v, score_eids=remaining, labels=det[["eid_l", "eid_r", "method"]]
    )


def in_districts(frame: pd.DataFrame, districts: list[str]) -> pd.DataFrame:
    return frame[postcode_fields(frame["Postcode"])["district"].isin(districts).to_numpy()]


def first_districts(social_care: pd.DataFrame, children: int) -> list[str]:
    """The first postcode districts, in sorted order, that together hold `children` social-care
    children (a child's district: the postcode on its first record)."""
    first = social_care.drop_duplicates("LAchildID")
    per = postcode_fields(first["Postcode"])["district"].value_counts().sort_index()
    return per.index[: int((per.cumsum() < children).sum()) + 1].tolist()


def run_stage(settings: LinkageSettings, data: EngineInput, backend: str) -> dict:
    t = time.perf_counter()
    result = get_engine(settings, backend).run(data, trained=settings.trained[SOURCE])
    pairs = result.pairs.sort_values(["l", "r"]).reset_index(drop=True)
    return {
        "seconds": time.perf_counter() - t,
        "candidate_pairs": result.candidate_pairs,
        "pairs": pairs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--full-count", action="store_true")
    args = parser.parse_args()
    settings = LinkageSettings.model_validate(json.loads((args.out / "settings.json").read_text()))
    extracts = read_extracts(args.data)
    districts = first_districts(extracts.social_care, args.children)
    data = stage_input(
        in_districts(extracts.census, districts), in_districts(extracts.social_care, districts), settings
    )
    stats: dict = {
        "districts": districts,
        "children": int(len(data.score_eids)),
        "pupils": int(data.census["eid"].nunique()),
    }
    duck = run_stage(settings, data, "duckdb")
    t = time.perf_counter()
    local_session()
    stats["spark_start_seconds"] = time.perf_counter() - t
    spark = run_stage(settings, data, "spark")
    same = duck["pairs"][["l", "r"]].equals(spark["pairs"][["l", "r"]])
    gap = None
    if same:
        gap = (duck["pairs"]["match_probability"] - spark["pairs"]["match_probability"]).abs().max()
    for name, run in (("duckdb", duck), ("spark", spark)):
        stats[name] = {k: run[k] for k in ("seconds", "candidate_pairs")} | {"pairs": len(run["pairs"])}
    stats["same_pairs"] = bool(same)
    stats["largest_probability_gap"] = None if gap is None else float(gap)
    stats["ratio"] = spark["seconds"] / duck["seconds"]
    print(json.dumps(stats), flush=True)  # the slice stands even if the whole-job count fails
    if args.full_count:
        t = time.perf_counter()
        whole = stage_input(extracts.census, extracts.social_care, settings)
        # the engine's own count (what run() logs), without predicting
        full = get_engine(settings, "spark").count_candidate_pairs(whole, settings.trained[SOURCE])
        seconds = time.perf_counter() - t
        print(json.dumps({"spark_full_candidate_pairs": full, "spark_full_count_seconds": seconds}))


def slice_table(data: Path, out: Path, children: int, full_count: bool) -> tuple[str, list[dict]]:
    """This script in a child process (its JVM apart from the DuckDB run's peak memory): a table
    title and rows (bench/linkage.py's `table`) of the slice on each engine."""
    if reason := unavailable_reason():
        return f"Spark slice skipped: {reason}", []
    args = [sys.executable, __file__, str(data), str(out), "--children", str(children)]
    env = {"SPARK_DRIVER_MEMORY": SPARK_DRIVER[full_count]} | dict(os.environ)  # the caller's wins
    proc = subprocess.run(
        args + ["--full-count"] * full_count, capture_output=True, text=True, env=env, check=False
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        print(proc.stderr[-3000:])
        raise SystemExit("Spark slice failed")
    stats = {k: v for line in lines for k, v in line.items()}
    rows = [
        {"engine": e, "seconds": stats[e]["seconds"], "candidate pairs": stats[e]["candidate_pairs"],
         "pairs kept": stats[e]["pairs"]}
        for e in ("duckdb", "spark")
    ]  # fmt: skip
    title = (
        f"Spark slice: social-care probabilistic stage, predict-only with the DuckDB-trained model, "
        f"districts {', '.join(stats['districts'])} ({stats['children']:,} children to score, "
        f"{stats['pupils']:,} pupils); Spark/DuckDB seconds {stats['ratio']:.1f}x (Spark's start, "
        f"{stats['spark_start_seconds']:.0f} s, apart); same pairs on both: {stats['same_pairs']}, "
        f"largest probability gap {stats['largest_probability_gap']}"
    )
    if "spark_full_candidate_pairs" in stats:
        title += (
            f"; the whole job's social-care candidate pairs counted on Spark: "
            f"{stats['spark_full_candidate_pairs']:,} ({stats['spark_full_count_seconds']:.0f} s)"
        )
    elif full_count:
        # the error, not the last frame of a Java stack trace
        errors = [line for line in proc.stderr.splitlines() if "Error" in line or "Exception" in line]
        title += f"; the whole job's count on Spark failed: {(errors or ['no message'])[-1].strip()[:300]}"
    return title, rows


if __name__ == "__main__":
    main()
