"""Fixtures for the serving stage's tests: a real champion model and a real server.

`champion` takes the session's small synthetic authority (`small_authority`), writes its links (from
the generator's ground truth, so the slow probabilistic linkage is not re-tested here), trains a small
LightGBM with the models stage's own training and MLflow logging into a private store, and promotes
it. It is built once per test run and shared by pytest-xdist workers through a file lock.

`start_service(workdir, env, wait_ready=True)` runs `exclusion-risk serve` as a separate process on a
free loopback port, with settings in its environment, and (unless told not to) waits until `/health`
says `ready` (`exclusion_risk.serving.process`, which bench/service.py uses too). `live_service` is the
one server per xdist worker that most tests share.
Tests that use `champion` start real servers: they are marked `slow` (the root conftest checks).

`chromium` is Debian's headless Chromium (CHROMIUM), launched by Playwright once per test module, for
the page's tests. They are marked `browser`; without that Chromium they are skipped (`make browser`).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

from exclusion_risk.serving import process
from exclusion_risk.serving.process import ServiceProcess
from exclusion_risk.synth.truth import write_truth_links

SCORED_YEAR = "2018/19"
# A small, fast LightGBM: the service tests check the service, not the model's quality.
TRAIN_CONFIG = """
metrics: {capacities: [0.05], bootstrap: 50, level: 0.95}
models:
  random_forest: {enabled: false}
  logistic: {enabled: false}
  lightgbm:
    params: {learning_rate: 0.1, n_estimators: 80, min_child_samples: 20}
    grid: {num_leaves: [15]}
    early_stopping_rounds: 10
