"""The fairness review's calibration findings for the served model version, as every census scoring
gives them: the JSON's `fairness_findings`, the page's banner, a CSV download's `X-Fairness-Findings`
header and the workbook's notice sheet (`models.score_fairness.fairness_lines`, read from the version's
MLflow run as the drift profile is). Before, only the workbook carried them, so an officer reading the
page or a CSV was never told that a group's probabilities run high or low.
"""

from __future__ import annotations

import logging

from exclusion_risk.models.score_fairness import fairness_lines

UNREADABLE = "the fairness review logged with this model version could not be read (see the server log)"


def fairness_notes(scorer) -> list[str]:
    """The findings' sentences (none for a version never reviewed, or a review that found none); a
    review that cannot be read is logged (its type only) and said, never a failed scoring."""
    try:
        return fairness_lines(scorer.info())
    except Exception as exc:
        logging.getLogger(__name__).warning("fairness review could not be read: %s", type(exc).__name__)
        return [UNREADABLE]
