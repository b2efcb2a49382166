"""What the model version's fairness review found about its probabilities, said where officers read them.

`exclusion-risk review` logs `fairness/fairness.json` to the version's MLflow run; its calibration
findings ("for Asian pupils the model over-predicts: observed / predicted 0.53 [0.46, 0.61], so a 20%
score means about 11% for them") advise reading a group's probabilities as lower or higher than stated.
Only the review's page said so, so an officer reading scores.html, the workbook or the console was never
told. A scoring now repeats the review's calibration findings that hold beyond chance (once the number of
ratios it compared is allowed for) for single characteristics (its intersections are counted and left to
the review), already suppressed as the review publishes them, after
its finding for the model across the whole year where it has one (every pupil's probability ran low or
high: a group's finding is then judged against the year's ratio, and how to read its probabilities
follows its own ratio).
Nothing is said for a version never reviewed: the drift and rejected-rows notes are what every scoring
can check; a review is a separate, slower step.
"""

from __future__ import annotations

import json
from typing import Any

from exclusion_risk.models import tracking
from exclusion_risk.models.fairness import FAIRNESS_JSON
from exclusion_risk.models.fairness_summary import KINDS, reading_direction
from exclusion_risk.values import counted

NAMED = 4  # findings quoted in full; the rest are counted


def _calibration_findings(findings: list[dict[str, Any]], kind: str = "calibration") -> list[dict[str, Any]]:
    """The review's calibration findings that hold once the number of ratios it compared is allowed for
    (`kind`: KINDS's), in its own order (largest first). A review written before that adjustment has only
    `certain` (its own interval excluded 1), read as it was."""
    return [f for f in findings if f.get("kind") == KINDS[kind] and f.get("meaning")
            and f.get("beyond_chance", f.get("certain"))]  # fmt: skip


def fairness_lines(info: dict[str, Any]) -> list[str]:
    """One sentence for the model's calibration finding across the whole year, one per calibration finding
    that holds of a single characteristic (up to NAMED) and one counting the rest, from the
    fairness review logged to the version's run (`info`: the scorer's); none where the version has no
    review or the review found none."""
    run_id = info.get("run_id")
    text = tracking.read_artifact_text(run_id, f"fairness/{FAIRNESS_JSON}") if run_id else None
    if not text:
        return []
    try:
        summary = json.loads(text).get("summary") or {}
    except (json.JSONDecodeError, AttributeError):
        return ["the fairness review logged with this model version could not be read"]
    findings = _calibration_findings(summary.get("all") or [])
    year = _calibration_findings(summary.get("all") or [], "year calibration")[:1]
    if not findings and not year:
        return []
    # the review's top findings first (a subgroup that restates its group's is named within it there)
    top = _calibration_findings(summary.get("top") or [])
    single = [f for f in top if "×" not in str(f.get("attribute", ""))]
    where = " and ".join(w for w, found in (("across the whole year", year), ("for some groups", findings))
                         if found)  # fmt: skip
    lines = [
        f"the fairness review of version {info.get('version', '?')} found its probabilities miscalibrated "
        f"{where}; read these as it advises, beside a professional's knowledge of the child:"
    ]
    lines += [f"{f['meaning']} Read every pupil's probability as {reading_direction(f['ratio'])} than stated "
              "until the model is recalibrated on a recent year." for f in year]  # fmt: skip
    lines += [f"{f['meaning']} {_reading(f)}" for f in single[:NAMED]]
    rest = len(findings) - min(len(single), NAMED)
    if rest:
        lines.append(f"{counted(rest, 'more calibration finding')} (intersections such as sex × ethnic group "
                     "among them) in the fairness review's report (fairness/fairness_report.html on the "
                     "model's run)")  # fmt: skip
    return lines


def _reading(finding: dict[str, Any]) -> str:
    """How to read the group's probabilities, as the review's action says (reading_direction): by the
    group's own observed / predicted where the finding's ratio is against the year's."""
    ratio = finding.get("observed_over_predicted", finding.get("ratio"))
    if not isinstance(ratio, int | float):
        return ""
    return f"Read their probabilities as {reading_direction(ratio)} than stated."
