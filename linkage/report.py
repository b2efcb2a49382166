"""The linkage report: counts per stage and source, link rates by sex, ethnicity and year group.

Missed links are not random (transliterated names, hyphenated surnames), so link rates are broken
down by group for the fairness review. Groups under 10 are suppressed ('<10', rate withheld).
No name or date of birth appears: year group is derived from DOB and then DOB is discarded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.sources import SOURCES
from exclusion_risk.privacy import SUPPRESSION_THRESHOLD, suppress_count

TEMPLATE_DIR = Path(__file__).with_name("templates")
METHODS = ("upn", "name_dob", "probabilistic")


def year_group(dob: pd.Series, on: pd.Series) -> pd.Series:
    """National Curriculum year in the academic year of `on` for a child born on `dob` ('R', '1'..)."""
    dob = pd.to_datetime(dob, errors="coerce")
    on = pd.to_datetime(on, errors="coerce")
    birth_cohort = dob.dt.year - (dob.dt.month < 9).astype("Int64")
    start = on.dt.year - (on.dt.month < 9).astype("Int64")
    n = (start - birth_cohort - 5).astype("Int64")
    out = n.astype("string")
    out = out.mask(n == 0, "R").mask(n < 0, "pre-school").mask(n > 13, "post-16")
    return out.fillna("unknown")


def _entity_attributes(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    first = frame.drop_duplicates(id_column, keep="first")
    attrs = pd.DataFrame(index=first[id_column].astype("string").to_numpy())
    attrs["sex"] = first["Sex"].astype("string").fillna("unknown").to_numpy() if "Sex" in first else "unknown"
    attrs["ethnicity"] = (
        first["Ethnicity"].astype("string").fillna("unknown").to_numpy()
        if "Ethnicity" in first
        else "not recorded"
    )
    if "DOB" in first and "StartDate" in first:
        attrs["year_group"] = year_group(first["DOB"], first["StartDate"]).to_numpy()
    else:
        attrs["year_group"] = "unknown"
    return attrs


def _rates(attrs: pd.DataFrame, linked: pd.Series, column: str) -> list[dict[str, Any]]:
    df = pd.DataFrame(
        {
            "group": attrs[column].to_numpy(),
            "linked": attrs.index.isin(linked.index),
        }
    )
    rows = []
    for group, g in df.groupby("group", sort=True):
        n, k = len(g), int(g["linked"].sum())
        small = n < SUPPRESSION_THRESHOLD
        rows.append(
            {
                "group": str(group),
                "records": suppress_count(n),
                "linked": suppress_count(k) if not small else "<10",
                "link_rate": None if small else round(k / n, 4),
            }
        )
    return rows


def _gap(rows: list[dict[str, Any]]) -> float | None:
    rates = [
        r["link_rate"]
        for r in rows
        if r["link_rate"] is not None and r["group"] not in ("unknown", "not recorded")
    ]
    return round(max(rates) - min(rates), 4) if len(rates) > 1 else None


def build_report(
    extracts: Any, decisions: dict[str, pd.DataFrame], settings: LinkageSettings, timings: dict[str, float]
) -> dict[str, Any]:
    """report.json: counts per stage and source, link rates by group, the run's settings and model."""
    sources: dict[str, Any] = {}
    for spec in SOURCES:
        d = decisions[spec.name]
        frame = getattr(extracts, spec.name)
        accepted = d[d["band"] == "accept"]
        by_method = {m: int((accepted["method"] == m).sum()) for m in METHODS}
        prob = accepted[accepted["method"] == "probabilistic"]["score"].astype(float)
        n = len(d)
        linked = pd.Series(True, index=accepted["eid_l"].astype("string").to_numpy())
        attrs = _entity_attributes(frame, spec.id_column)
        groups = {col: _rates(attrs, linked, col) for col in ("sex", "ethnicity", "year_group")}
        sources[spec.name] = {
            "rows": int(len(frame)),
            "records": int(n),
            "linked": {m: suppress_count(v) for m, v in by_method.items()},
            "linked_total": suppress_count(int(len(accepted))),
            "clerical_review": suppress_count(int((d["band"] == "review").sum())),
            "unlinked": suppress_count(int(n - len(accepted))),
            "link_rate": round(len(accepted) / n, 4) if n else None,
            # Mean match probability of accepted probabilistic links: the model's own precision estimate.
            "probabilistic_estimated_precision": round(float(prob.mean()), 4) if len(prob) else None,
            "by_group": groups,
            "largest_gap_by_ethnicity": _gap(groups["ethnicity"]),
        }
    rejects = getattr(extracts, "rejects", None)
    trained = settings.trained or {}
    return {
        "census_pupils": int(extracts.census["UPN"].nunique()),
        "sources": sources,
        "rejected_rows": int(len(rejects)) if rejects is not None else 0,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "settings": settings.model_dump(mode="json", exclude={"trained"}),
        "model": {
            src: (
                {"engine": t.get("engine"), "prior": t.get("prior"), "m_source": t.get("m_source")}
                if t
                else "not trained: nothing left for the probabilistic stage"
            )
            for src, t in trained.items()
        },
        "suppression": f"groups under {SUPPRESSION_THRESHOLD} records are shown as '<10'",
    }


def render_html(report: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]))
    env.filters["pct"] = lambda v: (
        "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{100 * v:.1f}%"
    )
    return env.get_template("linkage_report.html.j2").render(report=report)
