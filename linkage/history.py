"""The linked pupil history: what every later stage sees of the extracts.

Names, middle names and dates of birth are dropped here: they are used for linkage only.
Exclusion and social-care rows carry `upn`, the census pupil they were linked to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

# Identifying columns that never leave the linkage stage.
IDENTIFYING_COLUMNS = (
    "Surname",
    "Forename",
    "MiddleNames",
    "PreferredSurname",
    "FormerSurname",
    "DOB",
)


@dataclass
class PupilHistory:
    census: pd.DataFrame  # canonical census columns less IDENTIFYING_COLUMNS; pupil id is `UPN`
    exclusions: pd.DataFrame  # canonical exclusions less IDENTIFYING_COLUMNS, plus `upn`
    social_care: pd.DataFrame  # canonical social care less IDENTIFYING_COLUMNS, plus `upn`


def drop_identifying(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in IDENTIFYING_COLUMNS if c in frame.columns])


def _linked(frame: pd.DataFrame, id_column: str, links: pd.DataFrame, source: str) -> pd.DataFrame:
    """Rows of `frame` whose record was linked, with `upn` (the census pupil) added."""
    mine = links[links["source"] == source]
    upn = pd.Series(
        mine["upn"].astype("string").to_numpy(), index=mine["record_id"].astype("string").to_numpy()
    )
    ids = frame[id_column].astype("string")
    out = drop_identifying(frame).assign(upn=ids.map(upn).astype("string").to_numpy())
    return out[out["upn"].notna()].reset_index(drop=True)


def pupil_history(extracts, links: pd.DataFrame) -> PupilHistory:
    """The extracts without names or DOB; exclusion and social-care rows carry their linked `upn`.

    Unlinked records are dropped here (the linkage report counts them).
    """
    from exclusion_risk.linkage.standardise import census_pupil_ids

    # One id per pupil: rows under a temporary UPN take the permanent UPN that replaced it, the id
    # links.csv uses.
    census = extracts.census.assign(UPN=census_pupil_ids(extracts.census))
    return PupilHistory(
        census=drop_identifying(census).reset_index(drop=True),
        exclusions=_linked(extracts.exclusions, "RecordID", links, "exclusions"),
        social_care=_linked(extracts.social_care, "LAchildID", links, "social_care"),
    )


def load_history(data_dir: Path, link_dir: Path) -> PupilHistory:
    """Read the extracts in `data_dir` and the links.csv an earlier `exclusion-risk link` wrote."""
    from exclusion_risk.linkage.readers import read_extracts

    links = pd.read_csv(Path(link_dir) / "links.csv", dtype={"record_id": "string", "upn": "string"})
    return pupil_history(read_extracts(Path(data_dir)), links)
