"""A `link` that fails (exit 2) leaves no folder that looks like a link output: the folder it created
(and the parents it created) is removed when nothing but its run.log was written; a folder that was
there before, and its other files, are kept, and its run.log says why the run failed."""

from __future__ import annotations

from typer.testing import CliRunner


def _header_only(folder, extracts_folder):
    """A folder of the three extracts with their header rows only."""
    data = extracts_folder(folder)
    for extract in data.iterdir():
        extract.write_text(extract.read_text().splitlines()[0] + "\n")
    return data


def _link(link_app, data, out):
    return CliRunner().invoke(link_app, ["link", "--data", str(data), "--out", str(out), "--no-progress"])


def test_a_failed_link_removes_the_folder_it_created(link_app, tmp_path, extracts_folder):
    data = _header_only(tmp_path / "data", extracts_folder)
    out = tmp_path / "bad" / "l1"
    result = _link(link_app, data, out)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert not out.exists() and not (tmp_path / "bad").exists()


def test_a_failed_link_keeps_a_folder_that_was_there_and_says_why_in_run_log(
    link_app, tmp_path, extracts_folder
):
    data = _header_only(tmp_path / "data", extracts_folder)
    out = tmp_path / "l1"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = _link(link_app, data, out)
    assert result.exit_code == 2, result.output
    assert (out / "notes.txt").read_text() == "mine"
    error = next(line for line in result.output.splitlines() if line.startswith("error: "))
    assert error.removeprefix("error: ") in (out / "run.log").read_text()
