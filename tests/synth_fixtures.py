"""Synthetic authorities for tests: generated once per session and shared by pytest-xdist workers.

`synthetic_authority(tmp_path_factory, pupils, seed, years)` returns the folder of a generated
authority (census.csv, exclusions.csv, social_care.csv, truth/). Under xdist every worker has its own
base temp dir; their common parent holds the authority, and a file lock makes exactly one worker
generate it while the others wait (the pattern in pytest-xdist's documentation).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from filelock import FileLock

DEFAULT_YEARS = ("2015/16", "2016/17", "2017/18", "2018/19")


def synthetic_authority(
    tmp_path_factory: pytest.TempPathFactory,
    pupils: int,
    seed: int,
    years: Sequence[str] = DEFAULT_YEARS,
    **settings: object,
) -> Path:
    """Folder of a generated authority, built once per test session for these arguments.

    Extra keyword `settings` are passed to `synth.config.load_config` (e.g. output={"header_style": "mis"}).
    """
    from exclusion_risk.synth.config import load_config
    from exclusion_risk.synth.generate import generate_authority

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    tag = "_".join(f"{k}-{v}" for k, v in sorted(settings.items())).replace("/", "").replace(" ", "")
    name = f"synth_p{pupils}_s{seed}_{'-'.join(y.replace('/', '') for y in years)}"
    name += f"_{hashlib.sha1(tag.encode()).hexdigest()[:8]}" if tag else ""
    folder = root / name
    with FileLock(str(folder) + ".lock"):
        if not (folder / "truth" / "manifest.json").is_file():
            partial = root / (name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            config = load_config(pupils=pupils, seed=seed, years=list(years), **settings)
            generate_authority(config, partial)
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
    return folder


@pytest.fixture(scope="session")
def small_authority(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 6,000 pupils x 4 years (seed 11): quick enough for any stage's tests."""
    return synthetic_authority(tmp_path_factory, 6000, 11)


@pytest.fixture(scope="session")
def full_authority(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Walsall-sized authority: 62,536 pupils x 4 years (seed 7). Share it; never write into it."""
    return synthetic_authority(tmp_path_factory, 62536, 7)
