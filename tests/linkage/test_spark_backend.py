"""The Splink engine on Spark `local[2]` links exactly what it links on DuckDB, from one stored model.

A model trained on DuckDB is predicted on both engines: FEBRL4 gives the same candidate pairs with
the same comparison levels and match weights within 1e-9; a small synthetic authority gives
byte-identical links.csv, review.csv and unlinked.csv. A model stored with DuckDB's SQL (what
settings.json held before it stored numbers only; it links nothing on Spark) and a model that does
not fit the comparisons are refused. (Comparisons that reach no level are an error on either engine:
tests/linkage/test_stored_model.py.) Jaro-Winkler is the same function on both engines and in
jellyfish. One Spark session serves the module (about a minute on 2 cores, session start included).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import jellyfish
import numpy as np
import pandas as pd
import pytest

from exclusion_risk.linkage.engines import splink_engine
from exclusion_risk.linkage.engines.base import EngineResult
from exclusion_risk.linkage.engines.jaro_winkler import UDF_NAME
from exclusion_risk.linkage.engines.splink_backends import SplinkBackend
from exclusion_risk.linkage.engines.splink_model import ModelMismatch
from exclusion_risk.linkage.outputs import write_outputs
from exclusion_risk.linkage.pipeline import link_extracts, run_linkage
from exclusion_risk.linkage.readers import Extracts, read_extracts
from exclusion_risk.linkage.settings import LinkageSettings

pytestmark = pytest.mark.spark


# Pairs where engines' built-in Jaro-Winklers differ: empty strings (DuckDB 0, Spark 1), one
# character, non-ASCII letters (DuckDB counts bytes), and ordinary names for good measure.
TRICKY_PAIRS = [
    ("", ""),
    ("", "a"),
    ("a", ""),
    ("a", "a"),
    ("a", "b"),
    ("é", "e"),
    ("Zoë", "Zoe"),
    ("Zoë", "Zoë"),
    ("Łukasz", "Lukasz"),
    ("Ṣàlàmí", "Salami"),
    ("李", "李明"),
    ("Ørsted", "Oersted"),
    ("martha", "marhta"),
    ("dwayne", "duane"),
    ("o'neill", "oneill"),
    ("ab", "ba"),
]


def test_sparks_shuffle_files_are_written_in_the_owner_only_folder(spark_session):
    """A linkage's shuffle files (pupils' names and dates of birth) were in /tmp/blockmgr-* (755, files
    644) for any local user to read while the run lasted: they are in `spark.local.dir`, inside the
    process's owner-only folder."""
    import stat

    from exclusion_risk.spark_session import local_dir

    frame = spark_session.createDataFrame([(i % 7, f"name{i}") for i in range(500)], ["k", "v"])
    assert frame.groupBy("k").count().count() == 7  # a shuffle: its files go to the block manager's folder
    local = local_dir()
    assert spark_session.sparkContext.getConf().get("spark.local.dir") == local
    assert any(p.name.startswith("blockmgr-") for p in Path(local).iterdir())
    assert stat.S_IMODE(os.stat(os.path.dirname(local)).st_mode) == 0o700


def test_jaro_winkler_is_jellyfish_on_both_engines(spark_session):
    expected = [jellyfish.jaro_winkler_similarity(a, b) for a, b in TRICKY_PAIRS]
    frame = pd.DataFrame(TRICKY_PAIRS, columns=["a", "b"]).reset_index(names="i")
    duck = SplinkBackend("duckdb").api.duckdb_con
    duck.register("pairs", frame)
    on_duckdb = duck.sql(f"SELECT i, {UDF_NAME}(a, b) AS jw FROM pairs ORDER BY i").df()["jw"]
    spark = SplinkBackend("spark")
    spark.session.createDataFrame(frame).createOrReplaceTempView(f"pairs_{spark.suffix}")
    sql = f"SELECT i, {UDF_NAME}(a, b) AS jw FROM pairs_{spark.suffix} ORDER BY i"
    on_spark = spark.session.sql(sql).toPandas()["jw"]
    assert on_duckdb.tolist() == expected
    assert on_spark.tolist() == expected
    assert expected[0] == 0.0  # two empty strings: jellyfish's 0, not Spark's built-in 1


