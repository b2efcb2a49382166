"""The probabilistic engines' own libraries, imported on first use: the one place they load.

Splink brings DuckDB and SQLGlot with it and recordlinkage its own stack; loading them only when an
engine runs keeps `exclusion-risk --help` and every other command free of them, and a run on one
engine never loads the other's library. PySpark is loaded by the foundation's
exclusion_risk.spark_session, the one place it is imported.
"""

from __future__ import annotations

from types import ModuleType


def splink() -> ModuleType:
    """Splink, with the submodules the Splink engine reads loaded (reachable as its attributes)."""
    import splink
    import splink.blocking_analysis
    import splink.comparison_level_library
    import splink.comparison_library
    import splink.internals.exceptions
    import splink.internals.splink_logging

    return splink


def recordlinkage() -> ModuleType:
    """The Python Record Linkage Toolkit."""
    import recordlinkage

    return recordlinkage


def duckdb() -> ModuleType:
    """DuckDB (Splink's default database), for the connection the Splink engine registers its UDF on."""
    import duckdb

    return duckdb
