"""Seconds, and optionally peak resident memory, per linkage stage; freed memory handed back after each.

The run report carries each stage's seconds; with `memory=True` (bench/linkage.py asks for it) it
also carries each stage's peak resident memory, so a run that outgrows a machine says which stage
did it. Memory is sampled from /proc/self/statm by a background thread (Linux); elsewhere no
memory figures are recorded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

_STATM = Path("/proc/self/statm")
_SAMPLE_SECONDS = 0.01
_LIBC = ctypes.util.find_library("c")


def resident_bytes() -> int | None:
    """This process's resident memory now, or None where /proc is not available."""
    try:
        return int(_STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def return_freed_memory(collect_cycles: bool = True) -> None:
    """Hand memory the last stage freed back to the operating system. Arrow's pool and glibc's malloc
    keep freed blocks for their own reuse, where DuckDB (its own allocator) cannot use them, so a
    stage's transient peak otherwise stays resident for the rest of the run. Measured on 250,000
    pupils just after reading: 1.04 GB resident -> 0.81 GB (arrow) -> 0.66 GB (malloc_trim).

    `collect_cycles`: run the cycle collector first. pandas objects can wait in reference cycles (a
    series whose `.str` or `.dt` accessor was used refers to itself through the accessor it caches),
    and whatever a cycle refers to waits with it until Python's next collection, which arrow and numpy
    work (few Python objects made) seldom sets off: three 2,000,000-row termly files left 0.27 GB
    resident after their read. A collection takes about 0.1 s with the service's modules loaded, so
    the readers ask for one after large files only."""
    if collect_cycles:
        gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is None:
        return
    trim = getattr(ctypes.CDLL(_LIBC), "malloc_trim", None)  # glibc only
    if trim is not None:
        trim(0)


class StageClock:
    """`with clock.stage(name):` records `seconds[name]` and, when sampling, `peak_gb[name]`: the
    largest resident memory seen while the stage ran (GB). Each stage ends by returning the memory it
    freed (return_freed_memory)."""

    def __init__(self, seconds: dict[str, float], memory: bool = False) -> None:
        self.seconds = seconds
        self.peak_gb: dict[str, float] = {}
        self._sampling = memory and resident_bytes() is not None
        self._peak = 0
        self._lock = threading.Lock()

    def _sample(self, stop: threading.Event) -> None:
        while not stop.wait(_SAMPLE_SECONDS):
            now = resident_bytes() or 0
            with self._lock:
                self._peak = max(self._peak, now)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        if not self._sampling:
            try:
                yield
            finally:
                return_freed_memory()
                self.seconds[name] = time.perf_counter() - started
            return
        with self._lock:
            self._peak = resident_bytes() or 0
        stop = threading.Event()
        sampler = threading.Thread(target=self._sample, args=(stop,), daemon=True)
        sampler.start()
        try:
            yield
        finally:
            stop.set()
            sampler.join()
            return_freed_memory()
            self.seconds[name] = time.perf_counter() - started
            self.peak_gb[name] = max(self._peak, resident_bytes() or 0) / 1024**3
