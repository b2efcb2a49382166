"""Slow uploads against a live server: how long two census uploads sent a line a second hold the job slots.

Starts `exclusion-risk serve` on the demo's champion and history twice in one run: with the upload floor
as configured (MIN_UPLOAD_BYTES_PER_S, UPLOAD_GRACE_S defaults), and as the reference with the floor off
(MIN_UPLOAD_BYTES_PER_S=0). Each time it scores a 300-pupil census once, starts two uploads of it that
send one line a second (both default job slots), and tries the same census every second until one is
scored, printing how many were refused 503 and when one was scored, and what the slow uploads got.

    .venv/bin/python bench/slow_upload.py [--data data/demo/extracts] [--tracking sqlite:///mlruns/mlflow.db]

Needs `make demo` first (its champion and its linked history).
"""

from __future__ import annotations

import argparse
import select
import socket
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from exclusion_risk.serving.process import start_service

CSV = {"Content-Type": "text/csv"}
SLOW_LINES = 60  # lines sent, one a second, before the slow client waits for an answer


def dribble(url: str, key: str, small: bytes, out: list, seconds: int = SLOW_LINES) -> None:
    """One upload of `small` sent a line a second until the server answers (or SLOW_LINES lines have gone
    and 5 s more pass); the answer's status line and when it came, into `out`."""
    address = urlparse(url)
    sock = socket.create_connection((address.hostname, address.port))
    head = (f"POST /score/file?record=false HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n"
            f"Content-Type: text/csv\r\nContent-Length: {len(small)}\r\n\r\n").encode()  # fmt: skip
    started = time.monotonic()
    answer = b""
    try:
        sock.sendall(head)
        for line in small.split(b"\n")[:seconds]:
            sock.sendall(line + b"\n")
            if select.select([sock], [], [], 1.0)[0]:  # the server has answered (or closed)
                break
        else:
            select.select([sock], [], [], 5.0)
        sock.setblocking(False)
        answer = sock.recv(200)
    except OSError:
        pass
    finally:
        sock.close()
    status = answer.split(b"\r\n")[0].decode(errors="replace") or "no answer"
    out.append((round(time.monotonic() - started, 1), status))


def run(label: str, folder: Path, small: bytes, env: dict[str, str]) -> None:
    service = start_service(folder / label, env, timeout=400)
    try:
        with service.client() as client:
            ok = client.post("/score/file?record=false", content=small, headers=CSV)
            print(f"{label}: a census sent at once first: {ok.status_code}", flush=True)
            out = []
            slow = (service.base_url, service.keys["scorer"], small, out)
            threads = [threading.Thread(target=dribble, args=slow) for _ in range(2)]
            started = time.monotonic()
            for t in threads:
                t.start()
            time.sleep(2)
            statuses = []
            while time.monotonic() - started < 75:
                r = client.post("/score/file?record=false", content=small, headers=CSV)
                statuses.append((round(time.monotonic() - started, 1), r.status_code))
                if r.status_code == 200:
                    break
                time.sleep(1)
            for t in threads:
                t.join()
            refused = [s for s in statuses if s[1] == 503]
            print(f"{label}: other uploads refused 503: {len(refused)}; one scored at {statuses[-1][0]} s")
            print(f"{label}: the slow uploads got (s, answer): {out}", flush=True)
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/demo/extracts"))
    parser.add_argument("--tracking", default=f"sqlite:///{Path('mlruns/mlflow.db').resolve()}")
    args = parser.parse_args()
    census = pd.read_csv(args.data / "census.csv", dtype=str, keep_default_na=False)
    year = next(c for c in census.columns if c.lower().replace("_", "") in {"academicyear", "year"})
    small = census[census[year] == census[year].max()].head(300).to_csv(index=False).encode()
    env = {"MLFLOW_TRACKING_URI": args.tracking, "EXCLUSION_RISK_DATA_DIR": str(args.data.resolve())}
    with tempfile.TemporaryDirectory() as folder:
        run("floor", Path(folder), small, env)
        run("reference, no floor", Path(folder), small, {**env, "EXCLUSION_RISK_MIN_UPLOAD_BYTES_PER_S": "0"})


if __name__ == "__main__":
    main()
