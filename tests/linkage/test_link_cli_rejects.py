"""`exclusion-risk link` says what the readers rejected: per extract, rows rejected of rows read and
where the reasons are (OUT/rejects.csv), on the console (exact, as `check` counts them) and in run.log
(no count: run.log is shared as report.json is, which gives them under 10 as "<10"); an extract with
rows and none clean is a warning and exit 2, its outputs still written. Counts only: no rejected value
is shown."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from exclusion_risk.upn import make_upn

BAD_DATE = "2017.01.10"  # a StartDate the exclusions reader rejects
UPNS = [make_upn(330, 4001, 2010, i) for i in range(3)]


def _folder(tmp_path, extracts_folder, write, csv_text, exclusion_row, exclusions_header, bad: int):
    """A small clean folder whose exclusions.csv has three rows, the first `bad` with BAD_DATE."""
    data = extracts_folder(tmp_path / "data", census_rows=3)
    rows = [exclusion_row(upn, StartDate=BAD_DATE if i < bad else "2017-01-10") for i, upn in enumerate(UPNS)]
    write(data / "exclusions.csv", csv_text(rows, exclusions_header))
    return data


def _link(link_app, data, out):
    return CliRunner().invoke(link_app, ["link", "--data", str(data), "--out", str(out), "--no-progress"])


def _link_with_bad_dates(link_app, tmp_path, bad: int, *fixtures):
    """(CLI result, output folder, the count line expected) for a folder whose exclusions.csv has
    `bad` of its three rows with BAD_DATE (`fixtures`: _folder's)."""
    data = _folder(tmp_path, *fixtures, bad=bad)
    out = tmp_path / "out"
    said = f"exclusions: {bad} of 3 rows read were rejected (exclusions.csv); reasons in {out}/rejects.csv"
    return _link(link_app, data, out), out, said


def _no_values(text: str) -> None:
    assert BAD_DATE not in text and not any(upn in text for upn in UPNS)
    assert "Okafor" not in text and "Chidi" not in text


def test_partly_rejected_extract_is_counted_on_console_and_in_run_log(
    link_app, tmp_path, extracts_folder, write, csv_text, exclusion_row, exclusions_header
):
    fixtures = (extracts_folder, write, csv_text, exclusion_row, exclusions_header)
    result, out, said = _link_with_bad_dates(link_app, tmp_path, 1, *fixtures)
    assert result.exit_code == 0, result.output
    assert said in result.output.splitlines()
    assert "warning:" not in result.output
    log = (out / "run.log").read_text()
    assert said not in log and "1 of 3" not in log  # the report gives it as "<10"
    assert f"exclusions: rows read were rejected (exclusions.csv); reasons in {out}/rejects.csv" in log
    _no_values(result.output + log)
    # a successful link ends naming the next command, with the folders as given (quoted where needed)
    data = tmp_path / "data"
    assert result.stdout.splitlines()[-1] == f"next: exclusion-risk train --data {data} --links {out}"


def test_all_rejected_extract_warns_and_exits_2_with_outputs_written(
    link_app, tmp_path, extracts_folder, write, csv_text, exclusion_row, exclusions_header
):
    fixtures = (extracts_folder, write, csv_text, exclusion_row, exclusions_header)
    result, out, said = _link_with_bad_dates(link_app, tmp_path, 3, *fixtures)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert said in result.output.splitlines()
    warning = (
        f"warning: exclusions.csv: every row read (3) was rejected, so the linkage had none of its rows; "
        f"the reasons are in {out / 'rejects.csv'}"
    )
    assert warning in result.output.splitlines()
    log = (out / "run.log").read_text()
    assert "WARNING" in log and warning.removeprefix("warning: ") not in log and "(3)" not in log
    assert "WARNING exclusion_risk.linkage.link_cli: exclusions.csv: every row read was rejected" in log
    # The outputs are written, so the rejects can be read and the run looked at.
    assert len((out / "rejects.csv").read_text().splitlines()) == 1 + 3
    report = json.loads((out / "report.json").read_text())
    assert report["rejected_rows"] == "<10"  # 3, published: under 10 withheld
    _no_values(result.output + log)


def test_census_with_no_clean_row_is_refused_before_linking(
    link_app, tmp_path, extracts_folder, write, csv_text, census_row, mis_header
):
    # With no census pupil nothing can be linked: the run stops there (no traceback from the engine),
    # saying so, and leaves rejects.csv for the analyst.
    data = extracts_folder(tmp_path / "data", census_rows=3)
    out = tmp_path / "out"
    assert _link(link_app, data, out).exit_code == 0  # an earlier run's outputs in the same folder
    write(data / "census.csv", csv_text([census_row(upn, AcademicYear="twenty") for upn in UPNS], mis_header))
    result = _link(link_app, data, out)
    assert result.exit_code == 2, result.output
    # Only this run's rejects and log: no earlier run's links left beside them.
    assert sorted(p.name for p in out.iterdir()) == ["rejects.csv", "run.log"]
    assert "Traceback" not in result.output
    assert "warning: census.csv: every row read (3) was rejected" in result.output
    assert len((out / "rejects.csv").read_text().splitlines()) == 1 + 3
    assert "census.csv: every row read was rejected" in (out / "run.log").read_text()
    assert "(3)" not in (out / "run.log").read_text()
    _no_values(result.output)


def test_report_html_shows_each_source_s_rejected_rows_suppressed_under_10(
    link_app, tmp_path, extracts_folder, write, csv_text, exclusion_row, exclusions_header
):
    data = _folder(tmp_path, extracts_folder, write, csv_text, exclusion_row, exclusions_header, bad=1)
    out = tmp_path / "out"
    assert _link(link_app, data, out).exit_code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["sources"]["exclusions"]["rows_rejected"] == "<10"  # 1: under 10
    assert report["sources"]["social_care"]["rows_rejected"] == 0
    html = (out / "report.html").read_text()
    assert "<th>rows rejected</th>" in html
    # 2 rows, one per record: withheld with the records
    assert "<td>exclusions</td><td>&lt;10</td><td>&lt;10</td>" in html


def test_no_progress_bar_reaches_a_stderr_that_is_not_a_terminal(
    link_app, tmp_path, extracts_folder, write, csv_text, exclusion_row, exclusions_header
):
    """Piped or logged by a scheduler, tqdm's bars were carriage-return noise on stderr unless
    --no-progress was given (an automation engineer's find): they show on a terminal only."""
    data = _folder(tmp_path, extracts_folder, write, csv_text, exclusion_row, exclusions_header, bad=0)
    result = CliRunner().invoke(link_app, ["link", "--data", str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr and "step/s" not in result.stderr and "linkage:" not in result.stderr


def test_a_social_care_detail_read_as_blank_is_said_on_links_console(
    link_app, tmp_path, extracts_folder, write, csv_text, social_care_row
):
    """The file's note (an unknown Ethnicity read as blank, the episode kept) was `check`'s alone: `link`,
    which a data lead runs, said nothing of it."""
    data = extracts_folder(tmp_path / "data", census_rows=3)
    rows = [social_care_row("C1", Ethnicity="White British"), social_care_row("C2", Status="Looked Afterr")]
    write(data / "social_care.csv", csv_text(rows))
    result = _link(link_app, data, tmp_path / "out")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert ("note: social_care.csv: 2 rows, UTF-8; values not in the data contract's lists read as blank, "
            "each row kept (its other columns are sound; correct them at source): Ethnicity 1 row(s) "
            "(rows 1); 1 child(ren) with every row rejected") in said
    assert "White British" not in said and "Afterr" not in said
