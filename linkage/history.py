"""The linked pupil history: what every later stage sees of the extracts.

Names, middle names and dates of birth are dropped here: they are used for linkage only.
Exclusion and social-care rows carry `upn`, the census pupil they were linked to.
"""

from __future__ import annotations

from dataclasses import dataclass

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
