"""`exclusion-risk evaluate`: back-test a recorded scoring once its year's outcomes are in the extracts.

The scoring is named by `--scores` (a scores.csv written by `score`, whose run is found in the runs
folder beside it by its pupils, or a run's folder) or by `--runs DIR --year Y --census C` (the latest
run of that year and census). The measures are `models.evaluate`'s; the files `models.evaluate_report`'s;
the headline numbers are logged to MLflow against the model version that made the scores
(`models.evaluate_log`). A school of the scoring none of whose scored pupils is on the census is named
in the warnings (`evaluate_schools.missing_schools`): its census rows may be missing from the extracts.
"""

from __future__ import annotations

import json
import numbers
import time
from pathlib import Path

import typer

from exclusion_risk import calendar
from exclusion_risk.cli_checks import out_folder
from exclusion_risk.models import tracking
from exclusion_risk.models.band_precision import OUTCOMES
from exclusion_risk.models.cli_inputs import fail, linked_history
from exclusion_risk.models.evaluate_compare import compare_with_stated, scored_in_sample
from exclusion_risk.models.risk_matrix import RiskMatrix, ScoringConfig, load_risk_matrix, matrix_for
from exclusion_risk.models.score_runs import (
    RUN_FILE,
    RUNS_FOLDER,
    RunFolder,
    RunNotFound,
    ScoringRun,
    read_run_pupils,
)
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE, SECONDARY, SUPPRESSED, is_withheld

# A scoring is evaluated against the census it scored; under this share of its pupils on it, the extracts
# are not that census's (evaluate refuses rather than judge the model on the few pupils in common).
MOST_SCORED = 0.5


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)


