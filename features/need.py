"""The risk matrix's need axis: existing statutory involvement, one rule for a table and a record.

    3  child protection plan or looked after (open on census day)
    2  education, health and care plan, or child in need (open)
    1  SEN support or free school meals
    0  none known

`NEED_RULES` states it once; `need_level` applies it to a frame (vectorised), `need_level_of` to
one pupil's dict of feature values (the single-pupil scoring path, where building a one-row frame
would cost milliseconds). An absent or missing value counts as "not known to be involved".

`social_care_status` states once the social care groups every report publishes (describe, the fairness
review, evaluate), disjoint and by what is open on census day, as the need axis reads social care.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.features import registry
from exclusion_risk.features.columns import as_code, as_float, column
from exclusion_risk.values import parse_flag

# (level, flags any of which gives it, SEN provision code that gives it), highest level first
NEED_RULES: tuple[tuple[int, tuple[str, ...], str | None], ...] = (
    (3, ("cpp_open", "cla_open"), None),
    (2, ("cin_open",), "E"),
    (1, ("fsm",), "K"),
)


# The social care groups the reports publish, each pupil in one: the highest status open on census day
# (looked after > child protection plan > child in need), else formerly known (an episode by census day,
# none open now), else never known. Disjoint, and the same in every report: describe's "highest status
# ever" (looked after at any time) held evaluate's and the review's "looked after" (open now), and 245 -
# 106 pupils and 30 - 21 excluded gave back the 9 formerly looked-after pupils who were excluded.
SOCIAL_CARE_STATUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CLA", ("cla_open",)),
    ("CPP", ("cpp_open",)),
    ("CIN", ("cin_open",)),
    ("former", ("cin_ever", "cpp_ever", "cla_ever")),
)
NOT_KNOWN_TO_SOCIAL_CARE = "none"


def social_care_status(table: pd.DataFrame) -> pd.Series:
    """Each row's social care group (`SOCIAL_CARE_STATUS`'s code, else NOT_KNOWN_TO_SOCIAL_CARE); an absent
    or missing flag counts as not involved, as in `need_level`."""
    conditions = []
    for _code, flags in SOCIAL_CARE_STATUS:
        met = pd.Series(False, index=table.index)
        for name in flags:
            met |= as_float(column(table, name)).fillna(0.0).gt(0)
        conditions.append(met.to_numpy())
    codes = np.select(conditions, [code for code, _ in SOCIAL_CARE_STATUS], default=NOT_KNOWN_TO_SOCIAL_CARE)
    return pd.Series(codes, index=table.index, dtype=object)


def need_level(table: pd.DataFrame) -> pd.Series:
    """Need level (0-3) of every row of a frame with some of the rule's columns."""
    provision = as_code(column(table, "sen_provision"))
    conditions = []
    for _level, flags, provision_code in NEED_RULES:
        met = pd.Series(False, index=table.index)
        for name in flags:
            met |= as_float(column(table, name)).fillna(0.0).gt(0)
        if provision_code is not None:
            met |= provision.eq(provision_code).fillna(False)
        conditions.append(met)
    level = np.select(conditions, [rule[0] for rule in NEED_RULES], default=0)
    return pd.Series(level, index=table.index, dtype="int64")


def need_levels(table: pd.DataFrame) -> np.ndarray:
    """The need level `score` places a pupil with: the feature table's column, or `need_level`'s rule
    where the table has none (the fairness review's red list; evaluate's stored-thresholds page)."""
    levels = table["need_level"] if "need_level" in table else need_level(table)
    return levels.to_numpy()


def _blanks_understating(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(FSM, SEN provision): rows whose need level that column's blank could be understating (the rule
    `need_understated_by_blanks` gives in words)."""
    level = need_level(table)
    fsm_blank = as_float(column(table, "fsm")).isna()
    sen_blank = as_code(column(table, "sen_provision")).isna()
    return (level == 0) & fsm_blank, (level <= 1) & sen_blank


def need_understated_by_blanks(table: pd.DataFrame) -> pd.Series:
    """Rows whose need level a blank could be understating: level 0 with free school meals or SEN
    provision not recorded (either would give 1), or level 1 with SEN provision not recorded (an EHC
    plan would give 2). The rule reads a blank as "not involved", so a school whose FSM column went
    blank had its pupils' need levels, and ratings, fall without a word."""
    fsm, sen = _blanks_understating(table)
    return fsm | sen


def blanks_understating(table: pd.DataFrame) -> tuple[str, ...]:
    """Which of "fsm" and "sen_provision" are blank on a row `need_understated_by_blanks` flags: the census
    reader (the extracts' and an upload's) refuses a blank SEN provision, so a census's warning names free
    school meals alone (a SENCO read that blank SEN provision was read as none, then had one refused)."""
    fsm, sen = _blanks_understating(table)
    return tuple(name for name, blank in (("fsm", fsm.any()), ("sen_provision", sen.any())) if blank)


def _flag(record: dict[str, Any], name: str) -> bool:
    value = record.get(name)
    if value is None or registry.is_missing(value):
        return False
    if isinstance(value, str):
        word = parse_flag(value)
        if word is not None:
            return word
        try:
            return float(value.strip()) > 0
        except ValueError:
            return False
    return float(value) > 0


def need_level_of(record: dict[str, Any]) -> int:
    """`need_level` for one pupil's feature values (a dict)."""
    provision = record.get("sen_provision")
    provision = provision.strip().upper() if isinstance(provision, str) else None
    for level, flags, provision_code in NEED_RULES:
        if any(_flag(record, name) for name in flags) or (provision_code and provision == provision_code):
            return level
    return 0
