"""Real reference tables shipped with the project: postcode -> LSOA (West Midlands) and IDACI.

Sources and licences: exclusion_risk/reference/README.md (copied from the team's shared/reference).
An authority elsewhere supplies its own postcode lookup in the same shape via EXCLUSION_RISK_POSTCODES.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

REFERENCE_DIR = Path(__file__).with_name("reference")
POSTCODE_FILE = "wm_postcodes.csv"
IDACI_FILE = "imd2019_lsoa11.csv"


def normalise_postcode(postcodes: pd.Series) -> pd.Series:
    """Upper case, no inner spaces, then one space before the inward code ('ws11aa' -> 'WS1 1AA').

    The work runs in arrow string kernels (several times faster than Python's); the result is arrow
    text when the input was, and pandas' default "string" dtype otherwise.
    """
    arrow = pd.StringDtype("pyarrow")
    s = postcodes.astype(arrow).str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    s = s.where(s.str.len().between(5, 7))
    out = s.str[:-3] + " " + s.str[-3:]
    return out if postcodes.dtype == arrow else out.astype("string")


# Another authority's lookups in the same shapes, named by path (the service's settings know these names)
POSTCODES_VARIABLE = "EXCLUSION_RISK_POSTCODES"
IDACI_VARIABLE = "EXCLUSION_RISK_IDACI"


@lru_cache(maxsize=4)
def postcode_lookup(path: str | None = None) -> pd.DataFrame:
    """Columns Postcode (normalised), LSOA11CD, Latitude, Longitude."""
    path = path or os.environ.get(POSTCODES_VARIABLE) or str(REFERENCE_DIR / POSTCODE_FILE)
    df = pd.read_csv(path, dtype={"Postcode": "string", "LSOA11CD": "string"})
    df["Postcode"] = normalise_postcode(df["Postcode"])
    return df


@lru_cache(maxsize=2)
def idaci_lookup(path: str | None = None) -> pd.DataFrame:
    """Columns LSOA11CD, imd_decile, idaci_decile (1 = most deprived 10% of English LSOAs)."""
    path = path or os.environ.get(IDACI_VARIABLE) or str(REFERENCE_DIR / IDACI_FILE)
    df = pd.read_csv(path)
    df.columns = ["LSOA11CD", "imd_decile", "idaci_decile"]
    return df