def _run_folder_run(path: Path) -> tuple[RunFolder, ScoringRun]:
    try:
        run = ScoringRun.from_dict(json.loads((path / RUN_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        fail(f"--scores {path}: its {RUN_FILE} is not a scoring run's record")
    return RunFolder(path.parent), run


def _same_pupils(a, b) -> bool:
    if len(a) != len(b):
        return False
    left, right = a.sort_values("upn").reset_index(drop=True), b.sort_values("upn").reset_index(drop=True)
    # the bands and ratings too: a scoring at another capacity has the same probabilities (an automation
    # engineer's 10% scores.csv was evaluated as the 5% run recorded before it, 170 red for its 347)
    placed = all(left[c].astype("string").fillna("").equals(right[c].astype("string").fillna(""))
                 for c in ("likelihood_band", "rag"))  # fmt: skip
    return bool(
        left["upn"].equals(right["upn"]) and ((left["probability"] - right["probability"]).abs() < 1e-5).all()
        and placed
    )


def _scores_file_run(path: Path, runs: Path | None) -> tuple[RunFolder, ScoringRun]:
    """The recorded run whose pupils are this scores.csv's (newest first), in --runs or beside the file."""
    folder = RunFolder(runs if runs is not None else path.parent / RUNS_FOLDER)
    try:
        scored = read_run_pupils(path)
    except (RunNotFound, OSError) as exc:
        fail(f"--scores: {exc}")
    except ValueError as exc:  # pandas' parse and cast errors may quote a cell: the kind only
        fail(f"--scores: it cannot be read ({type(exc).__name__})")
    for run in reversed(folder.runs()):
        if run.pupils != len(scored):
            continue
        try:
            if _same_pupils(folder.pupils(run), scored):
                return folder, run
        except (RunNotFound, OSError, ValueError):
            continue
    fail(
        f"--scores {path}: no recorded scoring in {folder.root} has its pupils (give the run's folder, or "
        "--runs with the runs folder `score` recorded it in)"
    )


def resolve_run(
    scores: Path | None, runs: Path | None, year: str | None, census: str
) -> tuple[RunFolder, ScoringRun]:
    """(runs folder, run) that --scores or --runs/--year/--census name; stops with a message otherwise."""
    if scores is not None and year is not None:
        # --year names a run in a runs folder; --scores names one already (its year is the run's)
        fail("--year picks a recorded scoring from --runs, and --scores names one already (its year is the "
             "run's): give --scores alone, or --runs with --year (and --census)")
    if scores is not None:
        if (scores / RUN_FILE).is_file():
            return _run_folder_run(scores)
        if scores.is_dir():
            fail(f"--scores {scores} is a folder but not a scoring run's (it has no {RUN_FILE})")
        if not scores.is_file():
            fail(f"--scores {scores} does not exist")
        return _scores_file_run(scores, runs)
    if year is None or runs is None:
        fail(
            "name the scoring to evaluate: --scores FILE (a scores.csv or a run's folder), "
            "or --runs DIR --year Y"
        )
    try:
        wanted_year = calendar.normalise_year(year)
        wanted_census = calendar.census_name(census)
    except ValueError as exc:
        fail(str(exc))
    folder = RunFolder(runs)
    found = [r for r in folder.runs() if r.year == wanted_year and r.census == wanted_census]
    if not found:
        fail(f"no recorded {wanted_census} scoring of {wanted_year} in {runs}")
    return folder, found[-1]


def model_info(version: str) -> dict | None:
    """The registered version's facts (label, test year, stated metrics, its MLflow `run_id`), or None
    when the store lacks it."""
    try:
        tracking.setup_read()
    except tracking.StoreAbsent:  # no default store here: it holds no version, and none is made
        return None
    found = tracking.resolve_version(version) if version else None
    return None if found is None else {**tracking.read_model_info(found), "run_id": found.run_id}


def stored_matrix(info: dict | None) -> RiskMatrix | None:
    """The risk matrix with the model version's stored thresholds, as `score` places pupils without
    --capacity (the file's defaults where the version stored none); None when the store lacks the version."""
    if info is None:
        return None
    stored = tracking.load_scoring_config(info["run_id"])
    return matrix_for(None if stored is None else ScoringConfig.from_dict(stored))


def check_model(run: ScoringRun, info: dict | None, label: str | None) -> tuple[str, list[str]]:
    """(the outcome to check against, notes to print) for `run`, whose model's store facts are `info`.

    Stops when the store's version is not the model that scored (its MLflow run differs from the one
    recorded with the scoring), when no outcome is known (neither the store, the scoring's record nor
    `--label` gives one), or when `--label` contradicts the model's."""
    try:
        where = tracking.tracking_uri(create=False)
    except tracking.StoreAbsent:
        where = "./mlruns (none here)"
    notes = []
    if info is not None and run.model_run_id and info.get("run_id") != run.model_run_id:
        fail(
            f"model version {run.model_version} in the MLflow store {where} is not the model that made "
            f"these scores (the scoring recorded MLflow run {run.model_run_id[:8]}, the store's version is "
            f"run {str(info.get('run_id'))[:8]}): set MLFLOW_TRACKING_URI to the store that scored them"
        )
    known = (info or {}).get("label") or run.model_label or None
    if label is not None and known is not None and label != known:
        fail(f"--label {label}: the model that made these scores predicts '{known}'")
    if info is None:
        if label is None and known is None:
            fail(
                f"model version {run.model_version or '?'} is not in the MLflow store {where} and the "
                "scoring did not record its outcome: set MLFLOW_TRACKING_URI to the store that scored "
                f"them, or give --label ({', '.join(OUTCOMES)}); nothing would be logged"
            )
        notes.append(
            f"note: model version {run.model_version or '?'} is not in the MLflow store {where}: "
            "no stated interval to compare with, not logged"
        )
    elif not run.model_run_id:
        notes.append(
            f"note: the scoring did not record its model's MLflow run (recorded before that was kept): "
            f"version {run.model_version} in {where} is assumed to be the model that made it"
        )
    return label or known, notes


def unseen_schools(pupils, info: dict | None) -> bool:
    """Whether none of the scored pupils' schools is one the model learned from (its stored drift
    profile's): another authority's pupils, whose outcomes no fit, choice or test used. A consortium
    analyst's scoring of one authority with another's model was called in-sample, its test year being
    the model's, and its comparison with the stated precision withheld."""
    import pandas as pd

    from exclusion_risk.models.drift_checks import learned_schools
    from exclusion_risk.models.drift_data import stored_profile

    learned = learned_schools(stored_profile((info or {}).get("run_id")))
    scored = set(pd.Series(pupils.get("school_urn"), dtype="string").dropna().str.strip())
    return bool(learned) and bool(scored) and not learned & scored


def in_sample(run: ScoringRun, info: dict | None, pupils=None) -> bool:
    """Whether the scored year is from the model's first train year to its test year: its outcomes were
    used to fit, choose or test the model, so the back-test is not out of sample (an unknown or
    unreadable year: not known to be); never where `pupils` are at none of the model's schools."""
    info = info or {}
    if pupils is not None and unseen_schools(pupils, info):
        return False
    return scored_in_sample(run.year, info.get("test_year") or run.model_test_year, info.get("train_years"))


def sample_warnings(run: ScoringRun, info: dict | None, pupils=None) -> list[str]:
    """A plain warning when the check is in sample (`in_sample`); the comparison is then not judged. A
    scoring at none of the model's schools is said instead: another authority's pupils, out of sample."""
    if pupils is not None and unseen_schools(pupils, info):
        return [f"none of the scored pupils' schools is one model version {run.model_version} learned "
                "from: another authority's pupils? Read as out of sample (no fit, choice or test used "
                "their outcomes)"]  # fmt: skip
    if not in_sample(run, info):
        return []
    test_year = (info or {}).get("test_year") or run.model_test_year
    where = ("is the model's test year" if str(run.year) == str(test_year)
             else f"is between the model's first train year and its test year {test_year}")  # fmt: skip
    return [
        f"the scored year {run.year} {where}: its outcomes were used to fit, choose or test the model, so "
        "this is not an out-of-sample check and is not judged against the model's stated precision "
        "(recorded as in-sample)"
    ]


def evaluate_command(
    data: Path = typer.Option(
        ..., "--data", help="Folder with the extracts, now holding the scored year's outcomes."
    ),
    scores: Path = typer.Option(
        None,
        "--scores",
        help="A scores.csv written by `score` (its run is found beside it) or a run's folder.",
    ),
    runs: Path = typer.Option(
        None, "--runs", help=f"The runs folder `score` recorded in (default: {RUNS_FOLDER} beside --scores)."
    ),
    year: str = typer.Option(None, "--year", help="With --runs: the scored academic year, e.g. 2018/19."),
    census: str = typer.Option(
        "autumn", "--census", help="With --runs: the scored census (autumn, spring, summer)."
    ),
    links: Path = typer.Option(
        None, "--links", help="Output folder of `exclusion-risk link` (default: link now)."
    ),
    out: Path = typer.Option(
        Path("evaluation"), "--out", help="Folder for evaluation.json and evaluation.html."
    ),
    log: bool = typer.Option(
        True, "--log/--no-log", help="Log the headline numbers to MLflow against the model version."
    ),
    label: str = typer.Option(
        None,
        "--label",
        help=f"The outcome ({', '.join(OUTCOMES)}) when the model is not in the MLflow store and the "
        "scoring did not record it.",
    ),
) -> None:
    """How a recorded scoring turned out: realised precision and recall by capacity, band and RAG,
    calibration, by school and group; compared with the model's stated test-year precision; logged to
    MLflow."""
    # imported here: the measures and their report load scikit-learn and pandera, which `--help` and the
    # other commands need not wait for
    from exclusion_risk.models.evaluate import (
        HEADLINE_CAPACITY,
        OutcomesIncomplete,
        evaluate_scores,
        headline,
        match,
        percent,
        realised_outcomes,
        run_facts,
    )
    from exclusion_risk.models.evaluate_log import log_evaluation
    from exclusion_risk.models.evaluate_report import write_evaluation, write_evaluation_json
    from exclusion_risk.models.evaluate_schools import missing_schools
    from exclusion_risk.models.fingerprint import extracts_source

    out_folder(out, "--out")  # before the run, the extracts and the outcomes are read
    folder, run = resolve_run(scores, runs, year, census)
    started = time.perf_counter()
    try:
        pupils = folder.pupils(run)
    except (RunNotFound, OSError, ValueError) as exc:
        fail(f"the pupils of run {run.short_id} cannot be read: {type(exc).__name__}")
    if label is not None and label not in OUTCOMES:
        fail(f"--label must be one of {', '.join(OUTCOMES)}")
    info = model_info(run.model_version)
    label, notes = check_model(run, info, label)
    for note in notes:
        typer.echo(note)
    warnings = sample_warnings(run, info, pupils)
    history = linked_history(data, links)
    try:
        outcomes = realised_outcomes(history, run.year, run.census, label)
        matched = match(pupils, outcomes)
        document = evaluate_scores(matched, [band.label for band in load_risk_matrix().bands],
                                   matrix=stored_matrix(info))  # fmt: skip
    except OutcomesIncomplete as exc:
        fail(str(exc))
    except (ValueError, LookupError, TypeError, OSError) as exc:  # a message might quote a value
        fail(f"run {run.short_id} cannot be evaluated against {data} ({type(exc).__name__})")
    if len(matched.frame) < MOST_SCORED * matched.scored:
        # another authority's (or an older cut of the) extracts: a verdict on the few pupils they share
        # would be logged against the version as its realised precision. No count: it could be 1-9.
        fail(f"fewer than half of the {matched.scored:,} pupils {run.describe()} scored are on the "
             f"{run.year} {run.census} census in {data}: are these the extracts of the authority (and "
             "the census) that was scored? Pupils who left during the year are few; nothing was written "
             "or logged.")  # fmt: skip
    # a school none of whose scored pupils is on the census: the extracts lack it, or are not the scored ones
    warnings += missing_schools(pupils, matched.frame, f"the {run.year} {run.census} census")
    row = next(r for r in document["by_capacity"] if r["capacity"] == HEADLINE_CAPACITY)
    document = {
        "notice": DECISION_SUPPORT_NOTICE,
        "model_version": run.model_version,
        "label": label,
        "run": run_facts(run),
        "warnings": warnings,
        **document,
        "comparison": compare_with_stated(row, info or {}, out_of_sample=not in_sample(run, info, pupils)),
        "source": extracts_source(data),  # which files, as digests
    }
    document["headline"] = headline(document)
    # The files first: a bad --out must stop before anything is logged or the version is tagged.
    try:
        written = write_evaluation(document, out)
    except OSError as exc:
        fail(f"--out {out}: cannot write there ({exc.strerror or type(exc).__name__})")
    logged = None
    if log and info is not None:
        logged = log_evaluation(document, info["version"])
        document["mlflow_run_id"] = logged
        write_evaluation_json(document, out)
    typer.echo(f"evaluated {run.describe()} (model version {run.model_version}, outcome '{label}')")
    counts = document["pupils"]
    typer.echo(
        f"{_count(counts['with_outcomes'])} of {_count(counts['scored'])} scored pupils matched to outcomes; "
        f"{_count(counts['without_outcomes'])} scored but not on that census in these extracts"
    )
    for warning in warnings:
        typer.echo(f"warning: {warning}")
    typer.echo(document["headline"])
    for r in document["by_capacity"]:
        typer.echo(
            f"  top {100 * r['capacity']:g}%: {_count(r['selected'])} selected, "
            f"{_count(r['true_positives'])} with the outcome, precision {percent(r['precision'])}, "
            f"recall {percent(r['recall'])}"
        )
    if any(is_withheld(r["true_positives"]) for r in document["by_capacity"]):
        typer.echo(f"  ({SUPPRESSED}: fewer than 10 pupils; {SECONDARY}: withheld so that a small count "
                   "cannot be worked out from the others, as in the report)")
    for said in document.get("withheld", []):  # what is withheld beyond the legend's, or cannot be
        typer.echo(f"  {said}")
    typer.echo(document["calibration_by_group"]["sentence"])
    if logged is not None:
        typer.echo(
            f"logged to MLflow run {logged[:8]}; version {info['version']} tagged {tracking.LAST_CHECKED}"
        )
    typer.echo(f"wrote {written[0]} and {written[1]} in {time.perf_counter() - started:.1f}s")
    typer.echo(DECISION_SUPPORT_NOTICE)


def _count(value) -> str:
    """A count as the headline writes it (3,126); a withheld one as published ("<10", "x")."""
    return f"{value:,}" if isinstance(value, numbers.Integral) else str(value)
