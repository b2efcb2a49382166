"""Linkage memory while reading (issue #15): what the read frees goes back before the next file, and
the termly files read for their rejects alone are read before the census frame is held."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd

from exclusion_risk.linkage import readers
from exclusion_risk.linkage.pipeline import read_for_linkage
from exclusion_risk.linkage.readers import read_extracts
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.stage_clock import return_freed_memory


class _Cycle:
    def __init__(self) -> None:
        self.me = self
        self.block = np.ones(1000)


def test_freed_memory_includes_what_waits_in_a_reference_cycle():
    # pandas frames refer to themselves (a frame and its flags): dropped, they wait for Python's
    # cycle collector, which arrow and numpy work seldom sets off (three 2,000,000-row termly files:
    # 0.27 GB left resident after their read).
    enabled = gc.isenabled()
    gc.disable()  # as if no collection had been set off since
    try:
        cycle = _Cycle()
        assert cycle.me is cycle
        gone = weakref.ref(cycle)
        frame = pd.DataFrame({"a": np.arange(10)})
        frame_gone = weakref.ref(frame)
        del cycle, frame
        assert gone() is not None
        return_freed_memory()
        assert gone() is None and frame_gone() is None
    finally:
        if enabled:
            gc.enable()


def _calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real_attendance, real_file = readers.read_attendance, readers._read_file

    def read_attendance(*args, **kwargs):
        calls.append("termly")
        return real_attendance(*args, **kwargs)

    def read_file(path, name, extract, derived=None):
        calls.append(extract)
        return real_file(path, name, extract, derived)

    monkeypatch.setattr(readers, "read_attendance", read_attendance)
    monkeypatch.setattr(readers, "_read_file", read_file)
    return calls


def test_termly_files_read_for_their_rejects_alone_are_read_before_the_census(small_authority, monkeypatch):
    # Their work is then not on top of the census frame (2,000,000 pupils: the read's peak was theirs).
    calls = _calls(monkeypatch)
    read_for_linkage(small_authority, LinkageSettings())
    census_at = calls.index("census")
    assert calls.index("termly") < census_at and "attendance" in calls[:census_at]


def test_termly_rows_kept_are_read_after_the_census_they_are_matched_against(small_authority, monkeypatch):
    calls = _calls(monkeypatch)
    extracts = read_extracts(small_authority)
    assert calls.index("termly") > calls.index("census")
    assert not extracts.attendance.empty
    assert "rows matching no census pupil of their year" in extracts.results["census"].termly.counts
