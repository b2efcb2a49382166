"""The trained Splink model is stored as numbers, not SQL, and a model that does not fit is refused.

Also on DuckDB alone (no Spark needed): the project's Jaro-Winkler is jellyfish's on tricky strings,
the expected candidate-pair count is reported before predicting (and can be counted alone),
comparisons that match nothing are an error rather than an empty result, `--backend spark` without
Java says so in one line, and the national blocking preset keeps every DOB rule selective.
"""

from __future__ import annotations

import copy
import json

import jellyfish
import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk import spark_session
from exclusion_risk.linkage.engines import splink_engine
from exclusion_risk.linkage.engines.base import EngineInput
from exclusion_risk.linkage.engines.jaro_winkler import UDF_NAME, similarities
from exclusion_risk.linkage.engines.levels import jaro_winkler_distinct
from exclusion_risk.linkage.engines.splink_backends import SplinkBackend
from exclusion_risk.linkage.engines.splink_model import ModelMismatch, rebuild
from exclusion_risk.linkage.pipeline import census_variants, extra_columns, link_extracts
from exclusion_risk.linkage.settings import LinkageSettings, comparison_levels
from exclusion_risk.linkage.standardise import standardise

TRICKY_PAIRS = [("", ""), ("", "a"), ("a", "a"), ("é", "e"), ("Zoë", "Zoe"), ("李", "李明"), ("ab", "ba")]


@pytest.fixture(scope="module")
def febrl_run(febrl_extracts, febrl_settings):
    """FEBRL4 linked once on DuckDB (trained there): the run's result."""
    return link_extracts(febrl_extracts, febrl_settings, progress=False)


def test_the_stored_model_holds_numbers_and_labels_not_sql(febrl_run, febrl_settings):
    trained = febrl_run.settings.trained["social_care"]
    text = json.dumps(trained)
    assert "sql_condition" not in text and '"dob_l"' not in text and "dob_l" not in text
    assert trained["format"] == 2 and 0 < trained["prior"] < 1
    levels = {c: len(v) for c, v in trained["comparisons"].items()}
    assert levels == comparison_levels(febrl_settings)
    for comparison in trained["comparisons"].values():
        assert all({"label", "m", "u"} == set(level) for level in comparison)
    assert trained["term_frequency_columns"] == {"forename": "forename_group", "surname": "surname"}


def test_the_expected_pair_count_is_reported(febrl_run):
    assert febrl_run.report["sources"]["social_care"]["candidate_pairs"] > 3000


def test_a_model_whose_levels_differ_from_the_definitions_is_refused(febrl_run, febrl_extracts):
    settings = febrl_run.settings
    trained = copy.deepcopy(settings.trained)
    trained["social_care"]["comparisons"]["dob"][3]["label"] = "something else"
    with pytest.raises(ModelMismatch, match="dob level 3 is 'something else' in the model"):
        link_extracts(febrl_extracts, settings.model_copy(update={"trained": trained}), progress=False)
    # Comparisons missing from the model, or in it but not compared here, are named on load.
    data = settings.model_dump(mode="json")
    data["trained"]["social_care"]["comparisons"]["street"] = data["trained"]["social_care"][
        "comparisons"
    ].pop("postcode")
    with pytest.raises(ValueError, match="postcode: missing from the model; street: in the model but not"):
        LinkageSettings.model_validate(data)


