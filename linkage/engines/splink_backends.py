"""Where Splink runs: DuckDB in-process (the default) or Spark (`--backend spark`).

A SplinkBackend is made per linker. It gives Splink a database API with the project's Jaro-Winkler
registered (linkage.engines.jaro_winkler), registers the linker's tables under names no other linker
uses (on Spark, temp views are shared by the whole session: two linkers in one session would both
register `a_source`), and reads results back as pandas on either engine. Spark runs `local[2]`
unless a Spark session is already active in the process (a cluster's, say), which it then uses (the
session comes from exclusion_risk.spark_session, as scoring's does). It never downloads anything:
no packages, and not Splink's own similarity jar (the functions it needs are registered here).
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd

from exclusion_risk import spark_session
from exclusion_risk.linkage.engines import jaro_winkler, libraries

BACKENDS = ("duckdb", "spark")
DEFAULT_BACKEND = "duckdb"


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
            connection = libraries.duckdb().connect()
            jaro_winkler.register_duckdb(connection)
            self.api = splink.DuckDBAPI(connection=connection)

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

    def to_pandas(self, splink_frame: Any, columns: list[str]) -> pd.DataFrame:
        """`columns` of a Splink result table as pandas, on either engine."""
        sql = f"SELECT {', '.join(columns)} FROM {splink_frame.physical_name}"
        if self.session is None:
            return self.api.duckdb_con.sql(sql).df()
        return self.session.sql(sql).toPandas()
