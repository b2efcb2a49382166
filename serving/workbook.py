"""scores.xlsx from the service (POST /score/file?format=xlsx, the page's "Download workbook"): the notice
sheet first, the ranked list, changes since the last scoring, a sheet per school.

Its notice carries what the CLI's scores.xlsx carries beside the scoring's facts: the cohort's warnings,
the drift check's lines (the JSON's `drift_warnings`, the page's banner) and the fairness review's
calibration findings logged with the model version (`models.score_fairness.fairness_lines`, read from
its MLflow run as the drift profile is: `serving.fairness_notes`). Before, only the cohort's warnings
were there, so an officer's workbook lacked what the CLI's said of the same model.
"""

from __future__ import annotations

import io

from exclusion_risk.models.score_workbook import notice_lines_for, scoring_words, write_scores_workbook
from exclusion_risk.serving.run_history import RecordedScoring


def scores_workbook(scores, scorer, recorded: RecordedScoring, warnings: list[str], drift: list[str],
                    fairness: list[str], run_id: str | None = None) -> bytes:
    """The workbook's bytes: `warnings` (the cohort's) each as a "Warning:", then the drift check's lines
    (`scoring.drift_warnings`) and the fairness review's findings (`fairness_notes.fairness_notes`) as the
    CLI's notice gives them."""
    run = recorded.scored
    facts = (scorer.name, str(scorer.model_version), run["year"], run["census"], run["recorded_at"][:10])
    lines = notice_lines_for(*facts)
    if run_id:  # which recorded run the workbook is, for GET /runs and a later since=
        lines.append(f"Recorded run: {run_id}")
    lines += [f"Warning: {warning}" for warning in warnings]
    lines += drift + fairness
    buffer = write_scores_workbook(
        scores, io.BytesIO(), notice_lines=lines, risk_matrix=scorer.risk_matrix, changes=recorded.rows,
        changes_summary=recorded.summary, scoring=scoring_words(*facts),
    )  # fmt: skip
    return buffer.getvalue()

