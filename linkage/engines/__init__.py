"""Probabilistic linkage engines behind one interface (linkage.engines.base.LinkageEngine).

Each engine imports its own library (Splink, recordlinkage) only when it runs, through
linkage.engines.libraries, so choosing an engine here loads neither.
"""

from __future__ import annotations

from exclusion_risk.linkage.engines.base import EngineInput, EngineResult, LinkageEngine
from exclusion_risk.linkage.engines.recordlinkage_engine import RecordLinkageEngine
from exclusion_risk.linkage.engines.splink_backends import BACKENDS, DEFAULT_BACKEND
from exclusion_risk.linkage.engines.splink_engine import SplinkEngine
from exclusion_risk.linkage.settings import LinkageSettings

ENGINES: dict[str, type[LinkageEngine]] = {"splink": SplinkEngine, "recordlinkage": RecordLinkageEngine}


def get_engine(settings: LinkageSettings, backend: str = DEFAULT_BACKEND) -> LinkageEngine:
    """The engine `settings.engine` names, on `backend` (duckdb or spark; Spark runs Splink only)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if settings.engine == "splink":
        return SplinkEngine(settings, backend=backend)
    if backend != DEFAULT_BACKEND:
        raise ValueError(f"the {settings.engine} engine runs in-process only; {backend} needs splink")
    return ENGINES[settings.engine](settings)


__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "ENGINES",
    "EngineInput",
    "EngineResult",
    "LinkageEngine",
    "get_engine",
]
