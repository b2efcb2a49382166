"""GET /health every few milliseconds from a process of its own, until a stop file appears.

Run by test_limits_live as `python health_probe.py BASE_URL STOP_FILE`: it prints `ready` once its
connection is open, then, when the stop file exists, one JSON line of the latencies (seconds) and the
statuses that were not 200. A probe in the test's own process measured that process too: its thread
waited on the GIL while the test encoded a 30,000-record body or decoded a 20 MB answer, and on its
collector's full passes over pytest's heap (a 2.1 s "latency" in CI with the server idle between).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from urllib.parse import urlsplit


def main(base_url: str, stop_file: str) -> None:
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    connection.request("GET", "/health")
    connection.getresponse().read()  # the connection is open before the clock starts
    print("ready", flush=True)
    latencies, failures = [], []
    while not os.path.exists(stop_file):
        started = time.perf_counter()
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            failures.append(response.status)
        time.sleep(0.005)
    print(json.dumps({"latencies": latencies, "failures": failures}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
