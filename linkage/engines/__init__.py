"""Probabilistic linkage engines behind one interface (linkage.engines.base.LinkageEngine)."""

from __future__ import annotations

from exclusion_risk.linkage.engines.base import EngineInput, EngineResult, LinkageEngine
from exclusion_risk.linkage.settings import LinkageSettings

ENGINES = ("splink", "recordlinkage")


def get_engine(settings: LinkageSettings) -> LinkageEngine:
    """The engine `settings.engine` names (imported here so the CLI starts without splink loaded)."""
    if settings.engine == "splink":
        from exclusion_risk.linkage.engines.splink_engine import SplinkEngine

        return SplinkEngine(settings)
    from exclusion_risk.linkage.engines.recordlinkage_engine import RecordLinkageEngine

    return RecordLinkageEngine(settings)


__all__ = ["ENGINES", "EngineInput", "EngineResult", "LinkageEngine", "get_engine"]
