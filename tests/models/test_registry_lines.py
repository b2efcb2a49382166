"""`train` (and `train --quiet`, whose lines a scheduler mails every term) printed MLflow's own
"Registered model 'exclusion-risk' already exists. Creating a new version of this model..." and "Created
version '16' of model 'exclusion-risk'." per model, beside its own line naming the versions registered
(an automation engineer's find). Those lines are dropped; any other MLflow writes there still shows."""

from __future__ import annotations

import pytest
from mlflow.utils.logging_utils import eprint

from exclusion_risk.models import tracking, training_log


def test_mlflows_registry_lines_are_dropped_and_its_other_lines_kept(monkeypatch, capsys):
    def register(model_uri, tags, description):
        eprint("Successfully registered model 'exclusion-risk'.")
        eprint("Registered model 'exclusion-risk' already exists. Creating a new version of this model...")
        eprint("Created version '16' of model 'exclusion-risk'.")
        eprint("WARNING: the model's signature could not be inferred")
        return "16"

    monkeypatch.setattr(tracking, "register_version", register)
    assert training_log.registered_quietly("runs:/x/model", {}, "d") == "16"
    assert capsys.readouterr().err == "WARNING: the model's signature could not be inferred\n"


def test_what_mlflow_said_is_shown_when_registering_fails(monkeypatch, capsys):
    def register(model_uri, tags, description):
        eprint("the registry is locked")
        raise RuntimeError("locked")

    monkeypatch.setattr(tracking, "register_version", register)
    with pytest.raises(RuntimeError):
        training_log.registered_quietly("runs:/x/model", {}, "d")
    assert capsys.readouterr().err == "the registry is locked\n"
