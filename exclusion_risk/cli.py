"""The `exclusion-risk` command: one typer app whose subcommands are contributed by each stage.

Each stage's command module has `register(app)`; they are registered in pipeline order. This module
is the top layer: it imports every stage's command module, which defines its commands with typer and
the light libraries only (pandas, pydantic, rich, Jinja2). Each command imports what it runs (the
feature table, the model, the service's app) inside itself, so scikit-learn, SciPy, pandera (and
pyspark with it), FastAPI, MLflow, LightGBM, SHAP, Splink and uvicorn load only in the commands that
use them: `--help`, `check` and `link` do not wait for them (tests/test_cli_imports.py). Measured on
the development machine (2 cores, another run busy), before and after, in one run: `python -X
importtime -c "import exclusion_risk.cli"` 4.4 s -> 1.4 s (pandas and pyarrow are most of what is
left); `exclusion-risk --help` 5.2 s -> 1.8 s wall time, best of 3 (`check --help`, `link --help` and
`score --help` alike).
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

import typer

from exclusion_risk.features import cli as features_cli
from exclusion_risk.files import place_problem
from exclusion_risk.linkage import check_cli, link_cli
from exclusion_risk.models import describe_cli, drift_cli, evaluate_cli, score_cli, train_cli
from exclusion_risk.models.tracking import StoreUnavailable
from exclusion_risk.reference import ReferenceUnavailable
from exclusion_risk.serving import cli as serving_cli
from exclusion_risk.synth import cli as synth_cli

# The console (and the server's log) is for the project's own concise lines: MLflow's per-artifact
# progress bars add nothing an analyst needs. Every command, `serve` included, starts here.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# nor its INFO lines ("Updating database tables", "Creating initial MLflow database tables..."), which
# read as the command's own; its warnings still show (MLFLOW_LOGGING_LEVEL=INFO brings them back)
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")

class _App(typer.Typer):
    """The app, whose run says a refused output path (a symbolic link) or an MLflow store that cannot be
    used (one that cannot be made, or moved from its model files), a postcode or IDACI lookup that
    cannot be read, or an output that cannot be written (a folder not writable, a full disk), in one
    line, as `fail` does."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (StoreUnavailable, ReferenceUnavailable) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None
        except OSError as exc:  # a path refused by the system (files.place_problem); any other, as it is
            if (said := place_problem(exc)) is None:
                raise
            typer.echo(f"error: {said}", err=True)
            raise SystemExit(2) from None


app = _App(
    name="exclusion-risk",
    help="Find children at risk of school exclusion early enough to help. "
    "Scores support a professional's judgement; they are not decisions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _say_version(wanted: bool) -> None:
    """`--version`: the installed release, as its package metadata gives it."""
    if wanted:
        try:
            installed = version(app.info.name)
        except PackageNotFoundError:  # run from a checkout that was never installed
            installed = "(not installed)"
        typer.echo(f"{app.info.name} {installed}")
        raise typer.Exit()


@app.callback()
def _options(
    _version: bool = typer.Option(
        False, "--version", callback=_say_version, is_eager=True, help="Say the installed version and exit."
    ),
) -> None:
    pass


STAGE_CLIS = (
    synth_cli,  # synth
    check_cli,  # check
    link_cli,  # link
    features_cli,  # features
    describe_cli,  # describe
    train_cli,  # train, compare, promote
    score_cli,  # review, score
    evaluate_cli,  # evaluate
    drift_cli,  # drift
    serving_cli,  # serve, keys
)

for _stage in STAGE_CLIS:
    _stage.register(app)