# --- FEBRL4: a DuckDB-trained model predicted on both engines ---------------------------------------


@pytest.fixture(scope="module")
def febrl_trained(febrl_extracts, febrl_settings) -> tuple[Extracts, LinkageSettings]:
    extracts = febrl_extracts
    trained = link_extracts(extracts, febrl_settings, progress=False).settings
    return extracts, trained


def _scored_pairs(monkeypatch, extracts, settings, backend) -> pd.DataFrame:
    """The social-care candidate pairs the Splink engine scored (before one-to-one assignment)."""
    scored: list[EngineResult] = []
    run = splink_engine.SplinkEngine.run

    def recording(self, data, trained=None):
        result = run(self, data, trained)
        scored.append(result)
        return result

    monkeypatch.setattr(splink_engine.SplinkEngine, "run", recording)
    link_extracts(extracts, settings, progress=False, backend=backend)
    monkeypatch.undo()
    (pairs,) = [r.pairs for r in scored if not r.pairs.empty]
    return pairs


def test_febrl4_scores_the_same_pairs_levels_and_weights_on_spark(spark_session, febrl_trained, monkeypatch):
    extracts, settings = febrl_trained
    on_duckdb = _scored_pairs(monkeypatch, extracts, settings, "duckdb")
    on_spark = _scored_pairs(monkeypatch, extracts, settings, "spark")
    assert len(on_duckdb) > 3000
    keys = ["l", "r", *[c for c in on_duckdb.columns if c.startswith("gamma_")]]
    pd.testing.assert_frame_equal(on_spark[keys], on_duckdb[keys])
    recorded = [f"gamma_{c}" for c in ("forename", "surname", "dob", "postcode", "address_1")]
    assert (on_duckdb[recorded] > 0).any().all()  # every level that FEBRL records is reached
    for column in ("match_weight", "match_probability"):
        np.testing.assert_allclose(on_spark[column], on_duckdb[column], rtol=0, atol=1e-9)


def test_a_model_that_does_not_fit_the_comparisons_is_refused_on_spark(spark_session, febrl_trained):
    extracts, settings = febrl_trained
    trained = copy.deepcopy(settings.trained)
    trained["social_care"]["comparisons"]["address_1"][2]["label"] = "a level this version does not define"
    with pytest.raises(ModelMismatch, match="address_1 level 2"):
        link_extracts(
            extracts, settings.model_copy(update={"trained": trained}), progress=False, backend="spark"
        )
    # A model in the earlier layout (Splink's settings, SQL and all) is refused when settings.json is
    # read, and by the engine itself should one reach it.
    old = copy.deepcopy(settings.model_dump(mode="json"))
    old["trained"]["social_care"] = {"engine": "splink", "model": {"comparisons": []}}
    with pytest.raises(ValueError, match="earlier format .* retrain"):
        LinkageSettings.model_validate(old)
    old_model = {"engine": "splink", "prior": 0.001, "model": {"comparisons": []}}
    with pytest.raises(ModelMismatch, match="earlier format .* retrain"):
        link_extracts(
            extracts,
            settings.model_copy(update={"trained": {"social_care": old_model}}),
            progress=False,
            backend="spark",
        )


# --- a synthetic authority: predict-only on both engines writes the same files ----------------------


def test_a_synthetic_authority_writes_identical_files_on_both_engines(
    spark_session, synthetic_authority, tmp_path
):
    folder = synthetic_authority(1500, 5, years=("2017/18", "2018/19"))
    run_linkage(folder, tmp_path / "train", progress=False)  # trains on DuckDB, writes settings.json
    settings = LinkageSettings.load(tmp_path / "train" / "settings.json")
    extracts = read_extracts(folder)
    probabilistic = {}
    for backend in ("duckdb", "spark"):
        result = link_extracts(extracts, settings, progress=False, backend=backend)
        write_outputs(result, extracts, tmp_path / backend)
        probabilistic[backend] = int((result.links["method"] == "probabilistic").sum())
    assert probabilistic["duckdb"] > 0  # the probabilistic stage links some records on its own
    for name in ("links.csv", "review.csv", "unlinked.csv"):
        duck, spark = ((tmp_path / b / name).read_bytes() for b in ("duckdb", "spark"))
        assert duck == spark, f"{name} differs between the engines"
