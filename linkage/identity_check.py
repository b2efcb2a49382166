"""Whether an uploaded census row's date of birth agrees with the pupil its UPN names in the history.

The service attaches a pupil's history (exclusions, social care, earlier census rows) to an uploaded row
by UPN alone. A UPN keyed wrongly that happens to be another child's valid UPN then scored the row with
that child's history, shown as this pupil's reasons; and anyone able to upload could read any child's
social care and exclusions by sending a made-up row under that child's UPN (a tester's finding: 5 of 100
guessed UPNs came back with a history, one of them a looked-after child). A row whose date of birth the
history does not hold for that pupil is scored without the history, and counted.

The history keeps no dates of birth (they are for linkage only; `history.IDENTIFYING_COLUMNS`): it keeps
keyed hashes of each (pupil id, date of birth) pair its census recorded, under a key drawn afresh by each
process and never written anywhere, so the pairs cannot be read back from the process's memory by
hashing guesses outside it, and nothing written holds them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np
import pandas as pd

_KEY = secrets.token_hex(8)  # 16 characters: pandas' SipHash key; this process's only


def _days(dates: pd.Series) -> pd.Series:
    """Dates of birth as whole days since 1970 (Int64; NA where missing or not a date)."""
    parsed = pd.to_datetime(dates, errors="coerce")  # the readers' dates as they are; text parsed
    return (parsed.dt.floor("D") - pd.Timestamp(0)).dt.days.astype("Int64")


def _pair_keys(pupils: pd.Series, days: pd.Series) -> np.ndarray:
    frame = pd.DataFrame({"pupil": pupils.astype("string").to_numpy(), "day": days.to_numpy()})
    return pd.util.hash_pandas_object(frame, index=False, hash_key=_KEY).to_numpy()


@dataclass(frozen=True)
class IdentityKeys:
    """The history's (pupil id, date of birth) pairs as keyed hashes, and the pupils with any date."""

    pairs: np.ndarray  # sorted unique uint64
    dated: pd.Index  # pupil ids (tidy) with a date of birth recorded

    @classmethod
    def of(cls, pupils: pd.Series, dates: pd.Series) -> IdentityKeys:
        """From a census: `pupils` the history's pupil ids (tidy), `dates` each row's date of birth."""
        days = _days(dates)
        known = pupils.notna().to_numpy() & days.notna().to_numpy()
        pairs = np.unique(_pair_keys(pupils[known], days[known]))
        return cls(pairs, pd.Index(pd.unique(pupils[known].astype("string")), dtype="string"))

    def disagree(self, pupils: pd.Series, dates: pd.Series) -> pd.Series:
        """Rows whose pupil (the history's id, NA where none) has a date of birth recorded and whose own
        date of birth is given and is not one the history recorded for that pupil."""
        days = _days(dates)
        checked = (pupils.notna().to_numpy() & pupils.astype("string").isin(self.dated).to_numpy()
                   & days.notna().to_numpy())  # fmt: skip
        out = np.zeros(len(pupils), dtype=bool)
        if checked.any():
            keys = _pair_keys(pupils[checked], days[checked])
            out[checked] = ~np.isin(keys, self.pairs)
        return pd.Series(out, index=pupils.index)
