"""A census folder whose files name their collection by date (no AcademicYear or CensusTerm in them): one
collection's file copied under another's name is read as two collections, and warned of, naming both."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.history import load_linked
from exclusion_risk.linkage.readers import read_census
from exclusion_risk.upn import make_upn

UPNS = [make_upn(330, 4001, 2010, n) for n in range(1, 4)]


def _census(folder: Path, census_row, csv_text, write, mis_header, copied: bool) -> Path:
    """census/census_2017-10-04.csv and census_2018-10-04.csv; the second a byte copy where `copied`."""
    header = [c for c in mis_header if c not in ("AcademicYear", "CensusTerm")]
    write(folder / "census" / "census_2017-10-04.csv", csv_text([census_row(u) for u in UPNS], header))
    later = UPNS if copied else UPNS[:2]
    write(folder / "census" / "census_2018-10-04.csv", csv_text([census_row(u) for u in later], header))
    return folder / "census"


def test_a_collection_copied_under_another_date_is_warned_of_naming_both(
    tmp_path, census_row, csv_text, write, mis_header, extracts_folder, exclusion_row, social_care_row
):
    # census_2018-10-04.csv, a byte copy of census_2017-10-04.csv, was read without a word: every pupil
    # scored in 2018/19 a year behind their age
    folder = extracts_folder(tmp_path / "la")
    (folder / "census.csv").unlink()
    # the exclusion and the social-care record carry a pupil's UPN: linked by it, nothing is left for
    # the probabilistic stage, whose model training (twice: link, load_linked) was most of the test's time
    write(folder / "exclusions.csv", csv_text([exclusion_row(UPNS[0])]))
    write(folder / "social_care.csv", csv_text([social_care_row(UPN=UPNS[0])]))
    result = read_census(_census(folder, census_row, csv_text, write, mis_header, copied=True))
    assert len(result.clean) == 6  # read, not refused: a warning line
    (warning,) = result.warnings
    assert "census/census_2017-10-04.csv" in warning and "census/census_2018-10-04.csv" in warning
    assert "same rows" in warning
    checked = CliRunner().invoke(app, ["check", "--data", str(folder), "--out", str(tmp_path / "check")])
    assert checked.exit_code == 0, checked.output
    said = " ".join(checked.output.split())
    assert "warning:" in said and "census/census_2017-10-04.csv" in said and "census_2018-10-04.csv" in said
    linked = CliRunner().invoke(app, ["link", "--data", str(folder), "--out", str(tmp_path / "link")])
    assert linked.exit_code == 0, linked.output
    assert f"warning: {warning}" in linked.output
    assert warning in (tmp_path / "link" / "run.log").read_text()
    # the commands that read the extracts for a history (score, describe, train) print these warnings
    assert warning in load_linked(folder).warnings


def test_two_collections_with_their_own_rows_are_not_warned_of(
    tmp_path, census_row, csv_text, write, mis_header
):
    result = read_census(_census(tmp_path, census_row, csv_text, write, mis_header, copied=False))
    assert len(result.clean) == 5 and result.warnings == []
