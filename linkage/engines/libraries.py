"""The probabilistic engines' own libraries, imported on first use: the one place they load.

Splink brings DuckDB and SQLGlot with it and recordlinkage its own stack; loading them only when an
engine runs keeps `exclusion-risk --help` and every other command free of them, and a run on one
engine never loads the other's library.
"""

from __future__ import annotations

from types import ModuleType


def splink() -> ModuleType:
    """Splink, with the submodules the Splink engine reads loaded (reachable as its attributes)."""
    import splink
    import splink.comparison_level_library
    import splink.comparison_library
    import splink.internals.exceptions
    import splink.internals.splink_logging

    return splink


def recordlinkage() -> ModuleType:
    """The Python Record Linkage Toolkit."""
    import recordlinkage

    return recordlinkage
