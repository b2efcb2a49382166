"""Linkage memory (issue #15): the variant rows held as arrow text, each linker's DuckDB connection
closed when its stage is done, and each stage's peak resident memory measured when asked for."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from exclusion_risk.linkage.engines import splink_backends
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

    monkeypatch.setattr(splink_backends.SplinkBackend, "__init__", recording)
    pupils = population(300, seed=6)
    records = exclusions_of(pupils.head(30), upn_share=0.0)
    records.loc[:9, "DOB"] = pd.NaT  # left for the probabilistic stage
    extracts = extracts_for(pupils, records, social_care_of(pupils.head(30)))
    link_extracts(extracts, progress=False)
    assert opened  # training and predicting linkers
    for backend in opened:
        with pytest.raises(duckdb.ConnectionException):
            backend.api.duckdb_con.sql("SELECT 1")


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
    for rows in (5, 100, len(census) - 1):
        pd.testing.assert_frame_equal(standardise(census, "UPN", chunk_rows=rows, **options), whole)
