"""`exclusion-risk score` (scores.csv + an HTML summary) and `exclusion-risk review` (the fairness report)."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import typer

from exclusion_risk import calendar
from exclusion_risk.cli_checks import out_file, out_folder, steps
from exclusion_risk.contract import PUPIL_KEY
from exclusion_risk.files import write_csv, write_text
from exclusion_risk.linkage.registrations import collection_repeats
from exclusion_risk.models.cli_inputs import fail, linked_data, linked_history, reading_words
from exclusion_risk.models.comparison_notes import comparison_notes, nothing_compared, pupils_compared_notes
from exclusion_risk.models.earlier_scorings import pupil_keys
from exclusion_risk.models.fairness import FAIRNESS_JSON
from exclusion_risk.models.risk_matrix import RiskMatrixError, parse_capacity
from exclusion_risk.models.score_runs import (
    CENSUS_AUTUMN,
    CHANGES_FILE,
    RUNS_FOLDER,
    EarlierRun,
    RunFolder,
    RunNotFound,
    change_counts,
    changes_sentence,
    compare,
    new_run,
    resolve_previous,
)
from exclusion_risk.models.tracking import CHAMPION, ModelNotFoundError
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE
from exclusion_risk.spark_session import SparkUnavailable, check_available

# Where `score` runs the model: in this process (the default), or in a local Spark session.
LOCAL_BACKEND, SPARK_BACKEND = "local", "spark"


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)
    app.command("review")(review_command)


def _year(text: str, option: str) -> str:
    try:
        return calendar.normalise_year(text)
    except ValueError as exc:
        fail(f"{option}: {exc}")


def _capacity(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_capacity(text)
    except RiskMatrixError as exc:
        fail(f"--capacity: {exc}")


def _census(text: str) -> str:
    """`--census` as people name it (autumn, spring, summer); exit 2 on anything else."""
    try:
        return calendar.census_name(text)
    except ValueError as exc:
        fail(f"--census: {exc}")


def _censuses_held(census, year: str, name: str) -> str:
    """What the census extract has, for a refusal: the years with a `name` census and `year`'s censuses."""
    term = calendar.parse_census(name)
    years = calendar.census_years(census, term)
    held = [t for t in calendar.CENSUS_TERMS if year in calendar.census_years(census, t)]
    this_year = [calendar.census_name(t) for t in held]
    return f"{name} censuses: {', '.join(years) or 'none'}; {year}: {', '.join(this_year) or 'none'}"


def _backend(text: str) -> str:
    """`--backend`: local or spark; for spark, pyspark and Java are checked before any work (exit 2)."""
    backend = text.strip().lower()
    if backend not in (LOCAL_BACKEND, SPARK_BACKEND):
        fail(f"--backend must be {LOCAL_BACKEND} or {SPARK_BACKEND}, not {text!r}")
    if backend == SPARK_BACKEND:
        try:
            check_available()
        except SparkUnavailable as exc:
            fail(f"--backend spark: {exc}")
    return backend


def _previous(wanted: str | None, folder: RunFolder, year: str, census: str) -> EarlierRun | None:
    """The earlier scoring `--compare-with` names, checked before any work is done."""
    if wanted is None:
        return None
    try:
        return resolve_previous(wanted, folder, year, census)
    except (RunNotFound, OSError) as exc:
        fail(f"--compare-with: {exc}")
    except ValueError as exc:  # pandas' parse and cast errors may quote a cell: the kind only
        fail(f"--compare-with: it cannot be read ({type(exc).__name__})")


def evaluate_later(data: Path, scores: Path, year: str, runs: Path | None) -> str:
    """score's line saying how to check the scores written once `year`'s outcomes are in."""
    command = ["exclusion-risk", "evaluate", "--data", str(data), "--scores", str(scores)]
    command += ["--runs", str(runs)] if runs is not None else []
    # the extracts scored hold no outcomes of the year scored yet: evaluate reads a later extract
    return (f"to check these scores once {year}'s outcomes are in: {shlex.join(command)} (--data: extracts "
            f"taken after {year} ends, holding its exclusions)")


