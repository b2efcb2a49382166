"""Spark, loaded on first use: the one place pyspark is imported and a local session is started.

pyspark (the optional `spark` extra) and a Java 17 runtime are needed only when a command is asked for
its Spark backend; every other command, and `exclusion-risk --help`, never loads them. When either is
missing, `SparkUnavailable` says which in one line, before any work is done.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from exclusion_risk.files import remove_ended_scratch

LOCAL_CORES = 2  # Spark's local[N]: the cores of the machine this project is measured on
# The local driver's heap (SPARK_DRIVER_MEMORY overrides). Spark's own default, 1g, ran out of memory
# predicting a 46,784-pupil slice of the national simulation (bench/linkage.py --parts national-sim).
DRIVER_MEMORY = "4g"
_INSTALL_PYSPARK = "make spark (pyspark and py4j from requirements-spark.lock, hash-checked)"
_INSTALL_JAVA = "e.g. apt-get install openjdk-17-jre-headless"


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing, or Spark could not start: the message says which, in one line."""


def pyspark() -> ModuleType:
    """pyspark, with the submodules callers read loaded (`pyspark.sql`, `pyspark.errors`)."""
    try:
        import pyspark
        import pyspark.errors
        import pyspark.sql
    except ImportError as exc:
        raise SparkUnavailable(
            f"Spark needs pyspark, which is not installed ({exc}): {_INSTALL_PYSPARK}"
        ) from None
    return pyspark


def java_executable() -> str | None:
    """The `java` Spark's launcher would start: $JAVA_HOME/bin/java when JAVA_HOME is set, else PATH's."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def check_available() -> None:
    """SparkUnavailable naming what is missing (pyspark, Java 17) when Spark cannot run here."""
    pyspark()
    if java_executable() is None:
        where = f"$JAVA_HOME/bin/java ({os.environ['JAVA_HOME']})" if os.environ.get("JAVA_HOME") else "PATH"
        raise SparkUnavailable(f"Spark needs Java 17, and there is no java on {where}: {_INSTALL_JAVA}")


def unavailable_reason() -> str | None:
    """Why Spark cannot run here (the SparkUnavailable message), or None when it can."""
    try:
        check_available()
    except SparkUnavailable as exc:
        return str(exc)
    return None


WAREHOUSE_PREFIX = "exclusion-risk-spark-"
_warehouse: str | None = None


def _warehouse_folder() -> str:
    """The process's one warehouse folder, made on first use and removed when the process ends (a
    folder made per call, a session's reuse included, was never removed: they gathered in /tmp)."""
    global _warehouse
    if _warehouse is None:
        # named with the process id: a process killed outright leaves it, and the next one removes it
        remove_ended_scratch(WAREHOUSE_PREFIX)
        _warehouse = tempfile.mkdtemp(prefix=f"{WAREHOUSE_PREFIX}{os.getpid()}-")
        # removed at exit by atexit, not by a TemporaryDirectory's finaliser, which warns as it does
        atexit.register(shutil.rmtree, _warehouse, ignore_errors=True)
    return _warehouse


def local_dir() -> str:
    """Spark's scratch folder for this process: inside the warehouse folder, which `tempfile.mkdtemp`
    makes owner-only (0700), so whatever modes Spark gives its files no other user can read them."""
    folder = os.path.join(_warehouse_folder(), "local")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


_QUIET_LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
logger.conf.name = org.apache.spark.SparkConf
logger.conf.level = error
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _quiet_logging() -> str:
    """A log4j2 configuration, in the process's folder, quieting the start's warnings (the hostname's, the
    native library's, spark.local.dir's) to errors only. The root stays at WARN, the level Spark sets a
    Python session to: at another it prints that it changes it. `setLogLevel` quiets the rest after."""
    path = os.path.join(_warehouse_folder(), "log4j2.properties")
    if not os.path.isfile(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(_QUIET_LOG4J2)
    return path


def local_session(cores: int = LOCAL_CORES) -> Any:
    """The active SparkSession, or a new one on local[`cores`] whose Python workers run this
    interpreter (so they import this installation of the project). Arrow moves pandas chunks both ways.
    """
    check_available()
    # Workers start the interpreter PYSPARK_PYTHON names (default: whatever `python3` is on PATH).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    sql = pyspark().sql
    builder = (
        sql.SparkSession.builder.master(f"local[{cores}]")
        .appName("exclusion-risk")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", DRIVER_MEMORY))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.fallback.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Spark makes its (here unused) warehouse folder at start: in a temporary folder, not the cwd.
        .config("spark.sql.warehouse.dir", _warehouse_folder())
        # Its shuffle and spill files (blockmgr-*, spark-*) hold pupils' names and dates of birth while
        # a linkage runs: in the same owner-only folder, not /tmp's world-readable 755 folders and 644
        # files (an operator's find). SPARK_LOCAL_DIRS, where an operator sets it, still decides.
        .config("spark.local.dir", local_dir())
        # The JVM's start-up chatter (the default log4j profile, hostname and native-library warnings)
        # reached every Spark command's console before setLogLevel below could quiet it.
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_quiet_logging()}")
    )
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM would not start: a wrong Java, no memory, a bad SPARK_HOME
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # a heap Java cannot start with ("4", not "4g") read as a wrong Java (an operator's find)
        memory = os.environ.get("SPARK_DRIVER_MEMORY")
        heap = f"; SPARK_DRIVER_MEMORY is {memory!r}: a heap size such as 4g" if memory else ""
        raise SparkUnavailable(
            f"Spark could not start on local[{cores}] (it needs Java 17{heap}): {first}"
        ) from None
    # A failed task comes back to the caller as an exception; Spark logging it too would print it twice.
    session.sparkContext.setLogLevel("FATAL")
    return session
