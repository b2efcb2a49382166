"""Fixtures shared by more than one stage's tests. Generated data lives under pytest's tmp dirs;
nothing is written to the repo.

Stage-only fixtures live in the stage folder's own conftest.py (tests/linkage/conftest.py, ...).
Test modules never import each other or a helper module: pytest runs with --import-mode=importlib,
so nothing under tests/ is on sys.path, and whatever a test needs reaches it as a fixture.

Tests marked `spark` run Splink (or scoring) on Spark `local[2]`: without pyspark or Java 17 they are
skipped on a developer machine, and fail when CI=true (`.ci/run` installs both, so a missing one there
is a broken setup, not a reason to skip). `spark_session` is one local session per test module.

`umask_022` runs a test under the default umask the privacy finding (issue #11) measured under;
a test takes it with `@pytest.mark.usefixtures("umask_022")` (it gives no value to use).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from filelock import FileLock

from exclusion_risk.spark_session import local_session, unavailable_reason

REPO = Path(__file__).resolve().parents[1]

# Plots (calibration curves, SHAP summaries) render without a display, in every xdist worker too.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture  # noqa: V103 (vulture cannot see it used: tests name it in usefixtures)
def umask_022() -> Iterator[None]:
    """Sets the default umask 022 the privacy finding measured under (files 0644, folders 0755 unless
    the code makes them private), whatever the test runner's own, and restores it after the test."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# Fixtures that make a test end to end: the full-size authority, and the trained champion behind every
# real server (tests/serving/conftest.py). `make test-fast` deselects `slow`; a test that uses one of
# these without the mark would quietly make the fast tier slow, so collection refuses it.
END_TO_END_FIXTURES = {"full_authority", "champion"}


def _skip_spark_tests_without_spark(items: list[pytest.Item]) -> None:
    """Skip `spark` tests when pyspark or Java is missing, except under CI=true: there they run and
    fail (the spark_session fixture says what is missing)."""
    marked = [item for item in items if item.get_closest_marker("spark") is not None]
    if not marked or os.environ.get("CI", "").lower() == "true":
        return
    missing = unavailable_reason()
    if missing:
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="module")
def spark_session() -> Iterator[object]:
    """One Spark `local[2]` session for the test module, stopped after its last test."""
    missing = unavailable_reason()
    if missing:
        pytest.fail(f"CI=true and {missing}", pytrace=False)
    session = local_session()
    try:
        yield session
    finally:
        session.stop()


# --- MLflow stores: the schema migrated once per test session ------------------------------------
#
# A new sqlite store runs MLflow's ~60 alembic migrations (5-8 s on 2 cores) before its first run; the
# suite makes dozens (a module's trained store, a test's own). In this process a new sqlite store gets
# the tables of one store migrated once (under a FileLock, shared by xdist workers) by sqlite's backup
# API, into the file MLflow itself created: its folder and file modes are MLflow's and the package's.
# Commands run as subprocesses (servers, CLI subprocess tests) still migrate for themselves.


def _migrated_schema(root: Path, initialize: Callable[[object], None]) -> Path:
    template = root / "mlflow_schema.db"
    with FileLock(str(template) + ".lock"):
        if not template.is_file():
            import sqlalchemy

            partial = root / "mlflow_schema.db.partial"
            partial.unlink(missing_ok=True)
            engine = sqlalchemy.create_engine(f"sqlite:///{partial}")
            try:
                initialize(engine)
            finally:
                engine.dispose()
            partial.rename(template)
    return template


@pytest.fixture(scope="session")
def mlflow_schema(shared_tmp: Path, _mlflow_schema_once: Callable[[object], None]) -> Path:
    """An empty MLflow sqlite store, migrated (read-only: copy it to a store a subprocess will open, such
    as the worked notebook's kernel, which would otherwise migrate its new store itself)."""
    return _migrated_schema(shared_tmp, _mlflow_schema_once)


@pytest.fixture(scope="session", autouse=True)
def _mlflow_schema_once(shared_tmp: Path) -> Iterator[Callable[[object], None]]:
    """MLflow's own _initialize_tables replaced, in this process, by a copy of the migrated schema;
    gives MLflow's function (which migrates the schema, once)."""
    import mlflow.store.db.utils as db_utils
    import mlflow.store.model_registry.sqlalchemy_store as registry_store

    initialize = db_utils._initialize_tables

    def copy_schema(engine) -> None:
        if engine.dialect.name != "sqlite":
            initialize(engine)
            return
        source = sqlite3.connect(_migrated_schema(shared_tmp, initialize))
        target = engine.raw_connection()
        try:
            source.backup(target.driver_connection)
        finally:
            target.close()
            source.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db_utils, "_initialize_tables", copy_schema)
        patch.setattr(registry_store, "_initialize_tables", copy_schema)
        yield initialize


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _skip_spark_tests_without_spark(items)
    unmarked = [
        item.nodeid
        for item in items
        if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            f"mark these tests `slow` (they use {' or '.join(sorted(END_TO_END_FIXTURES))}): "
            + ", ".join(unmarked)
        )


# --- synthetic authorities (generated once per test session, shared across xdist workers) ---------
#
# Under xdist every worker has its own base temp dir; their common parent holds each authority, and a
# file lock makes exactly one worker generate it while the others wait (the pattern in pytest-xdist's
# documentation). A session-scoped fixture alone would generate it once per worker.

DEFAULT_YEARS = ("2015/16", "2016/17", "2017/18", "2018/19")


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run sees (the parent of the workers' base temp dirs);
    the run's own base temp dir without xdist. Whatever is built here is built under a FileLock."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


def _synthetic_authority(
    root: Path,
    pupils: int,
    seed: int,
    years: Sequence[str] = DEFAULT_YEARS,
    **settings: object,
) -> Path:
    from exclusion_risk.synth.config import load_config
    from exclusion_risk.synth.generate import generate_authority

    tag = "_".join(f"{k}-{v}" for k, v in sorted(settings.items())).replace("/", "").replace(" ", "")
    name = f"synth_p{pupils}_s{seed}_{'-'.join(y.replace('/', '') for y in years)}"
    name += f"_{hashlib.sha1(tag.encode()).hexdigest()[:8]}" if tag else ""
    folder = root / name
    with FileLock(str(folder) + ".lock"):
        if not (folder / "truth" / "manifest.json").is_file():
            partial = root / (name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            config = load_config(pupils=pupils, seed=seed, years=list(years), **settings)
            generate_authority(config, partial)
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
    return folder


@pytest.fixture(scope="session")
def synthetic_authority(shared_tmp: Path) -> Callable[..., Path]:
    """`synthetic_authority(pupils, seed, years=DEFAULT_YEARS, **settings)`: the folder of a generated
    authority (census.csv, exclusions.csv, social_care.csv, truth/), built once per test session for
    these arguments. Extra keyword `settings` go to `synth.config.load_config`
    (e.g. output={"header_style": "mis"}). Share the folder; never write into it."""

    def make(pupils: int, seed: int, years: Sequence[str] = DEFAULT_YEARS, **settings: object) -> Path:
        return _synthetic_authority(shared_tmp, pupils, seed, years, **settings)

    return make


@pytest.fixture(scope="session")
def small_authority(synthetic_authority) -> Path:
    """About 6,000 pupils x 4 years (seed 11): quick enough for any stage's tests."""
    return synthetic_authority(6000, 11)


@pytest.fixture(scope="session")
def full_authority(synthetic_authority) -> Path:
    """The Walsall-sized authority: 62,536 pupils x 4 years (seed 7). Tests that use it are `slow`."""
    return synthetic_authority(62536, 7)