def score_command(
    data: Path = typer.Option(..., "--data", help="Folder with census, exclusions and social_care extracts."),
    year: str = typer.Option(
        ..., "--year", help="Academic year whose census (--census: autumn by default) is scored, e.g. 2018/19"
    ),
    census: str = typer.Option(
        CENSUS_AUTUMN,
        "--census",
        help="The census of --year to score: autumn, spring or summer; the model must have been trained "
        "for it (`train --census`).",
    ),
    out: Path = typer.Option(
        Path("scores.csv"), "--out", help="scores.csv to write (scores.xlsx and the HTML summary beside it)."
    ),
    links: Path = typer.Option(
        None, "--links", help="Output folder of `exclusion-risk link` (default: link now)."
    ),
    capacity: str = typer.Option(
        None,
        "--capacity",
        help="Share of pupils the team can act on, e.g. 5% or 0.5% (a bare number is a percentage; one "
        "below 1 is refused as ambiguous); re-cuts the likelihood bands on the model's "
        "validation year's held-out calibration pupils, as training cut the stored thresholds (default: "
        "the thresholds stored with the model).",
    ),
    alias: str = typer.Option(
        CHAMPION, "--alias", help="Registry alias of the model to use (or a version number, or a run id)."
    ),
    no_reasons: bool = typer.Option(False, "--no-reasons", help="Skip the SHAP reasons (faster)."),
    backend: str = typer.Option(
        LOCAL_BACKEND,
        "--backend",
        help=f"Where the model runs: {LOCAL_BACKEND} (in this process, the default) or {SPARK_BACKEND} (a "
        "local[2] Spark session: the model broadcast to mapInPandas, probabilities and reasons per chunk; "
        "the same scores and files; needs the `spark` extra and Java 17; for features already in a Spark "
        "cluster or past one machine, slower here).",
    ),
    runs: Path = typer.Option(
        None, "--runs", help=f"Folder where each scoring is recorded (default: {RUNS_FOLDER} beside --out)."
    ),
    compare_with: str = typer.Option(
        None,
        "--compare-with",
        help="An earlier scoring to compare with: `last` (the latest of this year and census in --runs), a "
        "run id "
        "(or its first 4+ characters), a run's folder, or a previous scores.csv; writes changes.csv.",
    ),
) -> None:
    """Score every pupil on a year's census (autumn unless --census says otherwise) with the champion
    model: scores.csv, scores.xlsx and a summary HTML; the scoring is recorded in --runs, and compared
    with an earlier one if asked."""
    # imported here: scoring loads scikit-learn and pandera, which `--help` and the other commands need
    # not wait for
    from exclusion_risk.features.build import build_feature_table
    from exclusion_risk.features.extract_reach import exclusion_starts, exclusions_not_reached
    from exclusion_risk.features.home_area import home_area_lines
    from exclusion_risk.models.drift_data import inputs_wholly_missing, scoring_drift_lines
    from exclusion_risk.models.score_fairness import fairness_lines
    from exclusion_risk.models.score_notes import (
        blank_need_lines,
        history_start_lines,
        new_school_lines,
        recut_lines,
        rejected_census_words,
        rejected_rows_lines,
        shared_code_lines,
        unlinked_status_episodes,
        unlinked_status_lines,
        wholly_missing_words,
    )
    from exclusion_risk.models.score_report import summary_html
    from exclusion_risk.models.score_table import as_written, with_officer_columns
    from exclusion_risk.models.score_workbook import notice_lines_for, scoring_words, write_scores_workbook
    from exclusion_risk.models.scoring import CohortScorer, ScoringInputError
    from exclusion_risk.models.spark_scoring import score_on_spark
    from exclusion_risk.models.upn_warning import invalid_upn_warning, not_in_history

    year = _year(year, "--year")
    census = _census(census)
    term = calendar.parse_census(census)
    share = _capacity(capacity)
    backend = _backend(backend)
    if out.suffix.lower() != ".csv":
        fail(f"--out must end in .csv: {out}")
    # before the model, the extracts and the scoring: every file written, and the runs folder
    beside = [out.with_suffix(".xlsx"), out.with_suffix(".html")]
    out_file(out, "--out", *beside, *([out.parent / CHANGES_FILE] if compare_with is not None else []))
    runs_given, runs = runs, runs if runs is not None else out.parent / RUNS_FOLDER
    # a second scoring to one --out replaced the first's files unsaid
    replacing = any(path.exists() for path in (out, *beside))
    out_folder(runs, "--runs")
    folder = RunFolder(runs)
    previous = _previous(compare_with, folder, year, census)
    started = time.perf_counter()
    with steps("loading the model") as step:
        try:
            scorer = CohortScorer.load(alias=alias)
        except ModelNotFoundError as exc:
            fail(str(exc))
        if scorer.census != census:
            # features at one census scored by a model fitted at another would be ranked on the wrong footing
            fail(
                f"--census {census}: model {scorer.name} version {scorer.model_version} was trained for the "
                f"{scorer.census} census; score the {scorer.census} census, or train with --census {census}"
            )
        step(reading_words(links))
        linked = linked_data(data, links)
        history = linked.history
        available = calendar.census_years(history.census, term)
        if year not in available:
            held = _censuses_held(history.census, year, census)
            fail(f"no {census} census for {year} in {data} (have {held})"
                 + rejected_census_words(linked.extracts, data, links, year))
        # an exclusions extract taken before census day: the service's rule and words (features.extract_reach)
        behind = exclusions_not_reached(exclusion_starts(history), calendar.start_year(year), term)
        if behind is not None:
            fail(behind[0])
        step(f"building features for the {year} {census} census")
        features = build_feature_table(history, [year], census=term)
        absent = inputs_wholly_missing(scorer.info(), features)
        if absent:  # every score would move at once: not a list an officer should be given
            fail(wholly_missing_words(absent, year, census, data))
        recut = recut_lines(share, scorer.matrix.capacity, year) if share is not None else []
        if recut:  # a re-cut; one that could not find the calibration pupils says so beside the counts too
            validation_year = scorer.info().get("validation_year")
            if not validation_year or validation_year not in available:
                fail(f"--capacity needs the model's validation year ({validation_year or 'unknown'}) "
                     f"in {data}")
            # the bands' precision is recomputed for the new thresholds on the model's test year, if here
            step(f"re-cutting the bands for --capacity {capacity} on {validation_year}")
            measured = scorer.precision_year()
            test = None
            if measured is not None and measured[0] in available:
                test = build_feature_table(history, [measured[0]], label=measured[1], census=term)
            try:
                caveat = scorer.refit_thresholds(
                    build_feature_table(history, [validation_year], census=term),
                    share,
                    validation_year,
                    test_features=test,
                )
                recut = recut + ([f"{caveat[0].upper()}{caveat[1:]}."] if caveat else [])
            except (ScoringInputError, RiskMatrixError) as exc:
                fail(str(exc))
        step(f"scoring {len(features):,} pupils" + ("" if no_reasons else " and explaining each score"))
        try:
            if backend == SPARK_BACKEND:
                scores = score_on_spark(scorer, features, reasons=not no_reasons)
            else:
                scores = scorer.score(features, reasons=not no_reasons)
        except (ScoringInputError, RiskMatrixError, SparkUnavailable) as exc:
            fail(str(exc))
        scores = with_officer_columns(scores, features, scorer.matrix)
        # What the console, the page and the workbook all say beside the counts: rows rejected on reading,
        # then the drift check's warnings (nothing when quiet)
        step("checking the inputs against training")
        drift_lines = scoring_drift_lines(scorer.info(), features, year, linked)
        repeats = collection_repeats(history.census, year, term).sentences()  # each pupil scored once
        fairness = fairness_lines(scorer.info())  # the review's calibration findings, where one is logged
        # pupils whose UPN fails the check, and those of them the history knows nothing else of: the service's
        # words for an upload (models.upn_warning), counted here on the census scored
        unknown = not_in_history(features, history, year, term)

        def invalid_upns(exact: bool) -> list[str]:
            said = invalid_upn_warning(features["upn"], unknown, exact=exact,
                                       as_given="as the census gives it")
            return [f"{line}." for line in said]

        def new_schools(exact: bool) -> list[str]:  # then whether the history reaches back before the year
            return (history_start_lines(history, year)
                    + new_school_lines(features, [history.census], year, exact))

        # what the census's rows say of the scored pupils: homes the lookups did not place (where the
        # model reads the IDACI decile), two schools under one code
        placed = home_area_lines(features, history.census) if "idaci_decile" in scorer.feature_names else []
        census_lines = placed + shared_code_lines(history.census, year, term)
        unlinked_care = unlinked_status_episodes(linked.extracts, linked.links)

        def unlinked(exact: bool) -> list[str]:  # looked-after or on a plan, and linked to no pupil
            return unlinked_status_lines(unlinked_care, year, term, exact)

        notes = (rejected_rows_lines(linked.extracts, data) + invalid_upns(True) + blank_need_lines(features)
                 + unlinked(True) + census_lines + new_schools(True) + repeats + drift_lines + recut
                 + fairness)  # fmt: skip
        page_notes = (rejected_rows_lines(linked.extracts, data, exact=False) + invalid_upns(False)
                      + blank_need_lines(features, False) + unlinked(False) + census_lines
                      + new_schools(False) + drift_lines + recut + fairness)  # fmt: skip
        step(f"writing {out}, its summary page and workbook")
        # Each pupil under the UPN the school recorded on this census (the features' `upn`, as an upload of
        # it is scored by the service), then the pupil as the linkage knows them (the features' PUPIL_KEY:
        # the permanent UPN a later collection gave a pupil first recorded under a temporary one), so that
        # scores.csv joins the feature table, links.csv and a later year's scores on it.
        pupil_of = features.drop_duplicates("upn").set_index("upn")[PUPIL_KEY]
        scores = scores.assign(**{PUPIL_KEY: scores["upn"].map(pupil_of)})
        scores = scores.sort_values(["probability", "upn"], ascending=[False, True], kind="mergesort")
        scores = scores.reset_index(drop=True)  # highest risk first, ties by UPN, as the scorer ranks
        # A plain CSV (header on row 1: pandas and Excel open it as it is), private (every pupil's UPN).
        # The decision-support notice travels beside the data: in the HTML summary and on the console.
        run, pupils = new_run(
            scores, model_name=scorer.name, model_version=scorer.model_version,
            risk_matrix_version=scorer.matrix.version, year=year, census=census, model_info=scorer.info(),
            capacity=scorer.matrix.capacity,
        )  # fmt: skip
        changes, summary = None, None
        if previous is not None:
            # each pupil and school against their latest scoring up to the one named (models.earlier_scorings)
            # a pupil whose UPN was corrected since (the linked history knows both) under the UPN scored now
            view = previous.view(pupils, pupil_keys(history, scores))
            compared_notes = comparison_notes(previous.run, run, previous.pupils, pupils, view.compared)
            if view.compared - {""}:
                changes = compare(view, pupils, [band.label for band in scorer.matrix.bands])
                summary = f"{changes_sentence(change_counts(changes), previous.name)}."
                held = {r.run_id: r for r in folder.runs()}  # the scorings before it: model, matrix, capacity
                compared_notes += pupils_compared_notes(view, pupils, run, previous.run.run_id, previous.name,
                                                        held.get)
            else:  # no school in common: said where the counts would be, on the page and workbook too
                summary = f"{nothing_compared(previous.name)}; no changes.csv is written."
            summary = " ".join([summary, *compared_notes])
            if changes is None:
                notes, page_notes = notes + [summary], page_notes + [summary]
        # the summary page counts the changes too (each under 10 as "<10"); each pupil's is in changes.csv
        changed = None if changes is None else (previous.name, change_counts(changes))
        summary_page = summary_html(scores, features, scorer, year, census, notes=page_notes, changes=changed)
        write_csv(as_written(scores), out, private=True, float_format="%.6f")
        html_path = out.with_suffix(".html")
        write_text(html_path, summary_page)
        stale_changes = out.parent / CHANGES_FILE
        if changes is not None:
            write_csv(changes, stale_changes, private=True)
        elif replacing and stale_changes.is_file() and not stale_changes.is_symlink():
            stale_changes.unlink()  # the replaced scores' comparison: not this one's (said below)
        else:
            stale_changes = None
        # The workbook holds every pupil's UPN too: private. Its first sheet is the notice.
        facts = (scorer.name, str(scorer.model_version), year, run.census, run.scored_on)
        xlsx_path = write_scores_workbook(
            scores, out.with_suffix(".xlsx"), risk_matrix=scorer.risk_matrix, changes=changes,
            changes_summary=None if changes is None else summary,
            notice_lines=notice_lines_for(*facts) + notes, scoring=scoring_words(*facts),
        )  # fmt: skip
        step(f"recording the run in {runs}")
        run_folder = folder.record(run, pupils)
    counts = scores["rag"].value_counts()
    typer.echo(
        f"scored {len(scores):,} pupils ({year} {census} census) with {scorer.name} "
        f"version {scorer.model_version} "
        f"in {time.perf_counter() - started:.1f}s: red {counts.get('red', 0):,}, "
        f"amber {counts.get('amber', 0):,}, green {counts.get('green', 0):,}"
    )
    typer.echo(f"wrote {out}, {xlsx_path} and {html_path}")
    typer.echo(f"recorded as run {run.short_id} in {run_folder.parent}")
    if replacing:
        typer.echo(f"note: the scores {out} held before (and its workbook and page) are replaced; `score` "
                   f"records each scoring in its runs folder (this one's is {run_folder.parent}), where "
                   "`--compare-with` and `evaluate --scores` read it")
    typer.echo(evaluate_later(data, out, year, runs_given))
    if changes is not None:  # nothing compared: the summary is among the notes, said once below
        typer.echo(summary)
        typer.echo(f"wrote {out.parent / CHANGES_FILE}")
    elif stale_changes is not None:
        typer.echo(f"note: removed {stale_changes}, which an earlier scoring wrote: it compared that "
                   "scoring, not this one (`--compare-with` writes this one's)")
    for line in notes:
        typer.echo(line)
    typer.echo(DECISION_SUPPORT_NOTICE)


