"""A real champion model and a real server for the service tests.

`champion_store()` takes the session's small synthetic authority (`small_authority`), writes its links
(from the generator's ground truth, so the slow probabilistic linkage is not re-tested here), trains a
small LightGBM with the models stage's own training and MLflow logging into a private store, and
promotes it. It runs once per test session and is shared by pytest-xdist workers through a file lock.

`start_service(...)` runs `exclusion-risk serve` as a separate process on a free loopback port, with
settings in its environment, and waits until `/health` says `ready`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pandas as pd
import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
EXCLUSION_RISK = Path(sys.executable).parent / "exclusion-risk"
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


def _write_truth_links(extracts: Path, out: Path) -> None:
    truth = extracts / "truth"
    exclusions = pd.read_csv(truth / "exclusion_links.csv", dtype=str).dropna()
    social_care = pd.read_csv(truth / "social_care_links.csv", dtype=str).dropna()
    links = pd.concat(
        [
            pd.DataFrame({"source": "exclusions", "record_id": exclusions["RecordID"],
                          "upn": exclusions["upn"]}),
            pd.DataFrame({"source": "social_care", "record_id": social_care["LAchildID"],
                          "upn": social_care["upn"]}),
        ],
        ignore_index=True,
    ).assign(method="upn", score=1.0)
    out.mkdir(parents=True, exist_ok=True)
    links.to_csv(out / "links.csv", index=False)


def build_champion(root: Path, extracts: Path, train_config: str = TRAIN_CONFIG) -> ChampionStore:
    """Authority -> links (from truth) -> features -> LightGBM -> MLFLOW_TRACKING_URI store -> champion."""
    from exclusion_risk.features.preprocess import make_preprocessor
    from exclusion_risk.models import tracking
    from exclusion_risk.models.config import load_config
    from exclusion_risk.models.train import load_training_data, train_models

    links = root / "links"
    _write_truth_links(extracts, links)
    census = pd.read_csv(extracts / "census.csv", dtype=str, keep_default_na=False)
    cohort = census[(census["AcademicYear"] == SCORED_YEAR) & (census["CensusTerm"] == "AUT")]
    cohort_csv = root / f"census_{SCORED_YEAR.replace('/', '-')}.csv"
    cohort.to_csv(cohort_csv, index=False)

    (root / "experiment.yaml").write_text(train_config)
    config = load_config(root / "experiment.yaml")
    data = load_training_data(extracts, config, links)
    result = train_models(data.table, config, data.feature_cols, make_preprocessor)
    fingerprint = tracking.data_fingerprint(data.files, data.table, data.feature_cols, data.counts)
    record = tracking.log_training(result, fingerprint)
    promotion = tracking.promote(config.experiment, None, "average_precision")
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


# --- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveService:
    base_url: str
    process: subprocess.Popen
    database: Path
    log_path: Path
    keys: dict[str, str] = field(default_factory=dict)
    alias: str = "champion"

    def client(self, role: str | None = "scorer", **kwargs) -> httpx.Client:
        headers = {"X-API-Key": self.keys[role]} if role else {}
        headers.update(kwargs.pop("headers", {}))
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=120, **kwargs)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def add_key(database: Path, role: str) -> str:
    from exclusion_risk.serving.database import Database
    from exclusion_risk.serving.security import KeyStore

    return KeyStore(Database(database)).add(role, f"test {role}").token


def start_service(workdir: Path, env: dict[str, str], wait_ready: bool = True,
                  timeout: float = 180) -> LiveService:
    """`exclusion-risk serve` on a free port; keys for each role are created in its database first."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "service.db"
    port = free_port()
    keys = {role: add_key(database, role) for role in ("scorer", "admin")}
    log_path = workdir / "server.log"
    full_env = {
        **os.environ,
        "EXCLUSION_RISK_DATABASE": str(database),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(EXCLUSION_RISK), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir, env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )
    service = LiveService(f"http://127.0.0.1:{port}", process, database, log_path, keys)
    if wait_ready:
        wait_for(service, "ready", timeout)
    return service


def wait_for(service: LiveService, status: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            code = service.process.returncode
            raise RuntimeError(f"the server exited ({code}):\n{service.log_text()[-3000:]}")
        try:
            last = httpx.get(f"{service.base_url}/health", timeout=5).json()
            if last.get("status") == status:
                return last
            if last.get("status") == "failed":
                raise RuntimeError(f"the server could not load its model:\n{service.log_text()[-3000:]}")
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    service.stop()
    raise TimeoutError(f"no /health {status!r} after {timeout}s (last {last}):\n{service.log_text()[-3000:]}")


# --- fixtures (registered in conftest.py's pytest_plugins) ----------------------------------------

LIVE_MAX_ROWS = 8000  # above the ~6,000-pupil cohort of small_authority; 10x is an 80,000-row upload
LIVE_MAX_BYTES = 12 * 1024 * 1024


def _shared_tmp(tmp_path_factory, worker_id: str) -> Path:
    # Under xdist every worker's basetemp shares a parent: build the champion there, once.
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def champion(tmp_path_factory, worker_id, small_authority) -> ChampionStore:
    return champion_store(_shared_tmp(tmp_path_factory, worker_id), small_authority)


def set_alias(store: ChampionStore, alias: str, version: str) -> None:
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=store.tracking_uri).set_registered_model_alias("exclusion-risk", alias, version)


@pytest.fixture(scope="session")
def live_service(champion, tmp_path_factory, worker_id):
    """The server most tests use: linked history configured, its own registry alias (so the reload
    test can move it without touching other workers' servers), small limits for the limit tests."""
    alias = f"service-{worker_id}"
    set_alias(champion, alias, champion.version)
    service = start_service(
        tmp_path_factory.mktemp("live_service"),
        {
            "MLFLOW_TRACKING_URI": champion.tracking_uri,
            "EXCLUSION_RISK_REGISTRY_ALIAS": alias,
            "EXCLUSION_RISK_EXTRACTS_DIR": str(champion.extracts),
            "EXCLUSION_RISK_LINKS_DIR": str(champion.links),
            "EXCLUSION_RISK_MAX_ROWS": str(LIVE_MAX_ROWS),
            "EXCLUSION_RISK_MAX_REQUEST_BYTES": str(LIVE_MAX_BYTES),
        },
    )
    service.alias = alias
    yield service
    service.stop()
