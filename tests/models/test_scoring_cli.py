"""`exclusion-risk score` and `review`: bad input gets a clear message and exit code 2, never a traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from exclusion_risk.cli import app

runner = CliRunner()


def _run(args, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return runner.invoke(app, args)


def test_score_refuses_a_bad_capacity(tmp_path, monkeypatch):
    result = _run(
        ["score", "--data", str(tmp_path), "--year", "2018/19", "--capacity", "150%"], tmp_path, monkeypatch
    )
    assert result.exit_code == 2
    assert "--capacity: capacity must be between 0% and 100% (e.g. 5%), got 150%" in result.output
    assert "Traceback" not in result.output


def test_score_refuses_a_bad_year_and_output(tmp_path, monkeypatch):
    result = _run(["score", "--data", str(tmp_path), "--year", "next year"], tmp_path, monkeypatch)
    assert result.exit_code == 2 and "--year" in result.output
    result = _run(
        ["score", "--data", str(tmp_path), "--year", "2018/19", "--out", "x.txt"], tmp_path, monkeypatch
    )
    assert result.exit_code == 2 and "must end in .csv" in result.output


def test_score_without_a_champion_says_what_to_do(tmp_path, monkeypatch):
    result = _run(["score", "--data", str(tmp_path), "--year", "2018/19"], tmp_path, monkeypatch)
    assert result.exit_code == 2
    assert "exclusion-risk train" in result.output and "promote" in result.output


def test_review_of_an_unknown_run(tmp_path, monkeypatch):
    result = _run(["review", "deadbeef0000", "--data", str(tmp_path)], tmp_path, monkeypatch)
    assert result.exit_code == 2
    assert "no model run or registry version matches" in result.output