def review_command(
    run: str = typer.Argument(
        ..., help="Model run id (or its first 8+ characters), registry version number, or alias (champion)."
    ),
    data: Path = typer.Option(..., "--data", help="Folder with the extracts the run was trained on."),
    links: Path = typer.Option(
        None, "--links", help="Output folder of `exclusion-risk link` (default: link now)."
    ),
    capacity: str = typer.Option(
        None, "--capacity",
        help="The team's capacity (top k%) for group rates (default: the risk matrix's, 5%).",
    ),
    out: Path = typer.Option(
        None,
        "--out",
        help=f"Also write the HTML report here, and {FAIRNESS_JSON} (the same numbers) beside it.",
    ),
    ablation: bool = typer.Option(
        True,
        "--ablation/--no-ablation",
        help="Also retrain the same model with protected characteristics (sex, ethnicity) toggled: "
        "added when the reviewed model leaves them out, removed when it uses them; the report names which.",
    ),
    bootstrap: int = typer.Option(500, "--bootstrap", min=50, help="Bootstrap replicates for intervals."),
) -> None:
    """Fairness review of a trained model on its test year: HTML report, logged to the model's MLflow run."""
    # imported here: the review retrains with scikit-learn, which `--help` and the other commands need
    # not wait for
    from exclusion_risk.linkage.outputs import read_report
    from exclusion_risk.models.fairness_report import flagged_words
    from exclusion_risk.models.fairness_run import resolve_run, review_run
    from exclusion_risk.models.fingerprint import extracts_source

    share = _capacity(capacity)
    if out is not None:  # before the model, the extracts and the review (retraining, bootstrap)
        if out.suffix.lower() not in (".html", ".htm"):  # `--out rv` wrote an HTML file named rv
            fail(f"--out must end in .html: {out}")
        out_file(out, "--out", out.parent / FAIRNESS_JSON)
    try:
        target = resolve_run(run)
    except LookupError as exc:
        fail(str(exc))
    with steps(reading_words(links)) as step:
        history = linked_history(data, links)
        step(f"reviewing run {target.run_id[:8]} on its test year: {bootstrap} bootstrap replicates"
             + (" and a retraining with sex and ethnicity toggled" if ablation else ""))
        try:
            result, html, summary = review_run(target, history, share, ablation=ablation, n_boot=bootstrap,
                                               linkage_report=read_report(links), other_data=out is not None)
        except (LookupError, ValueError) as exc:
            fail(str(exc))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, html)
        # which extracts, as digests (the copy logged to the run is the run's own data's, or none)
        sourced = json.loads(summary) | {"source": extracts_source(data)}
        write_text(out.parent / FAIRNESS_JSON, json.dumps(sourced, indent=2, allow_nan=False))
        typer.echo(f"wrote {out} and {out.parent / FAIRNESS_JSON}")
    published = json.loads(summary)["summary"]  # the counts and words the report and fairness.json give
    flagged = published["flagged_where"]
    typer.echo(
        f"fairness review of {result.model['model_type']} (run {target.run_id[:8]}) "
        f"on {result.model['year']}: {flagged_words(flagged)}; "
        + (f"not logged to the run: these extracts are not the ones it was trained on ({other})"
           if (other := result.model.get("other_data"))
           else "report logged to the run as fairness/fairness_report.html")
    )
    red_list = published["red_list"]
    if red_list:
        typer.echo(f"{red_list}.")
    typer.echo(DECISION_SUPPORT_NOTICE)
