"""Privacy rules shared by every stage: small-number suppression, keyed pseudonyms, the notice."""

from __future__ import annotations

import hashlib
import hmac

DECISION_SUPPORT_NOTICE = (
    "These scores support a professional's judgement; they are not decisions. "
    "No child should be treated differently on the strength of a score alone."
)

SUPPRESSION_THRESHOLD = 10
SUPPRESSED = "<10"


def suppress_count(n: int, threshold: int = SUPPRESSION_THRESHOLD) -> int | str:
    """A count as it may be shown in a report: groups under `threshold` pupils become '<10'."""
    return SUPPRESSED if 0 < n < threshold else n


def pseudonymise(identifier: str, key: bytes) -> str:
    """Keyed, non-reversible pseudonym (HMAC-SHA256, 16 hex chars) for an identifier."""
    return hmac.new(key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
