"""Whether the postcode and IDACI lookups placed the pupils' homes: said where features are built or scored.

A pupil's IDACI decile comes from their home postcode through the postcode lookup to an LSOA, then the
IDACI lookup (`idaci_deciles`). The shipped postcode lookup covers the West Midlands only, and an
authority elsewhere sets `EXCLUSION_RISK_POSTCODES` to its own; a lookup whose codes match none of the
census's (another region's file, LSOA codes of another vintage) gave every pupil a blank decile, the
models read area deprivation as unknown for all of them, and nothing said so (a tester's find: an IDACI
file whose LSOA codes matched none passed `features`, `train` and `score` without a word).

A few blank deciles are ordinary (a pupil living across the border, a postcode mistyped), so the line
comes only when more than half the pupil-years have none; where the census gives no postcode or LSOA at
all, the line says that instead of blaming the lookups.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from exclusion_risk.features.columns import as_code, column, on_distinct, stripped
from exclusion_risk.reference import (
    IDACI_VARIABLE,
    POSTCODES_VARIABLE,
    idaci_lookup,
    normalise_postcode,
    postcode_lookup,
)

MOST_UNPLACED = 0.5  # more than this share of pupil-years with no decile is said


@lru_cache(maxsize=2)
def _lsoa_by_postcode(path: str | None = None) -> pd.Series:
    lookup = postcode_lookup(path)
    by_postcode = pd.Series(lookup["LSOA11CD"].to_numpy(dtype=object), index=lookup["Postcode"].to_numpy())
    return by_postcode[~by_postcode.index.duplicated()]


def idaci_deciles(postcodes: pd.Series, lsoas: pd.Series | None = None) -> pd.Series:
    """Home postcode -> LSOA (shipped lookup) -> IDACI decile; the LSOA column is used without a postcode."""
    by_postcode = _lsoa_by_postcode()
    lsoa = on_distinct(postcodes, lambda u: normalise_postcode(u).map(by_postcode))
    if lsoas is not None:
        lsoa = lsoa.fillna(as_code(lsoas))
    deciles = idaci_lookup().set_index("LSOA11CD")["idaci_decile"]
    return lsoa.map(deciles).astype("float64")


def home_area_lines(table: pd.DataFrame, census: pd.DataFrame | None) -> list[str]:
    """One line when more than half of `table`'s pupil-years have no IDACI decile (none otherwise): how
    many, and the likely cause, from whether `census` (the rows the table was built from) gives any home
    postcode or LSOA code."""
    if "idaci_decile" not in table.columns or not len(table):
        return []
    unplaced = int(table["idaci_decile"].isna().sum())
    if unplaced <= MOST_UNPLACED * len(table):
        return []
    given = census is not None and any(
        stripped(column(census, name)).notna().any() for name in ("Postcode", "LSOA")
    )
    share = f"{'any' if unplaced == len(table) else f'{unplaced:,}'} of the {len(table):,}"
    if not given:
        cause = "the census gives no home postcode or LSOA code (columns Postcode, LSOA)"
    else:
        cause = (
            f"the census's home postcodes and LSOA codes are mostly not in the postcode lookup "
            f"({POSTCODES_VARIABLE}; the one shipped covers the West Midlands only) or the IDACI lookup "
            f"({IDACI_VARIABLE}): an authority elsewhere sets {POSTCODES_VARIABLE} to its own "
            f"postcode-to-LSOA file (README, \"Reading an authority's own extracts\")"
        )
    return [
        f"No IDACI decile for {share} pupil-year(s): {cause}. The models read their area deprivation as "
        f"unknown."
    ]
