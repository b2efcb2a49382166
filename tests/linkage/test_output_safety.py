"""Issue #11, findings 3 and 5 for `link` and `check`: formula-leading census values reach no CSV cell
unneutralised, and every file holding identifiers is 0600 in a 0700 folder (under umask 022)."""

from __future__ import annotations

import csv
import os
import stat
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.files import FORMULA_LEADS
from exclusion_risk.linkage import outputs
from exclusion_risk.linkage.outputs import LinkageResult, write_outputs
from exclusion_risk.linkage.settings import LinkageSettings

# What an attacker (or a careless export) puts in the census: a UPN, a surname and a school number.
FORMULA_UPN = "@SUM(1+1)*cmd|' /C calc'!A0"
FORMULA_SURNAME = '=HYPERLINK("http://evil.example/?x","click")'
FORMULA_URN = "+1+2"
IDENTIFYING = ("links.csv", "review.csv", "unlinked.csv", "rejects.csv")

runner = CliRunner()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _folder(tmp_path, population, census_row, exclusion_row, social_care_row):
    """300 census pupils; pupil 0's UPN, twins 1 and 2's surname and pupil 3's school are formulas."""
    pupils = population(300, seed=5)
    pupils.loc[0, "UPN"] = FORMULA_UPN
    pupils.loc[[1, 2], "Surname"] = FORMULA_SURNAME
    pupils.loc[2, ["DOB", "Postcode"]] = pupils.loc[1, ["DOB", "Postcode"]].to_numpy()
    census = [
        census_row(
            p.UPN, Surname=p.Surname, Forename=p.Forename, Gender=p.Sex, DoB=p.DOB.strftime("%Y-%m-%d"),
            Postcode=p.Postcode, Ethnicity=p.Ethnicity, AcademicYear="2018/19",
            Estab=FORMULA_URN if i == 3 else "3304001",
        )
        for i, p in enumerate(pupils.itertuples())
    ]  # fmt: skip
    census.append(census_row(FORMULA_UPN, DoB="not a date", Surname=FORMULA_SURNAME))  # a rejected row
    exclusions = [
        exclusion_row("", Surname=p.Surname, Forename=p.Forename, DOB=p.DOB.strftime("%d/%m/%Y"), Sex=p.Sex,
                      StartDate="2019-01-10", RecordID=f"X{i}")
        for i, p in enumerate(pupils.head(40).itertuples())
    ]  # fmt: skip
    twin = pupils.loc[1]
    social_care = [
        social_care_row(f"C{i}", Surname=p.Surname, Forename=p.Forename, DOB=p.DOB.strftime("%Y-%m-%d"),
                        Sex="1" if p.Sex == "M" else "2", Postcode=p.Postcode, StartDate="2018-11-01")
        for i, p in enumerate(pupils.iloc[[1, *range(4, 40)]].itertuples())
    ]  # fmt: skip
    assert social_care[0]["Surname"] == twin["Surname"] == FORMULA_SURNAME
    folder = tmp_path / "extracts"
    folder.mkdir()
    for name, rows in (("census", census), ("exclusions", exclusions), ("social_care", social_care)):
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)  # quoted where needed
    return folder


def _cells(path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _formula_cells(path) -> list[str]:
    return [c for c in _cells(path) if c.startswith(FORMULA_LEADS) and not _is_number(c)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture
def extracts(tmp_path, population, census_row, exclusion_row, social_care_row):
    return _folder(tmp_path, population, census_row, exclusion_row, social_care_row)


@pytest.mark.usefixtures("umask_022")
def test_link_outputs_start_no_formula_and_are_private(extracts, tmp_path):
    out = tmp_path / "out" / "link"
    result = runner.invoke(app, ["link", "--data", str(extracts), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    for name in IDENTIFYING:
        assert not _formula_cells(out / name), name
        assert _mode(out / name) == 0o600, name
    assert _mode(out) == 0o700 and _mode(out.parent) == 0o700  # both created by the run
    # the attacks did reach the outputs, neutralised (else this test would prove nothing): the
    # formula UPN and school are rejected by the reader (not UPN- or URN-shaped), the surname links
    rejected = _cells(out / "rejects.csv")
    assert "'" + FORMULA_UPN in rejected and "'" + FORMULA_URN in rejected


@pytest.mark.usefixtures("umask_022")
def test_review_csv_neutralises_a_formula_surname_on_both_sides(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "render_html", lambda report: "")  # the CSVs are what is tested here
    review = pd.DataFrame(
        {"source": ["social_care"], "record_id": ["C1"], "upn": [FORMULA_UPN], "score": [0.71],
         "source_Surname": [FORMULA_SURNAME], "census_Surname": [FORMULA_SURNAME]}
    )  # fmt: skip
    empty = pd.DataFrame({"source": pd.Series(dtype=str)})
    result = LinkageResult(empty, review, empty, {}, LinkageSettings())
    write_outputs(result, SimpleNamespace(rejects=None), tmp_path / "made" / "link")
    path = tmp_path / "made" / "link" / "review.csv"
    assert not _formula_cells(path) and _mode(path) == 0o600 and _mode(path.parent) == 0o700
    expected = ["C1", "'" + FORMULA_UPN, "0.71", "'" + FORMULA_SURNAME, "'" + FORMULA_SURNAME]
    assert _cells(path)[-5:] == expected


@pytest.mark.usefixtures("umask_022")
def test_check_writes_its_rejects_private_and_neutralised(extracts, tmp_path):
    out = tmp_path / "new" / "check"
    result = runner.invoke(app, ["check", "--data", str(extracts), "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert _mode(out / "rejects.csv") == 0o600 and _mode(out) == 0o700 and _mode(out.parent) == 0o700
    assert not _formula_cells(out / "rejects.csv")
    assert "'" + FORMULA_URN in _cells(out / "rejects.csv")
    assert FORMULA_SURNAME not in result.output and FORMULA_UPN not in result.output
