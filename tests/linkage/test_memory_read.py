"""Linkage memory while reading (issue #15): what the read frees goes back before the next file, and
the termly files read for their rejects alone are read before the census frame is held."""

from __future__ import annotations

import gc
import shutil
import weakref

import numpy as np
import pandas as pd
import pytest

from exclusion_risk.linkage import readers, stage_clock
from exclusion_risk.linkage.arrow_text import TEXT
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.pipeline import read_for_linkage
from exclusion_risk.linkage.readers import read_extracts
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.stage_clock import return_freed_memory


class _Cycle:
    def __init__(self) -> None:
        self.me = self
        self.block = np.ones(1000)


def test_freed_memory_includes_what_waits_in_a_reference_cycle():
    # A series whose .str accessor was used refers to itself through the accessor it caches: dropped,
    # it waits for Python's cycle collector, which arrow and numpy work seldom sets off (three
    # 2,000,000-row termly files: 0.27 GB left resident after their read).
    enabled = gc.isenabled()
    gc.disable()  # as if no collection had been set off since
    try:
        cycle = _Cycle()
        assert cycle.me is cycle
        series = pd.Series(["a1 "], dtype=TEXT)
        series.str.strip()
        gone = [weakref.ref(cycle), weakref.ref(series)]
        del cycle, series
        assert [ref() is not None for ref in gone] == [True, True]
        return_freed_memory()
        assert [ref() is None for ref in gone] == [True, True]
    finally:
        if enabled:
            gc.enable()


def test_a_small_census_read_collects_no_cycles(small_authority, monkeypatch):
    # A collection takes about 0.1 s with the service's modules loaded: not on each scoring upload.
    collections = []
    monkeypatch.setattr(stage_clock.gc, "collect", lambda: collections.append(1))
    readers.read_census(small_authority / "census.csv")
    assert collections == []
    monkeypatch.setattr(readers, "COLLECT_AFTER_ROWS", 1)
    readers.read_census(small_authority / "census.csv")
    assert collections == [1]


def _calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    real_attendance, real_file = readers.read_attendance, readers._read_file

    def read_attendance(*args, **kwargs):
        calls.append("termly")
        return real_attendance(*args, **kwargs)

    def read_file(path, name, extract, derived=None, **kwargs):
        calls.append(extract)
        return real_file(path, name, extract, derived, **kwargs)

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


@pytest.fixture
def broken_termly(small_authority, tmp_path):
    """The small authority with a termly file named for no term (an error in the attendance read)."""
    folder = tmp_path / "authority"
    shutil.copytree(small_authority, folder)
    termly = sorted((folder / "attendance").iterdir())[0]
    termly.rename(termly.with_name("attendance_summary.csv"))
    return folder


def test_a_census_error_is_said_before_a_termly_files_error_read_before_it(broken_termly):
    # The termly files are read first, yet the errors come in the order a user fixes them in, the
    # census's first (as `check`, which reads the census first, says them).
    census = broken_termly / "census.csv"
    lines = census.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    upn = header.index("UPN")
    census.write_text(
        "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != upn) for line in lines) + "\n",
        encoding="utf-8",
    )
    for reads_termly_rows in (False, True):
        with pytest.raises(ExtractError) as raised:
            read_extracts(broken_termly, attendance_rows=reads_termly_rows)
        assert raised.value.file == "census.csv" and "UPN" in raised.value.problem


def test_a_termly_files_error_alone_is_said(broken_termly):
    with pytest.raises(ExtractError) as raised:
        read_for_linkage(broken_termly, LinkageSettings())
    assert raised.value.file == "attendance/attendance_summary.csv"
