"""From what a client sends to scores: feature records, census rows or a census CSV, through the scorer.

Census input (an upload or JSON rows) goes through the linkage stage's census reader, the same
validation `exclusion-risk check` applies, and then `features.census_upload.features_for_census`,
with the authority's linked history (without one, census rows are refused: `HistoryState.refusal`).
Nothing here keeps pupil data beyond the request, and no message it raises quotes a pupil's value.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.features.build import year_numbers
from exclusion_risk.features.census_upload import (
    ATTENDANCE_SO_FAR_FEATURES,
    NoReferenceRows,
    attendance_gap,
    collections_not_scored,
    features_for_census,
)
from exclusion_risk.features.extract_reach import exclusions_not_reached
from exclusion_risk.features.home_area import home_area_lines
from exclusion_risk.features.need import need_level_of
from exclusion_risk.features.registry import history_feature_names
from exclusion_risk.files import process_scratch
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.readers import read_census
from exclusion_risk.linkage.record_bound import records_at_most
from exclusion_risk.linkage.upn_columns import tidy_upn_column
from exclusion_risk.models.drift_data import inputs_wholly_missing, scoring_drift_lines
from exclusion_risk.models.risk_matrix import need_labels
from exclusion_risk.models.score_notes import (
    blank_need_lines,
    history_start_lines,
    new_school_lines,
    shared_code_lines,
    unlinked_status_lines,
    wholly_missing_words,
)
from exclusion_risk.models.score_table import with_officer_columns
from exclusion_risk.models.scoring import ScoringInputError
from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.serving.history import date_differs_lines, year_not_reached
from exclusion_risk.serving.limits import check_row_count
from exclusion_risk.serving.parquet_upload import check_parquet_upload
from exclusion_risk.serving.schemas import ExplainResponse
from exclusion_risk.upn import upn_key, written_as_upn
from exclusion_risk.values import counted

log = logging.getLogger("exclusion_risk.serving.scoring")
UPLOAD_PREFIX = "exclusion-risk-upload-"
MAX_LISTED_PROBLEMS = 1000  # a 422 lists this many problems at most, and says how many there were
MAX_NAME_CHARS = 80  # an upload's name as used for its temporary file and in messages
# Pupils per scorer call: ~30 ms each, so no one call holds the GIL for long; 500 a call spent four
# times as long in per-call overhead (0.38 s against 0.08 s for 10,000 pupils).
SCORE_CHUNK = 2_000
# pandas' errors for a date it cannot hold (OutOfBounds*), and numpy's overflow on the same dates.
DATE_OUT_OF_RANGE = (pd.errors.OutOfBoundsDatetime, pd.errors.OutOfBoundsTimedelta, OverflowError)


@dataclass
class Cohort:
    """Model-ready features for the pupils of one request, and what the client must be told about them."""

    features: pd.DataFrame
    history: str  # "linked" | "none" | "not needed"
    missing_features: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    # plain sentences on what the features lack (an upload's: and on what its read set aside, first)
    warnings: list[str] = field(default_factory=list)
    # the UPNs scored of pupils the linked history does not know (features' CensusFeatures.not_in_history)
    not_in_history: frozenset[str] = frozenset()
    history_withheld: int = 0  # of them, those with a date of birth the history lacks for their UPN's pupil


# --- census input ---------------------------------------------------------------------------------


def safe_filename(name: str | None) -> str:
    """A client's upload name made safe to use: its last path part, only letters, digits and `._-`,
    no leading dot, at most MAX_NAME_CHARS, ending .csv or .parquet (.csv unless it said .parquet)."""
    base = re.split(r"[/\\]", name or "")[-1]
    suffix = ".parquet" if base.lower().endswith(".parquet") else ".csv"
    stem = base[: -len(suffix)] if base.lower().endswith(suffix) else base
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).lstrip("._")[: MAX_NAME_CHARS - len(suffix)]
    return (stem or "upload") + suffix


def check_upload_rows(data: bytes, filename: str, max_rows: int, max_bytes: int) -> None:
    """413 before the census reader sees an upload with more rows than `max_rows`.

    A CSV's rows are at most its lines after the header that hold more than delimiters and blanks
    (`records_at_most`: the lines the reader skips as no record, Excel's empty rows among them, are not
    counted; a value running over several lines is one row or is rejected line by line, never more rows
    than lines). A Parquet file's footer is checked first (cheap), then its rows and the bytes its
    values decode to are counted batch by batch, since the footer is written by whoever made the file.
    """
    if filename.endswith(".parquet"):
        check_parquet_upload(data, max_rows, max_bytes)
    else:
        check_row_count(records_at_most(data), max_rows)


def read_census_bytes(
    data: bytes, filename: str = "upload.csv", census: str | None = None, notes: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(clean, rejects) from the bytes of a census CSV or Parquet file, through the linkage reader.

    The client's name is never a path: the temporary file is named with `safe_filename(filename)`,
    which is also the name the reader's messages use. `census`: the model's census (term code), which a
    row without a CensusTerm (blank, or no such column) counts as; None: every row must give one.
    `notes`: where given, the read's notes that say more than rows and encoding are added to it
    (`ReadResult.remarks`: lines skipped as no record, a Ctrl-Z dropped, headers read under another
    name, the encoding read; counts and header names, never a value).
    """
    name = safe_filename(filename)
    # named with the process id: a service killed while reading leaves it, and the next upload removes it
    with process_scratch(UPLOAD_PREFIX) as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            result = read_census(path, census_term=calendar.parse_census(census) if census else None)
        except ExtractError as exc:  # the reader's own message: file, column, row, never a value
            raise RequestProblem(
                422, f"The file cannot be read as a census extract: {exc.problem}",
                [{"row": exc.row, "field": exc.column or "file", "reason": exc.problem}],
            ) from None
        except Exception as exc:  # any other error's text may quote a row: only its type is logged
            log.warning("census upload unreadable: %s", type(exc).__name__)
            raise RequestProblem(
                422, "The file cannot be read as a census extract.",
                [{"row": None, "field": "file", "reason": "not a census CSV or Parquet file this "
                  "service can read"}],
            ) from None
    if notes is not None:
        notes.extend(result.remarks)
    return result.clean, result.rejects


