"""The points-based checklist baseline: how authorities score risk today (RONI-style tools).

A checklist adds fixed points for each risk indicator a pupil has and ranks pupils by the total; no
model is fitted to the points. To report a Brier score the totals are turned into probabilities by the
observed exclusion rate at each total on held-out pupils (a monotone step map, so more points never
means lower probability). Its ranking is the order of the totals themselves, with their many ties handled
exactly by `models.metrics` (teams break ties at random).

Points follow the indicators such tools weight: exclusion history heaviest, then persistent absence,
social-care status and SEMH needs, then disadvantage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression


@dataclass(frozen=True)
class Indicator:
    name: str  # plain English, printed with the baseline
    points: int
    test: Callable[[pd.DataFrame], pd.Series]  # True where the pupil has the indicator


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").fillna(0.0)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("string").fillna("")


INDICATORS: tuple[Indicator, ...] = (
    Indicator("suspended this year before the census", 3, lambda f: _num(f, "suspensions_this_year") > 0),
    Indicator("suspended last year", 3, lambda f: _num(f, "suspensions_last_year") > 0),
    Indicator("suspended in earlier years", 1, lambda f: _num(f, "suspensions_earlier") > 0),
    Indicator("permanently excluded before", 3, lambda f: _num(f, "permanent_exclusions_prior") > 0),
    Indicator("persistently absent last year", 2, lambda f: _num(f, "persistent_absence_last_year") > 0),
    Indicator("looked after now", 2, lambda f: _num(f, "cla_open") > 0),
    Indicator("on a child protection plan now", 2, lambda f: _num(f, "cpp_open") > 0),
    Indicator("child in need now", 1, lambda f: _num(f, "cin_open") > 0),
    Indicator("SEMH primary need", 2, lambda f: _text(f, "sen_type").eq("SEMH")),
    Indicator("SEN support or EHC plan", 1, lambda f: _text(f, "sen_provision").isin(["K", "E"])),
    Indicator("free school meals now", 1, lambda f: _num(f, "fsm") > 0),
    Indicator("moved school in the last year", 1, lambda f: _num(f, "school_moves_last_year") > 0),
)

COLUMNS = (
    "suspensions_this_year", "suspensions_last_year", "suspensions_earlier", "permanent_exclusions_prior",
    "persistent_absence_last_year", "cla_open", "cpp_open", "cin_open", "sen_type", "sen_provision", "fsm",
    "school_moves_last_year",
)  # fmt: skip


def checklist_points(table: pd.DataFrame) -> np.ndarray:
    """Each pupil's checklist total (missing indicators score no points)."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"feature table lacks the checklist's columns: {', '.join(missing)}")
    total = np.zeros(len(table), dtype=np.float64)
    for indicator in INDICATORS:
        total += indicator.points * indicator.test(table).to_numpy(dtype=bool)
    return total


class ChecklistBaseline:
    """Checklist totals, with a monotone map to probabilities fitted on held-out pupils."""

    def fit(self, table: pd.DataFrame, y) -> ChecklistBaseline:
        points = checklist_points(table)
        self._map = IsotonicRegression(y_min=1e-6, y_max=1 - 1e-6, out_of_bounds="clip")
        self._map.fit(points, np.asarray(y, dtype=np.float64))
        return self

    def predict_proba(self, table: pd.DataFrame) -> np.ndarray:
        points = checklist_points(table)
        # Where the map pools neighbouring totals, 1e-9 per point keeps the checklist's own order
        # (ranking metrics must rank by points, as a team would); it moves no Brier digit shown.
        return np.clip(self._map.predict(points) + 1e-9 * points, 0.0, 1.0)

    @staticmethod
    def describe() -> list[str]:
        return [f"+{i.points} {i.name}" for i in INDICATORS]
