"""What a linkage run produces: the contract's tables built from its decisions, and the files written.

`links.csv` (accepted links), `unlinked.csv` (every record not linked, with its best score),
`review.csv` (clerical-review pairs with the compared fields side by side, names included), the
readers' `rejects.csv` (raw rejected rows: names, dates of birth, postcodes), `report.json` /
`report.html` and `settings.json`.

The four CSVs identify children (UPNs, record ids, names), so they are written private (0600, in a
0700 folder when the run creates it) and neutralised against formula injection by the project's one
CSV writer. The report (counts, under 10 suppressed) and the settings (blocking rules, thresholds,
m/u parameters) hold no identifier and are written as usual.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.contract import LINKAGE_REPORT_FILE, LINKS_COLUMNS, LINKS_FILE
from exclusion_risk.files import private_dir, write_csv, write_text
from exclusion_risk.linkage.arrow_text import as_text
from exclusion_risk.linkage.extract_frames import term_order
from exclusion_risk.linkage.readers import Extracts
from exclusion_risk.linkage.rejects import REJECTS_FILE, empty_rejects
from exclusion_risk.linkage.report import render_html
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.sources import SOURCES

UNLINKED_COLUMNS = ["source", "record_id", "band", "best_score"]
# review.csv's last column: the source's records already linked to the pair's pupil, ';'-joined
LINKED_ALREADY = "pupil_linked_to"
# Fields shown side by side in review.csv (for clerical reviewers only).
REVIEW_FIELDS = ["UPN", "Surname", "Forename", "DOB", "Sex", "Postcode"]


@dataclass
class LinkageResult:
    """One linkage run: the contract's tables, the report, and the settings it ran with."""

    links: pd.DataFrame  # LINKS_COLUMNS
    review: pd.DataFrame  # candidate pairs in the clerical-review band, fields side by side
    unlinked: pd.DataFrame  # UNLINKED_COLUMNS
    report: dict[str, Any]
    settings: LinkageSettings  # as run, with the trained parameters
    decisions: dict[str, pd.DataFrame] = field(default_factory=dict)  # per source: every entity's outcome
    # Per extract, rows read and rejected (read_counts.ExtractRead), when the run read the extracts
    # itself (run_linkage); empty when it was given them.
    reads: list[Any] = field(default_factory=list)