def census_records_to_csv(records: list[dict[str, Any]]) -> bytes:
    """JSON census rows as CSV text, so they meet exactly the same reader as an upload."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    buffer = io.StringIO()
    # Every value quoted: a lone CR (or LF) inside a value would otherwise end the record for the
    # reader, and one JSON row would become several CSV rows with row numbers that no longer match.
    # Not neutralised: this is the client's input, and the reader must see exactly what was sent.
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for record in records:
        writer.writerow({k: _as_written(v) for k, v in record.items()})
    return buffer.getvalue().encode("utf-8")


def _as_written(value: Any) -> Any:
    """A JSON value as a CSV export writes it: a whole number sent as a float (9.0: a client building
    its rows with pandas, whose columns with a gap are floats) as 9, which the reader's codes and counts
    accept ("9.0" was an unknown NC year code, and the row rejected); missing as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def rejects_as_problems(rejects: pd.DataFrame) -> list[dict]:
    """Reader rejects as (row, field, reason); the rejected value is left out (it may identify a pupil)."""
    head = rejects.head(MAX_LISTED_PROBLEMS)
    return [
        {"row": None if pd.isna(row) else int(row), "field": str(column), "reason": str(reason)}
        for row, column, reason in zip(head["row"], head["column"], head["reason"], strict=True)
    ]


