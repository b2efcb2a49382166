"""`promote` and `compare` across train runs: the outgoing champion beside the incoming version, a change
of reference census refused unless asked for, and the champion found where `compare` does not show it.

The small training (conftest's `training`) is logged twice into a temporary MLflow store: run A
(versions 1-3) and run B (versions 4-6). Each test sets the alias and the tags it reads (a version's
test year, census or last `evaluate` check), as a later year's retrain or a spring-census run would
have left them.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.models import comparison, tracking
from exclusion_risk.models.training_log import log_training
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE


@pytest.fixture(scope="module")
def two_runs(training, tmp_path_factory):
    """(store URI, run A's record, run B's record): the same training logged twice."""
    result, _ = training
    uri = f"sqlite:///{tmp_path_factory.mktemp('promotion_report') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        first = log_training(result, {"data_hash": "a"})
        second = log_training(result, {"data_hash": "b"})
    return uri, first, second


@pytest.fixture()
def client(two_runs, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", two_runs[0])
    mlflow.set_tracking_uri(two_runs[0])
    return mlflow.MlflowClient()


def _version_tags(client, version: str, **tags: str) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(tracking.REGISTERED_MODEL, version, key, value)


def _champion(client) -> str:
    return str(client.get_model_version_by_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION).version)


def _row(output: str, start: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(start))


def test_promote_shows_the_outgoing_champion_beside_the_incoming_version(two_runs, client):
    _, first, second = two_runs
    old, new = first.versions["lightgbm"], second.versions["random_forest"]
    # last year's champion: tested on 2017/18, and checked by `evaluate` on its 2018/19 autumn scoring
    checked = {"date": "2026-11-30", "year": "2018/19", "census": "autumn", "precision_at_5pct": 0.2812,
               "ci_low": 0.2504, "ci_high": 0.3141, "out_of_sample": True, "consistent_with_stated": True,
               "verdict": "consistent with the model's stated precision"}  # fmt: skip
    _version_tags(client, old, test_year="2017/18", census="autumn", label="any")
    _version_tags(client, old, **{tracking.LAST_CHECKED: json.dumps(checked)})
    _version_tags(client, new, census="autumn", label="any")
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, old)
    out = CliRunner().invoke(app, ["promote", new])
    assert out.exit_code == 0, out.output
    assert _champion(client) == new and f"(was version {old})" in out.output
    # each row: its version, model, census, outcome and test year, then its stated figures and intervals
    tags = {v: client.get_model_version(tracking.REGISTERED_MODEL, v).tags for v in (old, new)}
    for role, version, model, year in (("outgoing", old, "lightgbm", "2017/18"),
                                       ("incoming", new, "random_forest", "2018/19")):  # fmt: skip
        row = _row(out.output, f"| {role} | {version} | {model} | autumn | any | {year} |")
        estimate = float(tags[version]["metric.precision_at_5pct"])
        low, high = (float(x) for x in tags[version]["metric.precision_at_5pct.ci"].split("-"))
        assert f"{estimate:.3f} [{low:.3f}, {high:.3f}]" in row
    realised = _row(out.output, f"  outgoing version {old}: realised precision at 5% 0.281 [0.250, 0.314]")
    assert realised.endswith(
        "on its 2018/19 autumn scoring (checked 2026-11-30): consistent with the model's stated precision"
    )
    assert f"incoming version {new}: not checked by `exclusion-risk evaluate` yet" in out.output
    assert "tested on different years (outgoing 2017/18, incoming 2018/19)" in out.output
    assert "not directly comparable" in out.output
    # the one like-for-like figure: the outgoing version's realised precision on the incoming's test year
    assert "realised precision at 5% on 2018/19 (0.281, `evaluate`) is of the year the incoming" in out.output
    # and the difference between the two, with a verdict (they were printed side by side, no more)
    estimate = float(tags[new]["metric.precision_at_5pct"])
    low, high = (float(x) for x in tags[new]["metric.precision_at_5pct.ci"].split("-"))
    half = 1.96 * ((((high - low) / 3.92) ** 2 + ((0.3141 - 0.2504) / 3.92) ** 2) ** 0.5)
    d = estimate - 0.2812
    shown = comparison.signed_interval(d, d - half, d + half)
    said = _row(out.output, "note: the outgoing version's realised precision at 5% on 2018/19")
    assert f"; incoming minus outgoing: {shown} (the two intervals combined as if independent" in said
    within = d - half < 0 < d + half
    assert said.endswith("within it: no difference shown" if within else "higher" if d > 0 else "lower")
    assert client.get_model_version(tracking.REGISTERED_MODEL, new).tags["promoted_over"] == old
    # a service already running kept scoring with the outgoing version, unsaid
    assert (f"a service already running keeps version {old} until it is restarted or sent "
            "`POST /admin/reload` (an admin key)") in " ".join(out.output.split())
    assert out.output.rstrip().endswith(DECISION_SUPPORT_NOTICE)


def test_versions_of_one_train_run_are_compared_on_their_paired_difference(two_runs, client):
    _, _, second = two_runs
    old, new = second.versions["logistic"], second.versions["lightgbm"]
    for version in (old, new):
        _version_tags(client, version, test_year="2018/19", census="autumn", label="any")
    # as `train` tags a run on named years that left a later complete year out
    _version_tags(client, new, later_complete_years="2019/20")
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, old)
    out = CliRunner().invoke(app, ["promote", new])
    client.delete_model_version_tag(tracking.REGISTERED_MODEL, new, "later_complete_years")
    assert out.exit_code == 0, out.output
    assert f"note: version {new} was trained on named years and left out 2019/20" in out.output
    note = _row(out.output, f"note: both from train run {second.train_id[:8]}: tested on the same 2018/19")
    # the paired difference the run logged, incoming minus outgoing (the reverse of logistic vs lightgbm)
    logged = comparison.differences_of(client.get_run(second.train_id))[0]
    d, low, high = comparison.paired_difference(logged, "lightgbm", "logistic", "precision_at_5pct")
    assert f"incoming minus outgoing: {d:+.3f} [{low:+.3f}, {high:+.3f}]" in note
    assert "different years" not in out.output


def test_a_version_for_another_census_is_refused_unless_asked_for(two_runs, client):
    _, _, second = two_runs
    autumn, spring = second.versions["logistic"], second.versions["random_forest"]
    _version_tags(client, autumn, census="autumn")
    _version_tags(client, spring, census="spring")
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, autumn)
    refused = CliRunner().invoke(app, ["promote", spring])
    assert refused.exit_code == 2, refused.output
    assert _champion(client) == autumn  # nothing changed
    line = refused.output.strip()
    assert line.startswith("error: ") and len(line.splitlines()) == 1 and "Traceback" not in line
    assert f"version {spring} was trained for the spring census, the champion (version {autumn}) for " \
           "the autumn census" in line
    assert "`score --year YEAR --census spring`" in line and "refuses the autumn census" in line
    assert "--change-census" in line
    asked = CliRunner().invoke(app, ["promote", spring, "--change-census"])
    assert asked.exit_code == 0, asked.output
    assert _champion(client) == spring
    warning = _row(asked.output, "warning: the champion changes census:")
    assert "spring census" in warning and "autumn census" in warning and "--census spring" in warning
    assert "trained at different censuses (autumn, spring)" in asked.output
    _version_tags(client, spring, census="autumn")  # as trained, for the tests after this one


def test_compare_heads_each_run_with_its_census_and_finds_the_champion_when_not_shown(two_runs, client):
    _, first, second = two_runs
    champion = first.versions["lightgbm"]
    _version_tags(client, champion, test_year="2018/19", census="autumn")
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, champion)
    client.set_tag(second.train_id, "census", "spring")  # run B: a spring-census run
    try:
        latest = CliRunner().invoke(app, ["compare", "--runs", "1"])
        assert latest.exit_code == 0, latest.output
        assert f"train run {second.train_id[:8]} - test year 2018/19, spring census (* = champion):" in (
            latest.output
        )
        line = _row(latest.output, f"champion: version {champion} ")
        assert f"from train run {first.train_id[:8]}, not among the runs shown" in line
        assert "`compare --runs 2` shows it beside them" in line
        assert _row(latest.output, f"| champion | {champion} | lightgbm | autumn |")
        both = CliRunner().invoke(app, ["compare", "--runs", "2"])
        assert both.exit_code == 0, both.output
        marked = _row(both.output, f"| lightgbm | {champion} |")
        assert "| * |" in marked and "(marked * above)" in both.output
        assert f"train run {first.train_id[:8]} - test year 2018/19, autumn census" in both.output
    finally:
        client.set_tag(second.train_id, "census", "autumn")


def test_a_version_whose_train_run_is_gone_is_promoted_without_a_traceback(two_runs, client, monkeypatch):
    # With the version's train run deleted and none left in the experiment, `promote` moved the alias and
    # then raised IndexError (parents[0]) before saying anything of it.
    _, first, _ = two_runs
    new = first.versions["logistic"]
    _version_tags(client, new, census="autumn", label="any")
    gone = client.get_model_version(tracking.REGISTERED_MODEL, new).tags["train_id"]
    get_run = tracking.get_run
    monkeypatch.setattr(tracking, "get_run", lambda run_id: None if run_id == gone else get_run(run_id))
    monkeypatch.setattr(tracking, "train_runs", lambda *args, **kwargs: [])
    out = CliRunner().invoke(app, ["promote", new])
    assert out.exit_code == 0, out.output
    assert out.exception is None and _champion(client) == new
    assert f"champion -> {tracking.REGISTERED_MODEL} version {new}" in out.output


def test_versions_of_two_runs_on_one_test_year_get_a_difference_and_a_verdict(two_runs, client):
    """Two train runs tested on the same year: the report said only to read each figure with its own
    interval, so an analyst promoting a retrain had no conclusion on whether it is better."""
    from exclusion_risk.models.promotion_report import unpaired_difference

    _, first, second = two_runs
    old, new = first.versions["logistic"], second.versions["lightgbm"]
    for version in (old, new):
        _version_tags(client, version, test_year="2018/19", census="autumn", label="any")
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, old)
    out = CliRunner().invoke(app, ["promote", new])
    assert out.exit_code == 0, out.output
    note = _row(out.output, "note: both tested on 2018/19, by different train runs: no paired interval")
    assert "; incoming minus outgoing: " in note and "combined as if independent" in note
    assert "read each figure with its own interval" not in note
    # the two runs logged different data fingerprints ("a", "b"): the same year's figures are of other records
    assert _row(out.output, "note: trained and tested on different data (data fingerprints a and b")
    # the verdict, both ways: beyond the combined interval a difference is said, within it none is shown
    assert unpaired_difference((0.40, 0.37, 0.43), (0.30, 0.27, 0.33)).endswith(
        "beyond it: the incoming version's is higher")
    assert "[-0.042, +0.042]" in unpaired_difference((0.30, 0.27, 0.33), (0.30, 0.27, 0.33))
    assert unpaired_difference((0.31, 0.28, 0.34), (0.30, 0.27, 0.33)).endswith("no difference shown")
    assert unpaired_difference((0.31, float("nan"), 0.34), (0.30, 0.27, 0.33)) == ""


def test_promoting_the_champion_again_keeps_why_it_was_chosen(two_runs, client):
    """`promote 4` on champion 4 said "nothing changes" and rewrote its tags: promoted_rule became
    "chosen by hand" and promoted_over itself, losing the record of the rule that chose it."""
    _, first, _ = two_runs
    version = first.versions["logistic"]
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, version)
    _version_tags(client, version, promoted_rule="the validation-year rule", promoted_over="2")
    out = CliRunner().invoke(app, ["promote", version])
    assert out.exit_code == 0, out.output
    assert f"version {version} was already the champion: nothing changes" in out.output
    tags = client.get_model_version(tracking.REGISTERED_MODEL, version).tags
    assert tags["promoted_rule"] == "the validation-year rule" and tags["promoted_over"] == "2"


def test_an_older_model_promoted_over_a_newer_champion_is_warned_of(two_runs, client):
    """A retrain on last year's links (tested on 2017/18) replaced a champion tested on 2018/19 with only
    "not directly comparable"; and where both versions' scorings of one year had been checked by
    `evaluate`, the two realised figures stood side by side with no verdict."""
    _, first, second = two_runs
    old, new = first.versions["random_forest"], second.versions["logistic"]
    checked = {"date": "2026-11-30", "year": "2019/20", "census": "autumn", "ci_low": 0.244, "ci_high": 0.391,
               "precision_at_5pct": 0.313, "out_of_sample": True, "verdict": "consistent"}  # fmt: skip
    _version_tags(client, old, test_year="2018/19", census="autumn", label="any",
                  **{tracking.LAST_CHECKED: json.dumps(checked)})  # fmt: skip
    checked_new = {**checked, "precision_at_5pct": 0.280, "ci_low": 0.214, "ci_high": 0.357}
    _version_tags(client, new, test_year="2017/18", census="autumn", label="any", data_warnings="1",
                  **{tracking.LAST_CHECKED: json.dumps(checked_new)})  # fmt: skip
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, old)
    out = CliRunner().invoke(app, ["promote", new])
    client.delete_model_version_tag(tracking.REGISTERED_MODEL, new, "data_warnings")
    assert out.exit_code == 0, out.output
    assert (f"warning: version {new} was tested on 2017/18, an earlier year than the outgoing champion "
            f"(version {old}, tested on 2018/19)") in out.output  # fmt: skip
    both = _row(out.output, "note: both versions' scorings of the 2019/20 autumn census were checked")
    assert "incoming minus outgoing: -0.033 [" in both and both.endswith("within it: no difference shown")
    assert f"`train` gave 1 warning(s) on version {new}'s extracts and links" in out.output
    client.set_registered_model_alias(tracking.REGISTERED_MODEL, tracking.CHAMPION, new)
    back = CliRunner().invoke(app, ["promote", old])  # a newer test year: no such warning
    assert back.exit_code == 0 and "an earlier year than the outgoing champion" not in back.output