"""


@dataclass(frozen=True)
class ChampionStore:
    root: Path
    tracking_uri: str
    extracts: Path
    links: Path
    cohort_csv: Path  # the scored year's autumn census as an MIS would export it (names included)
    version: str

    def set_alias(self, alias: str, version: str) -> None:
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=self.tracking_uri)
        client.set_registered_model_alias("exclusion-risk", alias, version)


def build_champion(root: Path, extracts: Path, train_config: str = TRAIN_CONFIG) -> ChampionStore:
    """Authority -> links (from truth) -> features -> LightGBM -> MLFLOW_TRACKING_URI store -> champion."""
    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.fingerprint import data_fingerprint
    from exclusion_risk.models.promotion import promote
    from exclusion_risk.models.train import load_training_data, train_models
    from exclusion_risk.models.training_log import log_training

    links = root / "links"
    write_truth_links(extracts, links)
    census = pd.read_csv(extracts / "census.csv", dtype=str, keep_default_na=False)
    cohort = census[(census["AcademicYear"] == SCORED_YEAR) & (census["CensusTerm"] == "AUT")]
    cohort_csv = root / f"census_{SCORED_YEAR.replace('/', '-')}.csv"
    cohort.to_csv(cohort_csv, index=False)

    (root / "experiment.yaml").write_text(train_config)
    config = load_config(root / "experiment.yaml")
    data = load_training_data(extracts, config, links)
    result = train_models(data.table, config, data.feature_cols, make_preprocessor)
    fingerprint = data_fingerprint(data.files, data.table, data.feature_cols, data.counts)
    record = log_training(result, fingerprint)
    promotion = promote(config.experiment, None, "average_precision")
    store = ChampionStore(root, os.environ["MLFLOW_TRACKING_URI"], extracts, links, cohort_csv,
                          promotion.version)
    facts = {"version": store.version, "train_id": record.train_id, "extracts": str(extracts)}
    (root / "store.json").write_text(json.dumps(facts))
    return store


def champion_store_at(root: Path) -> ChampionStore | None:
    """The store `build_champion` finished in `root`, or None."""
    done = root / "store.json"
    if not done.is_file():
        return None
    facts = json.loads(done.read_text())
    return ChampionStore(root, f"sqlite:///{root / 'mlflow.db'}", Path(facts["extracts"]), root / "links",
                         root / f"census_{SCORED_YEAR.replace('/', '-')}.csv", facts["version"])


def champion_store(base: Path, extracts: Path) -> ChampionStore:
    """Build once (file lock for xdist workers); later callers reuse the finished store."""
    root = base / "service_champion"
    with FileLock(str(base / "service_champion.lock")):
        found = champion_store_at(root)
        if found is not None:
            return found
        root.mkdir(parents=True, exist_ok=True)
        previous = os.environ.get("MLFLOW_TRACKING_URI")
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
        try:
            return build_champion(root, extracts)
        finally:
            if previous is None:
                os.environ.pop("MLFLOW_TRACKING_URI", None)
            else:
                os.environ["MLFLOW_TRACKING_URI"] = previous


# --- fixtures -------------------------------------------------------------------------------------

LIVE_MAX_ROWS = 8000  # above the ~6,000-pupil cohort of small_authority; 10x is an 80,000-row upload
LIVE_MAX_BYTES = 12 * 1024 * 1024


@pytest.fixture
def stub_app(tmp_path) -> Callable[..., tuple]:
    """make(loader, **settings) -> (app, scorer token, database): the service in process with a model
    from `loader` (a stub; None: the registry's), no linked history and one scorer key, in a fresh
    database under tmp_path."""
    from exclusion_risk.serving.app import create_app
    from exclusion_risk.serving.database import Database
    from exclusion_risk.serving.security import KeyStore
    from exclusion_risk.serving.settings import ServiceSettings

    def make(loader: Callable | None, **settings) -> tuple:
        database = tmp_path / "service.db"
        token = KeyStore(Database(database)).add("scorer", "test").token
        app = create_app(ServiceSettings(database=database, data_dir=None, **settings), loader=loader)
        return app, token, database

    return make


@pytest.fixture(scope="session")
def exclusion_risk_bin() -> Path:
    """The `exclusion-risk` command of this virtual environment."""
    return process.EXCLUSION_RISK


@pytest.fixture(scope="session")
def start_service() -> Callable[..., ServiceProcess]:
    """`start_service(workdir, env, wait_ready=True, timeout=180)`: a server of its own; stop it
    (`exclusion_risk.serving.process.start_service`)."""
    return process.start_service


@pytest.fixture(scope="module")
def own_service(champion_env, start_service, tmp_path_factory) -> Iterator[ServiceProcess]:
    """A server of the module's own, serving the champion with a fresh database (its runs the module's
    alone)."""
    service = start_service(tmp_path_factory.mktemp("own_service"), champion_env())
    yield service
    service.stop()


@pytest.fixture(scope="session")
def champion(shared_tmp, small_authority) -> ChampionStore:
    return champion_store(shared_tmp, small_authority)


@pytest.fixture(scope="session")
def champion_env(champion) -> Callable[..., dict[str, str]]:
    """`champion_env(alias="champion")`: the environment of a server serving `champion` under `alias`,
    with its linked history (for `start_service`)."""

    def env(alias: str = "champion") -> dict[str, str]:
        return {
            "MLFLOW_TRACKING_URI": champion.tracking_uri,
            "EXCLUSION_RISK_REGISTRY_ALIAS": alias,
            "EXCLUSION_RISK_EXTRACTS_DIR": str(champion.extracts),
            "EXCLUSION_RISK_LINKS_DIR": str(champion.links),
        }

    return env


@pytest.fixture(scope="session")
def live_service(champion, tmp_path_factory, worker_id):
    """The server most tests use: linked history configured, its own registry alias (so the reload
    test can move it without touching other workers' servers), small limits for the limit tests.
    Its `alias`, `max_rows` and `max_request_bytes` are these settings (start_service reads them)."""
    alias = f"service-{worker_id}"
    champion.set_alias(alias, champion.version)
    service = process.start_service(
        tmp_path_factory.mktemp("live_service"),
        {
            "MLFLOW_TRACKING_URI": champion.tracking_uri,
            "EXCLUSION_RISK_REGISTRY_ALIAS": alias,
            "EXCLUSION_RISK_EXTRACTS_DIR": str(champion.extracts),
            "EXCLUSION_RISK_LINKS_DIR": str(champion.links),
            "EXCLUSION_RISK_MAX_ROWS": str(LIVE_MAX_ROWS),
            "EXCLUSION_RISK_MAX_REQUEST_BYTES": str(LIVE_MAX_BYTES),
            # every test reaches the shared server from 127.0.0.1: bad-key tests must not throttle
            # the others (the throttle has its own tests)
            "EXCLUSION_RISK_AUTH_FAILURES_PER_MINUTE": "1000",
        },
    )
    yield service
    service.stop()


# --- the page's tests: a real browser --------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the `browser` tests where Debian's Chromium is missing, before any of their fixtures (the
    champion, a server) are built."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium (make browser)")
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium (Debian's, driven by Playwright), shared by a module's tests: each opens a
    context of its own and closes it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _sign_in(page, service) -> None:
    """Open the service's page in `page` and sign in with its scorer key, from the keyboard; returns once
    the upload form shows."""
    from playwright.sync_api import expect

    page.goto(service.base_url + "/")
    page.fill("#api-key", service.keys["scorer"])
    page.keyboard.press("Enter")
    expect(page.locator("#upload-section")).to_be_visible()


@pytest.fixture(scope="session")
def sign_in() -> Callable[..., None]:
    """`sign_in(page, service)`: the page open and signed in with the service's scorer key."""
    return _sign_in
