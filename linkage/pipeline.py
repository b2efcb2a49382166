"""The linkage run: standardise, UPN stage, name-DOB stage, probabilistic stage, one-to-one, bands.

`link_extracts(extracts, settings)` links the exclusions and social-care extracts to the census
pupils; `write_outputs` writes the contract's files; `run_linkage(data_dir, out_dir, settings)`
does both from a folder. Each source record is linked once, by the first stage that links it.
The run log (logger `linkage`) carries counts and timings only: never a name or a date of birth.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from exclusion_risk import calendar
from exclusion_risk.contract import LINKS_COLUMNS
from exclusion_risk.linkage.assign import assign, entity_pairs, pupils_with_twins
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.stages import name_dob_stage, upn_stage
from exclusion_risk.linkage.standardise import census_pupil_ids, standardise

log = logging.getLogger("linkage")

UNLINKED_COLUMNS = ["source", "record_id", "band", "best_score"]
# Fields shown side by side in review.csv (for clerical reviewers only).
REVIEW_FIELDS = ["UPN", "Surname", "Forename", "DOB", "Sex", "Postcode"]


@dataclass(frozen=True)
class SourceSpec:
    name: str  # `source` value in links.csv
    id_column: str
    unique_key: bool  # name-DOB key must be unique among this source's entities
    one_to_one: bool  # a pupil may take at most one of this source's entities


SOURCES = (
    SourceSpec("exclusions", "RecordID", unique_key=False, one_to_one=False),
    SourceSpec("social_care", "LAchildID", unique_key=True, one_to_one=True),
)


@dataclass
class LinkageResult:
    links: pd.DataFrame  # LINKS_COLUMNS
    review: pd.DataFrame  # candidate pairs in the clerical-review band, fields side by side
    unlinked: pd.DataFrame  # UNLINKED_COLUMNS
    report: dict[str, Any]
    settings: LinkageSettings  # as run, with the trained parameters
    decisions: dict[str, pd.DataFrame] = field(default_factory=dict)  # per source: every entity's outcome


def extra_columns(settings: LinkageSettings | None) -> dict[str, str]:
    """Variant column -> source column of the run's extra comparisons."""
    extras = settings.comparisons.extra if settings is not None else []
    return {e.variant_column: e.column for e in extras}


def census_variants(census: pd.DataFrame, settings: LinkageSettings | None = None) -> pd.DataFrame:
    """Variant rows of the census pupils, keyed by pupil (newest UPN, following FormerUPN links)."""
    pupils = census[census["UPN"].notna() & (census["UPN"].astype("string").str.strip() != "")]
    pupils = pupils.assign(_pupil=census_pupil_ids(pupils))
    return standardise(
        pupils,
        "_pupil",
        surname_columns=("Surname", "PreferredSurname", "FormerSurname"),
        upn_columns=("UPN", "FormerUPN"),
        middle_names_column="MiddleNames",
        extra_columns=extra_columns(settings),
    )


def _link_source(
    spec: SourceSpec,
    frame: pd.DataFrame,
    census: pd.DataFrame,
    settings: LinkageSettings,
    trained: dict[str, Any] | None,
    timings: dict[str, float],
    bar: tqdm,
) -> tuple[pd.DataFrame, dict]:
    """Decisions for one source: eid_l, eid_r, method, score, band (accept/review/reject/none), gamma_*."""
    from exclusion_risk.linkage.engines import EngineInput, get_engine

    t = time.perf_counter()
    source = standardise(frame, spec.id_column, extra_columns=extra_columns(settings))
    entities = pd.Index(frame[spec.id_column].astype("string").unique(), name="eid_l")
    timings[f"{spec.name}.standardise"] = time.perf_counter() - t
    bar.update(1)

    t = time.perf_counter()
    by_upn = upn_stage(source, census, settings)
    rest = source[~source["eid"].isin(by_upn["eid_l"])]
    by_key = name_dob_stage(rest, census, unique_source=spec.unique_key)
    det = pd.concat([by_upn, by_key], ignore_index=True)
    timings[f"{spec.name}.deterministic"] = time.perf_counter() - t
    log.info(
        "%s: %d entities; %d linked by upn, %d by name_dob",
        spec.name,
        len(entities),
        len(by_upn),
        len(by_key),
    )
    bar.update(1)

    t = time.perf_counter()
    remaining = entities.difference(pd.Index(det["eid_l"]))
    data = EngineInput(
        source=source, census=census, score_eids=remaining, labels=det[["eid_l", "eid_r", "method"]]
    )
    result = get_engine(settings).run(data, trained=trained)
    timings[f"{spec.name}.probabilistic"] = time.perf_counter() - t
    log.info(
        "%s: %s engine scored %d candidate pairs for %d entities",
        spec.name,
        settings.engine,
        len(result.pairs),
        len(remaining),
    )
    bar.update(1)

    t = time.perf_counter()
    cands = entity_pairs(result.pairs, source, census)
    taken = set(det["eid_r"]) if spec.one_to_one else set()
    decided = assign(
        cands,
        settings.thresholds,
        one_to_one=spec.one_to_one,
        unavailable=taken,
        twins=pupils_with_twins(census),
    )
    decided["method"] = "probabilistic"
    det = det.assign(band="accept", match_weight=float("inf"))
    no_candidates = remaining.difference(pd.Index(decided["eid_l"]))
    none = pd.DataFrame({"eid_l": no_candidates.astype("string"), "band": "none", "method": "probabilistic"})
    out = pd.concat([det, decided, none], ignore_index=True)
    out = out.sort_values("eid_l", kind="stable").reset_index(drop=True)
    timings[f"{spec.name}.assign"] = time.perf_counter() - t
    bar.update(1)
    return out, result.trained


