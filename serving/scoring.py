"""From what a client sends to scores: feature records, census rows or a census CSV, through the scorer.

Census input (an upload or JSON rows) goes through the linkage stage's census reader, the same
validation `exclusion-risk check` applies, and then `features.census_upload.build_features_for_census`,
with the authority's linked history when the service has one. Nothing here keeps pupil data
beyond the request, and no message it raises quotes a pupil's value.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from exclusion_risk.contract import SCORE_COLUMNS
from exclusion_risk.features.census_upload import build_features_for_census
from exclusion_risk.features.need import need_level_of
from exclusion_risk.features.registry import history_feature_names
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census
from exclusion_risk.models.scoring import ScoringInputError
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.serving.errors import RequestProblem

MAX_LISTED_PROBLEMS = 1000  # a 422 lists this many problems at most, and says how many there were


@dataclass
class Cohort:
    """Model-ready features for the pupils of one request, and what the client must be told about them."""

    features: pd.DataFrame
    history: str  # "linked" | "none" | "not needed"
    missing_features: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def check_row_count(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise RequestProblem(
            413, f"{rows:,} pupils in one request; the limit is {max_rows:,}. Split the cohort into parts."
        )


# --- census input ---------------------------------------------------------------------------------


def read_census_bytes(data: bytes, filename: str = "upload.csv") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clean, rejects) from the bytes of a census CSV, through the linkage stage's reader."""
    suffix = ".parquet" if filename.lower().endswith(".parquet") else ".csv"
    with tempfile.TemporaryDirectory(prefix="exclusion-risk-upload-") as folder:
        # The reader names problems by file; the client's own file name is used, never a temp path.
        path = Path(folder) / (Path(filename).name or f"upload{suffix}")
        if path.suffix.lower() not in (".csv", ".parquet"):
            path = path.with_suffix(suffix)
        path.write_bytes(data)
        try:
            result = read_census(path)
        except ExtractError as exc:
            raise RequestProblem(
                422, f"The file cannot be read as a census extract: {exc.problem}",
                [{"row": exc.row, "field": exc.column or "file", "reason": exc.problem}],
            ) from None
    return result.clean, result.rejects


def census_records_to_csv(records: list[dict[str, Any]]) -> bytes:
    """JSON census rows as CSV text, so they meet exactly the same reader as an upload."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return buffer.getvalue().encode("utf-8")


def rejects_as_problems(rejects: pd.DataFrame) -> list[dict]:
    """Reader rejects as (row, field, reason); the rejected value is left out (it may identify a pupil)."""
    head = rejects.head(MAX_LISTED_PROBLEMS)
    return [
        {"row": None if pd.isna(row) else int(row), "field": str(column), "reason": str(reason)}
        for row, column, reason in zip(head["row"], head["column"], head["reason"], strict=True)
    ]


def census_cohort(
    clean: pd.DataFrame,
    rejects: pd.DataFrame,
    history_state,
    model_features: list[str],
    academic_year: str | None,
    skip_invalid: bool,
) -> Cohort:
    """Features for the census rows that read cleanly; rejects stop the request unless skip_invalid."""
    problems = rejects_as_problems(rejects) if len(rejects) else []
    if problems and not skip_invalid:
        raise RequestProblem(
            422,
            f"{len(rejects):,} row problem(s) found; nothing was scored. Correct the rows, or send "
            "skip_invalid=true to score the valid rows and list the rest.",
            problems,
        )
    if clean.empty:
        raise RequestProblem(422, "No row could be read, so there is nothing to score.", problems)
    if history_state.state in ("loading", "failed"):
        raise RequestProblem(
            503, "The linked pupil history is not available yet; census rows cannot be scored with it."
        )
    history = history_state.history
    try:
        features = build_features_for_census(clean, history=history, reference_year=academic_year)
    except ValueError as exc:  # our own message: a missing or malformed academic year
        raise RequestProblem(422, f"The census rows cannot be scored: {exc}") from None
    if features.empty:
        raise RequestProblem(
            422,
            "No pupil has an autumn census row for the year being scored"
            + (f" ({academic_year})." if academic_year else "."),
        )
    missing = [] if history is not None else [f for f in history_feature_names() if f in model_features]
    return Cohort(features, "linked" if history is not None else "none", missing, problems)


def feature_records(pupils: list) -> list[dict[str, Any]]:
    """Validated FeatureRecords as plain dicts, every registry feature present (None = missing) and a
    need level not given derived by the feature builder's rule."""

    records = [pupil.model_dump() for pupil in pupils]
    for record in records:
        if record["need_level"] is None:
            record["need_level"] = need_level_of(record)
    return records


# --- scoring --------------------------------------------------------------------------------------


def score_cohort(scorer, cohort: Cohort, reasons: bool) -> pd.DataFrame:
    """The contract's columns, highest risk first, plus school URN and NC year for the page's filters."""
    try:
        scores = scorer.score(cohort.features, reasons=reasons)
    except ScoringInputError as exc:
        raise RequestProblem(422, f"The features cannot be scored: {exc}") from None
    context = cohort.features.drop_duplicates("upn").set_index("upn")
    upns = scores["upn"]
    return scores.assign(
        school_urn=upns.map(context["SchoolURN"]).astype(object),
        nc_year=upns.map(context["nc_year"]).astype("float64"),
    )


def score_feature_records(scorer, records: list[dict[str, Any]], reasons: bool) -> list[dict[str, Any]]:
    """Feature records through the scorer's no-DataFrame path; results highest risk first."""
    try:
        results = scorer.score_records(records, reasons=reasons)
    except ScoringInputError as exc:
        raise RequestProblem(422, f"The features cannot be scored: {exc}") from None
    for result, record in zip(results, records, strict=True):
        result["school_urn"] = record.get("school_urn")
        result["nc_year"] = record.get("nc_year")
    results.sort(key=lambda r: (-r["probability"], r["upn"]))
    return results


# --- output ---------------------------------------------------------------------------------------


def scores_csv(scores: pd.DataFrame) -> bytes:
    """scores.csv: the notice as a first `#` line, then exactly the contract's columns."""
    body = scores[SCORE_COLUMNS].to_csv(index=False, lineterminator="\n")
    return f"# {DECISION_SUPPORT_NOTICE}\n{body}".encode()


def scores_json(envelope: dict[str, Any], scores: pd.DataFrame | list[dict[str, Any]]) -> bytes:
    """The ScoreResponse body. Rows are serialised by pandas in C: a cohort is 10^4-10^5 rows."""
    columns = [*SCORE_COLUMNS, "school_urn", "nc_year"]
    if isinstance(scores, pd.DataFrame):
        rows = scores[columns].to_json(orient="records", double_precision=15)
    else:
        rows = json.dumps([{c: r.get(c) for c in columns} for r in scores], allow_nan=False)
    head = json.dumps({"notice": DECISION_SUPPORT_NOTICE, **envelope}, allow_nan=False)
    return (head[:-1] + ', "scores": ' + rows + "}").encode()
