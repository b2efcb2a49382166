"""Spark's warehouse folder: one per process, in the temporary folder, removed when the process ends.

Runs without pyspark or Java: a stand-in for pyspark's session builder records what it is given, so the
folder handling is tested wherever the suite runs (the Spark tests themselves need the `spark` extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

# The stand-in pyspark: builder methods return the builder; getOrCreate returns the settings given.
_SCRIPT = textwrap.dedent(
    """
    import sys, types
    from exclusion_risk import spark_session

    class Builder:
        def __init__(self):
            self.settings = {}
        def master(self, _):
            return self
        def appName(self, _):
            return self
        def config(self, key, value):
            self.settings[key] = value
            return self
        def getOrCreate(self):
            return types.SimpleNamespace(
                settings=self.settings,
                sparkContext=types.SimpleNamespace(setLogLevel=lambda level: None),
            )

    class SparkSession:
        @property
        def builder(self):
            return Builder()

    fake = types.SimpleNamespace(sql=types.SimpleNamespace(SparkSession=SparkSession()))
    spark_session.check_available = lambda: None
    spark_session.pyspark = lambda: fake
    folders = {spark_session.local_session().settings["spark.sql.warehouse.dir"] for _ in range(3)}
    print(len(folders), *folders)
    """
)


def test_one_warehouse_folder_per_process_removed_at_exit(tmp_path):
    """Before: every `local_session()` call made a new folder (a session's reuse too) and none was ever
    removed: 122 empty exclusion-risk-spark-* folders had gathered in this machine's /tmp."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    # -W error: the review found a TemporaryDirectory's finaliser removing it, with a ResourceWarning
    done = subprocess.run([sys.executable, "-W", "error", "-c", _SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and not done.stderr, done.stderr[-2000:]
    count, folder = done.stdout.split()
    assert count == "1"  # the same folder for every session of the process
    assert os.path.dirname(folder) == str(scratch)
    assert list(scratch.iterdir()) == []  # gone when the process ended


def test_sparks_scratch_files_are_in_the_owner_only_folder(tmp_path):
    """Spark's shuffle and spill files (blockmgr-*, spark-*), which hold pupils' names and dates of birth
    during a linkage, were in /tmp's 755 folders as 644 files: `spark.local.dir` is inside the process's
    owner-only warehouse folder."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = _SCRIPT.replace(
        'folders = {spark_session.local_session().settings["spark.sql.warehouse.dir"] for _ in range(3)}',
        'settings = spark_session.local_session().settings\n'
        'import os, stat\n'
        'folders = {settings["spark.sql.warehouse.dir"]}\n'
        'local = settings["spark.local.dir"]\n'
        'print(local, oct(stat.S_IMODE(os.stat(os.path.dirname(local)).st_mode)))')
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    local, mode, _count, warehouse = done.stdout.split()
    assert os.path.dirname(local) == warehouse and mode == "0o700"


def test_a_killed_processs_warehouse_folder_goes_when_the_next_session_starts(tmp_path):
    """A process killed outright never runs its atexit: its folder stayed. It is named with the process
    id, and the next process's first session removes those whose process has ended."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    finished = subprocess.Popen(["true"])
    finished.wait()  # a process id no process has now
    left = scratch / f"exclusion-risk-spark-{finished.pid}-abc123"
    running = scratch / f"exclusion-risk-spark-{os.getpid()}-def456"  # a live process's: kept
    left.mkdir()
    running.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert os.path.basename(done.stdout.split()[1]).startswith("exclusion-risk-spark-")
    assert sorted(p.name for p in scratch.iterdir()) == [running.name]


def test_a_driver_memory_java_cannot_start_with_is_named(tmp_path):
    """SPARK_DRIVER_MEMORY=4 (no unit: a heap Java cannot start with) was reported as Spark needing Java 17
    alone; the setting is named beside it."""
    script = _SCRIPT.replace(
        "    def getOrCreate(self):\n",
        "    def getOrCreate(self):\n"
        "        raise RuntimeError('[JAVA_GATEWAY_EXITED] Java gateway process exited')\n",
    ).replace(
        'folders = {spark_session.local_session().settings["spark.sql.warehouse.dir"] for _ in range(3)}\n'
        "print(len(folders), *folders)",
        "try:\n"
        "    spark_session.local_session()\n"
        "except spark_session.SparkUnavailable as exc:\n"
        "    print(exc)",
    )
    env = {**os.environ, "TMPDIR": str(tmp_path), "SPARK_DRIVER_MEMORY": "4"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == (
        "Spark could not start on local[2] (it needs Java 17; SPARK_DRIVER_MEMORY is '4': a heap size "
        "such as 4g): [JAVA_GATEWAY_EXITED] Java gateway process exited")