def scored_year(clean: pd.DataFrame, academic_year: str | None) -> int:
    """The start year scored for the rows the reader passed: the one asked for (held to
    `calendar.plausible_year`'s range), or the latest in the rows. A UPN on more than one row of one
    collection is not a row problem: the features stand on one of them by the registrations' rule
    (`registrations.RULE`, as `exclusion-risk score` does) and `census_cohort`'s warnings count the rows
    set aside. (Years outside 1990/91 to next year never get here: the reader rejects them.)"""
    if academic_year is not None:
        try:
            return calendar.start_year(calendar.plausible_year(academic_year))
        except ValueError as exc:  # plausible_year's own words: the range, never the value
            raise RequestProblem(422, "The academic year cannot be scored.",
                                 [{"row": None, "field": "academic_year", "reason": str(exc)}]) from None
    years = year_numbers(clean["AcademicYear"]) if "AcademicYear" in clean.columns else (
        pd.Series(pd.NA, index=clean.index, dtype="Int64"))
    if years.dropna().empty:
        problem = {"row": None, "field": "AcademicYear",
                   "reason": "no row gives an academic year; send academic_year"}
        raise RequestProblem(422, "The census rows cannot be scored.", [problem])
    return int(years.max())


def model_census(scorer) -> str:
    """The census `scorer`'s model was trained at, as people name it (`CohortScorer.census`); autumn for
    a scorer that does not say, as for a model registered before the census was recorded."""
    return calendar.census_name(getattr(scorer, "census", None) or calendar.AUTUMN)


def census_cohort(
    clean: pd.DataFrame,
    rejects: pd.DataFrame,
    history_state,
    model_features: list[str],
    academic_year: str | None,
    skip_invalid: bool,
    census: str = calendar.AUTUMN,
) -> Cohort:
    """Features for the census rows that read cleanly; rejects stop the request unless skip_invalid.

    `census`: the model's reference census (`model_census`, or its term code), the rows scored; an
    upload with rows of the year for other terms only is refused (422) naming the terms. A pupil on two
    or more rows of that collection is scored from one, by `exclusion-risk score`'s rule
    (`registrations.RULE`), and the warnings count the rows set aside; never refused, never silent."""
    census = calendar.parse_census(census)
    problems = rejects_as_problems(rejects) if len(rejects) else []
    problems = sorted(problems, key=lambda p: (p["row"] is None, p["row"] or 0))
    if problems and not skip_invalid:
        raise RequestProblem(
            422,
            f"{len(rejects):,} row problem(s) found; nothing was scored. Correct the rows, or send "
            "skip_invalid=true to score the valid rows and list the rest.",
            problems,
        )
    if clean.empty:
        # how many: `problems` lists MAX_LISTED_PROBLEMS at most
        said = f"No row could be read ({len(rejects):,} row problem(s)), so there is nothing to score."
        raise RequestProblem(422, said, problems)
    first = scored_year(clean, academic_year)
    refused = history_state.refusal()
    if refused is not None:
        # 503: no history (or not yet) means a census would be scored with its history features
        # missing, and wrong without saying so; feature records are still scored.
        message, headers = refused
        raise RequestProblem(503, message, headers=headers or None)
    history = history_state.history
    year = calendar.format_year(first)
    needs_history = set(model_features) & set(history_feature_names())
    stale = year_not_reached(history_state.newest_year, first) if needs_history else None
    # and an exclusions extract taken before census day, as `exclusion-risk score` refuses it
    stale = stale or (exclusions_not_reached(history_state.exclusion_starts, first, census) if needs_history
                      else None)
    if stale is not None:
        raise RequestProblem(422, stale[0], [{"row": None, "field": "AcademicYear", "reason": stale[1]}])
    name = calendar.census_name(census)
    no_reference_row = RequestProblem(
        422,
        f"No pupil has {'an' if name[0] in 'aeiou' else 'a'} {name} census row for the year being scored "
        f"({year}) that can be scored.",
        [{"row": None, "field": "CensusTerm", "reason": f"no usable {name} row ({census}) for {year}"}],
    )
    try:
        scored = features_for_census(clean, history=history, reference_year=year, census=census)
    except NoReferenceRows as exc:
        if exc.found:
            raise wrong_census(census, exc.found, year) from None
        raise no_reference_row from None
    except DATE_OUT_OF_RANGE as exc:
        # The one failure the rows themselves can cause once the reader and row_problems have passed
        # them: a date pandas cannot hold in nanoseconds. Its message quotes the date: type only.
        # Anything else is a bug, for ContainErrors' 500 (which says nothing about the data).
        log.warning("census features failed: %s", type(exc).__name__)
        problem = {"row": None, "field": "file",
                   "reason": "a date in the rows is outside the range that can be scored"}
        raise RequestProblem(422, "The census rows cannot be scored.", [problem]) from None
    features = scored.table
    if features.empty:
        raise no_reference_row
    missing = [] if history is not None else [f for f in history_feature_names() if f in model_features]
    so_far = [f for f in ATTENDANCE_SO_FAR_FEATURES if f in model_features and f not in missing]
    # said, not silent: a model reads missing attendance as little absence
    warnings = attendance_gap(features, year, census, history) if so_far else []
    if warnings and features[ATTENDANCE_SO_FAR_FEATURES[0]].isna().all():
        missing = missing + so_far  # listed as not computed only when no pupil has them
    # said, not silent: an upload's rows of other collections are history or unread, their pupils unscored
    warnings = collections_not_scored(clean, year, census, features["upn"]) + warnings
    warnings = warnings + scored.repeats.sentences()  # counted on the rows read, history's included
    # said, not silent: a school new to the history (a new URN after academy conversion) gets the
    # authority's rates, which the pupil's context line reads as the school's
    warnings = warnings + new_school_lines(features, [getattr(history, "census", None), clean], year)
    warnings = warnings + history_start_lines(history, year)  # a year the history holds nothing before
    # the history's rejected rows and unmatched links; pupils whose date of birth their UPN's pupil lacks
    warnings = warnings + history_state.notes + date_differs_lines(scored.date_differs)
    warnings = warnings + blank_need_lines(features)  # the matrix reads a blank FSM or SEN provision as none
    warnings += unlinked_status_lines(history_state.unlinked_care, year, calendar.parse_census(census), False)
    warnings = warnings + (home_area_lines(features, clean) if "idaci_decile" in model_features else [])
    warnings = warnings + shared_code_lines(clean, year, calendar.parse_census(census))  # two schools, a code
    # the rows skip_invalid left out, counted in full: `rejected` lists MAX_LISTED_PROBLEMS at most, and a
    # CSV or workbook answer carries no `rejected` at all (only these warnings)
    warnings = left_out_warning(len(rejects), len(problems), "census row") + warnings
    linked = "linked" if history is not None else "none"
    return Cohort(features, linked, missing, problems, warnings, scored.not_in_history,
                  len(scored.date_differs))


