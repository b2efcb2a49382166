"""Name diversity and linkage recall at authority and national size: one command, one run.

    .venv/bin/python bench/name_diversity.py [--pools 0:0,996:0,996:125] [--seeds 7,23,101]
        [--national-pupils 2000000]

Issue #15 asks national-size linkage for recall no worse than the authority's. The generator's name
pools are small (the British community's 106 surnames, the commonest given to 6.1% of its
children; 69 boys' forenames, the commonest given to 10.9% of its boys), so the more pupils, the
more share a name, DOB and district, and an exact name is weaker evidence among 2,000,000 pupils
than among 86,448. This bench measures how much of the gap that is:
for each British name pool (`--pools`, `S:F`: S invented surnames, synth.surname_tail, follow the
pool's own, PopulationConfig.british_surname_tail, and F more forenames per sex, synth.forename_tail,
the boys' and girls' own, british_forename_tail; 0:0 is the pool every other bench uses) it
generates the 62,536-pupil authority (`--seeds`: one per seed; the authority's recall moves by about
0.001 between seeds, as much as some effects measured here) and the national simulation
(bench/linkage.py's `generate_region`, seed 7), links each in a child process (the authority with the
default settings, the simulation with the national blocking preset) and prints precision and recall
per source against the generator's truth, beside the chance that two British pupils share a surname
and that two British boys share a forename.
The names take the same random numbers whatever the pool, but the sources' identity noise draws
according to the names it alters (and with more forenames, co-twins redraw a shared forename fewer
times, moving every later draw), so each pool's extracts are another sample of the same generator
(synth/README.md): compare rates, not records.
`--accept` links each population again from its own trained model at other accept thresholds
(predict-only: the same pairs and scores, other bands) and then prints, per pool and source, the
simulation's recall at the lowest of them whose precision reaches the authority's: a threshold is a
choice of where to sit between precision and recall, and this asks whether, for as few wrong links,
the national run finds as many right ones.
About 12 minutes per pool at 2,000,000 pupils and three seeds on 2 cores, and about 5 more for each
other threshold.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from exclusion_risk.linkage.settings import Thresholds
from exclusion_risk.synth.config import PopulationConfig


def _linkage_bench():
    """bench/linkage.py as a module under its own name (a bare `linkage` is the stage's name)."""
    spec = importlib.util.spec_from_file_location("linkage_bench", Path(__file__).with_name("linkage.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_bench = _linkage_bench()
generate, generate_region, link_in_child = _bench.generate, _bench.generate_region, _bench.link_in_child
score_source, table, truth_of = _bench.score_source, _bench.table, _bench.truth_of


def name_sharing(data: Path) -> tuple[float, float]:
    """The chance two British (WBRI) pupils of the census share a surname, and two British boys a
    forename: the sums of squared shares."""
    columns = ["UPN", "Surname", "Forename", "Sex", "Ethnicity"]
    census = pd.read_csv(data / "census.csv", usecols=columns, dtype="string").drop_duplicates("UPN")
    british = census[census["Ethnicity"] == "WBRI"]
    surnames = british["Surname"].value_counts(normalize=True)
    forenames = british.loc[british["Sex"] == "M", "Forename"].value_counts(normalize=True)
    return float((surnames**2).sum()), float((forenames**2).sum())


def measure(
    pool: tuple[int, int], size: str, pupils: int, seed: int, tmp: Path, accepts: list[float]
) -> list[dict]:
    """Precision and recall per source of one generated population, linked once (the model trained
    there) and then again from that run's trained settings at each other accept threshold in
    `accepts` (predict-only: the same model, pairs and scores; only the bands move)."""
    tail, more = pool
    data, out = tmp / f"{size}-{tail}-{more}", tmp / f"{size}-{tail}-{more}-out"
    population = PopulationConfig(british_surname_tail=tail, british_forename_tail=more)
    if size == "authority":
        generate(data, pupils, seed=seed, population=population)
        settings: dict = {}
    else:
        generate_region(data, pupils, population=population)
        settings = {"blocking": "national"}
    first = link_in_child(data, out, settings, f"{size}, pool {tail}:{more}")
    trained = json.loads((out / "settings.json").read_text())
    runs = [(out, trained["thresholds"]["accept"], *first)]
    for accept in accepts:
        if accept == trained["thresholds"]["accept"]:
            continue
        review = min(trained["thresholds"]["review"], accept)
        bands = trained["thresholds"] | {"accept": accept, "review": review}
        again = out.with_name(f"{out.name}-{accept}")
        again_stats = link_in_child(data, again, trained | {"thresholds": bands}, f"accept {accept}")
        runs.append((again, accept, *again_stats))
    truth = truth_of(data)
    surname_sharing, forename_sharing = name_sharing(data)
    rows = []
    for folder, accept, stats, peak_gb in runs:
        links = pd.read_csv(folder / "links.csv", dtype="string")
        for source in ("exclusions", "social_care"):
            p, r, found, true = score_source(links[links["source"] == source], truth[source])
            rows.append(
                {
                    "invented surnames": tail,
                    "more forenames": more,
                    "British surname sharing": surname_sharing,
                    "British boys' forename sharing": forename_sharing,
                    "population": size,
                    "pupils": pupils,
                    "seed": seed,
                    "accept": accept,
                    "source": source,
                    "precision": p,
                    "recall": r,
                    "links": found,
                    "true links": true,
                    "seconds": round(stats["total"]),
                    "peak GB": f"{peak_gb:.2f}",
                }
            )
        print(f"pool {tail}:{more}, {size}, seed {seed}, accept {accept}: {stats['total']:.0f} s", flush=True)
    return rows


POOL_AND_SOURCE = ["invented surnames", "more forenames", "source"]


def gap_rows(frame: pd.DataFrame) -> list[dict]:
    """Per pool and source at the default accept threshold: the simulation's precision and recall
    against the authority's, seed 7's and the lowest over the seeds (the target: no worse than the
    authority's)."""
    rows = []
    default = frame[frame["accept"] == Thresholds().accept]
    for (tail, more, source), group in default.groupby(POOL_AND_SOURCE, sort=False):
        national = group[group["population"] == "national-sim"].iloc[0]
        authority = group[group["population"] == "authority"]
        seven = authority[authority["seed"] == 7]
        row = {"pool": f"{tail}:{more}", "source": source, "national recall": national["recall"]}
        if not seven.empty:
            row["authority recall, seed 7"] = seven["recall"].iloc[0]
        row["authority recall, lowest seed"] = authority["recall"].min()
        row["authority recall, highest seed"] = authority["recall"].max()
        row["national precision"] = national["precision"]
        row["authority precision, highest seed"] = authority["precision"].max()
        for label, bar in (("seed 7", seven), ("every seed", authority)):
            if bar.empty:
                continue
            recall, precision = bar["recall"].max(), bar["precision"].max()
            met = national["recall"] >= recall and national["precision"] >= precision
            row[f"target vs {label}"] = "met" if met else "not met"
        rows.append(row)
    return rows


def equal_precision_rows(frame: pd.DataFrame) -> list[dict]:
    """Per pool and source: the simulation at the lowest accept threshold measured (`--accept`) whose
    precision is at least the authority's best over the seeds at the default threshold, its recall
    there against the authority's best: whether, for the same share of wrong links, the national run
    finds as many of the true ones (a threshold is a choice of where to sit on that curve)."""
    rows = []
    default = Thresholds().accept
    for (tail, more, source), group in frame.groupby(POOL_AND_SOURCE, sort=False):
        authority = group[(group["population"] == "authority") & (group["accept"] == default)]
        national = group[group["population"] == "national-sim"].sort_values("accept")
        bar_precision, bar_recall = authority["precision"].max(), authority["recall"].max()
        row = {
            "pool": f"{tail}:{more}",
            "source": source,
            "authority precision": f"{bar_precision:.5f}",
            "authority recall": f"{bar_recall:.5f}",
        }
        usable = national[national["precision"] >= bar_precision]
        if usable.empty:
            rows.append(row | {"at the authority's precision": "not met: no threshold measured reaches it"})
            continue
        best = usable.iloc[0]
        rows.append(
            row
            | {
                "national accept": best["accept"],
                "national precision": f"{best['precision']:.5f}",
                "national recall": f"{best['recall']:.5f}",
                "at the authority's precision": "met" if best["recall"] >= bar_recall else "not met",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pools", default="0:0,996:0,996:125", help="S:F per pool: invented surnames, more forenames per sex"
    )
    parser.add_argument("--seeds", default="7,23,101", help="the authority's synth seeds, comma-separated")
    parser.add_argument("--authority-pupils", type=int, default=62536)
    parser.add_argument("--national-pupils", type=int, default=2_000_000)
    parser.add_argument(
        "--accept",
        default=str(Thresholds().accept),
        help="accept thresholds, comma-separated: each run again from its trained model at each (2,000,000 "
        "pupils: about 5 minutes a threshold)",
    )
    args = parser.parse_args()
    seeds = [int(x) for x in args.seeds.split(",")]
    # Checked before the first run: a bad entry found after hours of 2,000,000-pupil runs wastes them.
    pools = [tuple(int(n) for n in x.split(":")) for x in args.pools.split(",")]
    if any(len(pool) != 2 for pool in pools):
        parser.error(f"--pools takes S:F pairs, e.g. 996:125; got {args.pools}")
    accepts = list(dict.fromkeys(float(x) for x in args.accept.split(",")))
    try:
        for tail, more in pools:
            PopulationConfig(british_surname_tail=tail, british_forename_tail=more)
        for accept in accepts:
            Thresholds(accept=accept, review=min(Thresholds().review, accept))
    except ValidationError as error:
        parser.error("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in error.errors()))
    rows = []
    for pool in pools:
        runs = [("authority", args.authority_pupils, seed) for seed in seeds]
        for size, pupils, seed in [*runs, ("national-sim", args.national_pupils, 7)]:
            with tempfile.TemporaryDirectory() as tmp:
                rows += measure(pool, size, pupils, seed, Path(tmp), accepts)
    table("Recall by British name pool: the authority against the national simulation", rows)
    table(
        "The gap (issue #15's target: national precision and recall no worse than the authority's)",
        gap_rows(pd.DataFrame(rows)),
    )
    if accepts != [Thresholds().accept]:
        table(
            "At equal precision: the simulation's recall where its precision reaches the authority's",
            equal_precision_rows(pd.DataFrame(rows)),
        )


if __name__ == "__main__":
    main()
