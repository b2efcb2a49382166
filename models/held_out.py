"""The calibration pupils: the seeded share of pupils training holds out of fitting, and finding them again.

`models.train` holds out about `calibration.holdout` of the pupils (`calibration_pupils`: each pupil's
key across years hashed with the run's seed), fits the calibration map on their validation-year rows
and cuts the risk matrix's likelihood bands on them. `exclusion-risk score --capacity` re-cuts the bands
for another capacity on the same pupils (`HeldOut.rows`), so a re-cut is training's cut at another
capacity, out of sample, and at the stored capacity gives the stored thresholds back.

What picks them is recorded with each model version: its scoring config's `cut_on` (the rule's name,
the share and the seed: no pupil identifiers). Versions stored before `cut_on` take the share and seed
from their train run's `calibration_holdout` and `seed` params (every train run has logged them, and
the rule is the one every release has used). A version with neither is re-cut on every validation-year
pupil, as before; most of them were fitted on when the model was refit (`fallback_words` says so).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk.contract import PUPIL_KEY

# The rule `calibration_pupils` applies, by name, as `cut_on` records it: a pupil is held out when the
# first 8 bytes of blake2b("calibration:<seed>:<pupil key>"), read as a fraction of 2^64, are below share.
RULE = "blake2b8:calibration:seed:pupil<share"
CUT_ON = "cut_on"


def pupil_keys(table: pd.DataFrame) -> pd.Series:
    """Each row's pupil across years: PUPIL_KEY (the linked pupil, whichever UPN the row's census
    recorded), or `upn` in a table without it (one made elsewhere, e.g. synth's)."""
    return table[PUPIL_KEY] if PUPIL_KEY in table.columns else table["upn"]


def calibration_pupils(upns: pd.Series, share: float, seed: int) -> np.ndarray:
    """Deterministic pupil-level hold-out: True for about `share` of distinct UPNs (keyed by seed)."""
    salt = f"calibration:{seed}:".encode()
    unique = pd.unique(upns.astype(str))
    draws = (
        np.array(
            [
                int.from_bytes(hashlib.blake2b(salt + u.encode(), digest_size=8).digest(), "big")
                for u in unique
            ],
            dtype=np.float64,
        )
        / 2.0**64
    )
    chosen = set(unique[draws < share])
    return upns.astype(str).isin(chosen).to_numpy()


@dataclass(frozen=True)
class HeldOut:
    """Which pupils a model's calibration and band thresholds were fitted on: `calibration_pupils` with
    `share` and `seed`."""

    share: float
    seed: int

    def rows(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of `table` whose pupils were held out (each pupil's rows all in or all out)."""
        return table[calibration_pupils(pupil_keys(table), self.share, self.seed)]

    def to_dict(self) -> dict[str, Any]:
        """`cut_on` as a scoring config stores it."""
        return {"pupils": "calibration", "rule": RULE, "share": self.share, "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Any) -> HeldOut | None:
        """From a stored `cut_on`; None when there is none or it names a rule this release does not know."""
        if not isinstance(data, dict) or data.get("rule") != RULE:
            return None
        return cls._of(data.get("share"), data.get("seed"))

    @classmethod
    def from_params(cls, params: dict[str, str] | None) -> HeldOut | None:
        """From a train run's params (`calibration_holdout`, `seed`), as every release has logged them."""
        params = params or {}
        return cls._of(params.get("calibration_holdout"), params.get("seed"))

    @classmethod
    def _of(cls, share: Any, seed: Any) -> HeldOut | None:
        try:
            share, seed = float(share), int(seed)
        except (TypeError, ValueError):
            return None
        return cls(share, seed) if 0 < share < 1 else None


def held_out_source(validation_year: str | None) -> str:
    """Where thresholds cut on the calibration pupils came from, as the risk matrix says it."""
    year = f"validation year {validation_year}" if validation_year else "validation year"
    return f"{year} (held-out calibration pupils)"


def fallback_words(validation_year: str, capacity: float, refit: bool | None) -> tuple[str, str]:
    """(thresholds source, warning) for bands re-cut on every validation-year pupil because the version
    records no way to find its calibration pupils again. `refit`: whether the model was fitted on the
    validation year (None: not recorded, as for versions refit by default)."""
    where = f"validation year {validation_year}"
    share = f"{100 * capacity:g}%"
    if refit is False:
        return (
            f"{where} (all pupils; the model was not fitted on that year)",
            f"the likelihood bands were re-cut for a capacity of {share} on every {validation_year} pupil, "
            f"not on the held-out calibration pupils the stored thresholds were cut on (the model version "
            f"records no way to find them again); the model was not fitted on {validation_year}, so the cut "
            "is out of sample",
        )
    return (
        f"{where} (all pupils, partly in sample)",
        f"the likelihood bands were re-cut for a capacity of {share} on every {validation_year} pupil, and "
        f"the cut is partly in sample: the model was refit on most of them (all but the held-out "
        f"calibration pupils, which the model version records no way to find again), so its top "
        f"{share} there can sit higher than on pupils it has not seen; retrain to record them",
    )