def left_out_warning(n: int, listed: int, what: str) -> list[str]:
    """The sentence for `n` rows (`what`: "census row", "feature record") that skip_invalid left out, of
    which `listed` are in the JSON answer's `rejected`; none when none were."""
    if not n:
        return []
    which = "each" if listed >= n else f"the first {listed:,}"
    return [f"{counted(n, what)} could not be scored and {'was' if n == 1 else 'were'} left out "
            f"(skip_invalid): the JSON answer's `rejected` lists {which} by row, field and reason."]


def wrong_census(census: str, found: tuple[str, ...], year: str) -> RequestProblem:
    """422 for census rows of another term than the model's reference census: it names the terms (and
    the year), never a pupil's value."""
    held = ", ".join(f"{calendar.census_name(t)} ({t})" for t in found)
    message = (
        f"The model scores the {calendar.census_name(census)} census (CensusTerm {census}); the rows for "
        f"{year} are for the {held} census. Send the {calendar.census_name(census)} census, or use a "
        "model trained for that census."
    )
    reason = f"CensusTerm {', '.join(found)} for {year}; this model scores {census}"
    return RequestProblem(422, message, [{"row": None, "field": "CensusTerm", "reason": reason}])


def upload_cohort(
    data: bytes,
    filename: str,
    settings,
    history_state,
    model_features: list[str],
    academic_year: str | None,
    skip_invalid: bool,
    census: str = calendar.AUTUMN,
) -> Cohort:
    """An uploaded census file (POST /score/file, POST /explain/file) to the cohort's features: rows
    counted from the bytes before anything is parsed (a CSV's lines, a Parquet file's footer and then
    its decoded batches), read, counted again exactly, and built with the linked history. The read's
    notes (`read_census_bytes`) come first in the cohort's warnings, as `check` prints them."""
    check_upload_rows(data, filename, settings.max_rows, settings.max_request_bytes)
    notes: list[str] = []
    clean, rejects = read_census_bytes(data, filename, census, notes)
    check_row_count(len(clean) + len(rejects), settings.max_rows)
    try:
        cohort = census_cohort(clean, rejects, history_state, model_features, academic_year, skip_invalid,
                               census)  # fmt: skip
    except RequestProblem as exc:
        # its problems name the contract's columns (SchoolURN): which of the file's headers each was read
        # from is in the notes (a SENCO's "Estab" file was refused row by row in "column SchoolURN")
        if notes and exc.problems:
            exc.message = f"{exc.message} {' '.join(notes)}"
        raise
    cohort.warnings = notes + cohort.warnings
    return cohort


