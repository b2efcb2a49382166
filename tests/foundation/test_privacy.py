"""The privacy rules every stage shares: small-number suppression and the guard before MLflow."""

from __future__ import annotations

import pytest

from exclusion_risk.privacy import SUPPRESSED, PrivacyError, check_no_identifiers, suppress_count


def test_logging_guard_refuses_upn_shaped_text():
    with pytest.raises(PrivacyError, match="UPN-shaped"):
        check_no_identifiers("top pupil A123456789012", "a tag")
    with pytest.raises(PrivacyError):
        check_no_identifiers("temporary UPN A12345678901B in a note", "a tag")
    assert check_no_identifiers("2016/17, precision_at_5pct 0.41", "a tag")
    assert check_no_identifiers("run 0123456789abcdef0123456789abcdef", "a tag")  # run ids are fine


def test_counts_under_ten_are_suppressed_and_zero_is_not():
    assert [suppress_count(n) for n in (0, 1, 9, 10, 250)] == [0, SUPPRESSED, SUPPRESSED, 10, 250]
