"""`synth` into a folder an earlier run wrote: the earlier run's files it does not write again (other
years' termly attendance) stayed unsaid, and `check` then counted 1,831 attendance rows matching no
census pupil (an automation engineer's find). Said, not removed: the folder may hold the user's own."""

from __future__ import annotations

from typer.testing import CliRunner

from exclusion_risk.cli import app


def _synth(out, *more):
    return CliRunner().invoke(app, ["synth", "--out", str(out), "--pupils", "300", "--seed", "1", *more])


def test_files_an_earlier_run_left_are_named(tmp_path):
    out = tmp_path / "extracts"
    first = _synth(out)
    assert first.exit_code == 0, first.output
    assert "note:" not in first.stderr
    assert "note:" not in _synth(out).stderr  # the same files, all written again
    fewer = _synth(out, "--years", "2015/16,2016/17")
    assert fewer.exit_code == 0, fewer.output
    (note,) = [line for line in fewer.stderr.splitlines() if line.startswith("note:")]
    assert note.startswith(f"note: {out} still holds 6 file(s) this run did not write "
                           "(attendance/attendance_2017-18_AUT.csv, ")  # fmt: skip
    assert note.endswith("and 3 more), which `check`, `link` and `train` would read with it: remove them, "
                         "or use a new folder")  # fmt: skip
