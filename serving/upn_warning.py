"""A census scoring says how many of its pupils have a UPN that fails the DfE check.

The data contract keeps such a pupil (scored, under the UPN as uploaded) and reports the UPN as
invalid: a wrong check letter is a typing slip in the MIS, and `NOTAUPN-Wilson` is not a UPN at all.
The warning counts them and never quotes one.
"""

from __future__ import annotations

import pandas as pd

from exclusion_risk.upn import valid_upn_mask
from exclusion_risk.values import counted


def invalid_upn_warning(upns: pd.Series) -> list[str]:
    """One sentence counting the pupils whose UPN fails the check letter or the UPN's shape; none if all
    pass (a temporary UPN, ending in a letter, passes)."""
    invalid = int((~valid_upn_mask(upns.astype("string"))).sum())
    if not invalid:
        return []
    return [
        f"{invalid:,} of {counted(len(upns), 'pupil')} scored {'has' if invalid == 1 else 'have'} a UPN that "
        "is not valid (a wrong check letter, or not a UPN's shape): they are scored under the UPN as "
        "uploaded; check it in the MIS"
    ]
