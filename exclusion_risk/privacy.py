"""Privacy rules shared by every stage: the notice, small-number suppression, the identifier guard."""

from __future__ import annotations

import re

DECISION_SUPPORT_NOTICE = (
    "These scores support a professional's judgement; they are not decisions. "
    "No child should be treated differently on the strength of a score alone."
)

SUPPRESSION_THRESHOLD = 10
SUPPRESSED = "<10"


def suppress_count(n: int, threshold: int = SUPPRESSION_THRESHOLD) -> int | str:
    """A count as it may be shown in a report: groups under `threshold` pupils become '<10'."""
    return SUPPRESSED if 0 < n < threshold else n


# A UPN: check letter, 11 digits, then a digit or (temporary UPN) a letter.
UPN_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{11}[0-9A-Z](?![A-Za-z0-9])")


class PrivacyError(RuntimeError):
    """Something about to be logged or published looks like a pupil identifier."""


def check_no_identifiers(text: str, where: str) -> str:
    """`text` unchanged, or PrivacyError when it holds a UPN-shaped token (the guard before MLflow)."""
    if UPN_PATTERN.search(text):
        raise PrivacyError(f"refusing to log {where}: it contains a UPN-shaped identifier")
    return text
