"""Generation time and calibration of the synthetic authority.

Generates an authority in a temporary folder and prints, in the same run:

  * the generation time per stage and in total, against the 60 s target for 62,536 pupils x 4 years;
  * a machine-speed reference: pandas.to_csv of the generated census (plain I/O on this machine), so
    timings taken on a busy machine can be read as a ratio;
  * the calibration figures (synth.calibration.measure) and identifier noise rates (measure_noise).

    .venv/bin/python bench/synth.py [--pupils 62536] [--seed 7] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from exclusion_risk.synth.calibration import load_authority, measure, measure_noise
from exclusion_risk.synth.config import load_config
from exclusion_risk.synth.generate import generate_authority

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=62536)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "authority"
        started = time.perf_counter()
        manifest = generate_authority(load_config(pupils=args.pupils, seed=args.seed), out)
        seconds = time.perf_counter() - started
        census = pd.read_csv(out / "census.csv", dtype=str, keep_default_na=False)
        ref_started = time.perf_counter()
        census.to_csv(Path(tmp) / "reference.csv", index=False)
        reference = time.perf_counter() - ref_started
        authority = load_authority(out)
        figures = measure(authority)
        noise = measure_noise(authority)

    print(f"pupils {args.pupils:,} x {len(manifest['years'])} years, seed {args.seed}")
    print(f"rows: {manifest['rows']}")
    for stage, s in manifest["stage_seconds"].items():
        print(f"  {stage:<12} {s:6.2f} s")
    verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
    print(f"generation     {seconds:6.2f} s  ({verdict} the {TARGET_SECONDS:.0f} s target)")
    print(
        f"reference      {reference:6.2f} s  pandas.to_csv of the census; generation = "
        f"{seconds / reference:.2f} x reference"
    )
    print("calibration:")
    for key, value in figures.items():
        shown = json.dumps(value, default=float) if isinstance(value, dict | str) else round(value, 4)
        print(f"  {key}: {shown}")
    print("identifier noise (share of linked records):")
    for source, rates in noise.items():
        print(f"  {source}: " + ", ".join(f"{k}={v:.4g}" for k, v in rates.items()))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "seconds": seconds,
                    "reference_seconds": reference,
                    "stage_seconds": manifest["stage_seconds"],
                    "calibration": figures,
                    "noise": noise,
                },
                indent=2,
                default=float,
            )
        )


if __name__ == "__main__":
    main()
