"""Bad inputs against the CLI and a running service: 5xx, tracebacks, identifier leaks, /health stall.

    .venv/bin/python bench/abuse.py [--pupils 3000] [--trees 60]

Builds (or reuses) the small authority and champion of bench/service.py, gives every pupil of the
scored cohort a canary surname and forename (so any name seen anywhere is a leak), then tries:

* broken extracts (unclosed quote, CR line ends, a 20 MB field, NUL bytes, random bytes, UTF-16 cut
  short, formula-leading identifiers, no header, ...) through `exclusion-risk check`, and as uploads
  to POST /score/file (multipart and text/csv);
* bad JSON to POST /score and /explain (out-of-range features, NaN, deep nesting, wrong types,
  duplicate UPNs, 2 million records, far-future years), bad multipart (a 300-character filename),
  bad content types;
* authentication abuse last (junk and 20,000-character keys, keys in the query string, a burst of
  failures that must be throttled).

It scans every response, the server's log, the audit table and the command output for 5xx, tracebacks,
the canary names and the cohort's UPNs (UPNs are allowed only in successful score bodies), and every
CSV returned for formula-leading cells; then measures GET /health while a maximal upload (max_rows
pupils) is scored, next to /health on the idle server in the same run. Targets: 0 5xx, 0 tracebacks,
0 leaks, /health p99 <= 100 ms during the upload. Results go to bench/results/abuse.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from exclusion_risk.files import FORMULA_LEADS
from exclusion_risk.serving.process import EXCLUSION_RISK, start_service
from exclusion_risk.upn import make_upn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service import build_store, percentiles, say  # noqa: E402 - the service bench's store

REPO = Path(__file__).resolve().parents[1]
CANARY = "Qzcanary"  # every surname and forename of the cohort starts with this
HEALTH_TARGET_MS = 100.0
MAX_ROWS = 200_000  # the service's default max_rows: the maximal upload


@dataclass
class Findings:
    tried: int = 0
    server_errors: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    formula_cells: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def scan_text(self, label: str, text: str, upns: set[str], upns_allowed: bool = False) -> None:
        if "Traceback" in text:
            self.tracebacks.append(label)
        if CANARY.lower() in text.lower():
            self.leaks.append(f"{label}: a pupil's name")
        if not upns_allowed and any(u in text for u in upns):
            self.leaks.append(f"{label}: a pupil's UPN")


def cohort_with_canaries(store) -> pd.DataFrame:
    census = pd.read_csv(store.cohort_csv, dtype=str, keep_default_na=False)
    numbers = [f"{i:05d}" for i in range(len(census))]
    surname = next(c for c in census.columns if c.lower() in ("surname", "legalsurname"))
    forename = next(c for c in census.columns if c.lower() in ("forename", "legalforename", "firstname"))
    census[surname] = [f"{CANARY}sur{n}" for n in numbers]
    census[forename] = [f"{CANARY}fore{n}" for n in numbers]
    return census


def to_csv_bytes(frame: pd.DataFrame, line_end: str = "\n") -> bytes:
    return frame.to_csv(index=False, lineterminator=line_end).encode()


def broken_files(cohort: pd.DataFrame) -> dict[str, bytes]:
    """Census files broken the ways exports break, each name -> bytes."""
    rng = random.Random(7)
    head = cohort.head(400)
    text = to_csv_bytes(head).decode()
    lines = text.splitlines()
    surname = next(c for c in head.columns if c.lower() in ("surname", "legalsurname"))
    upn = next(c for c in head.columns if c.upper() == "UPN")

    def with_line(i: int, old: str, new: str) -> bytes:
        changed = list(lines)
        changed[i] = changed[i].replace(old, new, 1)
        return ("\n".join(changed) + "\n").encode()

    first_surname = head[surname].iloc[9]
    formula = head.copy()
    formula.loc[formula.index[:4], upn] = ["=1+1", "@SUM(1+1)*cmd|' /C calc'!A0", "+A1", "-2+3"]
    formula.loc[formula.index[4], surname] = '=HYPERLINK("http://x","y")'
    cut = text.encode("utf-16")
    files = {
        "unclosed quote": with_line(10, first_surname, '"Brien'),
        "runaway quote closing later": with_line(10, first_surname, '"Brien')[:-1]
        + b"\n"
        + lines[-1].replace(",", '",', 1).encode()
        + b"\n",
        "CR line ends": text.replace("\n", "\r").encode(),
        "CRLF line ends": text.replace("\n", "\r\n").encode(),
        "a 20 MB field": with_line(10, first_surname, "X" * 20_000_000),
        "a NUL byte": with_line(10, first_surname, "Sur\x00name"),
        "random bytes after the header": (lines[0] + "\n").encode() + rng.randbytes(50_000),
        "random bytes only": rng.randbytes(50_000),
        "UTF-16 cut short": cut[: len(cut) // 2 + 1],
        "Windows-1252": text.replace(first_surname, "Zoë", 1).encode("cp1252"),
        "formula-leading identifiers and names": to_csv_bytes(formula),
        "header only": (lines[0] + "\n").encode(),
        "no header": ("\n".join(lines[1:]) + "\n").encode(),
        "empty": b"",
        "blank first line": ("\n" + text).encode(),
        "duplicate UPN rows": to_csv_bytes(pd.concat([head, head.head(3)])),
        "one column": b"UPN\n" + "\n".join(head[upn]).encode() + b"\n",
        "semicolons and a stray CR": text.replace(",", ";").replace(first_surname, "Sur\rname", 1).encode(),
    }
    return files


def run_check(folder: Path, findings: Findings, upns: set[str], label: str) -> None:
    done = subprocess.run(
        [str(EXCLUSION_RISK), "check", "--data", str(folder), "--out", str(folder / "check")],
        capture_output=True, text=True, errors="replace",
    )  # fmt: skip
    findings.tried += 1
    findings.statuses[f"check exit {done.returncode}"] = (
        findings.statuses.get(f"check exit {done.returncode}", 0) + 1
    )
    if done.returncode not in (0, 2):
        findings.server_errors.append(f"check {label}: exit {done.returncode}")
    findings.scan_text(f"check {label}", done.stdout + done.stderr, upns)


def record(findings: Findings, label: str, response, upns: set[str]) -> None:
    findings.tried += 1
    key = str(response.status_code)
    findings.statuses[key] = findings.statuses.get(key, 0) + 1
    if response.status_code >= 500:
        findings.server_errors.append(f"{label}: {response.status_code}")
    ok = response.status_code == 200
    findings.scan_text(label, response.text, upns, upns_allowed=ok)
    if ok and response.headers.get("content-type", "").startswith("text/csv"):
        for row in csv.reader(io.StringIO(response.text)):
            if any(cell.startswith(FORMULA_LEADS) for cell in row):
                findings.formula_cells.append(label)
                break


def json_inputs(record_template: dict) -> dict[str, object]:
    """Bad /score bodies: name -> JSON-able body (or raw bytes)."""

    def pupil(**changes):
        return {**record_template, **changes}

    deep = b'{"pupils": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001  # json.dumps would recurse
    bodies: dict[str, object] = {
        "negative absence": {"pupils": [pupil(absence_rate_last_year=-5)]},
        "1e300 suspensions": {"pupils": [pupil(suspensions_last_year=1e300)]},
        "idaci -40": {"pupils": [pupil(idaci_decile=-40)]},
        "nc_year 1000": {"pupils": [pupil(nc_year=1000)]},
        "NaN": b'{"pupils": [{"upn": "A801200111001", "absence_rate_last_year": NaN}]}',
        "Infinity": b'{"pupils": [{"upn": "A801200111001", "absence_rate_last_year": Infinity}]}',
        "duplicate UPNs": {"pupils": [pupil(), pupil(suspensions_last_year=0)]},
        "formula UPN": {"pupils": [pupil(upn="=1+1")]},
        "year 2261/62": {"academic_year": "2261/62", "census": [{"UPN": "A801200111001"}]},
        "date 9999": {"census": [{"UPN": "A801200111001", "DOB": "9999-10-01"}]},
        "wrong types": {"pupils": [pupil(nc_year="nine", fsm="perhaps")]},
        "empty": {},
        "both": {"pupils": [pupil()], "census": [{"UPN": "x"}]},
        "not JSON": b"{this is not json",
        "deep nesting": deep,
        "huge string": {"pupils": [pupil(upn="A" * 5_000_000)]},
    }
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=3000)
    parser.add_argument("--trees", type=int, default=60)
    args = parser.parse_args()
    root = REPO / "bench" / "results" / "abuse"
    store = build_store(root, args.pupils, args.trees)
    cohort = cohort_with_canaries(store)
    upns = set(cohort[next(c for c in cohort.columns if c.upper() == "UPN")])
    findings = Findings()
    files = broken_files(cohort)

    say(f"CLI: exclusion-risk check on {len(files)} broken census files")
    with tempfile.TemporaryDirectory() as tmp:
        for label, data in files.items():
            folder = Path(tmp) / label.replace(" ", "_")
            folder.mkdir()
            (folder / "census.csv").write_bytes(data)
            run_check(folder, findings, upns, label)

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "MLFLOW_TRACKING_URI": store.tracking_uri,
            "EXCLUSION_RISK_EXTRACTS_DIR": str(store.extracts),
            "EXCLUSION_RISK_LINKS_DIR": str(store.links),
        }
        service = start_service(Path(tmp), env)
        try:
            http_abuse(service, files, cohort, findings, upns)
            limits = time_to_refuse(service, cohort, findings, upns)
            health = health_during_maximal_upload(service, cohort)
            auth_abuse(service, findings, upns)
            log = service.log_text()
            findings.scan_text("server log", log, upns)
            audit = audit_rows(service.database)
            findings.scan_text("audit log", audit, upns)
        finally:
            service.stop()
    report(findings, health, limits)


def http_abuse(service, files: dict[str, bytes], cohort: pd.DataFrame, findings: Findings, upns) -> None:
    say(f"HTTP: {len(files)} broken census files, multipart and text/csv, JSON and CSV answers")
    with service.client() as client:
        for label, data in files.items():
            for fmt in ("json", "csv"):
                response = client.post(
                    f"/score/file?format={fmt}&skip_invalid=true",
                    files={"file": ("census.csv", data, "text/csv")},
                )
                record(findings, f"/score/file multipart {label} {fmt}", response, upns)
            response = client.post("/score/file", content=data, headers={"Content-Type": "text/csv"})
            record(findings, f"/score/file text/csv {label}", response, upns)
        good = to_csv_bytes(cohort.head(20))
        for name in ("x" * 300 + ".csv", "../../etc/passwd", "a\x00b.csv", "é" * 200, ""):
            response = client.post("/score/file", files={"file": (name, good, "text/csv")})
            record(findings, f"/score/file filename of {len(name)} characters", response, upns)
        for content_type in (
            "application/json",
            "text/plain",
            "application/octet-stream",
            "multipart/form-data",
        ):
            response = client.post("/score/file", content=good, headers={"Content-Type": content_type})
            record(findings, f"/score/file as {content_type}", response, upns)
        template = client.get("/openapi.json").json()
        example = _example_pupil(template)
        for label, body in json_inputs(example).items():
            for route in ("/score", "/explain"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                response = client.post(route, content=data, headers={"Content-Type": "application/json"})
                record(findings, f"{route} {label}", response, upns)


def _example_pupil(openapi: dict) -> dict:
    schemas = openapi.get("components", {}).get("schemas", {})
    example = schemas.get("FeatureRecord", {}).get("example") or {}
    return dict(example) or {"upn": "A801200111001", "nc_year": 9, "sex": "M"}


def health_during_maximal_upload(service, cohort: pd.DataFrame) -> dict:
    say(f"HTTP: /health while a {MAX_ROWS:,}-pupil upload is scored")
    rows = cohort.sample(MAX_ROWS, replace=True, random_state=7).reset_index(drop=True)
    upn = next(c for c in rows.columns if c.upper() == "UPN")
    rows[upn] = [make_upn(330, 4000 + i // 1000, 2018, i % 1000) for i in range(len(rows))]
    data = to_csv_bytes(rows)
    idle = _health_times(service, 200)
    timings: list[float] = []
    stop = threading.Event()

    def poll():
        with service.client(role=None) as client:
            while not stop.is_set():
                started = time.perf_counter()
                client.get("/health")
                timings.append(time.perf_counter() - started)
                time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    started = time.perf_counter()
    with service.client() as client:
        response = client.post("/score/file?reasons=false", files={"file": ("census.csv", data, "text/csv")})
    upload_seconds = time.perf_counter() - started
    stop.set()
    poller.join()
    return {
        "upload_rows": MAX_ROWS,
        "upload_mb": round(len(data) / 1e6, 1),
        "upload_status": response.status_code,
        "upload_seconds": round(upload_seconds, 2),
        "health_during_upload": percentiles(timings),
        "health_idle": percentiles(idle),
    }


def time_to_refuse(service, cohort: pd.DataFrame, findings: Findings, upns) -> dict:
    """Seconds to the answer for bodies far over the row limit: they must be refused before parsing."""
    say("HTTP: 2 million records as JSON and as a zstd Parquet file")
    rows = pd.concat([cohort.head(1)] * 2_000_000, ignore_index=True)
    buffer = io.BytesIO()
    rows.to_parquet(buffer, compression="zstd", index=False)
    bodies = {
        "/score 2 million JSON records": ("/score", b'{"pupils": [' + b",".join([b"{}"] * 2_000_000) + b"]}"),
        "/score/file 2 million-row Parquet": ("/score/file", buffer.getvalue()),
    }
    out = {}
    with service.client() as client:
        for label, (route, data) in bodies.items():
            started = time.perf_counter()
            if route == "/score":
                response = client.post(route, content=data, headers={"Content-Type": "application/json"})
            else:
                response = client.post(
                    route, files={"file": ("census.parquet", data, "application/octet-stream")}
                )
            seconds = time.perf_counter() - started
            record(findings, label, response, upns)
            out[label] = {"bytes": len(data), "status": response.status_code, "seconds": round(seconds, 3)}
    return out


def _health_times(service, n: int) -> list[float]:
    out = []
    with service.client(role=None) as client:
        for _ in range(n):
            started = time.perf_counter()
            client.get("/health")
            out.append(time.perf_counter() - started)
    return out


def auth_abuse(service, findings: Findings, upns) -> None:
    say("HTTP: authentication abuse (last: it gets this client throttled)")
    a_upn = sorted(upns)[0]
    with service.client(role=None) as client:
        for key in ("", "x", "k" * 20_000, a_upn, "' OR 1=1 --", "%00", "erk." + a_upn + ".x"):
            response = client.post("/score", json={"pupils": []}, headers={"X-API-Key": key})
            record(findings, f"/score with a bad key of {len(key)} characters", response, upns)
        response = client.post(f"/score?api_key={service.keys['scorer']}", json={"pupils": []})
        record(findings, "/score with the key in the query string", response, upns)
        throttled = 0
        for i in range(60):
            response = client.post("/score", json={"pupils": []}, headers={"X-API-Key": f"wrong-{i}"})
            record(findings, "/score failed-auth burst", response, upns)
            throttled += response.status_code == 429
    findings.statuses["throttled (429) in a burst of 60 failed keys"] = throttled
    if service.keys["scorer"] in service.log_text():
        findings.leaks.append("server log: an API key")


def audit_rows(database: Path) -> str:
    with sqlite3.connect(database) as db:
        return "\n".join(" ".join(map(str, row)) for row in db.execute("SELECT * FROM audit_log"))


def report(findings: Findings, health: dict, limits: dict) -> None:
    during = health["health_during_upload"]
    out = {
        "bad_inputs_tried": findings.tried,
        "server_errors_5xx": len(findings.server_errors),
        "tracebacks": len(findings.tracebacks),
        "identifier_leaks": len(findings.leaks),
        "formula_cells_in_csv": len(findings.formula_cells),
        "statuses": findings.statuses,
        "health": health,
        "refused_before_parsing": limits,
        "details": {
            "5xx": findings.server_errors,
            "tracebacks": findings.tracebacks,
            "leaks": findings.leaks,
            "formula": findings.formula_cells,
        },
    }
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "abuse.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"bad inputs tried        {findings.tried}")
    print(f"5xx seen                {len(findings.server_errors)}   (target 0)")
    print(f"tracebacks seen         {len(findings.tracebacks)}   (target 0)")
    print(
        f"identifier leaks found  {len(findings.leaks)}   "
        "(target 0; responses, server log, audit rows, CLI output)"
    )
    print(f"formula-leading cells   {len(findings.formula_cells)}   (target 0; CSV answers)")
    print(f"statuses                {json.dumps(findings.statuses)}")
    print(
        f"/health during a {health['upload_rows']:,}-pupil upload ({health['upload_mb']} MB, "
        f"{health['upload_status']} in {health['upload_seconds']} s): p50 {during['p50_ms']} ms, "
        f"p99 {during['p99_ms']} ms over {during['n']} calls (target <= {HEALTH_TARGET_MS:.0f} ms); "
        f"idle reference p50 {health['health_idle']['p50_ms']} ms, "
        f"p99 {health['health_idle']['p99_ms']} ms"
    )
    for label, answer in limits.items():
        print(f"{label} ({answer['bytes'] / 1e6:.2f} MB): {answer['status']} in {answer['seconds']} s")
    for kind, items in out["details"].items():
        for item in items[:10]:
            print(f"  {kind}: {item}")
    met = (
        not findings.server_errors
        and not findings.tracebacks
        and not findings.leaks
        and not findings.formula_cells
        and during["p99_ms"] <= HEALTH_TARGET_MS
    )
    print("targets met" if met else "TARGETS NOT MET")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