def explanation_json(scorer, cohort: Cohort, features: pd.DataFrame, n: int) -> tuple[int, bytes]:
    """`features` (pupils of `cohort`) explained, as the ExplainResponse body; the number explained."""
    refuse_inputs_missing(scorer, cohort)
    try:
        explained = scorer.explain(features, n=n)
    except ScoringInputError as exc:  # the models stage's own words: column names, no values
        raise RequestProblem(422, f"The features cannot be explained: {exc}") from None
    response = ExplainResponse(
        model_version=str(scorer.model_version),
        history=cohort.history,
        missing_features=cohort.missing_features,
        warnings=cohort.warnings,
        rejected=cohort.rejected,  # rows skip_invalid left out: every row sent is explained or listed
        pupils=explained,
    )
    return len(explained), response.model_dump_json().encode()


def duplicate_upn_problems(upns: list[str]) -> list[dict]:
    """(row, field, reason) for every feature record whose UPN another record of the request has: each
    judged as the response names it (`feature_records`): a UPN by its tidy form, however it is written;
    any other value (the LA's pseudonym, which the client joins on) as sent, so that `3fa9-c0e1` and
    `3FA9C0E1`, which come back as two keys, are not refused as one."""
    tidy = tidy_upn_column(pd.Series(upns, dtype="string")).tolist()  # the UPNs' tidy form (upn.upn_key)
    keys = pd.Series([t if written_as_upn(t) else u for t, u in zip(tidy, upns, strict=True)], dtype="string")
    repeated = np.flatnonzero(keys.duplicated(keep=False).to_numpy())
    return [
        {"row": int(i) + 1, "field": "upn", "reason": "the same UPN is given for more than one pupil"}
        for i in repeated[:MAX_LISTED_PROBLEMS]
    ]


def feature_records(pupils: list) -> list[dict[str, Any]]:
    """Validated FeatureRecords as plain dicts, every registry feature present (None = missing) and a
    need level not given derived by the feature builder's rule. A UPN written with separators or in
    lower case in its tidy form (upn.upn_key), its check letter right or not (upn.written_as_upn), so the
    scores and explanations name the pupil as the census routes do; any other value as sent, since a record
    may carry the LA's pseudonym (a keyed hash in lower case or with dashes), which the client joins its
    answers on."""

    records = [pupil.model_dump() for pupil in pupils]
    for record in records:
        tidy = upn_key(record["upn"])
        record["upn"] = tidy if written_as_upn(tidy) else record["upn"]
        if record["need_level"] is None:
            record["need_level"] = need_level_of(record)
    return records


# --- scoring --------------------------------------------------------------------------------------


def _chunks(length: int, size: int) -> range:
    return range(0, length, size)


