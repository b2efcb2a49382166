"""Read + validate throughput of the census reader, next to plain pandas.read_csv of the same file.

Generates a census-shaped CSV itself (contract headers, MIS-style aliases for a few, realistic codes,
about 0.5% broken rows: bad dates, unknown codes, exact duplicates) in a temporary folder, then
times, in the same run and on the same file:

  * pandas.read_csv (default C engine, everything inferred) - the reference;
  * pandas.read_csv(engine="pyarrow") - the fastest plain read pandas offers;
  * linkage.readers.read_census - decode, parse, de-duplicate, validate (pandera), normalise.

    .venv/bin/python bench/io.py [--rows 1000000] [--repeat 1]

Target: read_census >= 200,000 rows/s on 2 cores for 1,000,000 rows.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from exclusion_risk.linkage.readers import read_census
from exclusion_risk.upn import CHECK_ALPHABET

TARGET_ROWS_PER_S = 200_000
SURNAMES = ["Smith", "Jones", "Khan", "Ahmed", "Taylor", "Brown", "Begum", "Wilson", "O'Neill", "Kowalski"]
FORENAMES = ["Amelia", "Oliver", "Muhammad", "Isla", "Noah", "Ava", "Leo", "Zara", "Harry", "Maya"]
ETHNICITY = ["WBRI", "WENG", "WOTH", "APKN", "AIND", "ABAN", "BCRB", "BAFR", "MWBC", "CHNE", "OOTH", "REFU"]
SEN = ["", "", "", "", "SEMH", "MLD", "SLCN", "ASD", "SPLD", "BESD"]
AREAS = ["WS1", "WS2", "WS10", "B15", "B70", "WV1", "WV14", "DY4"]


def _strings(byte_columns: list[np.ndarray]) -> pa.Array:
    """Fixed-width arrow strings from columns of byte values (numpy, no Python loop per row)."""
    width = len(byte_columns)
    fixed = np.stack(byte_columns, axis=1).astype(np.uint8).view(f"S{width}").ravel()
    return pa.array(fixed).cast(pa.string())


def _pick(values: list[str], index: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(index))


def make_upns(count: int, rng: np.random.Generator) -> pa.Array:
    """Valid permanent UPNs (DfE check letter): LA 330 then 9 random digits."""
    body = np.stack(
        [np.full(count, 3), np.full(count, 3), np.full(count, 0)]
        + [rng.integers(0, 10, count) for _ in range(9)],
        axis=1,
    )
    letter = np.frombuffer(CHECK_ALPHABET.encode(), dtype=np.uint8)[
        (body * np.arange(2, 14)).sum(axis=1) % 23
    ]
    return _strings([letter] + [body[:, k] + ord("0") for k in range(12)])


def make_postcodes(count: int, rng: np.random.Generator) -> pa.Array:
    """One home postcode per pupil, written as schools type them (some lower case, some unspaced)."""
    letters = np.frombuffer(b"ABDEFGHJLNPQRSTUWXYZ", dtype=np.uint8)
    inward = _strings(
        [rng.integers(ord("1"), ord("9") + 1, count), rng.choice(letters, count), rng.choice(letters, count)]
    )
    outward = _pick(AREAS, rng.integers(0, len(AREAS), count))
    gap = _pick(["", " "], (rng.random(count) < 0.9).astype(np.int64))
    spaced = pc.binary_join_element_wise(outward, gap, inward, "")
    return pc.if_else(pa.array(rng.random(count) < 0.1), pc.utf8_lower(spaced), spaced)


def make_census(path: Path, rows: int, seed: int = 7) -> None:
    """A census of `rows` rows: pupils x 4 collections, with ~0.5% deliberately broken rows."""
    rng = np.random.default_rng(seed)
    pupils = max(rows // 4, 1)
    pupil = pa.array(rng.integers(0, pupils, rows))
    dob = pa.array(np.datetime64("2004-09-01") + rng.integers(0, 13 * 365, pupils)).cast(pa.string())

    def per_pupil(values: list[str]) -> pa.Array:
        return _pick(values, rng.integers(0, len(values), pupils)).take(pupil)

    def per_row(values: list[str], p: list[float] | None = None) -> pa.Array:
        return _pick(values, rng.choice(len(values), rows, p=p))

    table = {
        "LAEstab": pa.array(rng.integers(3302000, 3302200, rows)),
        "UPN": make_upns(pupils, rng).take(pupil),
        "Surname": per_pupil(SURNAMES),
        "Forename": per_pupil(FORENAMES),
        "Gender": per_pupil(["M", "F"]),
        "DoB": dob.take(pupil),
        "Ethnicity": per_pupil(ETHNICITY),
        "FSME on Census Day": per_row(["0", "1"], [0.75, 0.25]),
        "SENprovision": per_row(["N", "K", "E"], [0.82, 0.14, 0.04]),
        "SENNeed1": per_row(SEN),
        "NCyearActual": per_row(["R"] + [str(y) for y in range(1, 12)]),
        "Postcode": make_postcodes(pupils, rng).take(pupil),
        "AcademicYear": per_row(["2015/16", "2016/17", "2017/18", "2018/19"]),
        "CensusTerm": per_row(["AUT", "SPR", "SUM"]),
        "SessionsPossible": pa.array(rng.integers(300, 381, rows)),
        "SessionsAuthorisedAbsence": pa.array(rng.integers(0, 30, rows)),
        "SessionsUnauthorisedAbsence": pa.array(rng.integers(0, 10, rows)),
        "EnrolStatus": per_row(["C", "M", "S"], [0.9, 0.05, 0.05]),
    }
    broken = rng.choice(np.arange(1, rows), size=rows // 200, replace=False)
    bad_date, bad_code, duplicate = np.array_split(broken, 3)
    for column, where, value in (("DoB", bad_date, "31/02/2009"), ("Ethnicity", bad_code, "XXXX")):
        mask = np.zeros(rows, dtype=bool)
        mask[where] = True
        table[column] = pc.if_else(pa.array(mask), value, table[column])
    order = np.arange(rows)
    order[duplicate] = duplicate - 1  # an exact copy of the row before
    # unquoted, as MIS exports write them
    pacsv.write_csv(pa.table(table).take(pa.array(order)), path, pacsv.WriteOptions(quoting_style="none"))


def timed(function, repeat: int) -> tuple[float, float, object]:
    """Best wall-clock and CPU seconds (all threads) of `repeat` runs, and the last result.

    CPU time is printed too because on a shared machine wall time mostly measures the neighbours.
    """
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return best, best_cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of each reader")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "census.csv"
        start = time.perf_counter()
        make_census(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - start:.1f} s")

        rows = args.rows
        # one-time costs (pandera registers its backends on first use) are not throughput
        make_census(Path(tmp) / "warm.csv", 1_000)
        read_census(Path(tmp) / "warm.csv")
        reference, reference_cpu, _ = timed(lambda: pd.read_csv(path), args.repeat)
        arrow_plain, arrow_cpu, _ = timed(lambda: pd.read_csv(path, engine="pyarrow"), args.repeat)
        ours, ours_cpu, result = timed(lambda: read_census(path), args.repeat)

    print(f"{'reader':<44}{'wall s':>8}{'rows/s':>11}{'MB/s':>7}{'CPU s':>8}{'rows/CPU-s':>12}")
    for label, seconds, cpu in (
        ("pandas.read_csv (C engine, inferred types)", reference, reference_cpu),
        ("pandas.read_csv(engine='pyarrow')", arrow_plain, arrow_cpu),
        ("read_census (read + validate + normalise)", ours, ours_cpu),
    ):
        print(
            f"{label:<44}{seconds:>8.2f}{rows / seconds:>11,.0f}{size_mb / seconds:>7.0f}"
            f"{cpu:>8.2f}{rows / cpu:>12,.0f}"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load average {load:.1f} while measuring")
    print(
        f"read_census: {len(result.clean):,} clean + {result.rows_rejected:,} rejected"
        f" = {result.rows_read:,} read; "
        f"{rows / ours / 1000:.0f}k rows/s vs target {TARGET_ROWS_PER_S // 1000}k "
        f"({'meets' if rows / ours >= TARGET_ROWS_PER_S else 'MISSES'} target); "
        f"{reference / ours:.2f}x the speed of pandas.read_csv"
    )
    assert len(result.clean) + result.rows_rejected == result.rows_read == rows


if __name__ == "__main__":
    main()
