"""scores.xlsx's writing time and memory, next to openpyxl's write-only mode writing the same cells.

The workbook holds the ranked list and again each school's pupils on its own sheet (about 2.25 million
cells for the demo's 62,509 pupils), so writing it was most of a small `score` run. Times, in the same
run and each in a fresh process (so that one's memory does not count against the other):

  * models.score_workbook.write_scores_workbook - XlsxWriter, constant-memory mode (what `score` and the
    service's download write);
  * the reference: openpyxl's write-only mode writing the same sheets of plain values (the writer
    scores.xlsx had before, without its styles).

    .venv/bin/python bench/workbook.py [--scores data/demo/scores/scores.csv] [--pupils 62536]

Without --scores it makes a scores-shaped list of --pupils pupils in 130 schools (text columns from
small pools, as a real list's bands, responses and reasons repeat).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk.models.score_table import as_written
from exclusion_risk.models.score_workbook import _school_groups, write_scores_workbook

REASONS = [
    "6 suspensions last year; 1 suspension so far this year; 22 half-day sessions lost to suspension",
    "12% absence last year; SEN support (SEMH)",
    "child in need plan; 2 suspensions last year",
    "",
]
CONTEXT = [
    "school's suspensions: 29 per 100 pupils in earlier years (raises risk); in Year 10 (raises risk)",
    "in Year 4 (lowers risk)",
]


def make_scores(pupils: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    probability = np.sort(rng.beta(0.6, 12, pupils))[::-1].round(6)
    cuts = [probability > 0.3, probability > 0.1, probability > 0.03]
    band = np.select(cuts, ["very high", "high", "medium"], "low")
    urn = rng.integers(3352000, 3352130, pupils).astype(str)
    return pd.DataFrame(
        {
            "upn": [f"A{n:012d}" for n in rng.permutation(pupils)],
            "probability": probability,
            "likelihood_band": band,
            "need_level": rng.integers(0, 4, pupils),
            "rag": np.where(band == "very high", "red", np.where(band == "high", "amber", "green")),
            "reasons": rng.choice(REASONS, pupils),
            "school_urn": urn,
            "school_name": np.char.add("School ", urn),
            "nc_year": rng.integers(-1, 12, pupils),
            "context": rng.choice(CONTEXT, pupils),
            "band_precision": 0.327,
            "band_precision_ci": "0.311-0.344",
        }
    )


def _openpyxl_reference(scores: pd.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    scores = as_written(scores)
    book = Workbook(write_only=True)
    groups = enumerate(_school_groups(scores))
    sheets = [("Ranked list", scores)] + [(f"{i} {t}"[:31], scores.iloc[rows]) for i, (t, rows) in groups]
    for title, frame in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        values = frame.astype(object).where(frame.notna(), None)
        for row in values.itertuples(index=False):
            sheet.append(list(row))
    book.save(path)


def _timed(which: str, scores: pd.DataFrame, queue) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scores.xlsx"
        start = time.perf_counter()
        if which == "xlsxwriter":
            write_scores_workbook(scores, path, notice_lines=["Model: bench version 1"])
        else:
            _openpyxl_reference(scores, path)
        seconds = time.perf_counter() - start
        size = path.stat().st_size
    queue.put((seconds, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scores", type=Path, help="a scores.csv to write (default: a made-up list)")
    parser.add_argument("--pupils", type=int, default=62_536)
    args = parser.parse_args()
    if args.scores:
        scores = pd.read_csv(args.scores, dtype={"upn": str, "pupil_upn": str, "school_urn": str})
    else:
        scores = make_scores(args.pupils)
    schools = len(list(_school_groups(as_written(scores))))
    cells = len(scores) * len(scores.columns) * 2
    print(f"{len(scores):,} pupils, {len(scores.columns)} columns, {schools} school sheets: "
          f"about {cells:,} cells")  # fmt: skip
    context = multiprocessing.get_context("fork")
    results = {}
    for which in ("xlsxwriter", "openpyxl"):
        queue = context.Queue()
        process = context.Process(target=_timed, args=(which, scores, queue))
        process.start()
        results[which] = queue.get()
        process.join()
    for which, label in (("xlsxwriter", "scores.xlsx (XlsxWriter, constant memory)"),
                         ("openpyxl", "reference: openpyxl write-only, plain values")):  # fmt: skip
        seconds, memory, size = results[which]
        print(f"{label:48s} {seconds:7.1f} s  {cells / seconds:10,.0f} cells/s  "
              f"+{memory:6.0f} MB peak  {size / 1e6:5.1f} MB file")  # fmt: skip
    print(f"ratio: {results['openpyxl'][0] / results['xlsxwriter'][0]:.2f}x faster than the reference")


if __name__ == "__main__":
    main()