def test_an_old_sql_bearing_model_is_refused_with_retrain(link_app, febrl_run, tmp_path):
    data = febrl_run.settings.model_dump(mode="json")
    data["trained"]["social_care"] = {"engine": "splink", "prior": 0.001, "model": {"comparisons": []}}
    old = tmp_path / "settings.json"
    old.write_text(json.dumps(data))
    result = CliRunner().invoke(
        link_app, ["link", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--settings", str(old)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "earlier format" in result.output and "retrain" in result.output


def _level(comparison: str, gamma: int, **values):
    return lambda t: t["comparisons"][comparison][gamma].update(**values)


NOT_PROBABILITY = "dob's m values are not each a probability"


@pytest.mark.parametrize(("edit", "said"), [
    (_level("dob", 3, m=-0.5), NOT_PROBABILITY),
    (_level("dob", 3, m="0.99"), NOT_PROBABILITY),
    (_level("dob", 3, m=float("nan")), NOT_PROBABILITY),
    (_level("dob", 3, m=7.0), NOT_PROBABILITY),
    (_level("dob", 0, u=0), "dob's u values are not each a probability"),
    (_level("dob", 3, m=0.01), "dob's m values add up to"),
    (lambda t: t.update(prior=1.5), "prior is not a probability between 0 and 1"),
    (lambda t: t.update(format=3), "are in format 3, a newer one than this version reads (2): use the"),
    (lambda t: t.update(engine="recordlinkage"), "were estimated by the recordlinkage engine, and this"),
])
def test_a_hand_edited_or_other_engines_model_is_refused_in_one_line(
        link_app, febrl_run, tmp_path, edit, said):
    """An operator's hand-edited model file: m of -0.5, text, u of 0 or a prior of 1.5 stopped `link`
    with a traceback, NaN with 500 lines of SQL error, and m of 7.0 (or values no longer adding up to 1)
    changed which records link without a word; a model of the other engine was thrown away and
    retrained (on Spark, for minutes); a newer format was called an earlier one."""
    data = febrl_run.settings.model_dump(mode="json")
    edit(data["trained"]["social_care"])
    edited = tmp_path / "settings.json"
    edited.write_text(json.dumps(data))  # NaN as JSON's NaN, as a hand edit in Python writes it
    result = CliRunner().invoke(
        link_app, ["link", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--settings", str(edited)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output[-2000:]
    assert said in result.output and "the trained parameters for social_care" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_comparisons_that_match_nothing_are_an_error_not_an_empty_result(
    febrl_run, febrl_extracts, monkeypatch
):
    """Every level constant-false (as DuckDB's quoted SQL reads on Spark): blocking found candidates,
    none reaches any level, so the stage refuses rather than link nothing without a word."""

    def never_agreeing(stored, settings_dict):
        out = rebuild(stored, settings_dict)
        for comparison in out["comparisons"]:
            for level in comparison["comparison_levels"]:
                if not level.get("is_null_level") and level["sql_condition"] != "ELSE":
                    level["sql_condition"] = f"({level['sql_condition']}) AND 'dob_l' = 'dob_r'"
        return out

    monkeypatch.setattr(splink_engine, "rebuild", never_agreeing)
    with pytest.raises(splink_engine.NoPairsScored, match="compared .* candidate pairs and placed none"):
        link_extracts(febrl_extracts, febrl_run.settings, progress=False)


def test_jaro_winkler_on_duckdb_is_jellyfish():
    expected = [jellyfish.jaro_winkler_similarity(a, b) for a, b in TRICKY_PAIRS]
    frame = pd.DataFrame(TRICKY_PAIRS + [(None, "a")], columns=["a", "b"]).reset_index(names="i")
    duck = SplinkBackend("duckdb").api.duckdb_con
    duck.register("pairs", frame)
    values = duck.sql(f"SELECT {UDF_NAME}(a, b) AS jw FROM pairs ORDER BY i").df()["jw"].tolist()
    assert values[:-1] == expected and pd.isna(values[-1])
    a, b = zip(*TRICKY_PAIRS, strict=True)
    assert similarities(a, b).tolist() == expected
    assert jaro_winkler_distinct(pd.Series(a), pd.Series(b)).tolist() == expected


def test_the_spark_backend_without_java_is_one_line_naming_it(link_app, tmp_path, monkeypatch):
    # pyspark taken as present, so that Java is what is missing whether or not the spark extra is
    # installed (a plain `make test` on a fresh clone has no pyspark)
    monkeypatch.setattr(spark_session, "pyspark", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    monkeypatch.delenv("JAVA_HOME", raising=False)
    result = CliRunner().invoke(
        link_app, ["link", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--backend", "spark"]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Java 17" in result.output and len(result.output.strip().splitlines()) == 1


def test_the_national_blocking_preset_pairs_dob_with_a_name_or_place():
    settings = LinkageSettings.model_validate({"blocking": "national"})
    dob_rules = [r.columns for r in settings.blocking if "dob" in r.columns]
    assert dob_rules and all(len(columns) > 1 for columns in dob_rules)
    saved = json.loads(settings.to_json())
    assert isinstance(saved["blocking"], list)  # saved as its rules
    with pytest.raises(ValueError, match="blocking must be a list of rules or one of") as refused:
        LinkageSettings.model_validate({"blocking": "planetary", "trained": {}})
    # said at the field, and quoting only its value (not the whole file)
    assert [(e["loc"], e["input"]) for e in refused.value.errors()] == [(("blocking",), "planetary")]


def test_counting_candidate_pairs_alone_gives_the_count_a_run_logs(febrl_run, febrl_extracts, febrl_settings):
    source = standardise(febrl_extracts.social_care, "LAchildID", extra_columns=extra_columns(febrl_settings))
    data = EngineInput(
        source=source,
        census=census_variants(febrl_extracts.census, febrl_settings),
        score_eids=pd.Index(source["eid"].unique()),
        labels=pd.DataFrame({c: pd.Series(dtype="string") for c in ("eid_l", "eid_r", "method")}),
    )
    trained = febrl_run.settings.trained["social_care"]
    engine = splink_engine.SplinkEngine(febrl_settings)
    counted = engine.count_candidate_pairs(data, trained)
    assert counted > 3000
    assert counted == engine.run(data, trained=trained).candidate_pairs


def _recordlinkage_model(**changes) -> dict:
    """A recordlinkage engine's settings with a trained model of even m and u per comparison, `changes`
    applied to its social-care entry."""
    data = LinkageSettings(engine="recordlinkage").model_dump(mode="json")
    levels = comparison_levels(LinkageSettings(engine="recordlinkage"))
    even = {c: [1 / n] * n for c, n in levels.items()}
    trained = {"engine": "recordlinkage", "prior": 0.001, "m": copy.deepcopy(even), "u": copy.deepcopy(even)}
    for key, value in changes.items():
        trained[key] = value(trained) if callable(value) else value
    data["trained"] = {"social_care": trained}
    return data


def test_a_recordlinkage_models_tables_are_checked_whole():
    """A reviewer's finds: m as a number stopped `link` with a traceback; a comparison missing from u was
    accepted and failed mid-run; the engine's own floors (1e-6 for an unseen level, not rescaled) were
    refused as "edited by hand", their sum printed as "1, not 1"."""
    LinkageSettings.model_validate(_recordlinkage_model())  # as the engine writes it
    for broken in ({"m": lambda t: {**t["m"], "dob": 0.5}}, {"m": [0.1]}, {"u": None}):
        with pytest.raises(ValueError, match="is not a list of levels per comparison"):
            LinkageSettings.model_validate(_recordlinkage_model(**broken))
    without_dob = _recordlinkage_model(u=lambda t: {c: v for c, v in t["u"].items() if c != "dob"})
    with pytest.raises(ValueError, match="dob: missing from the model in 'u'"):
        LinkageSettings.model_validate(without_dob)

    def floored(t):  # three unseen levels at the floor, the rest as estimated: 1 + 3e-6
        dob = [1e-6, 1e-6, 1e-6] + [1 / (len(t["m"]["dob"]) - 3)] * (len(t["m"]["dob"]) - 3)
        return {**t["m"], "dob": dob}

    LinkageSettings.model_validate(_recordlinkage_model(m=floored))
    with pytest.raises(ValueError, match=r"dob's m values add up to 1\.010000, not 1"):
        LinkageSettings.model_validate(_recordlinkage_model(
            m=lambda t: {**t["m"], "dob": [v + 0.01 / len(t["m"]["dob"]) for v in t["m"]["dob"]]}))
