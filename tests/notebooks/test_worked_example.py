"""The worked notebook runs top to bottom on a small synthetic authority (nbclient, private MLflow store)."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

# End to end: synth, linkage, training, review and scoring in a Jupyter kernel (about 20 s on 2 cores).
pytestmark = pytest.mark.slow


def test_worked_example_executes(repo_root, tmp_path, monkeypatch, mlflow_schema):
    notebook_path = repo_root / "notebooks" / "worked_example.ipynb"
    # the notebook's store (WORKDIR/mlflow.db) already migrated: its kernel need not run the migrations
    shutil.copyfile(mlflow_schema, tmp_path / "mlflow.db")
    monkeypatch.setenv("WORKED_EXAMPLE_DIR", str(tmp_path))
    monkeypatch.setenv("WORKED_EXAMPLE_PUPILS", "1200")
    monkeypatch.setenv("WORKED_EXAMPLE_MODELS", "lightgbm,logistic")
    notebook = nbformat.read(notebook_path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    assert "they are not decisions" in outputs
    assert (tmp_path / "fairness.html").stat().st_size > 10_000
    scores_page = (tmp_path / "scores.html").read_text()
    assert "Pupils per matrix cell" in scores_page
    # The same store and extracts through the command line: scores.csv with the notice, sorted, + summary.
    import pandas as pd
    from typer.testing import CliRunner

    from exclusion_risk.cli import app
    from exclusion_risk.contract import PUPIL_KEY, SCORE_COLUMNS, SCORE_OFFICER_COLUMNS
    from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    out = tmp_path / "cli" / "scores.csv"
    args = ["score", "--data", str(tmp_path / "extracts"), "--links", str(tmp_path / "links"),
            "--year", "2018/19", "--out", str(out), "--capacity", "10%"]  # fmt: skip
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    scores = pd.read_csv(out, dtype={"upn": str})  # a plain CSV: the header is row 1
    assert list(scores.columns) == SCORE_COLUMNS + SCORE_OFFICER_COLUMNS + [PUPIL_KEY]  # then the linked id
    assert scores["probability"].is_monotonic_decreasing
    assert (scores["likelihood_band"] == "very high").mean() > 0.05  # bands re-cut for 10% capacity
    # how sure: the re-cut bands' precision is measured again on the model's test year (in the extracts)
    assert scores["band_precision"].notna().any()
    assert "Of pupils placed" in out.with_suffix(".html").read_text()
    assert not scores["reasons"].fillna("").str.contains("in Year").any()  # year group is context
    assert DECISION_SUPPORT_NOTICE.split(";")[0] in out.with_suffix(".html").read_text().replace("&#39;", "'")