def drift_warnings(scorer, cohort: Cohort, history_state) -> list[str]:
    """The cohort against the model's stored drift profile (`models.drift_data`): each warning sentence,
    none when quiet, one line when the upload is only part of a cohort; the features the service could
    not compute (no linked history) are left out. A check that fails is logged (its type only) and
    never stops the scoring."""
    features = cohort.features
    year = str(features["AcademicYear"].iloc[0]) if "AcademicYear" in features and len(features) else ""
    try:
        context = getattr(history_state, "drift_context", None)
        return scoring_drift_lines(scorer.info(), features, year, context=context,
                                   not_computed=cohort.missing_features)  # fmt: skip
    except Exception as exc:
        log.warning("drift check failed: %s", type(exc).__name__)
        return ["drift could not be checked (the reason is in the server log)"]


def refuse_inputs_missing(scorer, cohort: Cohort) -> None:
    """A 422 where no pupil of the cohort has an input the model's training years held for most pupils,
    in `score`'s words (`drift_data.inputs_wholly_missing`): scored as missing, every score would move at
    once (a spring model without the year's termly attendance rated 1,958 of 3,054 pupils red against 149
    with it). A check that fails is logged (its type only) and never stops the scoring."""
    try:
        absent = inputs_wholly_missing(scorer.info(), cohort.features)
    except Exception as exc:
        log.warning("input check failed: %s", type(exc).__name__)
        return
    if absent:
        features = cohort.features
        year = str(features["AcademicYear"].iloc[0]) if "AcademicYear" in features else "the scored year"
        said = wholly_missing_words(absent, year, model_census(scorer), None)
        raise RequestProblem(422, f"{said[0].upper()}{said[1:]}. Nothing was scored.")


def score_cohort(scorer, cohort: Cohort, reasons: bool) -> pd.DataFrame:
    """The contract's columns, highest risk first, then the officer's columns of scores.csv (school URN
    and name, NC year, which the page filters on, need label, suggested response, reasons lowering the
    risk, context and the band's precision), as `score` writes them.

    Scored SCORE_CHUNK pupils at a time (a pupil's score depends on that pupil alone), so the event
    loop gets the GIL between chunks and `/health` answers while a large cohort is scored.
    """
    refuse_inputs_missing(scorer, cohort)
    features = cohort.features
    try:
        parts = [scorer.score(features.iloc[i:i + SCORE_CHUNK], reasons=reasons)
                 for i in _chunks(len(features), SCORE_CHUNK)]
    except ScoringInputError as exc:  # the models stage's own message: column names, no values
        raise RequestProblem(422, f"The features cannot be scored: {exc}") from None
    scores = pd.concat(parts, ignore_index=True) if len(parts) != 1 else parts[0]
    order = np.lexsort((scores["upn"].to_numpy(), -scores["probability"].to_numpy()))
    scores = scores.iloc[order].reset_index(drop=True)
    return with_officer_columns(scores, features, scorer.matrix)


def score_feature_records(scorer, records: list[dict[str, Any]], reasons: bool) -> list[dict[str, Any]]:
    """Feature records through the scorer's no-DataFrame path; results highest risk first, with the
    officer's fields a record can give (its school URN and NC year; no school name: records carry none)."""
    results: list[dict[str, Any]] = []
    try:
        for i in _chunks(len(records), SCORE_CHUNK):
            results += scorer.score_records(records[i:i + SCORE_CHUNK], reasons=reasons)
    except ScoringInputError as exc:
        raise RequestProblem(422, f"The features cannot be scored: {exc}") from None
    # the matrix's legend, as scores.csv's
    labels = need_labels((getattr(scorer, "risk_matrix", None) or {}).get("need_levels")) or {}
    for result, record in zip(results, records, strict=True):
        result["school_urn"] = record.get("school_urn")
        result["school_name"] = None
        # as a census row's answer gives them: a whole NC year as a whole number (records are read as
        # numbers: 8.0), and the need level in words (it was null beside a need level sent)
        year = record.get("nc_year")
        result["nc_year"] = int(year) if isinstance(year, float) and year.is_integer() else year
        need = result.get("need_level")
        result["need_label"] = labels.get(int(need)) if need is not None else None
    results.sort(key=lambda r: (-r["probability"], r["upn"]))
    return results
