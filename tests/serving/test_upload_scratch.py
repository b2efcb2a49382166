"""An uploaded census is written to a temporary folder while it is read: a service killed outright
(SIGKILL, the out-of-memory killer) never removes it, and it holds pupils' names and DOBs. Found in
/tmp after a killed service: exclusion-risk-upload-*/c.csv, left from the day before."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from exclusion_risk.serving import scoring
from exclusion_risk.serving.schemas import EXAMPLE_CENSUS

UPLOAD_PREFIX = "exclusion-risk-upload-"


def _ended_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()  # a process id no process has now
    return finished.pid


def test_a_killed_services_upload_copy_goes_when_the_next_upload_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left = tmp_path / f"{UPLOAD_PREFIX}{_ended_pid()}-abc123"
    running = tmp_path / f"{UPLOAD_PREFIX}{os.getpid()}-def456"  # a live service's: kept
    for folder in (left, running):
        folder.mkdir()
        (folder / "census.csv").write_text("UPN,Surname\nA123,Pupil\n")
    seen: list[Path] = []
    real_read = scoring.read_census

    def watching(path, **kwargs):
        seen.append(Path(path).parent)
        return real_read(path, **kwargs)

    monkeypatch.setattr(scoring, "read_census", watching)
    upload = pd.DataFrame([EXAMPLE_CENSUS]).to_csv(index=False).encode()
    clean, _ = scoring.read_census_bytes(upload, "census.csv")
    assert len(clean) > 0
    assert not left.exists() and running.exists()
    # this upload's own folder is named with the service's process id, and removed once read
    assert seen and seen[0].name.startswith(f"{UPLOAD_PREFIX}{os.getpid()}-") and not seen[0].exists()
