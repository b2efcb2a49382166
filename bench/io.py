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
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exclusion_risk.upn import CHECK_ALPHABET  # noqa: E402
from linkage.readers import read_census  # noqa: E402

TARGET_ROWS_PER_S = 200_000
SURNAMES = ["Smith", "Jones", "Khan", "Ahmed", "Taylor", "Brown", "Begum", "Wilson", "O'Neill", "Kowalski"]
FORENAMES = ["Amelia", "Oliver", "Muhammad", "Isla", "Noah", "Ava", "Leo", "Zara", "Harry", "Maya"]
ETHNICITY = ["WBRI", "WENG", "WOTH", "APKN", "AIND", "ABAN", "BCRB", "BAFR", "MWBC", "CHNE", "OOTH", "REFU"]
SEN = ["", "", "", "", "SEMH", "MLD", "SLCN", "ASD", "SPLD", "BESD"]
AREAS = ["WS1", "WS2", "WS10", "B15", "B70", "WV1", "WV14", "DY4"]


def _strings(byte_columns: list[np.ndarray]) -> np.ndarray:
    """Fixed-width strings from columns of byte values (numpy, no Python loop per row)."""
    width = len(byte_columns)
    return np.stack(byte_columns, axis=1).astype(np.uint8).view(f"S{width}").ravel().astype(f"U{width}")


def make_upns(count: int, rng: np.random.Generator) -> np.ndarray:
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


def make_postcodes(count: int, rng: np.random.Generator) -> np.ndarray:
    """One home postcode per pupil, written as schools type them (some lower case, some unspaced)."""
    letters = np.frombuffer(b"ABDEFGHJLNPQRSTUWXYZ", dtype=np.uint8)
    inward = _strings(
        [rng.integers(ord("1"), ord("9") + 1, count), rng.choice(letters, count), rng.choice(letters, count)]
    )
    outward = np.array(AREAS)[rng.integers(0, len(AREAS), count)]
    spaced = pd.Series(outward) + np.where(rng.random(count) < 0.9, " ", "") + inward
    return np.where(rng.random(count) < 0.1, spaced.str.lower(), spaced).astype(str)


def make_census(path: Path, rows: int, seed: int = 7) -> None:
    """A census of `rows` rows: pupils x 4 collections, with ~0.5% deliberately broken rows."""
    rng = np.random.default_rng(seed)
    pupils = max(rows // 4, 1)
    upns = make_upns(pupils, rng)
    postcodes = make_postcodes(pupils, rng)
    pupil = rng.integers(0, pupils, rows)
    dob = np.datetime64("2004-09-01") + rng.integers(0, 15 * 365, pupils)
    years = rng.choice(["2015/16", "2016/17", "2017/18", "2018/19"], rows)
    table = {
        "LAEstab": rng.integers(3302000, 3302200, rows).astype(str),
        "UPN": upns[pupil],
        "Surname": np.array(SURNAMES)[rng.integers(0, len(SURNAMES), pupils)][pupil],
        "Forename": np.array(FORENAMES)[rng.integers(0, len(FORENAMES), pupils)][pupil],
        "Gender": rng.choice(["M", "F"], pupils)[pupil],
        "DoB": np.datetime_as_string(dob[pupil], unit="D"),
        "Ethnicity": rng.choice(ETHNICITY, pupils)[pupil],
        "FSME on Census Day": rng.choice(["0", "1"], rows, p=[0.75, 0.25]),
        "SENprovision": rng.choice(["N", "K", "E"], rows, p=[0.82, 0.14, 0.04]),
        "SENNeed1": rng.choice(SEN, rows),
        "NCyearActual": rng.choice(["R"] + [str(y) for y in range(1, 12)], rows),
        "Postcode": postcodes[pupil],
        "AcademicYear": years,
        "CensusTerm": rng.choice(["AUT", "SPR", "SUM"], rows),
        "SessionsPossible": rng.integers(300, 381, rows).astype(str),
        "SessionsAuthorisedAbsence": rng.integers(0, 30, rows).astype(str),
        "SessionsUnauthorisedAbsence": rng.integers(0, 10, rows).astype(str),
        "EnrolStatus": rng.choice(["C", "M", "S"], rows, p=[0.9, 0.05, 0.05]),
    }
    broken = rng.choice(rows, size=rows // 200, replace=False)
    thirds = np.array_split(broken, 3)
    table["DoB"][thirds[0]] = "31/02/2009"
    table["Ethnicity"][thirds[1]] = "XXXX"
    for column in table:  # exact duplicates of the row before
        table[column][thirds[2]] = table[column][np.maximum(thirds[2] - 1, 0)]
    # unquoted, as MIS exports write them
    pacsv.write_csv(pa.table(table), path, pacsv.WriteOptions(quoting_style="none"))


def timed(function, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


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
        reference, _ = timed(lambda: pd.read_csv(path), args.repeat)
        arrow_plain, _ = timed(lambda: pd.read_csv(path, engine="pyarrow"), args.repeat)
        ours, result = timed(lambda: read_census(path), args.repeat)

    print(f"{'reader':<44}{'seconds':>9}{'rows/s':>12}{'MB/s':>8}")
    for label, seconds in (
        ("pandas.read_csv (C engine, inferred types)", reference),
        ("pandas.read_csv(engine='pyarrow')", arrow_plain),
        ("read_census (read + validate + normalise)", ours),
    ):
        print(f"{label:<44}{seconds:>9.2f}{rows / seconds:>12,.0f}{size_mb / seconds:>8.0f}")
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
