"""The service as a separate process, for the test suite and the service benchmark.

`start_service(workdir, env)` runs `exclusion-risk serve` on a free loopback port with its settings in
the environment (`EXCLUSION_RISK_*`, `MLFLOW_TRACKING_URI`), a scorer and an admin key already in its
database, and by default waits until `/health` says `ready`. `ServiceProcess.stop()` shuts it down
gracefully (SIGINT, as Ctrl-C would). The health checks use the standard library only; `client()`
hands back an httpx client, and httpx (a dev dependency) is imported only there.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exclusion_risk.models.tracking import CHAMPION
from exclusion_risk.serving.database import Database
from exclusion_risk.serving.security import ROLES, KeyStore

# The `exclusion-risk` command of the running interpreter's environment.
EXCLUSION_RISK = Path(sys.executable).parent / "exclusion-risk"
LOG_TAIL = 3000  # characters of the server's log quoted when it fails


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_key(database: Path, role: str) -> str:
    """A new API key with this role in the service database at `database` (a running server sees it
    at once); the token."""
    return KeyStore(Database(database)).add(role, f"test {role}").token


def _optional_int(value: str | None) -> int | None:
    return int(value) if value else None


@dataclass
class ServiceProcess:
    base_url: str
    process: subprocess.Popen
    database: Path
    log_path: Path
    keys: dict[str, str] = field(default_factory=dict)  # role -> API key
    alias: str = CHAMPION  # EXCLUSION_RISK_REGISTRY_ALIAS: the registry alias it serves
    max_rows: int | None = None  # EXCLUSION_RISK_MAX_ROWS when set
    max_request_bytes: int | None = None  # EXCLUSION_RISK_MAX_REQUEST_BYTES when set

    def client(self, role: str | None = "scorer", **kwargs: Any):
        """An `httpx.Client` on the server with this role's key (none for role=None); extra keyword
        arguments go to httpx. httpx is a dev dependency, so it is imported here and nowhere else."""
        import httpx

        headers = {"X-API-Key": self.keys[role]} if role else {}
        headers.update(kwargs.pop("headers", {}))
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=120, **kwargs)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def add_key(self, role: str) -> str:
        """A new API key with this role in the server's own database (the server sees it at once)."""
        return add_key(self.database, role)

    def health(self, timeout: float = 5) -> dict:
        """The /health body, whatever its status code (503 while loading or failed)."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/health", timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return json.loads(error.read())

    def wait_for(self, status: str, timeout: float = 180) -> dict:
        """The /health body once it says `status`; the server's log in the error if it never does (the
        server is stopped then) or if it exits or fails to load its model first."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"the server exited ({code}):\n{self.log_text()[-LOG_TAIL:]}")
            try:
                last = self.health()
                if last.get("status") == status:
                    return last
                if last.get("status") == "failed":
                    raise RuntimeError(f"the server could not load its model:\n{self.log_text()[-LOG_TAIL:]}")
            except (OSError, http.client.HTTPException):  # not listening yet, or a dropped connection
                pass
            time.sleep(0.2)
        self.stop()
        log = self.log_text()[-LOG_TAIL:]
        raise TimeoutError(f"no /health {status!r} after {timeout}s (last {last}):\n{log}")

    def stop(self) -> None:
        """uvicorn's graceful shutdown (SIGINT); killed if it has not exited after 20 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_service(
    workdir: Path, env: dict[str, str], wait_ready: bool = True, timeout: float = 180
) -> ServiceProcess:
    """`exclusion-risk serve` on a free loopback port, run in `workdir` with `env` over this process's
    environment; its database (`workdir/service.db`) gets a key for each role first and its output goes
    to `workdir/server.log`. Waits for `/health` to say `ready` unless `wait_ready` is False.
    Stop it with `.stop()`."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "service.db"
    port = free_port()
    keys = {role: add_key(database, role) for role in ROLES}
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
        )  # fmt: skip
    service = ServiceProcess(
        f"http://127.0.0.1:{port}",
        process,
        database,
        log_path,
        keys,
        alias=full_env.get("EXCLUSION_RISK_REGISTRY_ALIAS") or CHAMPION,
        max_rows=_optional_int(full_env.get("EXCLUSION_RISK_MAX_ROWS")),
        max_request_bytes=_optional_int(full_env.get("EXCLUSION_RISK_MAX_REQUEST_BYTES")),
    )
    if wait_ready:
        service.wait_for("ready", timeout)
    return service
