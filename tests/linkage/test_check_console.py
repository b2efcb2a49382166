"""Issue #11, finding 11: `check` prints exact counts (read = clean + rejected adds up on screen) and
never a pupil value, whatever a reject reason or an unknown code holds."""

from __future__ import annotations

import re

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.check_cli import reason_counts
from exclusion_risk.upn import make_upn

runner = CliRunner()


def test_check_prints_exact_small_counts_that_add_up(
    tmp_path, census_row, csv_text, write, extracts_folder, mis_header, exclusion_row, exclusions_header
):
    folder = extracts_folder(tmp_path / "la")
    # free text where a reason code belongs: read as group `other` and counted, never shown
    exclusions = [exclusion_row(Reason="kicked Featherstonehaugh"), exclusion_row(Reason="ZZ")]
    write(folder / "exclusions.csv", csv_text(exclusions, exclusions_header))
    rows = [census_row(make_upn(330, 4002, 2010, i)) for i in range(7)]
    rows[2]["DoB"] = "31/02/2009"
    rows[5]["Ethnicity"] = "QQQQ"
    write(folder / "census.csv", csv_text(rows, mis_header))
    result = runner.invoke(app, ["check", "--data", str(folder)], terminal_width=200)
    assert result.exit_code == 0, result.output
    census = result.output.split("exclusions")[0]
    found = re.findall(r"│ (rows read|rows clean|rows rejected)\s+│\s+(\d+) │", census)
    counts = {k: int(v) for k, v in found}
    assert counts == {"rows read": 7, "rows clean": 5, "rows rejected": 2}
    assert "<10" not in result.output
    assert "rejected rows (all extracts): 2 ->" in result.output
    assert "FEATHERSTONEHAUGH" not in result.output.upper() and "unknown reason code ZZ" in result.output


def test_reasons_are_grouped_by_wording_with_row_and_line_numbers_dropped():
    rejects = pd.DataFrame(
        {
            "value": ["", "", "x", "y"],
            "reason": [
                "exact duplicate of row 17",
                "exact duplicate of row 3",
                "part of a quoted value that runs from line 4 to line 9 (an unclosed quote?)",
                "missing value | not a date",
            ],
        }
    )
    counts = reason_counts(rejects)
    assert counts["exact duplicate of an earlier row"] == 2
    assert counts["part of a quoted value that runs from line n to line n (an unclosed quote?)"] == 1
    assert counts["missing value"] == 1 and counts["not a date"] == 1


def test_reasons_counted_past_the_rows_rejected_are_said_to_be(tmp_path, census_row, csv_text, write,
                                                                extracts_folder, mis_header):
    """A row rejected for two reasons counts under each: the lines under "rows rejected" summed past it
    (68 rows, 69 by the reasons) with no word why."""
    folder = extracts_folder(tmp_path / "la")
    rows = [census_row(make_upn(330, 4002, 2010, i)) for i in range(4)]
    rows[1].update(DoB="31/02/2009", Ethnicity="QQQQ")  # one row, two reasons
    write(folder / "census.csv", csv_text(rows, mis_header))
    result = runner.invoke(app, ["check", "--data", str(folder)], terminal_width=200)
    assert result.exit_code == 0, result.output
    census = result.output.split("exclusions")[0]
    assert re.search(r"│ rows rejected\s+│\s+1 │", census)
    assert "a row rejected for two reasons counts under each" in census
    single = result.output.split("exclusions")[1]
    assert "counts under each" not in single  # said only where the lines add up past the rows


def test_exclusions_after_the_census_latest_year_are_warned_of(tmp_path, census_row, csv_text, write,
                                                                extracts_folder, exclusion_row,
                                                                exclusions_header):
    """300 exclusions moved to 2021/22, past the census's last year, were said only in the year table."""
    folder = extracts_folder(tmp_path / "la")
    upn = make_upn(330, 4001, 2010, 0)
    exclusions = [exclusion_row(upn, StartDate="2017-01-10"), exclusion_row(upn, StartDate="2021-10-04"),
                  exclusion_row(upn, StartDate="2021-11-04")]
    write(folder / "exclusions.csv", csv_text(exclusions, exclusions_header))
    result = runner.invoke(app, ["check", "--data", str(folder)], terminal_width=300)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert ("warning: exclusions: 2 rows start after the census's latest year, 2016/17 (2021/22: 2): no "
            "census year reads them") in said
