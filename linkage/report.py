"""The linkage report: counts per stage and source, link rates by sex, ethnicity and year group.

Missed links are not random (transliterated names, hyphenated surnames), so link rates are broken
down by group for the fairness review. Groups under 10 are suppressed ('<10', rate withheld), and
because each table's cells sum to totals the report also shows (linked + unlinked = records, groups
sum to the source's counts), `suppress_table` withholds a second cell ('x') wherever a '<10' could
otherwise be worked out by subtraction; a count withheld in one table is withheld wherever it appears.
No name or date of birth appears: year group is derived from DOB and then DOB is discarded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from exclusion_risk.linkage.registrations import CollectionRepeats, collection_repeats
from exclusion_risk.linkage.report_words import (
    POST_16,
    PRE_SCHOOL,
    conclusion,
    ethnicity_gap,
    gap_words,
    percent,
    points,
    unlinked_most,
    year_group_order,
)
from exclusion_risk.linkage.settings import LinkageSettings
from exclusion_risk.linkage.sources import SOURCES
from exclusion_risk.privacy import (
    SECONDARY,
    SUPPRESSION_THRESHOLD,
    TOTAL,
    is_withheld,
    suppress_count,
    suppress_table,
)

TEMPLATE_DIR = Path(__file__).with_name("templates")
METHODS = ("upn", "name_dob", "probabilistic")
GROUP_COLUMNS = ("sex", "ethnicity", "year_group")


def year_group(dob: pd.Series, on: pd.Series) -> pd.Series:
    """National Curriculum year in the academic year of `on` for a child born on `dob` ('R', '1'..'11'),
    below Reception PRE_SCHOOL, Year 12 and above POST_16 (sixth form and later: one group)."""
    dob = pd.to_datetime(dob, errors="coerce")
    on = pd.to_datetime(on, errors="coerce")
    birth_cohort = dob.dt.year - (dob.dt.month < 9).astype("Int64")
    start = on.dt.year - (on.dt.month < 9).astype("Int64")
    n = (start - birth_cohort - 5).astype("Int64")
    out = n.astype("string")
    out = out.mask(n == 0, "R").mask(n < 0, PRE_SCHOOL).mask(n >= 12, POST_16)
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


def _group_table(attrs: pd.DataFrame, linked: pd.Series, column: str, withhold: set) -> pd.DataFrame:
    """Linked and unlinked records per group, suppressed with the group totals and the source's totals."""
    df = pd.DataFrame(
        {"group": attrs[column].astype(str).to_numpy(), "linked": attrs.index.isin(linked.index)}
    )
    counts = pd.DataFrame(
        {
            "linked": df.groupby("group", sort=True)["linked"].sum(),
            "unlinked": (~df["linked"]).groupby(df["group"], sort=True).sum(),
        }
    ).astype(int)
    return suppress_table(counts, withhold=[(TOTAL, c) for c in withhold])


