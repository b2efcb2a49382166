
"""Generate a synthetic authority: the one entry point that the CLI, tests and benches call."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from exclusion_risk.files import write_text

from .attendance import build_attendance, termly_attendance
from .config import SynthConfig
from .exclusions import simulate_exclusions
from .geography import build_schools, load_geography
from .population import build_population
from .social_care import build_social_care
from .write import (
    census_dates,
    census_frame,
    exclusions_frame,
    pupil_years_frame,
    social_care_frame,
    write_all,
)

STAGES = ("geography", "population", "attendance", "social care", "exclusions", "extracts", "write")


def generate_authority(
    config: SynthConfig, out: Path | str, progress: Callable[[str], None] | None = None
) -> dict:
    """Write census.csv, exclusions.csv, social_care.csv and truth/ under `out`; return the manifest.

    Deterministic for `config.seed`: each stage draws from its own child of one SeedSequence, so a
    change to one stage's settings leaves the others' draws alone.
    """
    out = Path(out)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(len(STAGES) + 4)]

    def step(name: str) -> None:
        timings[name] = round(time.perf_counter() - started - sum(timings.values()), 3)
        if progress:
            progress(name)

    geo = load_geography(config)
    schools = build_schools(config, geo, streams[0], streams[-1])  # names: the last, spare, child
    step("geography")
    pop = build_population(config, geo, schools, streams[1])
    step("population")
    att = build_attendance(config, pop, streams[2])
    step("attendance")
    episodes, others = build_social_care(config, pop, streams[3], len(geo))
    step("social care")
    hist = simulate_exclusions(config, pop, geo, schools, att, episodes, streams[4])
    step("exclusions")
    census = census_frame(config, pop, geo, schools, att, streams[5])
    exclusions, exclusion_links = exclusions_frame(config, pop, schools, hist, streams[6])
    social_care, social_care_links = social_care_frame(config, pop, geo, others, episodes, streams[7])
    pupil_years = pupil_years_frame(config, pop, hist)
    termly = termly_attendance(config, pop, att, streams[8])  # a spare stream: no other stage's draws move
    step("extracts")
    manifest = {
        "generator": "synth",
        "seed": config.seed,
        "years": config.years,
        "census_days": census_dates(config),
        "rows": {
            "census": len(census),
            "exclusions": len(exclusions),
            "social_care": len(social_care),
            "attendance": sum(len(frame) for frame in termly.values()),
        },
        "pupils": int(pop.present.any(axis=1).sum()),
        "schools": len(schools),
        "config": config.model_dump(mode="json"),
    }
    write_all(
        out,
        config,
        {"census": census, "exclusions": exclusions, "social_care": social_care},
        {
            "exclusion_links": exclusion_links,
            "social_care_links": social_care_links,
            "pupil_years": pupil_years,
            "schools": schools.frame(geo),
        },
        manifest | {"seconds": None},
        termly,
    )
    step("write")
    manifest["stage_seconds"] = timings
    manifest["seconds"] = round(time.perf_counter() - started, 2)
    write_all_manifest(out, manifest)
    return manifest


def write_all_manifest(out: Path, manifest: dict) -> None:
    write_text(out / "truth" / "manifest.json", json.dumps(manifest, indent=2, default=str))
