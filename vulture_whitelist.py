"""Names vulture reports as unused that a framework uses: pass this file to vulture with the sources.

Only framework callbacks belong here (typer, FastAPI, pydantic call them; nothing in the project
does). Something unused for any other reason is dead code: delete it rather than list it.
vulture needs only the names, so `_` stands for any object. `make lint` scans the package with the
tests and benches, so code used only by them (the generator's calibration checks, say) counts as used.
"""

from types import SimpleNamespace

_ = SimpleNamespace()

__all__ = [
    "FASTAPI_HANDLERS",
    "FITTED_ATTRIBUTES",
    "HTML_PARSER_CALLBACKS",
    "PYDANTIC_FIELDS",
    "PYDANTIC_VALIDATORS",
    "PYTEST_HOOKS",
    "TYPER_COMMANDS",
]

# Commands declared with @app.command(...) inside a stage's register(app), which typer calls.
TYPER_COMMANDS = (
    _._options,  # exclusion_risk/cli.py: the app's callback (its eager --version option)
    _.check,  # linkage/check_cli.py
    _.link,  # linkage/link_cli.py
    _.keys_add,  # serving/cli.py
    _.keys_list,  # serving/cli.py
    _.keys_revoke,  # serving/cli.py
    _.runs_list,  # serving/cli.py
    _.runs_export,  # serving/cli.py
    _.runs_delete,  # serving/cli.py
    _.noop,  # tests/linkage/test_outputs.py: a second command keeps `link` a named subcommand
)

# pytest reads these by name: module marks and collection hooks.
PYTEST_HOOKS = (
    _.pytestmark,
    _.pytest_collection_modifyitems,  # tests/conftest.py
)

# Routes (@router.get/post) and exception handlers (@app.exception_handler), which FastAPI calls.
FASTAPI_HANDLERS = (
    _.model_info,  # serving/routers/model.py
    _.reload_model,  # serving/routers/admin.py
    _.score_file,  # serving/routers/score.py
    _.on_validation_error,  # serving/errors.py
    _.on_request_problem,  # serving/errors.py
    _.on_http_exception,  # serving/errors.py
    _.boom,  # tests/serving/test_parts.py: a route that fails with pupil data in its message
    _.hold,  # tests/serving/test_parts.py: a route that listens for a disconnect after its body
)

# @field_validator / @model_validator methods, which pydantic runs on validation.
PYDANTIC_VALIDATORS = (
    _._known_columns,  # linkage/settings.py
    _._valid_name,  # linkage/settings.py
    _._distinct_extras,  # linkage/settings.py
    _._ordered,  # linkage/settings.py
    _._blocking_extras_known,  # linkage/settings.py
    _._trained_matches_comparisons,  # linkage/settings.py
    _._blocking_preset,  # linkage/settings.py
    _._blocking_names_a_preset,  # linkage/settings.py
    _._national_preset_checks_place,  # linkage/settings.py
    _._consecutive_years,  # synth/config.py
    _._train_years,  # models/config.py
    _._one_year,  # models/config.py
    _._non_empty,  # models/config.py
    _._shares,  # models/config.py
    _._known_models,  # models/config.py
    _._split_origins,  # serving/settings.py
    _._log_level,  # serving/settings.py
    _._proxy_addresses,  # serving/settings.py
    _._origins,  # serving/settings.py
    _._one_kind,  # serving/schemas.py
    _._split_interval,  # serving/model_schemas.py
    _._period,  # serving/model_schemas.py
)

# Class attributes pydantic reads: each model's `model_config`, and the fields of the service's
# request and response models, which FastAPI fills and serialises (the API's JSON).
PYDANTIC_FIELDS = (
    _.model_config,
    _.UPN,  # serving/schemas.py CensusRecord
    _.likelihood_band,
    _.rag,
    _.matrix_cell,
    _.school_urn,
    _.need_label,  # serving/schemas.py ScoreRow: a scores.csv column the JSON carries too
    _.school_name,
    _.reasons_lowering,
    _.band_precision_ci,
    _.ready,  # bench/floor_server.py: the floor app's readiness route (FastAPI calls it)
    _.nc_year,
    _.notice,
    _.leavers_not_listed,  # serving/schemas.py RunChanges
    _.leavers_not_listed_notes,  # serving/schemas.py RunChanges
    _.schools_compared,  # serving/schemas.py RunChanges
    _.notes,  # serving/schemas.py RunChanges
    _.fairness_findings,  # serving/schemas.py ScoreResponse: the JSON key the page reads
    _.contribution,
    _.raising,
    _.lowering,
    _.previous_version,
    _.train_years,
    _.validation_year,
    _.test_year,
    _.alias,
    _.training_period,
    _.metrics,
    _.min_probability,
    _.capacity_multiple,
    _.definition,
    _.capacity,
    _.thresholds_source,
    _.likelihood_bands,
    _.need_levels,
    _.responses,
    _.cells,
    _.precision_at_5pct,  # serving/model_state.py LastChecked: /model's "last checked"
    _.ci_low,
    _.ci_high,
    _.consistent_with_stated,
    _.verdict,
)

# Fitted state saved with a registered model for whoever inspects it (skops writes the estimator's
# whole __dict__), read by no code of ours: removing it would change every registered model.
FITTED_ATTRIBUTES = (
    _.n_calibration_,  # models/calibration.py CalibratedClassifier
)

# html.parser.HTMLParser callbacks, called by the parser (tests/models/test_fairness_findings.py reads
# the rendered report back to compare it with fairness.json).
HTML_PARSER_CALLBACKS = (
    _.handle_starttag,
    _.handle_endtag,
    _.handle_data,
)
