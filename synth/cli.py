"""`exclusion-risk synth`: write a synthetic authority's extracts and its ground truth."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from pydantic import ValidationError

from .config import load_config
from .generate import generate_authority


def _fail(message: str) -> None:
    typer.echo(f"synth: {message}", err=True)
    raise typer.Exit(code=2)


def synth(
    out: Path = typer.Option(
        ..., "--out", help="folder for census.csv, exclusions.csv, social_care.csv, truth/"
    ),
    pupils: int = typer.Option(None, "--pupils", help="pupils on roll at the first autumn census [62536]"),
    years: str = typer.Option(None, "--years", help="consecutive academic years [2015/16,...,2018/19]"),
    seed: int = typer.Option(None, "--seed", help="random seed; the same seed gives the same files [7]"),
    config: Path = typer.Option(None, "--config", help="YAML or JSON file overriding any setting"),
    header_style: str = typer.Option(None, "--header-style", help="census headers: contract or mis"),
    date_format: str = typer.Option(None, "--date-format", help="iso (YYYY-MM-DD) or uk (DD/MM/YYYY)"),
    base_rate: float = typer.Option(None, "--base-rate", help="share of pupils excluded per year [0.035]"),
    perm_rate: float = typer.Option(None, "--perm-rate", help="share permanently excluded per year [0.0015]"),
) -> None:
    """Generate a synthetic local authority (DfE-shaped extracts with realistic noise) and its truth.

    The truth folder (true links, each pupil-year's true probability) is for tests and benchmarks
    only: no stage of the pipeline may read it.
    """
    overrides: dict = {"pupils": pupils, "seed": seed}
    if years is not None:
        overrides["years"] = [y.strip() for y in years.split(",") if y.strip()]
    output = {k: v for k, v in {"header_style": header_style, "date_format": date_format}.items() if v}
    if output:
        overrides["output"] = output
    risk = {"base_rate": base_rate} if base_rate is not None else {}
    if risk:
        overrides["risk"] = risk
    if perm_rate is not None:
        overrides["schools"] = {"perm_rate": perm_rate}
    if config is not None and not config.is_file():
        _fail(f"config file {config} does not exist")
    try:
        cfg = load_config(config, **overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid settings: {problems}")
    except (ValueError, OSError) as exc:  # unreadable or malformed config file
        _fail(f"could not read config {config}: {exc}")
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} exists and is not a folder")
    started = time.time() - 0.01  # what this run writes is later (file times here are finer than this)
    try:
        manifest = generate_authority(
            cfg, out, progress=lambda stage: typer.echo(f"  {stage} done", err=True)
        )
    except ValueError as exc:
        _fail(str(exc))
    # an earlier run's files this one did not write (other years' attendance, say) stay, and `check`,
    # `link` and `train` read every file there: said, not removed (the folder may hold the user's own)
    older = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file() and p.stat().st_mtime < started)
    if older:
        more = f" and {len(older) - 3} more" if len(older) > 3 else ""
        typer.echo(f"note: {out} still holds {len(older)} file(s) this run did not write "
                   f"({', '.join(map(str, older[:3]))}{more}), which `check`, `link` and `train` would read "
                   "with it: remove them, or use a new folder", err=True)  # fmt: skip
    rows = manifest["rows"]
    typer.echo(
        f"Synthetic authority in {out}: {manifest['pupils']:,} pupils, {manifest['schools']} schools, "
        f"{rows['census']:,} census rows, {rows['exclusions']:,} exclusions, "
        f"{rows['social_care']:,} social-care episodes ({manifest['seconds']:.1f} s). "
        f"Ground truth in {out / 'truth'} (tests and benchmarks only)."
    )


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
