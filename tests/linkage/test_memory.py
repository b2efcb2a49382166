"""Linkage memory (issue #15): the variant rows held as arrow text, each linker's DuckDB connection
closed when its stage is done and capped (spilling to a private folder), and each stage's peak
resident memory measured when asked for."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import tempfile
import warnings
import weakref
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from exclusion_risk import calendar
from exclusion_risk.linkage import pipeline
from exclusion_risk.linkage.arrow_text import TEXT
from exclusion_risk.linkage.engines import splink_backends, splink_engine
from exclusion_risk.linkage.loading import load
from exclusion_risk.linkage.outputs import REVIEW_FIELDS, review_pupils
from exclusion_risk.linkage.pipeline import (
    LINKAGE_CENSUS_COLUMNS,
    census_variants,
    link_extracts,
    linkage_extracts,
    read_for_linkage,
)
from exclusion_risk.linkage.readers import read_attendance, read_census, read_extracts
from exclusion_risk.linkage.settings import LinkageSettings
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
    rows = "\n".join(f"A{i:06d},{i:06d}{'x' * 194},{i}" for i in range(20_000))  # each note its own
    path = tmp_path / "wide.csv"
    path.write_text("UPN,Note,N\n" + rows + "\n", encoding="utf-8")
    raw = load(path, "wide.csv")
    rejects_before = raw.all_rejects()
    text, held = raw.nbytes, pa.total_allocated_bytes()
    raw.release()
    gc.collect()
    # all of the file's 4.5 MB of encoded text is freed, not kept by a slice or a stray reference
    assert text > 4_000_000 and held - pa.total_allocated_bytes() >= text
    assert raw.nbytes == 0 and raw.rows_read == 20_000
    pd.testing.assert_frame_equal(raw.all_rejects(), rejects_before)


def test_a_loaded_file_holds_its_text_once_in_its_encodings(tmp_path):
    # 20,000 rows of one 200-character note repeated: the table held it on every row (4 MB); the
    # encodings hold it once, and every value read back is the file's text.
    rows = "\n".join(f"A{i:06d},{'x' * 200},{i % 3 or ''}" for i in range(20_000))
    path = tmp_path / "repeated.csv"
    path.write_text("UPN,Note,N\n" + rows + "\n", encoding="utf-8")
    raw = load(path, "repeated.csv")
    assert raw.table is None and raw.nbytes < 1_000_000
    got = [raw.values(p, np.array([1, 2, 3, 20_000])).tolist() for p in range(3)]
    assert got == [["A000000", "A000001", "A000002", "A019999"], ["x" * 200] * 4, [None, "1", "2", "1"]]


def test_standardising_in_chunks_gives_the_same_rows_in_the_same_order(population, census_rows):
    pupils = population(120, seed=8)
    # Pupils recorded differently across terms, so a later chunk repeats some variants and adds others.
    census = census_rows(pupils, years=("2017/18", "2018/19"))
    census.loc[census.index % 7 == 0, "Postcode"] = "WS1 1AA"
    census.loc[census.index % 11 == 0, "Forename"] = "Mary Jane"
    # A middle name on some rows only: those rows give the pupil's other variants again, plus one.
    census.loc[census.index % 5 == 0, "MiddleNames"] = "Rose"
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


def test_each_duckdb_linker_is_capped_and_spills_to_a_private_folder_it_removes(monkeypatch):
    monkeypatch.delenv(splink_backends.DUCKDB_MEMORY_VARIABLE, raising=False)
    backend = splink_backends.SplinkBackend("duckdb")
    [(limit, folder)] = backend.api.duckdb_con.sql(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchall()
    assert limit == "953.6 MiB"  # DuckDB's way of writing 1GB (10^9 bytes)
    spill = Path(folder)
    # DuckDB's spill files hold the census variants (names, DOBs): owner-only, and gone at close
    assert spill.is_dir() and spill.stat().st_mode & 0o777 == 0o700
    backend.close()
    assert not spill.exists()
    monkeypatch.setenv(splink_backends.DUCKDB_MEMORY_VARIABLE, "2GiB")
    other = splink_backends.SplinkBackend("duckdb")
    assert other.api.duckdb_con.sql("SELECT current_setting('memory_limit')").fetchall() == [("2.0 GiB",)]
    other.close()


def test_a_cap_duckdb_cannot_read_is_one_line_before_any_work(link_app, tmp_path, monkeypatch):
    monkeypatch.setenv(splink_backends.DUCKDB_MEMORY_VARIABLE, "80%")  # DuckDB's own default
    splink_backends.check_duckdb_memory()
    for cap in ("plenty", "99999999999999TB"):  # not a size; out of DuckDB's range
        monkeypatch.setenv(splink_backends.DUCKDB_MEMORY_VARIABLE, cap)
        with pytest.raises(ValueError, match=f"EXCLUSION_RISK_DUCKDB_MEMORY='{cap}' is not a memory size"):
            splink_backends.check_duckdb_memory()
        result = CliRunner().invoke(link_app, ["link", "--data", str(tmp_path), "--out", str(tmp_path / "o")])
        assert result.exit_code == 2 and "Traceback" not in result.output
        said = f"error: EXCLUSION_RISK_DUCKDB_MEMORY='{cap}' is not a memory size DuckDB reads (e.g. 4GB, "
        assert result.output.strip().splitlines() == [said + "512MB, 50%)"]
    # recordlinkage never opens DuckDB: the cap is not its business
    other = ["link", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--engine", "recordlinkage"]
    assert "DUCKDB" not in CliRunner().invoke(link_app, other).output


def test_duckdb_outgrowing_its_cap_is_one_line_naming_the_cap(
    link_app, small_authority, tmp_path, monkeypatch
):
    monkeypatch.setenv(splink_backends.DUCKDB_MEMORY_VARIABLE, "8MB")
    out = tmp_path / "out"
    result = CliRunner().invoke(link_app, ["link", "--data", str(small_authority), "--out", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        "error: DuckDB needed more than its memory cap, EXCLUSION_RISK_DUCKDB_MEMORY=8MB: set a larger one "
        "(e.g. EXCLUSION_RISK_DUCKDB_MEMORY=4GB) and run again"
    )
    assert not (out / "links.csv").exists()


def _reordered_extracts(small_authority, reset_index: bool):
    """The small authority read, every pupil at one address in its first year and newest rows first:
    review.csv's census side (each pupil's newest row) must come from the year and term, not from the
    order of the rows. With `reset_index` False the census's index is reversed too (rows are matched by
    position)."""
    extracts = read_extracts(small_authority)
    census = extracts.census
    census.loc[census["AcademicYear"] == census["AcademicYear"].min(), "Postcode"] = "WS1 1AA"
    reversed_rows = census.iloc[::-1]
    extracts.census = reversed_rows.reset_index(drop=True) if reset_index else reversed_rows
    return extracts


@pytest.fixture(scope="module")
def linked_slim(watched_slim_link):
    """The reordered extracts narrowed to what linkage reads, and their link: the run the tests below
    compare theirs with (built once: each link of the small authority takes 20-50 s). It is the
    watched run (watched_slim_link): watching changes none of its outputs."""
    slim, linked, _ = watched_slim_link
    return slim, linked


def test_a_link_run_holds_only_what_linkage_reads_and_links_the_same(small_authority, linked_slim):
    extracts = _reordered_extracts(small_authority, reset_index=True)
    slim, held = linked_slim
    # not the census's other columns (SEN, FSM, attendance sessions, ...) nor the termly attendance
    assert set(slim.census.columns) == set(LINKAGE_CENSUS_COLUMNS) | {"SchoolURN"}
    assert len(slim.census) == len(extracts.census)
    assert slim.attendance.empty and not extracts.attendance.empty
    pd.testing.assert_frame_equal(slim.rejects, extracts.rejects)
    whole = link_extracts(extracts, progress=False)
    assert (whole.review["census_Postcode"] != "WS1 1AA").any()
    for table in ("links", "review", "unlinked"):
        pd.testing.assert_frame_equal(getattr(held, table), getattr(whole, table))
    assert held.report["census_upns"] == whole.report["census_upns"]


def test_a_run_that_owns_its_extracts_releases_the_termly_census_and_links_the_same(
    small_authority, linked_slim, monkeypatch
):
    # run_linkage's extracts are its own: once the census's identity rows are taken, before they are
    # standardised, the termly frame is released (2,000,000 pupils: about 0.8 GB held through
    # standardisation, the peak, and every stage), its newest row per pupil kept for review.csv.
    # Newest rows first, as above, so that row comes from the year and term; the index reversed too,
    # so the run is compared with one whose index was not.
    extracts = _reordered_extracts(small_authority, reset_index=False)
    kept_extracts, released_extracts = linkage_extracts(extracts), linkage_extracts(extracts)
    termly = weakref.ref(released_extracts.census)
    kept = linked_slim[1]
    real_standardise, held_when_standardising = pipeline.standardise_census, []

    def checked_standardise(identity, settings=None):
        gc.collect()
        held_when_standardising.append(termly() is not None)
        return real_standardise(identity, settings)

    monkeypatch.setattr(pipeline, "standardise_census", checked_standardise)
    released = link_extracts(released_extracts, progress=False, release_census=True)
    assert held_when_standardising == [False], "the termly census is held while it is standardised"
    gc.collect()
    assert termly() is None, "the termly census frame is still held after the run"
    assert kept_extracts.census.equals(linkage_extracts(extracts).census)  # not released unless asked
    pupils = released_extracts.census
    assert list(pupils.columns) == REVIEW_FIELDS and pupils["UPN"].is_unique
    assert len(pupils) == released.report["census_upns"] == kept.report["census_upns"]
    assert (released.review["census_Postcode"] != "WS1 1AA").any()
    for table in ("links", "review", "unlinked"):
        pd.testing.assert_frame_equal(getattr(released, table), getattr(kept, table))
    assert {**released.report, "seconds": None} == {**kept.report, "seconds": None}


@pytest.fixture(scope="module")
def watched_run(watched_slim_link):
    """What the watched link of the small authority saw (watched_slim_link)."""
    return watched_slim_link[2]


@pytest.fixture(scope="module")
def watched_slim_link(small_authority):
    """One link of the small authority (reordered and narrowed as linked_slim's, which is this run)
    with the pipeline's steps watched (each link takes 20-50 s, so linked_slim and the three tests of
    watched_run read one run): the slim extracts, the link's result and what was seen: the order the
    twins and the name-DOB keys are built in, whether the keys are alive when each probabilistic stage
    scores, the frames each assignment was picked from (kept alive), and the warnings the run printed."""
    seen = {"calls": [], "keys": [], "alive_when_scoring": [], "parents": []}
    real_keys, real_twins = pipeline.census_keys, pipeline.pupils_with_twins
    real_engine, real_assign = pipeline.get_engine, pipeline.assign

    def recorded_keys(census):
        seen["calls"].append("keys")
        keys = real_keys(census)
        seen["keys"].append(weakref.ref(keys))
        return keys

    def recorded_twins(census):
        seen["calls"].append("twins")
        return real_twins(census)

    def checked_engine(settings, backend):
        engine = real_engine(settings, backend)
        run = engine.run

        def run_checked(data, trained=None):
            gc.collect()
            seen["alive_when_scoring"].append(bool(seen["keys"]) and seen["keys"][0]() is not None)
            return run(data, trained=trained)

        engine.run = run_checked
        return engine

    def picked_from_a_live_frame(*args, **kwargs):
        # assign returns a column pick of a larger frame, which pandas marks as a copy of that frame
        # while it lives; kept alive here, as on a 2,000,000-pupil run. Two columns decisions never
        # have: pandas stays quiet when the shapes match after the set.
        decided = real_assign(*args, **kwargs)
        seen["parents"].append(decided.assign(_working_a=0.0, _working_b=0.0))
        return seen["parents"][-1][list(decided.columns)]

    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings(record=True) as printed:
        warnings.simplefilter("always")
        patch.setattr(pipeline, "census_keys", recorded_keys)
        patch.setattr(pipeline, "pupils_with_twins", recorded_twins)
        patch.setattr(pipeline, "get_engine", checked_engine)
        patch.setattr(pipeline, "assign", picked_from_a_live_frame)
        slim = linkage_extracts(_reordered_extracts(small_authority, reset_index=True))
        linked = link_extracts(slim, progress=False)
    seen["warnings"] = [w.category for w in printed]
    return slim, linked, seen


def test_the_census_name_dob_keys_are_gone_before_any_probabilistic_stage(watched_run):
    # Only the deterministic stages read them, so every source's run first and then the keys go
    # (2,000,000 pupils: 0.37 GB less under both probabilistic stages); the outputs are the same.
    assert len(watched_run["keys"]) == 1 and watched_run["alive_when_scoring"] == [False, False]


def test_the_twins_are_found_before_the_name_dob_keys_are_built(watched_run):
    # Both are built from the census variants once per run; found first, the twins' working frames
    # and the keys are never held at once (4,000,000 pupils: that stage was the run's peak, 5.40 GB).
    assert watched_run["calls"] == ["twins", "keys"]


def test_review_shows_each_pupils_newest_row_by_year_then_term():
    census = pd.DataFrame(
        {
            "UPN": ["A1", "A1", "A1", "B2", "B2"],
            "Surname": ["Spring", "Autumn", "Summer-before", "Only", "Later"],
            "AcademicYear": ["2018/19", "2018/19", "2017/18", "2017/18", "2017/18"],
            "CensusTerm": ["SPR", "AUT", "SUM", "AUT", "AUT"],
        }
    )
    pupils = review_pupils(census)
    assert pupils.loc["A1", "Surname"] == "Spring"
    assert pupils.loc["B2", "Surname"] == "Later"  # the same year and term: the later row
    assert list(pupils.columns) == ["UPN", "Surname"]
    # Without year and term columns (a census as some tests build it): each UPN's last row.
    assert review_pupils(census[["UPN", "Surname"]]).loc["A1", "Surname"] == "Summer-before"
    # Whatever the index: reversed, or repeating a label.
    for index in ([4, 3, 2, 1, 0], [0, 0, 1, 1, 2]):
        relabelled = review_pupils(census.set_axis(index))
        assert relabelled.loc[["A1", "B2"], "Surname"].tolist() == ["Spring", "Later"]


def _newest_rows_by_sorting(census: pd.DataFrame) -> pd.DataFrame:
    """review_pupils as it was written first: the rows' text sorted (the run's peak at 2,000,000)."""
    term = census["CensusTerm"].str.upper().map(calendar.TERM_ORDER).to_numpy()  # "aut" is autumn
    year = census["AcademicYear"].to_numpy()
    order = pd.DataFrame({"y": year, "t": term}, index=pd.RangeIndex(len(census)))
    order = order.sort_values(["y", "t"], kind="stable")
    upns = census["UPN"].to_numpy()[order.index.to_numpy()]
    newest = order.index.to_numpy()[~pd.Series(upns).duplicated(keep="last").to_numpy()]
    pupils = census.iloc[newest][["UPN", "Surname"]]
    # indexed by the UPN as arrow text: Python strings were 0.14 GB held through a 2,000,000-pupil run
    return pupils.set_index(pupils["UPN"].astype(TEXT))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A1", "B2", "C3", None]),
            st.sampled_from(["2017/18", "2018/19", "2016/17", None]),
            st.sampled_from(["AUT", "SPR", "SUM", "aut", "JAN", None]),
        ),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
@settings(max_examples=200, deadline=None)
def test_review_pupils_picks_the_rows_sorting_the_text_picked(rows, random):
    # Missing or unknown years and terms sort last (a term in any case is known), ties keep row order,
    # a missing UPN is one pupil.
    census = pd.DataFrame(rows, columns=["UPN", "AcademicYear", "CensusTerm"], dtype=TEXT)
    census["Surname"] = pd.Series([f"row{i}" for i in range(len(rows))], dtype=TEXT)
    census.index = random.sample(range(100), len(rows))
    pd.testing.assert_frame_equal(review_pupils(census), _newest_rows_by_sorting(census))


def test_review_pupils_orders_categorical_years_and_terms_by_their_values():
    # factorize orders a categorical by its categories; the rows' values decide, as they did
    census = pd.DataFrame(
        {
            "UPN": ["A1", "A1", "A1"],
            "AcademicYear": pd.Categorical(
                ["2019/20", "2018/19", "2019/20"], categories=["2019/20", "2018/19"]
            ),
            "CensusTerm": pd.Categorical(["SPR", "SUM", "AUT"]),
            "Surname": ["Newest", "Older", "Autumn"],
        }
    )
    pd.testing.assert_frame_equal(review_pupils(census), _newest_rows_by_sorting(census))
    assert review_pupils(census).loc["A1", "Surname"] == "Newest"


def test_reading_for_linkage_narrows_the_census_as_it_reads_and_rejects_the_same_rows(
    small_authority, tmp_path
):
    # The census narrowed file by file (read_census's columns) is the whole read narrowed afterwards:
    # the same frames, and the same rejects, since every column is still checked (a row whose SEN
    # provision, a column linkage does not read, is no code is rejected by both).
    folder = tmp_path / "authority"
    shutil.copytree(small_authority, folder)
    lines = (folder / "census.csv").read_text(encoding="utf-8").splitlines()
    sen = lines[0].split(",").index("SENprovision")
    fields = lines[5].split(",")
    lines[5] = ",".join([*fields[:sen], "Z", *fields[sen + 1 :]])
    (folder / "census.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # A termly attendance row with more sessions absent than possible: linkage reads no attendance,
    # so those files are read for their rejects only (2,000,000 pupils: 6,000,000 rows not held).
    termly = sorted((folder / "attendance").iterdir())[1]
    lines = termly.read_text(encoding="utf-8").splitlines()
    upn, possible, _, unauthorised = lines[3].split(",")
    lines[3] = ",".join([upn, possible, str(int(possible) + 1), unauthorised])
    termly.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = LinkageSettings.model_validate({"blocking": "national"})
    narrowed = read_for_linkage(folder, settings)
    whole = linkage_extracts(read_extracts(folder), settings)
    assert list(narrowed.census.columns) == list(whole.census.columns)
    for name in ("census", "exclusions", "social_care", "rejects"):
        pd.testing.assert_frame_equal(getattr(narrowed, name), getattr(whole, name))
    assert narrowed.rejects["column"].str.contains("SENprovision").sum() == 1
    assert narrowed.rejects["file"].tolist().count(f"attendance/{termly.name}") == 1
    assert narrowed.attendance.empty
    # The read behind it kept no termly rows, only their rejects and counts.
    kept = read_attendance(folder / "attendance")
    dropped = read_attendance(folder / "attendance", keep_rows=False)
    assert dropped.clean.empty and not kept.clean.empty
    assert list(dropped.clean.columns) == list(kept.clean.columns)
    pd.testing.assert_frame_equal(dropped.rejects, kept.rejects)
    assert (dropped.rows_read, dropped.counts) == (kept.rows_read, kept.counts)
    # The census frame is built only for the columns kept, yet every column's codes are counted.
    narrow_census = read_census(folder / "census.csv", columns=["UPN", "Surname"])
    full_census = read_census(folder / "census.csv")
    assert narrow_census.counts == full_census.counts
    assert narrow_census.counts["extended ethnicity code read as main code"] > 0


def test_a_linker_that_fails_to_open_leaves_no_spill_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(connection):
        raise RuntimeError("registering the similarity function failed")

    monkeypatch.setattr(splink_backends.jaro_winkler, "register_duckdb", broken)
    with pytest.raises(RuntimeError, match="registering") as failed:
        splink_backends.SplinkBackend("duckdb")
    # removed then, not whenever the half-made backend (alive in the traceback) is collected
    assert failed.traceback and list(tmp_path.iterdir()) == []


def test_a_killed_runs_spill_folder_goes_when_the_next_linker_opens(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    finished = subprocess.Popen(["true"])
    finished.wait()  # a process id no process has now: a run killed before closing its linkers
    prefix = splink_backends.SPILL_PREFIX
    left = tmp_path / f"{prefix}{finished.pid}-abc123"
    running = tmp_path / f"{prefix}{os.getpid()}-def456"  # a live run's (this process's): kept
    other = tmp_path / f"{prefix}notapid"  # not named as ours: kept
    for folder in (left, running, other):
        folder.mkdir()
        (folder / "duckdb_temp_storage.tmp").write_bytes(b"spilled census variants")
    backend = splink_backends.SplinkBackend("duckdb")
    assert not left.exists() and running.exists() and other.exists()
    assert Path(backend._spill.name).name.startswith(f"{prefix}{os.getpid()}-")
    backend.close()


def test_a_run_sets_no_column_on_a_frame_pandas_marks_as_a_copy(watched_run):
    # Setting a column on an assignment's pick of a live frame printed a SettingWithCopyWarning on the
    # console of a 2,000,000-pupil run (on small runs the frame is gone by then): kept alive here.
    assert pd.errors.SettingWithCopyWarning not in watched_run["warnings"]
    assert len(watched_run["parents"]) == 2  # both sources' assignments ran
