"""Did a change keep the results? Compare two runs of the demo pipeline, links and scores.

A refactoring must not change what the product computes. Run the demo's linkage and training with
the code before and after (each into its own folder and MLflow store), `record` the champion's
scores in each at full precision, then `compare`:

    python bench/same_results.py record --data D/extracts --links D/linkage --year 2018/19 \
        --out D/scores_full.csv
    python bench/same_results.py compare BEFORE AFTER   # folders holding linkage/ and scores_full.csv

`compare` prints whether links.csv is byte-identical and the largest difference between the two
runs' probabilities (pupil by pupil), and exits 1 when links differ or a probability differs by more
than the tolerance (default 1e-9). `record` uses the champion of MLFLOW_TRACKING_URI (or ./mlruns).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from exclusion_risk.contract import LINKS_FILE
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.linkage.history import load_history
from exclusion_risk.models.scoring import CohortScorer

FULL_PRECISION = "%.17g"


def record(data: Path, links: Path, year: str, out: Path) -> None:
    scorer = CohortScorer.load(alias="champion")
    scores = scorer.score(build_feature_table(load_history(data, links), [year]), reasons=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out, index=False, float_format=FULL_PRECISION)
    print(f"recorded {len(scores):,} pupils' scores ({year}, model version {scorer.model_version}) in {out}")


def compare(before: Path, after: Path, tolerance: float) -> bool:
    links_before, links_after = (run / "linkage" / LINKS_FILE for run in (before, after))
    same_links = links_before.read_bytes() == links_after.read_bytes()
    print(f"links.csv byte-identical: {same_links}")
    old = pd.read_csv(before / "scores_full.csv", dtype={"upn": str}).set_index("upn")
    new = pd.read_csv(after / "scores_full.csv", dtype={"upn": str}).set_index("upn")
    same_pupils = old.index.sort_values().equals(new.index.sort_values())
    print(f"same pupils scored: {same_pupils} ({len(old):,} before, {len(new):,} after)")
    if not same_pupils:
        return False
    difference = float(np.abs(old["probability"] - new.loc[old.index, "probability"]).max())
    same_columns = [c for c in old.columns if c != "probability" and c in new.columns]
    unchanged = {c: bool(old[c].equals(new.loc[old.index, c])) for c in same_columns}
    print(f"largest probability difference: {difference:.3g} (tolerance {tolerance:g})")
    print("other columns identical: " + ", ".join(f"{c} {v}" for c, v in unchanged.items()))
    return same_links and difference <= tolerance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    rec = verbs.add_parser("record", help="score a year with the champion at full precision")
    rec.add_argument("--data", type=Path, required=True)
    rec.add_argument("--links", type=Path, required=True)
    rec.add_argument("--year", required=True)
    rec.add_argument("--out", type=Path, required=True)
    cmp = verbs.add_parser("compare", help="compare two recorded runs")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    cmp.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args()
    if args.verb == "record":
        record(args.data, args.links, args.year, args.out)
    elif not compare(args.before, args.after, args.tolerance):
        sys.exit(1)


if __name__ == "__main__":
    main()
