"""Where Splink runs: DuckDB in-process (the default) or Spark (`--backend spark`).

A SplinkBackend is made per linker. It gives Splink a database API with the project's Jaro-Winkler
registered (linkage.engines.jaro_winkler), registers the linker's tables under names no other linker
uses (on Spark, temp views are shared by the whole session: two linkers in one session would both
register `a_source`), and reads results back as pandas on either engine. Spark runs `local[2]`
unless a Spark session is already active in the process (a cluster's, say), which it then uses (the
session comes from exclusion_risk.spark_session, as scoring's does). It never downloads anything:
no packages, and not Splink's own similarity jar (the functions it needs are registered here).

On DuckDB each linker's connection has a memory cap (DUCKDB_MEMORY, or EXCLUSION_RISK_DUCKDB_MEMORY):
past it DuckDB spills to a temporary folder of the linker's own, readable by the owner only (it holds
the census variants, names and DOBs among them) and removed when the linker closes (a process killed
before then leaves it, and the next linker on the machine removes it: its name carries the process id).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from exclusion_risk import spark_session
from exclusion_risk.files import process_scratch
from exclusion_risk.linkage.engines import jaro_winkler, libraries

BACKENDS = ("duckdb", "spark")
DEFAULT_BACKEND = "duckdb"

# DuckDB's working memory per linker. Its tables (the census variants, the candidate pairs, the
# scores) grow with the census; uncapped (DuckDB's default, 80% of RAM) the social-care stage held
# 3.2 GB above the run's 4.9 GB at 2,000,000 pupils. Capped, DuckDB spills what does not fit: at
# 1,000,000 pupils the stage's peak went 4.13 -> 3.62 GB, with byte-identical outputs.
DUCKDB_MEMORY = "1GB"
DUCKDB_MEMORY_VARIABLE = "EXCLUSION_RISK_DUCKDB_MEMORY"  # another cap, in DuckDB's units: 4GB, 512MB


def duckdb_memory() -> str:
    return os.environ.get(DUCKDB_MEMORY_VARIABLE) or DUCKDB_MEMORY


def _duckdb_connection(spill_folder: str) -> Any:
    """A DuckDB connection capped at duckdb_memory(), spilling into `spill_folder`: a ValueError
    naming the variable when DuckDB cannot read the cap, EngineOutOfMemory when it is too small."""
    duckdb = libraries.duckdb()
    with said_out_of_memory():
        try:
            return duckdb.connect(config={"memory_limit": duckdb_memory(), "temp_directory": spill_folder})
        except (duckdb.ParserException, duckdb.InvalidInputException):
            raise ValueError(
                f"{DUCKDB_MEMORY_VARIABLE}={duckdb_memory()!r} is not a memory size DuckDB reads "
                "(e.g. 4GB, 512MB, 50%)"
            ) from None


SPILL_PREFIX = "exclusion-risk-duckdb-"


def check_duckdb_memory() -> None:
    """Fail before any work when DuckDB cannot use the cap (see _duckdb_connection): the link
    command and link_extracts call it for Splink on DuckDB, so a mistyped cap is not found minutes
    later, after the reading and the deterministic stages."""
    with tempfile.TemporaryDirectory() as folder:
        _duckdb_connection(folder).close()


class EngineOutOfMemory(ValueError):
    """DuckDB needed more than its memory cap for something it cannot spill. A ValueError: the cap's
    value is what is wrong, and every command that links on the fly (`train` and `score` without
    `--links`) says a ValueError in one line."""


@contextmanager
def said_out_of_memory() -> Iterator[None]:
    """DuckDB running out of its cap inside Splink (which wraps DuckDB's error) becomes one
    EngineOutOfMemory line naming the cap and how to raise it; the traceback goes (`from None`)."""
    try:
        yield
    except Exception as exc:
        out_of_memory = libraries.duckdb().OutOfMemoryException
        seen, chain = set(), [exc]
        while chain:
            error = chain.pop()
            if error is None or id(error) in seen:
                continue
            if isinstance(error, out_of_memory):
                raise EngineOutOfMemory(
                    f"DuckDB needed more than its memory cap, {DUCKDB_MEMORY_VARIABLE}={duckdb_memory()}: "
                    f"set a larger one (e.g. {DUCKDB_MEMORY_VARIABLE}=4GB) and run again"
                ) from None
            seen.add(id(error))
            chain += [error.__cause__, None if error.__suppress_context__ else error.__context__]
        raise


def check_backend(name: str) -> None:
    """Fail before any work when `name` is unknown, or is spark and pyspark or Java 17 is missing
    (exclusion_risk.spark_session.SparkUnavailable, one line naming what)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "spark":
        spark_session.check_available()


def _spark_frame(session: Any, frame: pd.DataFrame) -> Any:
    """A pandas frame as a Spark DataFrame with explicit types (an all-missing column has no type to
    infer): int64 -> bigint, float -> double, anything else -> string."""
    types = spark_session.pyspark().sql.types
    fields, columns = [], {}
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_integer_dtype(dtype):
            kind, values = types.LongType(), frame[name].astype("int64")
        elif pd.api.types.is_float_dtype(dtype):
            kind, values = types.DoubleType(), frame[name].astype(float)
        else:
            kind = types.StringType()
            values = frame[name].astype(object).where(frame[name].notna(), None)
            values = values.map(lambda v: v if v is None else str(v))
        fields.append(types.StructField(str(name), kind, nullable=True))
        columns[name] = values
    return session.createDataFrame(pd.DataFrame(columns), schema=types.StructType(fields))


class SplinkBackend:
    """One linker's database: its Splink API, its table names and how results come back."""

    def __init__(self, name: str = DEFAULT_BACKEND):
        check_backend(name)
        self.name = name
        self.suffix = uuid.uuid4().hex[:8]
        splink = libraries.splink()
        if name == "spark":
            self.session = spark_session.local_session()
            jaro_winkler.register_spark(self.session, spark_session.pyspark())
            self.api = splink.SparkAPI(
                spark_session=self.session,
                break_lineage_method="persist",
                num_partitions_on_repartition=spark_session.LOCAL_CORES,
                register_udfs_automatically=False,  # Splink's jar is not used: see the module doc
            )
        else:
            self.session = None
            # mkdtemp-made: readable by the owner only; removed by close(), or here if opening fails
            self._spill = process_scratch(SPILL_PREFIX)
            try:
                connection = _duckdb_connection(self._spill.name)
                jaro_winkler.register_duckdb(connection)
                self.api = splink.DuckDBAPI(connection=connection)
            except BaseException:
                self._spill.cleanup()
                raise

    @property
    def dialect(self) -> str:
        """Splink's name for the SQL dialect of this backend."""
        return self.api.sql_dialect.sql_dialect_str

    def register(self, frame: pd.DataFrame, name: str) -> Any:
        """Register `frame` for Splink as `name` (its dataset name) under a table name of its own."""
        table = frame if self.session is None else _spark_frame(self.session, frame)
        return self.api.register(table, dataset_display_name=name, table_name=f"{name}_{self.suffix}")

    def close(self) -> None:
        """Free the linker's tables on DuckDB: the connection's memory, otherwise held until the
        connection is collected, is what the next source's linker needs. On Spark nothing is closed:
        the session may be a cluster's, shared with work that is not ours."""
        if self.session is None:
            self.api.duckdb_con.close()
            self._spill.cleanup()

    def to_pandas(self, splink_frame: Any, columns: list[str]) -> pd.DataFrame:
        """`columns` of a Splink result table as pandas, on either engine."""
        sql = f"SELECT {', '.join(columns)} FROM {splink_frame.physical_name}"
        if self.session is None:
            return self.api.duckdb_con.sql(sql).df()
        return self.session.sql(sql).toPandas()
