"""`exclusion-risk --help`, `check` and `link` start without the model and service libraries.

The command modules import what a command runs inside the command (see tests/test_architecture.py's
exception for command-line modules), so defining the commands loads typer, pandas and pydantic only.
"""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from exclusion_risk.cli import app

# Libraries no command needs to be defined: each loads inside the commands that use it.
NOT_AT_START = ("sklearn", "scipy", "fastapi", "starlette", "uvicorn", "pandera", "mlflow", "lightgbm",
                "shap", "splink", "duckdb", "pyspark", "matplotlib")
COMMANDS = ("synth", "check", "link", "features", "describe", "train", "compare", "promote", "review",
            "score", "evaluate", "drift", "serve", "keys", "runs")


def loaded_at_start(code: str) -> list[str]:
    """The NOT_AT_START libraries a fresh interpreter has loaded after running `code`."""
    loaded = f"sorted(m for m in {NOT_AT_START!r} if m in sys.modules)"
    probe = f"import json, sys\n{code}\nprint(json.dumps({loaded}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_command_loads_no_model_or_service_library():
    assert loaded_at_start("import exclusion_risk.cli") == []


def test_help_check_and_link_help_load_no_model_or_service_library():
    code = (
        "from typer.testing import CliRunner\n"
        "from exclusion_risk.cli import app\n"
        "for args in (['--help'], ['check', '--help'], ['link', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0, args\n"
    )
    assert loaded_at_start(code) == []


def test_help_still_lists_every_command():
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith("│ ")]
    listed = {row[1] for row in rows if len(row) > 1}
    assert set(COMMANDS) <= listed, sorted(set(COMMANDS) - listed)


def test_every_command_help_still_answers():
    for command in COMMANDS:
        result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0, (command, result.output)
        assert "Usage:" in result.output, command
