"""Linkage memory (issue #15): the variant rows held as arrow text, each linker's DuckDB connection
closed when its stage is done, and each stage's peak resident memory measured when asked for."""

from __future__ import annotations

import gc

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from exclusion_risk.linkage.engines import splink_backends, splink_engine
from exclusion_risk.linkage.loading import load
from exclusion_risk.linkage.pipeline import census_variants, link_extracts
from exclusion_risk.linkage.stage_clock import StageClock, resident_bytes
from exclusion_risk.linkage.standardise import standardise

needs_proc = pytest.mark.skipif(resident_bytes() is None, reason="memory is read from /proc (Linux)")


def test_variant_rows_are_arrow_text(population, census_rows):
    # Python string objects took five times the memory (2,000,000 pupils: ~3.4 GB -> ~0.7 GB).
    census = census_variants(census_rows(population(50, seed=4)))
    records = standardise(population(5, seed=4).assign(id=list("abcde")), "id")
    for frame in (census, records):
        assert {str(frame[c].dtype.storage) for c in frame.columns} == {"pyarrow"}


@needs_proc
def test_a_stage_records_its_seconds_and_the_peak_of_what_it_allocated():
    seconds: dict[str, float] = {}
    clock = StageClock(seconds, memory=True)
    with clock.stage("allocate"):
        before = resident_bytes()
        block = np.ones(300 * 2**20 // 8)  # 300 MB, touched
        block.sum()
        del block
    assert seconds["allocate"] > 0
    assert clock.peak_gb["allocate"] * 1024**3 - before >= 250 * 2**20
    quiet = StageClock({}, memory=False)
    with quiet.stage("allocate"):
        np.ones(2**20).sum()
    assert "allocate" in quiet.seconds and quiet.peak_gb == {}


@needs_proc
def test_a_run_reports_each_stages_peak_memory_only_when_asked(
    population, exclusions_of, social_care_of, extracts_for
):
    pupils = population(300, seed=6)
    extracts = extracts_for(pupils, exclusions_of(pupils.head(30)), social_care_of(pupils.head(30)))
    measured = link_extracts(extracts, progress=False, memory=True).report
    assert set(measured["peak_memory_gb"]) == set(measured["seconds"])
    assert all(v > 0 for v in measured["peak_memory_gb"].values())
    assert "peak_memory_gb" not in link_extracts(extracts, progress=False).report


def test_the_splink_engine_closes_every_duckdb_connection_it_opened(
    population, exclusions_of, social_care_of, extracts_for, monkeypatch
):
    opened: list[splink_backends.SplinkBackend] = []
    original = splink_backends.SplinkBackend.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        opened.append(self)

    # Training's linkers are closed before the predicting linker opens (prediction is the peak).
    still_open_when_predicting: list[int] = []
    predicting_linker = splink_engine.SplinkEngine._predicting_linker

    def predicting(self, *args, **kwargs):
        still_open_when_predicting.append(sum(_is_open(b) for b in opened))
        return predicting_linker(self, *args, **kwargs)

    monkeypatch.setattr(splink_backends.SplinkBackend, "__init__", recording)
    monkeypatch.setattr(splink_engine.SplinkEngine, "_predicting_linker", predicting)
    pupils = population(300, seed=6)
    records = exclusions_of(pupils.head(30), upn_share=0.0)
    records.loc[:9, "DOB"] = pd.NaT  # left for the probabilistic stage
    extracts = extracts_for(pupils, records, social_care_of(pupils.head(30)))
    link_extracts(extracts, progress=False)
    assert len(opened) > len(still_open_when_predicting) > 0  # training and predicting linkers
    assert still_open_when_predicting == [0] * len(still_open_when_predicting)
    assert not any(_is_open(backend) for backend in opened)


def _is_open(backend: splink_backends.SplinkBackend) -> bool:
    try:
        backend.api.duckdb_con.sql("SELECT 1")
    except duckdb.ConnectionException:
        return False
    return True


def test_a_read_file_releases_its_text_once_its_frame_is_built(tmp_path):
    rows = "\n".join(f"A{i:06d},{'x' * 200},{i}" for i in range(20_000))
    path = tmp_path / "wide.csv"
    path.write_text("UPN,Note,N\n" + rows + "\n", encoding="utf-8")
    raw = load(path, "wide.csv")
    rejects_before = raw.all_rejects()
    text, held = raw.table.nbytes, pa.total_allocated_bytes()
    raw.release()
    gc.collect()
    # all of the file's 4.5 MB of text is freed: an empty slice kept its first chunk's buffers
    assert text > 4_000_000 and held - pa.total_allocated_bytes() >= text
    assert raw.table.num_rows == 0 and raw.rows_read == 20_000
    pd.testing.assert_frame_equal(raw.all_rejects(), rejects_before)


def test_standardising_in_chunks_gives_the_same_rows_in_the_same_order(population, census_rows):
    pupils = population(120, seed=8)
    # Pupils recorded differently across terms, so a later chunk repeats some variants and adds others.
    census = census_rows(pupils, years=("2017/18", "2018/19"))
    census.loc[census.index % 7 == 0, "Postcode"] = "WS1 1AA"
    census.loc[census.index % 11 == 0, "Forename"] = "Mary Jane"
    options = {
        "surname_columns": ("Surname", "PreferredSurname", "FormerSurname"),
        "upn_columns": ("UPN", "FormerUPN"),
        "middle_names_column": "MiddleNames",
        "extra_columns": {"x_school": "SchoolURN"},
    }
    whole = standardise(census, "UPN", **options)
    assert len(whole) > len(pupils)
    used = ["UPN", "Forename", "DOB", "Sex", "Postcode", "Surname", "PreferredSurname", "FormerSurname"]
    distinct = len(census[used + ["FormerUPN", "MiddleNames", "SchoolURN"]].drop_duplicates())
    for rows in (5, 100, distinct - 1):  # distinct - 1: two chunks, the second of one row
        pd.testing.assert_frame_equal(standardise(census, "UPN", chunk_rows=rows, **options), whole)
