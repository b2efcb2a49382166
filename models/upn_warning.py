"""A census scoring says how many of its pupils have a UPN that fails the DfE check, and how many of
those the linked history does not know.

The data contract keeps such a pupil (scored, under the UPN as uploaded, in its tidy form: upn.upn_key)
and reports the UPN as invalid: a wrong check letter is a typing slip in the MIS, and `NOTAUPN-Wilson` is
not a UPN at all. Where no pupil of the linked history has that UPN, the pupil is scored without any
history of their own (no earlier exclusions, social care or census rows): a second sentence says so.
The warnings count pupils and never quote a UPN.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from exclusion_risk.upn import valid_upn_mask
from exclusion_risk.values import counted


def invalid_upn_warning(upns: pd.Series, not_in_history: Collection[str] = frozenset()) -> list[str]:
    """One sentence counting the pupils whose UPN fails the check letter or the UPN's shape; none if all
    pass (a temporary UPN, ending in a letter, passes). A second counting those of them whose UPN is in
    `not_in_history` (the UPNs scored of pupils the linked history does not know)."""
    valid = valid_upn_mask(upns.astype("string")).to_numpy()
    invalid = int((~valid).sum())
    if not invalid:
        return []
    said = [
        f"{invalid:,} of {counted(len(upns), 'pupil')} scored {'has' if invalid == 1 else 'have'} a UPN that "
        "is not valid (a wrong check letter, or not a UPN's shape): they are scored under the UPN as "
        "uploaded; check it in the MIS"
    ]
    unknown = set(not_in_history)
    lost = int(sum(1 for upn in upns[~valid].dropna() if upn in unknown))
    if lost:
        said.append(
            f"{counted(lost, 'pupil')} scored with an invalid UPN {'is' if lost == 1 else 'are'} not in the "
            "linked history: their history could not be found, so they are scored as if they had no earlier "
            "exclusions, social care or census rows; correct the UPN in the MIS and score again"
        )
    return said