def link_extracts(
    extracts: Any, settings: LinkageSettings | None = None, progress: bool = True
) -> LinkageResult:
    """Link `extracts` (linkage.readers.Extracts: census, exclusions, social_care, rejects)."""
    from exclusion_risk.linkage.report import build_report

    settings = settings or LinkageSettings()
    timings: dict[str, float] = {}
    trained_in = settings.trained or {}
    trained_out: dict[str, Any] = {}
    decisions: dict[str, pd.DataFrame] = {}
    with tqdm(total=1 + 4 * len(SOURCES), desc="linkage", unit="step", disable=not progress) as bar:
        t = time.perf_counter()
        census = census_variants(extracts.census, settings)
        timings["census.standardise"] = time.perf_counter() - t
        log.info("census: %d pupils, %d variant rows", census["eid"].nunique(), len(census))
        bar.update(1)
        for spec in SOURCES:
            frame = getattr(extracts, spec.name)
            bar.set_postfix_str(spec.name)
            decisions[spec.name], trained_out[spec.name] = _link_source(
                spec, frame, census, settings, trained_in.get(spec.name), timings, bar
            )
    run_settings = settings.model_copy(update={"trained": trained_out})
    links = _links(decisions)
    review = _review(decisions, extracts)
    unlinked = _unlinked(decisions)
    report = build_report(extracts, decisions, run_settings, timings)
    for name, seconds in timings.items():
        log.info("time %s: %.1f s", name, seconds)
    return LinkageResult(
        links=links,
        review=review,
        unlinked=unlinked,
        report=report,
        settings=run_settings,
        decisions=decisions,
    )


def _links(decisions: dict[str, pd.DataFrame]) -> pd.DataFrame:
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


def _unlinked(decisions: dict[str, pd.DataFrame]) -> pd.DataFrame:
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


def _review(decisions: dict[str, pd.DataFrame], extracts: Any) -> pd.DataFrame:
    """Review-band pairs, best first, with the compared fields of source and census side by side."""
    census = extracts.census
    order = (
        census.assign(_t=census["CensusTerm"].map({t: i for i, t in enumerate(calendar.CENSUS_TERMS)}))
        if "CensusTerm" in census.columns
        else census.assign(_t=0)
    )
    sort_cols = [c for c in ("AcademicYear", "_t") if c in order.columns]
    pupils = _first_rows(order.sort_values(sort_cols, kind="stable") if sort_cols else order, "UPN")
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
        parts.append(part)
    cols = ["source", "record_id", "upn", "score"] + [
        f"{side}_{f}" for f in REVIEW_FIELDS for side in ("source", "census")
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    for c in out.columns:
        if c.endswith("_DOB"):
            out[c] = pd.to_datetime(out[c], errors="coerce").dt.strftime("%Y-%m-%d")
    return out.sort_values(["score", "source", "record_id"], ascending=[False, True, True], kind="stable")


def write_outputs(result: LinkageResult, extracts: Any, out_dir: Path) -> None:
    from exclusion_risk.linkage.report import render_html

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result.links.to_csv(out_dir / "links.csv", index=False)
    result.review.to_csv(out_dir / "review.csv", index=False)
    result.unlinked.to_csv(out_dir / "unlinked.csv", index=False)
    rejects = (
        extracts.rejects
        if getattr(extracts, "rejects", None) is not None
        else pd.DataFrame(columns=["file", "row", "column", "value", "reason"])
    )
    rejects.to_csv(out_dir / "rejects.csv", index=False)
    import json

    (out_dir / "report.json").write_text(
        json.dumps(result.report, indent=2, default=str) + "\n", encoding="utf-8"
    )
    (out_dir / "report.html").write_text(render_html(result.report), encoding="utf-8")
    result.settings.save(out_dir / "settings.json")


def run_linkage(
    data_dir: Path, out_dir: Path, settings: LinkageSettings | None = None, progress: bool = True
) -> tuple[Any, LinkageResult]:
    """Read the extracts in `data_dir`, link them and write the outputs to `out_dir`."""
    from exclusion_risk.linkage.readers import read_extracts

    extracts = read_extracts(Path(data_dir))
    result = link_extracts(extracts, settings, progress=progress)
    write_outputs(result, extracts, Path(out_dir))
    return extracts, result
