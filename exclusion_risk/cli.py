"""The `exclusion-risk` command: one typer app whose subcommands are contributed by each stage.

Each command module below has `register(app)`; heavy imports happen inside the commands so
`exclusion-risk --help` stays fast. Modules are listed in pipeline order.
"""

from __future__ import annotations

import importlib
import logging
import os

import typer

# The console is for the project's own concise lines: MLflow's per-artifact progress bars and INFO
# chatter (database migrations, "registered model") add nothing an analyst needs.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
logging.getLogger("mlflow").setLevel(logging.WARNING)
logging.getLogger("alembic").setLevel(logging.WARNING)

app = typer.Typer(
    name="exclusion-risk",
    help="Find children at risk of school exclusion early enough to help. "
    "Scores support a professional's judgement; they are not decisions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

STAGE_CLIS = (
    "exclusion_risk.synth.cli",  # synth
    "exclusion_risk.linkage.check_cli",  # check
    "exclusion_risk.linkage.link_cli",  # link
    "exclusion_risk.features.cli",  # features
    "exclusion_risk.models.train_cli",  # train, compare, promote
    "exclusion_risk.models.score_cli",  # review, score
    "exclusion_risk.serving.cli",  # serve, keys
)

for _module in STAGE_CLIS:
    try:
        _stage = importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # a stage not built yet contributes no commands
        if exc.name != _module:
            raise
        continue
    _stage.register(app)
