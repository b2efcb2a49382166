"""Probabilistic linkage engines behind one interface (linkage.engines.base.LinkageEngine).

Each engine imports its own library (Splink, recordlinkage) only when it runs, through
linkage.engines.libraries, so choosing an engine here loads neither.
"""

from __future__ import annotations

from exclusion_risk.linkage.engines.base import EngineInput, EngineResult, LinkageEngine
from exclusion_risk.linkage.engines.recordlinkage_engine import RecordLinkageEngine
from exclusion_risk.linkage.engines.splink_engine import SplinkEngine
from exclusion_risk.linkage.settings import LinkageSettings

ENGINES: dict[str, type[LinkageEngine]] = {"splink": SplinkEngine, "recordlinkage": RecordLinkageEngine}


def get_engine(settings: LinkageSettings) -> LinkageEngine:
    """The engine `settings.engine` names."""
    return ENGINES[settings.engine](settings)


__all__ = ["ENGINES", "EngineInput", "EngineResult", "LinkageEngine", "get_engine"]
