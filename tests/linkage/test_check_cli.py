"""`exclusion-risk check` on good and broken folders: counts, suppression, rejects.csv, exit codes."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.upn import make_upn

runner = CliRunner()


def check(*args: str):
    return runner.invoke(app, ["check", *args], catch_exceptions=False, terminal_width=200)


def test_check_reports_counts_and_writes_rejects_without_names_or_dates(
    tmp_path, census_row, exclusion_row, csv_text, write, extracts_folder, mis_header, exclusions_header
):
    folder = extracts_folder(tmp_path / "la", census_rows=12)
    rows = [census_row(make_upn(330, 4002, 2010, i), Surname="Featherstonehaugh", DoB="2009-07-14")
            for i in range(12)]  # fmt: skip
    rows[3]["DoB"] = "31/02/2009"
    rows[4]["Ethnicity"] = "QQQQ"
    rows[5]["UPN"] = "A" + rows[5]["UPN"][1:] if rows[5]["UPN"][0] != "A" else "B" + rows[5]["UPN"][1:]
    write(folder / "census.csv", csv_text(rows, mis_header))
    write(
        folder / "exclusions.csv",
        csv_text(
            [exclusion_row(Category="FIXD", Reason="PD;ZZ"), exclusion_row(Category="PERM")],
            exclusions_header,
        ),
    )
    result = check("--data", str(folder))
    assert result.exit_code == 0, result.output
    out = result.output
    expected = [
        "census", "exclusions", "social_care", "rows read", "rows clean", "rows rejected",
        "unknown Ethnicity code", "not a date", "invalid UPN (kept)", "Ethnicity", "SENprovision",
        "ReasonGroups", "persistent_disruption", "unknown reason code ZZ", "Status",
    ]  # fmt: skip
    for text in expected:
        assert text in out, text
    assert "│ rows read" in out and "12 │" in out and "<10" not in out  # exact counts (issue #11)
    # never a name or a date of birth on the console
    assert "Featherstonehaugh" not in out and "2009-07-14" not in out and "31/02/2009" not in out
    assert "Okafor" not in out
    assert not (folder / "check").exists()  # the extracts' folder is left as it came
    rejects = pd.read_csv(folder.parent / "check" / "rejects.csv", dtype=str)
    assert list(rejects.columns) == ["file", "row", "column", "value", "reason"]
    assert rejects[["file", "row", "column", "value"]].values.tolist() == [
        ["census.csv", "4", "DOB", "31/02/2009"],
        ["census.csv", "5", "Ethnicity", "QQQQ"],
    ]


def test_check_out_option_and_clean_folder(tmp_path, extracts_folder):
    folder = extracts_folder(tmp_path / "la")
    result = check("--data", str(folder), "--out", str(tmp_path / "report"))
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "report" / "rejects.csv").empty


def test_missing_required_column_exits_2_naming_file_and_column(
    tmp_path, exclusion_row, csv_text, write, extracts_folder, exclusions_header
):
    folder = extracts_folder(tmp_path / "la")
    write(
        folder / "exclusions.csv",
        csv_text([exclusion_row()], [c for c in exclusions_header if c != "StartDate"]),
    )
    result = check("--data", str(folder))
    assert result.exit_code == 2
    assert "exclusions.csv" in result.output and "'StartDate'" in result.output
    assert "Traceback" not in result.output
    assert "census" in result.output and "rows read" in result.output  # the other extracts are still checked


def test_empty_file_and_missing_folder_exit_2_with_a_message(tmp_path, extracts_folder):
    folder = extracts_folder(tmp_path / "la")
    (folder / "social_care.csv").write_bytes(b"")
    result = check("--data", str(folder))
    assert result.exit_code == 2 and "social_care.csv" in result.output and "empty" in result.output
    result = check("--data", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "not a folder" in result.output and "Traceback" not in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = check("--data", str(empty))
    assert result.exit_code == 2 and "no extracts found" in result.output
