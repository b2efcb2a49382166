"""A scores.csv passed back (`evaluate --scores`, `score --compare-with`) with text typed into its
probability column: pandas' cast error quoted the cell, and both commands printed it ("could not convert
string to float: '<a surname, date of birth and postcode>'"). The read names the file, line and column,
never the value; any other parse error is named by its kind only."""

from __future__ import annotations

import pandas as pd
import pytest
import typer

from exclusion_risk.models import evaluate_cli
from exclusion_risk.models.score_runs import RunNotFound, read_run_pupils
from exclusion_risk.upn import make_upn

NOTE = "Smithson 04/03/2009 WS1 1AA"


def _scores(tmp_path, probability: list[str]):
    path = tmp_path / "scores.csv"
    pd.DataFrame({"upn": [make_upn(330, 4001, 2010, i) for i in range(len(probability))],
                  "probability": probability, "likelihood_band": "low", "rag": "green",
                  "school_urn": "100001"}).to_csv(path, index=False)  # fmt: skip
    return path


def test_text_in_the_probability_column_is_named_by_line_never_quoted(tmp_path):
    path = _scores(tmp_path, ["0.1", NOTE, "0.3"])
    with pytest.raises(RunNotFound) as caught:
        read_run_pupils(path)
    said = str(caught.value)
    assert "probability" in said and "data row 2" in said and str(path) in said
    assert "Smithson" not in said and "2009" not in said and "WS1" not in said
    assert read_run_pupils(_scores(tmp_path, ["0.1", "", "0.3"]))["probability"].isna().sum() == 1


def test_another_read_error_is_named_by_its_kind(tmp_path, monkeypatch, capsys):
    def quoting(path):
        raise ValueError(f"could not convert string to float: '{NOTE}'")

    monkeypatch.setattr(evaluate_cli, "read_run_pupils", quoting)
    with pytest.raises(typer.Exit):
        evaluate_cli._scores_file_run(tmp_path / "scores.csv", None)
    said = capsys.readouterr().err
    assert "--scores" in said and "ValueError" in said and "Smithson" not in said
