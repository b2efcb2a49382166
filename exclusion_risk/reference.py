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


class ReferenceUnavailable(RuntimeError):
    """A postcode or IDACI lookup that cannot be used: one line naming the variable, the file and what is
    wrong (never a value from it), for the commands' one-line errors and `serve`'s refusal to start."""


def _read_lookup(path: str | None, variable: str, shipped: str, columns: tuple[str, ...], **read
                 ) -> tuple[pd.DataFrame, str]:  # fmt: skip
    """(the lookup, how to name it): the file at `path`, else the one `variable` names, else the shipped
    one; ReferenceUnavailable where it is not a file, not a CSV file, or lacks `columns` (a mistyped path
    had ended in a traceback, and the service answered "ready" then 500 to every upload)."""
    named = os.environ.get(variable) if path is None else None
    path = path or named or str(REFERENCE_DIR / shipped)
    where = f"{variable} names {path}" if named else f"the lookup {path}"
    if not Path(path).is_file():
        raise ReferenceUnavailable(f"{where}, which is not a file")
    try:
        frame = pd.read_csv(path, **read)
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError is a ValueError
        why = type(exc).__name__
        raise ReferenceUnavailable(f"{where}, which cannot be read as a CSV file ({why})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReferenceUnavailable(f"{where}, which lacks the column {' and '.join(missing)} (a postcode "
                                   f"lookup's columns: {', '.join(columns)})")  # fmt: skip
    return frame, where


@lru_cache(maxsize=4)
def postcode_lookup(path: str | None = None) -> pd.DataFrame:
    """Columns Postcode (normalised), LSOA11CD, and Latitude, Longitude where the file has them."""
    df, _ = _read_lookup(path, POSTCODES_VARIABLE, POSTCODE_FILE, ("Postcode", "LSOA11CD"),
                         dtype={"Postcode": "string", "LSOA11CD": "string"})  # fmt: skip
    df["Postcode"] = normalise_postcode(df["Postcode"])
    return df


IDACI_COLUMNS = ("LSOA11CD", "imd_decile", "idaci_decile")  # the published file's three, by position


@lru_cache(maxsize=2)
def idaci_lookup(path: str | None = None) -> pd.DataFrame:
    """Columns LSOA11CD, imd_decile, idaci_decile (1 = most deprived 10% of English LSOAs)."""
    df, where = _read_lookup(path, IDACI_VARIABLE, IDACI_FILE, ())
    if len(df.columns) != len(IDACI_COLUMNS):
        raise ReferenceUnavailable(f"{where}, which has {len(df.columns)} columns: an IDACI lookup has three "
                                   "(LSOA code, IMD decile, IDACI decile, as published)")  # fmt: skip
    df.columns = list(IDACI_COLUMNS)
    given = df[["imd_decile", "idaci_decile"]]
    deciles = given.apply(pd.to_numeric, errors="coerce")
    # a blank decile is no decile (that area's pupils get none, as before); anything else is 1-10
    bad = int((given.notna() & ~deciles.isin(range(1, 11))).any(axis=1).sum())  # counted, never quoted
    if bad:
        raise ReferenceUnavailable(f"{where}, whose deciles are not whole numbers 1 to 10 on {bad:,} row(s)")
    repeated = int(df["LSOA11CD"].dropna().duplicated().sum())
    if repeated:
        raise ReferenceUnavailable(f"{where}, which gives {repeated:,} LSOA code(s) more than once")
    df[["imd_decile", "idaci_decile"]] = deciles
    return df


def lookups_refusal() -> str | None:
    """Why the lookups cannot be read as the features read them, else None: `serve` checks before it
    starts, so that a mistyped path is its one-line refusal, not a 500 on every census upload."""
    try:
        postcode_lookup()
        idaci_lookup()
    except ReferenceUnavailable as exc:
        return str(exc)
    return None