def links_table(decisions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """links.csv: every accepted link, by source and record id."""
    parts = []
    for source, d in decisions.items():
        acc = d[d["band"] == "accept"]
        parts.append(
            pd.DataFrame(
                {
                    "source": source,
                    "record_id": acc["eid_l"].astype("string"),
                    "upn": acc["eid_r"].astype("string"),
                    "method": acc["method"],
                    "score": acc["score"].astype(float).round(6),
                }
            )
        )
    links = pd.concat(parts, ignore_index=True)
    return links.sort_values(["source", "record_id"], kind="stable").reset_index(drop=True)[LINKS_COLUMNS]


def unlinked_table(decisions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """unlinked.csv: every record not linked, its band and best candidate's score."""
    parts = []
    for source, d in decisions.items():
        un = d[d["band"] != "accept"]
        parts.append(
            pd.DataFrame(
                {
                    "source": source,
                    "record_id": un["eid_l"].astype("string"),
                    "band": un["band"],
                    "best_score": un["score"].astype(float).round(6),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["source", "record_id"], kind="stable").reset_index(drop=True)[UNLINKED_COLUMNS]


def _first_rows(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    return frame.drop_duplicates(id_column, keep="last").set_index(
        frame.drop_duplicates(id_column, keep="last")[id_column].astype("string")
    )


def review_pupils(census: pd.DataFrame) -> pd.DataFrame:
    """The census side of review.csv: each UPN's newest row (by academic year, then term) with the
    REVIEW_FIELDS it has, indexed by the UPN as text. Only these fields and the ordering columns
    are copied, not the census: at 2,000,000 pupils it is 6,000,000 termly rows."""
    fields = [f for f in REVIEW_FIELDS if f in census.columns]
    # Positions, not the census's index labels (which may be in any order, or repeat); integer codes,
    # not the rows' text: three columns of 6,000,000 Python strings made this the run's peak.
    has, n = census.columns, len(census)
    year = _sort_codes(census["AcademicYear"]) if "AcademicYear" in has else np.zeros(n, dtype=np.int64)
    term = _term_codes(census["CensusTerm"]) if "CensusTerm" in has else np.zeros(n, dtype=np.int64)
    order = np.lexsort((term, year))  # stable: rows of one year and term keep their order
    upns = pd.factorize(census["UPN"])[0][order]
    newest = order[~pd.Series(upns).duplicated(keep="last").to_numpy()]
    pupils = census.iloc[newest][fields]
    # Arrow text, not Python strings: an index of 2,000,000 UPN objects was 0.14 GB held through the run.
    return pupils.set_index(pd.Index(as_text(pupils["UPN"]), name="UPN"))


def _as_values(values: pd.Series) -> pd.Series:
    """A categorical as its values (factorize would order it by its categories, not its values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pd.Series(values.to_numpy(), index=values.index)
    return values


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Each value's place among the distinct values in sorted order; missing values last."""
    codes, uniques = pd.factorize(_as_values(values), sort=True)
    return np.where(codes < 0, len(uniques), codes).astype(np.int64)


def _term_codes(terms: pd.Series) -> np.ndarray:
    """Each term's place in the year (extract_frames.term_order); a missing or unknown term last."""
    places = term_order(terms)
    return np.where(np.isnan(places), len(calendar.TERM_ORDER), places).astype(np.int64)


def review_table(
    decisions: dict[str, pd.DataFrame], extracts: Extracts, pupils: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Review-band pairs, best first, with the compared fields of source and census side by side.
    `pupils`: review_pupils(extracts.census), when the caller already has it."""
    pupils = review_pupils(extracts.census) if pupils is None else pupils
    parts = []
    for spec in SOURCES:
        d = decisions[spec.name]
        rev = d[d["band"] == "review"].sort_values(["score", "eid_l"], ascending=[False, True], kind="stable")
        if rev.empty:
            continue
        src = _first_rows(getattr(extracts, spec.name), spec.id_column)
        part = pd.DataFrame(
            {
                "source": spec.name,
                "record_id": rev["eid_l"].to_numpy(),
                "upn": rev["eid_r"].to_numpy(),
                "score": rev["score"].round(6).to_numpy(),
            }
        )
        for f in REVIEW_FIELDS:
            left = src[f] if f in src.columns else pd.Series(pd.NA, index=src.index)
            right = pupils[f] if f in pupils.columns else pd.Series(pd.NA, index=pupils.index)
            part[f"source_{f}"] = left.reindex(rev["eid_l"].to_numpy()).to_numpy()
            part[f"census_{f}"] = right.reindex(rev["eid_r"].to_numpy()).to_numpy()
        for g in [c for c in rev.columns if c.startswith("gamma_")]:
            part[g.replace("gamma_", "level_")] = rev[g].to_numpy()
        # a one-to-one source's records already linked to the pupil (a duplicate record of that child, or
        # another child): a pair at 1.0 in review read as a fault without it. Exclusion events share a
        # pupil by design: none listed (a reviewer read a pupil's suspensions as duplicates)
        accepted = d[(d["band"] == "accept") & spec.one_to_one]
        taken = accepted.groupby("eid_r")["eid_l"].agg(lambda ids: ";".join(sorted(map(str, ids))))
        part[LINKED_ALREADY] = taken.reindex(rev["eid_r"].to_numpy()).fillna("").to_numpy()
        parts.append(part)
    cols = ["source", "record_id", "upn", "score"] + [
        f"{side}_{f}" for f in REVIEW_FIELDS for side in ("source", "census")
    ] + [LINKED_ALREADY]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    for c in out.columns:
        if c.endswith("_DOB"):
            out[c] = pd.to_datetime(out[c], errors="coerce").dt.strftime("%Y-%m-%d")
    return out.sort_values(["score", "source", "record_id"], ascending=[False, True, True], kind="stable")


def write_rejects(extracts: Extracts, out_dir: Path) -> None:
    """rejects.csv: every row the readers rejected, with file, row, column and reason."""
    rejects = extracts.rejects if getattr(extracts, "rejects", None) is not None else empty_rejects()
    write_csv(rejects, private_dir(Path(out_dir)) / REJECTS_FILE, private=True)


REVIEW_FILE, UNLINKED_FILE, REPORT_HTML_FILE, SETTINGS_FILE = (
    "review.csv", "unlinked.csv", "report.html", "settings.json"
)
# What write_outputs writes besides rejects.csv (which a run that links nothing writes too).
RUN_FILES = (LINKS_FILE, REVIEW_FILE, UNLINKED_FILE, LINKAGE_REPORT_FILE, REPORT_HTML_FILE, SETTINGS_FILE)


def remove_outputs(out_dir: Path) -> None:
    """Remove the RUN_FILES an earlier run left in `out_dir`: a run that links nothing must not leave
    another run's links beside its own rejects."""
    for name in RUN_FILES:
        (Path(out_dir) / name).unlink(missing_ok=True)


def read_report(links_dir: Path | None) -> dict | None:
    """The report.json a `link` run wrote in `links_dir`, or None: no folder, no report (links written
    another way) or one that cannot be read. Its readers (the service's link rates, the fairness
    review's linkage section) take it as information, never as something their work needs."""
    if links_dir is None:
        return None
    try:
        report = json.loads((Path(links_dir) / LINKAGE_REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def write_outputs(result: LinkageResult, extracts: Extracts, out_dir: Path) -> None:
    """The contract's files, the report and the settings as run (which reproduce the links)."""
    out_dir = private_dir(Path(out_dir))
    write_csv(result.links, out_dir / LINKS_FILE, private=True)
    write_csv(result.review, out_dir / REVIEW_FILE, private=True)
    write_csv(result.unlinked, out_dir / UNLINKED_FILE, private=True)
    write_rejects(extracts, out_dir)
    write_text(out_dir / LINKAGE_REPORT_FILE, json.dumps(result.report, indent=2, default=str) + "\n")
    write_text(out_dir / REPORT_HTML_FILE, render_html(result.report))
    result.settings.save(out_dir / SETTINGS_FILE)