def _rates(shown: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for group, r in shown.drop(index=TOTAL).iterrows():
        hidden = is_withheld(r[TOTAL]) or is_withheld(r["linked"])
        rows.append(
            {
                "group": str(group),
                "records": r[TOTAL],
                "linked": r["linked"],
                "link_rate": None if hidden or not r[TOTAL] else round(r["linked"] / r[TOTAL], 4),
            }
        )
    return rows


def _source_counts(by_method: dict[str, int], unlinked: int, attrs: pd.DataFrame, linked: pd.Series):
    """The stage row (links per method, unlinked, records) and the group tables, withheld alike.

    The group tables' column totals are the source's linked, unlinked and records counts: a count
    withheld in one place is withheld in the other, and both are suppressed again until they agree.
    """
    stage_counts = pd.DataFrame([{**by_method, "unlinked": unlinked}])
    # Group-table totals -> stage-row cells ("linked" = records - unlinked, so withholding it takes unlinked).
    to_stage = {"linked": "unlinked", "unlinked": "unlinked", TOTAL: TOTAL}
    forced_groups: set = set()
    while True:
        groups = {col: _group_table(attrs, linked, col, forced_groups) for col in GROUP_COLUMNS}
        forced_stage = {to_stage[c] for g in groups.values() for c in to_stage if is_withheld(g.at[TOTAL, c])}
        if 0 < sum(by_method.values()) < SUPPRESSION_THRESHOLD:  # linked < 10 is records - unlinked
            forced_stage.add("unlinked")
        stage = suppress_table(stage_counts, column_totals=False, withhold=[(0, c) for c in forced_stage])
        hidden = {c: is_withheld(stage.at[0, c]) for c in ("unlinked", TOTAL)}
        hidden["linked"] = linked_hidden = hidden["unlinked"] or hidden[TOTAL]
        now = {c for c, withheld in hidden.items() if withheld}
        if now <= forced_groups:
            return stage.iloc[0], linked_hidden, groups
        forced_groups |= now


def _rows_shown(rows: int, records: int, records_shown: int | str) -> int | str:
    """A source's rows as published. One row per record (exclusions): as its records are shown. Else
    (social care's episodes) under 10 as '<10', and 'x' where 1-9 rows are more than the records (the
    second and later episodes of 1-9 children would be rows less records)."""
    if rows == records:
        return records_shown
    if 0 < rows - records < SUPPRESSION_THRESHOLD and rows >= SUPPRESSION_THRESHOLD:
        return SECONDARY
    return suppress_count(rows)


def _rejected_rows(rejects: pd.DataFrame | None) -> dict[str, int | str]:
    """Rows of each source's own file the readers rejected (the readers name it `<source>.csv` or
    `.parquet`, any case; rejects has one line per rejected row), suppressed as a table whose total is
    the report's `rejected_rows` (key TOTAL): the census's and attendance files' rejects are the third
    cell, so that a '<10' cannot be worked out from the total and the other source's count. The total
    is withheld where the cells' bounds would pin them (1 and 10 beside a total of 11)."""
    if rejects is None or rejects.empty:
        return {spec.name: 0 for spec in SOURCES} | {TOTAL: 0}
    stems = rejects["file"].astype("string").str.rsplit(".", n=1).str[0].str.lower()
    counts = {spec.name: int((stems == spec.name).sum()) for spec in SOURCES}
    other = len(rejects) - sum(counts.values())
    shown = suppress_table(pd.DataFrame([{**counts, "other files": other}]), column_totals=False)
    return {name: shown.at[0, name] for name in [*counts, TOTAL]}


def build_report(
    extracts: Any,
    decisions: dict[str, pd.DataFrame],
    settings: LinkageSettings,
    timings: dict[str, float],
    census_pupils: int | None = None,
    repeats: CollectionRepeats | None = None,
) -> dict[str, Any]:
    """report.json: counts per stage and source, link rates by group, the run's settings and model.
    `census_pupils`: the census's distinct UPNs (`census_upns`: a pupil whose UPN changed counts once per
    UPN, so this is more than the pupils), and `repeats` its pupils on two rows of one collection
    (registrations.collection_repeats), when the caller counted them before releasing it."""
    repeats = collection_repeats(extracts.census) if repeats is None else repeats
    sources: dict[str, Any] = {}
    rejects = getattr(extracts, "rejects", None)
    rejected = _rejected_rows(rejects)
    for spec in SOURCES:
        d = decisions[spec.name]
        frame = getattr(extracts, spec.name)
        accepted = d[d["band"] == "accept"]
        by_method = {m: int((accepted["method"] == m).sum()) for m in METHODS}
        prob = accepted[accepted["method"] == "probabilistic"]["score"].astype(float)
        n = len(d)
        linked = pd.Series(True, index=accepted["eid_l"].astype("string").to_numpy())
        attrs = _entity_attributes(frame, spec.id_column)
        stage, linked_hidden, tables = _source_counts(by_method, int(n - len(accepted)), attrs, linked)
        groups = {col: _rates(table) for col, table in tables.items()}
        groups["year_group"].sort(key=lambda r: year_group_order(r["group"]))
        linked_total = suppress_count(int(len(accepted)))
        sources[spec.name] = {
            "rows": _rows_shown(int(len(frame)), n, stage[TOTAL]),
            "rows_rejected": rejected[spec.name],  # their reasons are in rejects.csv
            "records": stage[TOTAL],
            "linked": {m: stage[m] for m in METHODS},
            # linked = records - unlinked: withheld whenever either of those is.
            "linked_total": SECONDARY if linked_hidden and not is_withheld(linked_total) else linked_total,
            # A subset of the unlinked records with no total of its own beside it: primary suppression only.
            "clerical_review": suppress_count(int((d["band"] == "review").sum())),
            "unlinked": stage["unlinked"],
            "link_rate": round(len(accepted) / n, 4)
            if n and not (linked_hidden or is_withheld(linked_total))
            else None,
            # Mean match probability of accepted probabilistic links: the model's own precision estimate.
            "probabilistic_estimated_precision": round(float(prob.mean()), 4) if len(prob) else None,
            "by_group": groups,
        }
        # from the figures shown, a withheld group's bounds included (`report_words.ethnicity_gap`)
        sources[spec.name] |= ethnicity_gap(groups["ethnicity"], unlinked_most(sources[spec.name]))
    trained = settings.trained or {}
    return {
        "census_upns": int(extracts.census["UPN"].nunique()) if census_pupils is None else census_pupils,
        "conclusion": conclusion(sources),
        # kept for linkage; the features read one row per pupil and collection (linkage.registrations)
        "census_collection_repeats": repeats.report(),
        "sources": sources,
        "rejected_rows": rejected[TOTAL],
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
        "suppression": (
            f"groups under {SUPPRESSION_THRESHOLD} records are shown as '<10', and a count shown as 'x' is "
            "withheld so that a '<10' cannot be worked out from the totals"
        ),
    }


def render_html(report: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]))
    env.filters["pct"] = percent
    env.filters["points"] = points
    env.filters["gap_words"] = gap_words
    return env.get_template("linkage_report.html.j2").render(report=report)
