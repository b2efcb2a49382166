"""A command's console carries the project's own lines, not MLflow's INFO log: `score` against a store
printed "INFO mlflow.store.db.utils: Creating initial MLflow database tables..." and "Updating database
tables" before its one line (found by the CLI analyst tester, with `train --quiet`'s lines)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_command_prints_no_mlflow_info_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_LOGGING_LEVEL"}
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    (tmp_path / "mlruns").mkdir()
    (tmp_path / "extracts").mkdir()
    command = [sys.executable, "-c", "from exclusion_risk.cli import app; app()", "score",
               "--data", str(tmp_path / "extracts"), "--year", "2018/19",
               "--out", str(tmp_path / "scores" / "scores.csv")]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "INFO mlflow" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
