"""`check` and `link` on a real, clean folder of extracts with `--out` a file: refused at once (exit 2, one
line naming --out and the path, no traceback), before any extract is read or anything written. Before
the check (exclusion_risk.cli_checks.out_folder) both read the extracts and ended in FileExistsError."""

from __future__ import annotations

from typer.testing import CliRunner

from exclusion_risk.cli import app

runner = CliRunner()


def _refused_at_once(tmp_path, extracts_folder, *command: str) -> None:
    data = extracts_folder(tmp_path / "la", census_rows=3)
    afile = tmp_path / "afile"
    afile.write_text("")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = runner.invoke(app, [*command, "--data", str(data), "--out", str(afile)], terminal_width=200)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [f"error: --out {afile} is a file, not a folder"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written
    assert afile.read_text() == ""


def test_check_with_out_a_file_stops_before_reading(tmp_path, extracts_folder):
    _refused_at_once(tmp_path, extracts_folder, "check")


def test_link_with_out_a_file_stops_before_linking(tmp_path, extracts_folder):
    _refused_at_once(tmp_path, extracts_folder, "link", "--no-progress")


def test_links_refusals_read_as_every_other_commands(tmp_path):
    # `link --data /nope` said "/nope: not a folder of extracts" where every other command's refusal
    # reads "error: ..."; so did its refusals of the settings, the backend and the extracts
    missing = tmp_path / "nope"
    out = str(tmp_path / "out")
    result = runner.invoke(app, ["link", "--data", str(missing), "--out", out, "--no-progress"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [f"error: {missing}: not a folder of extracts"]
    bad = tmp_path / "settings.json"
    bad.write_text("{")
    result = runner.invoke(app, ["link", "--data", str(tmp_path), "--out", out, "--settings", str(bad),
                                 "--no-progress"])  # fmt: skip
    assert result.exit_code == 2 and result.output.startswith("error: Cannot use the settings: ")
