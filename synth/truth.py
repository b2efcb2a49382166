"""A perfect linkage from the generator's truth: `links.csv` as `exclusion-risk link` writes it.

For tests and benchmarks that need linked extracts but do not test the linkage (the probabilistic
linkage of a whole authority takes minutes). No stage of the pipeline may read the truth folder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exclusion_risk.contract import LINKS_COLUMNS, LINKS_FILE
from exclusion_risk.files import write_csv

# The `method` of every truth link (the linkage's own are upn, name_dob and probabilistic).
TRUTH_METHOD = "truth"


def truth_links(extracts_dir: str | Path) -> pd.DataFrame:
    """The contract's links columns from `extracts_dir/truth/`: every exclusion and every social-care
    child the census holds, linked to its pupil's UPN with score 1.0 (children never in the census,
    blank in the truth, are left out as the linkage leaves them unlinked)."""
    truth = Path(extracts_dir) / "truth"
    exclusions = pd.read_csv(truth / "exclusion_links.csv", dtype=str).dropna()
    social_care = pd.read_csv(truth / "social_care_links.csv", dtype=str).dropna()
    links = pd.concat(
        [
            pd.DataFrame(
                {"source": "exclusions", "record_id": exclusions["RecordID"], "upn": exclusions["upn"]}
            ),
            pd.DataFrame(
                {"source": "social_care", "record_id": social_care["LAchildID"], "upn": social_care["upn"]}
            ),
        ],
        ignore_index=True,
    ).assign(method=TRUTH_METHOD, score=1.0)
    return links[LINKS_COLUMNS]


def write_truth_links(extracts_dir: str | Path, out_dir: str | Path) -> Path:
    """Write `truth_links(extracts_dir)` to `out_dir/links.csv` (the folder is created); its path.

    `out_dir` then stands for the output folder of `exclusion-risk link` (`--links out_dir`)."""
    # private, as `exclusion-risk link` writes links.csv: UPNs
    return write_csv(truth_links(extracts_dir), Path(out_dir) / LINKS_FILE, private=True)
