"""`link` ends by naming the next command, with the folders the user gave."""

from __future__ import annotations

from typer.testing import CliRunner


def test_link_names_the_next_command(link_app, tmp_path, extracts_folder):
    data = extracts_folder(tmp_path / "my data")
    out = tmp_path / "links"
    result = CliRunner().invoke(link_app, ["link", "--data", str(data), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"next: exclusion-risk train --data '{data}' --links {out}"
