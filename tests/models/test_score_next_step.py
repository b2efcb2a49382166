"""`score` says how to check its scores once the year's outcomes are in (`evaluate`), in one line."""

from __future__ import annotations

from pathlib import Path

from exclusion_risk.models.score_cli import evaluate_later


def test_the_line_names_evaluate_with_the_scores_written():
    line = evaluate_later(Path("data/demo"), Path("out/scores.csv"), "2018/19", None)
    assert line == ("to check these scores once 2018/19's outcomes are in: "
                    "exclusion-risk evaluate --data data/demo --scores out/scores.csv (--data: extracts "
                    "taken after 2018/19 ends, holding its exclusions)")  # not the extracts scored, then


def test_the_line_names_a_runs_folder_given():
    line = evaluate_later(Path("my data"), Path("scores.csv"), "2018/19", Path("elsewhere/runs"))
    assert "exclusion-risk evaluate --data 'my data' --scores scores.csv --runs elsewhere/runs (" in line
