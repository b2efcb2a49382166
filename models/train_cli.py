"""`exclusion-risk train`, `compare` and `promote`: train and track models, compare them, pick a champion."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from exclusion_risk import calendar
from exclusion_risk.cli_checks import steps
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.models import tracking
from exclusion_risk.models.cli_inputs import check_data_and_links, fail, reading_words
from exclusion_risk.models.config import DEFAULT_CONFIG, DEFAULT_EXPERIMENT, ConfigError, load_config
from exclusion_risk.models.fingerprint import data_fingerprint
from exclusion_risk.models.promotion import RULE, census_change, census_change_words, promote
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE, PrivacyError


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("compare")(compare_command)
    app.command("promote")(promote_command)


def _say(message: str) -> None:
    typer.echo(message, err=True)


def train_command(
    data: Path = typer.Option(
        ..., "--data", help="Folder with the census, exclusions and social_care extracts."
    ),
    config: Path = typer.Option(
        None, "--config", help="Experiment config (YAML); sections it names replace models/experiment.yaml's."
    ),
    links: Path = typer.Option(
        None, "--links", help="Output folder of an earlier `exclusion-risk link` (default: link now)."
    ),
    census: str = typer.Option(
        None,
        "--census",
        help="Reference census: autumn, spring or summer (default: the config's `census`, autumn). "
        "Features as known on that census day, the label after it; the models record it.",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="Only the comparison table."),
) -> None:
    """Link -> features -> train RF, LightGBM and logistic models; track the run in MLflow."""
    # imported here: training loads scikit-learn and pandera, which `--help` and the other commands
    # need not wait for
    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models.comparison import (
        comparison_frame,
        difference_frame,
        format_comparison,
        verdict,
    )
    from exclusion_risk.models.estimators import check_model_settings
    from exclusion_risk.models.train import (
        TrainingError,
        later_years_warning,
        load_training_data,
        split_tags,
        train_models,
    )
    from exclusion_risk.models.training_log import log_training

    try:
        cfg = load_config(config)
        # the models' own settings, as their estimators check them: before any data is read
        check_model_settings(cfg, config or DEFAULT_CONFIG)
    except ConfigError as exc:
        fail(str(exc))
    if census is not None:
        try:
            cfg = cfg.model_copy(update={"census": calendar.census_name(census)})
        except ValueError as exc:
            fail(f"--census: {exc}")
    check_data_and_links(data, links)

    log = (lambda _m: None) if quiet else _say
    started = time.perf_counter()
    with steps(reading_words(links) + ", then building features", quiet=quiet) as step:
        try:
            loaded = load_training_data(data, cfg, links, log=log, warn=_say)
            step(f"training {', '.join(cfg.enabled_models())} on {len(loaded.table):,} pupil-years")
            result = train_models(loaded.table, cfg, loaded.feature_cols, make_preprocessor, log=log,
                                  drift_context=loaded.drift_context)
        except (ExtractError, TrainingError) as exc:
            fail(str(exc))
        step("logging the run and registering the models in MLflow")
        fingerprint = data_fingerprint(loaded.files, loaded.table, loaded.feature_cols, loaded.counts)
        t0 = time.perf_counter()
        try:
            record = log_training(result, fingerprint, split_tags(cfg, loaded.later_complete_years,
                                                                    len(loaded.data_warnings)))
        except PrivacyError as exc:
            fail(str(exc))
    log(f"logged to MLflow in {time.perf_counter() - t0:.1f}s")
    table = comparison_frame(result)
    table.insert(1, "version", [record.versions.get(m, "-") for m in table["model"]])
    chosen = "the latest year with complete outcomes" if cfg.splits.test == "auto" else "as the config names"
    typer.echo(
        f"\nTest year {result.split.test}, {chosen} ({result.split.describe()}), {cfg.census} census, "
        f"label '{cfg.label}':"
    )
    typer.echo(format_comparison(table))
    typer.echo(verdict(table, difference_frame(result)))
    typer.echo(
        f"train run {record.train_id} in experiment '{cfg.experiment}'; "
        f"registered {tracking.REGISTERED_MODEL} versions "
        + ", ".join(f"{m} v{v}" for m, v in record.versions.items())
    )
    typer.echo(f"total {time.perf_counter() - started:.1f}s")
    warning = later_years_warning(result.split, loaded.later_complete_years)
    if warning:  # after the table and before the notice: the last thing said about these figures
        typer.echo(warning)
    typer.echo(DECISION_SUPPORT_NOTICE)  # the figures above are the model's evidence, not decisions


def compare_command(
    experiment: str = typer.Option(DEFAULT_EXPERIMENT, "--experiment", help="MLflow experiment name."),
    runs: int = typer.Option(1, "--runs", min=1, help="How many recent train runs to show."),
) -> None:
    """Print the models of recent train runs side by side (test-year metrics with 95% intervals), then
    the paired differences on the same test-year pupils: model vs model and model vs the checklist
    (model minus versus, paired bootstrap 95% interval; "not significant" where it covers 0)."""
    # imported here: as in train_command
    from exclusion_risk.models.comparison import (
        NOT_SIGNIFICANT,
        compare_frame,
        differences_of,
        format_comparison,
        format_differences,
        verdict,
    )
    from exclusion_risk.models.fingerprint import trained_extracts
    from exclusion_risk.models.promotion_report import across_runs_note, champion_words, run_heading

    tracking.setup_read()
    try:
        table = compare_frame(experiment, runs)
        parents = tracking.train_runs(experiment, runs)
        champion = champion_words(tracking.resolve_version(tracking.CHAMPION), parents, experiment)
    except tracking.RegistryError as exc:
        fail(str(exc))
    by_id = {p.info.run_id[:8]: p for p in parents}
    for train_id, part in table.groupby("train_id", sort=False):
        typer.echo(run_heading(by_id[train_id]))
        typer.echo(format_comparison(part))
        differences, pairs = differences_of(by_id[train_id])
        if differences.empty:
            continue
        typer.echo(
            "paired differences on the same test-year pupils (model minus versus, 95% paired bootstrap "
            f'interval; "{NOT_SIGNIFICANT}": the interval covers 0):'
        )
        typer.echo(format_differences(differences))
        typer.echo(verdict(part, differences))
        if not pairs:
            typer.echo("(model vs model differences are logged by `train` since this release: train again)\n")
    typer.echo(champion)
    note = across_runs_note(table, [trained_extracts(p.info.run_id) for p in parents])
    if note:
        typer.echo(note)
    typer.echo(DECISION_SUPPORT_NOTICE)


def promote_command(
    run: str = typer.Argument(None, help="Run id (or its first 8+ characters) or registered version number."),
    best: bool = typer.Option(
        False,
        "--best",
        help="Pick a model of the latest train run by a rule fixed before the test year is seen: "
        + RULE.format(metric="--metric")
        + ".",
    ),
    metric: str = typer.Option(
        "precision_at_5pct", "--metric", help="Metric --best ranks by, on the validation year."
    ),
    experiment: str = typer.Option(DEFAULT_EXPERIMENT, "--experiment", help="MLflow experiment name."),
    change_census: bool = typer.Option(
        False,
        "--change-census",
        help="Promote a version trained for another reference census than the champion's (refused "
        "without it: `score` and the service then score that census only).",
    ),
) -> None:
    """Set the alias `champion` on one registered version, and say why (the rule applied is printed and
    stored on the version as tags `promoted_rule` and `promoted_reason`), with the outgoing champion's
    figures beside the new one's."""
    # imported here: as in train_command
    from exclusion_risk.models.comparison import differences_of, format_comparison, runs_frame, verdict
    from exclusion_risk.models.promotion_report import older_test_year, promotion_report, run_heading

    if best == (run is not None):
        fail("give either a RUN (id or version) or --best, not both or neither")
    tracking.setup_read()
    try:
        promotion = promote(experiment, None if best else run, metric, change_census)
        # the table of the train run the new champion comes from (the latest one for --best)
        train_run = tracking.get_run(promotion.incoming.tags.get("train_id", ""))
        parents = [train_run] if train_run is not None else tracking.train_runs(experiment, 1)
        table = runs_frame(parents) if parents else None
    except tracking.RegistryError as exc:
        fail(str(exc))
    differences = None
    if parents:  # none where the version's train run was deleted and no train run is left
        typer.echo(run_heading(parents[0]))
        typer.echo(format_comparison(table))
        differences = differences_of(parents[0])[0]
        if not differences.empty:  # the test year's word, as train and compare say it
            typer.echo(verdict(table, differences))
    before = f" (was version {promotion.previous})" if promotion.previous else ""
    typer.echo(
        f"champion -> {tracking.REGISTERED_MODEL} version {promotion.version} "
        f"({promotion.model_type}, run {promotion.run_id[:8]}){before}"
    )
    typer.echo(f"rule: {promotion.rule}")
    typer.echo(f"why: {promotion.reason}")
    own_run = differences if train_run is not None else None  # the incoming version's run's, or none
    typer.echo(promotion_report(promotion.outgoing, promotion.incoming, own_run))
    older = older_test_year(promotion.outgoing, promotion.incoming)
    if older:
        typer.echo(f"warning: {older}")
    if census_change(promotion.outgoing, promotion.incoming):  # allowed by --change-census: said plainly
        words = census_change_words(promotion.outgoing, promotion.incoming)
        typer.echo(f"warning: the champion changes census: {words}")
    typer.echo(f"serve it from models:/{tracking.REGISTERED_MODEL}@{tracking.CHAMPION}")
    if promotion.previous and promotion.previous != promotion.version:
        # the service loads the alias at start and on reload only
        typer.echo(f"a service already running keeps version {promotion.previous} until it is restarted "
                   "or sent `POST /admin/reload` (an admin key)")
    _mlflow_ui_hint()
    typer.echo(DECISION_SUPPORT_NOTICE)


def _mlflow_ui_hint() -> None:
    uri = tracking.tracking_uri()
    if uri.startswith("sqlite:///"):
        typer.echo(f"browse runs: {Path(sys.executable).parent / 'mlflow'} ui --backend-store-uri {uri}")
