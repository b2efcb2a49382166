"""Every output is written beside its path and renamed onto it once whole (`files._replacing`).

An automation engineer's finds: a full disk (`prlimit --fsize`) cut scores.csv and links.csv short, in
place, and the next step read the truncated file as whole (exit 0, 166 red where 170 were); two scorings
into one folder shared one partial workbook name and left a corrupt workbook; an unwritable folder or a
full disk ended in a traceback (exit 1).
"""

from __future__ import annotations

import errno
import os
import time

import pandas as pd
import pytest

from exclusion_risk import files
from exclusion_risk.cli import app


def _partials(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.mark.parametrize("private", [True, False])
def test_a_write_that_fails_leaves_the_file_as_it_was(tmp_path, monkeypatch, private):
    path = tmp_path / "scores.csv"
    files.write_csv(pd.DataFrame({"upn": ["A1", "B2"]}), path, private=private)
    before = path.read_bytes()

    def disk_full(frame, handle, **to_csv):
        handle.write("upn\nC3\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_write_pandas", disk_full)
    with pytest.raises(files.OutputWriteError) as raised:
        files.write_csv(pd.DataFrame({"upn": ["C3"]}), path, private=private)
    assert str(raised.value) == f"cannot write {path}: No space left on device"
    assert path.read_bytes() == before and _partials(tmp_path) == []


def test_an_interrupted_write_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "report.json"
    files.write_text(path, "whole")
    with pytest.raises(KeyboardInterrupt), files.open_private(path, "w") as handle:
        handle.write("half")
        raise KeyboardInterrupt
    assert path.read_text() == "whole" and _partials(tmp_path) == []


def test_two_writers_at_once_leave_one_whole_file(tmp_path):
    """In place, both opened the one file: the shorter write landed over the start of the longer."""
    path = tmp_path / "scores.csv"
    with files.open_private(path, "w") as first, files.open_private(path, "w") as second:
        first.write("A" * 10_000)
        second.write("B" * 5)
    assert path.read_text() in ("A" * 10_000, "B" * 5)
    assert _partials(tmp_path) == []


def test_a_partial_file_no_writer_holds_is_removed_by_the_next_write(tmp_path):
    """A run killed outright (SIGTERM, the out-of-memory killer) cannot remove its own. A writer holds a
    lock on its partial until the rename (a process id from another container sharing the folder may look
    ended here: the diff reviewer's find), so only an old, unlocked one is removed."""
    import fcntl

    path = tmp_path / "links.csv"
    ended = tmp_path / ".links.csv.999999999-0a1b2c3d.partial"
    held = tmp_path / ".links.csv.123-0a1b2c3d.partial"
    recent = tmp_path / ".links.csv.124-0a1b2c3d.partial"
    for partial in (ended, held, recent):
        partial.write_text("half")
    old = time.time() - 2 * files.STALE_PARTIAL_S
    os.utime(ended, (old, old))
    os.utime(held, (old, old))
    with open(held) as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another container's live writer
        files.write_text(path, "whole")
    assert _partials(tmp_path) == sorted([held.name, recent.name])


def test_a_long_output_name_still_gets_its_partial(tmp_path):
    path = tmp_path / ("s" * 240 + ".csv")  # legal; with the partial's suffix the whole name would not be
    files.write_text(path, "whole")
    assert path.read_text() == "whole" and _partials(tmp_path) == []


def test_the_reason_stays_with_the_error(tmp_path):
    """drift's own message reads the OS reason from the error (it printed 'OutputWriteError')."""
    (tmp_path / "report.json").mkdir()
    with pytest.raises(files.OutputWriteError) as raised:
        files.write_text(tmp_path / "report.json", "whole")
    assert raised.value.strerror == "Is a directory"
    assert raised.value.filename == str(tmp_path / "report.json")


def test_a_private_file_replaced_is_owner_only(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("old")
    os.chmod(path, 0o644)
    files.write_csv(pd.DataFrame({"upn": ["A1"]}), path, private=True)
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.usefixtures("umask_022")
def test_a_public_file_replaced_keeps_the_mode_its_owner_gave_it(tmp_path):
    """A published table narrowed by hand until it is cleared for release (0640) stays so when the next
    run replaces it; a new one gets 0666 less the umask (an automation tester's find: it was widened)."""
    path = tmp_path / "tables.csv"
    files.write_csv(pd.DataFrame({"cell": [12]}), path, private=False)
    assert path.stat().st_mode & 0o777 == 0o644
    os.chmod(path, 0o640)
    files.write_csv(pd.DataFrame({"cell": [13]}), path, private=False)
    assert path.stat().st_mode & 0o777 == 0o640 and "13" in path.read_text()
    os.chmod(path, 0o444)  # even one its owner made read-only: the folder's rules decide the rename
    files.write_csv(pd.DataFrame({"cell": [14]}), path, private=False)
    assert path.stat().st_mode & 0o777 == 0o444 and "14" in path.read_text()


def test_an_output_that_cannot_be_written_is_one_line_exit_2(tmp_path, capsys):
    """A file where the output folder should be (as a read-only folder, or a full disk): one line."""
    (tmp_path / "afile").write_text("")
    with pytest.raises(SystemExit) as exit_:  # the app as the console script runs it (not CliRunner)
        app(["synth", "--out", str(tmp_path / "afile" / "extracts"), "--pupils", "300"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after synth's own progress lines
    assert last.startswith(f"error: {tmp_path / 'afile'}") and last.endswith(": Not a directory")
    assert "Traceback" not in err
