"""The linkage report in words: its percentages and gaps as they may be read, and its conclusion.

- `percent`: a share as a percentage, with as many decimals as it takes not to read as 100% or 0% when
  it is neither (a model precision of 0.9995 is 99.95%, not 100.0%);
- `points`: a difference of two rates in percentage points (a gap of 0.055 is 5.5 points, not 5.5%);
- `source_line`: a source's records and links in one line, as report.json gives them (the console's
  summary and run.log's, so neither gives a count the report withholds);
- `conclusion`: a few sentences on the link rates: each source's overall rate (in words where it is
  withheld: "all but fewer than 10 of the 1,046"), the groups whose shown
  rate is LOW_GAP or more below their source's (their history may be under-counted, so their scores may
  understate their risk), and that a link rate counts links made, not correct links: whether links are
  right is measured only against synthetic truth, where the data are generated and truth exists.
Only figures the report already shows are named (a rate withheld for small numbers is never used).
"""

from __future__ import annotations

from typing import Any

from exclusion_risk.privacy import SUPPRESSED, SUPPRESSION_THRESHOLD

LOW_GAP = 0.05  # a group linking this much (five percentage points) or more below its source is named
# each extract as a sentence names its records ("exclusion records"), for every report that does
SOURCE_WORDS = {"census": "census", "exclusions": "exclusion", "social_care": "social-care"}
ATTRIBUTE_WORDS = {"year_group": "year group", "ethnicity": "ethnicity", "sex": "sex"}
# Year groups as the report names them (`report.year_group`): below Reception, and Year 12 and above
# (post-16: sixth form and later, merged so that "13" and "post-16" are not two groups side by side).
PRE_SCHOOL = "pre-school (below Reception)"
POST_16 = "12 and above (post-16)"


def percent(value: float | None) -> str:
    """A share as a percentage, never rounded to 100% or 0% when it is neither ('–' when withheld)."""
    if value is None or value != value:  # None or NaN
        return "–"
    for decimals in (1, 2, 3, 4):
        text = f"{100 * value:.{decimals}f}"
        if (value >= 1 or float(text) < 100) and (value <= 0 or float(text) > 0):
            break
    return f"{text}%"


def points(value: float | None) -> str:
    """A difference of two rates in percentage points."""
    return "–" if value is None or value != value else f"{100 * value:.1f} percentage points"


def year_group_order(group: str) -> tuple[int, str]:
    """Pre-school, R, 1 to 11, 12 and above, then anything else (unknown)."""
    if group == PRE_SCHOOL:
        return (-1, "")
    if group == "R":
        return (0, "")
    if group.isdigit():
        return (int(group), "")
    return (100 if group == POST_16 else 101, group)


def _low_groups(source: dict[str, Any]) -> list[str]:
    overall = source.get("link_rate")
    if overall is None:
        return []
    named = []
    for attribute, words in ATTRIBUTE_WORDS.items():
        for row in source.get("by_group", {}).get(attribute, []):
            rate = row.get("link_rate")
            if row["group"] in ("unknown", "not recorded"):
                continue
            if rate is not None and rate <= overall - LOW_GAP:
                named.append(f"{words} {row['group']} {percent(rate)}")
            elif _few_of(row) and (SUPPRESSION_THRESHOLD - 1) / row["records"] <= overall - LOW_GAP:
                # rate withheld (1-9 linked), but even 9 linked would be markedly below: as the table says
                named.append(f"{words} {row['group']} (fewer than {SUPPRESSION_THRESHOLD} of its "
                             f"{row['records']} records)")
    return named


def _few_of(row: dict[str, Any]) -> bool:
    """The table shows the group's records and '<10' linked."""
    return row.get("linked") == SUPPRESSED and isinstance(row.get("records"), int) and row["records"] > 0


def _overall(name: str, source: dict[str, Any]) -> str:
    """A source's overall rate in words: where it is withheld with a '<10' unlinked (or linked), what the
    table shows instead ("all but fewer than 10 of the 1,046"), not a dash."""
    words, records = SOURCE_WORDS.get(name, name), source.get("records")
    if source.get("link_rate") is None and isinstance(records, int) and records > 0:
        if source.get("unlinked") == SUPPRESSED:
            return f"all but fewer than {SUPPRESSION_THRESHOLD} of the {records:,} {words} records"
        if source.get("linked_total") == SUPPRESSED:
            return f"fewer than {SUPPRESSION_THRESHOLD} of the {records:,} {words} records"
    return f"{percent(source.get('link_rate'))} of {words} records"


def conclusion(sources: dict[str, dict[str, Any]]) -> list[str]:
    """The report's conclusion in words (module docstring)."""
    rates = [_overall(n, s) for n, s in sources.items()]
    said = [f"Overall, {' and '.join(rates)} are linked to a census pupil."]
    low = {name: _low_groups(s) for name, s in sources.items()}
    for name, groups in low.items():
        if groups:
            said.append(
                f"Linking markedly below the {SOURCE_WORDS.get(name, name)} rate "
                f"({percent(sources[name]['link_rate'])}; {100 * LOW_GAP:.0f} or more points lower): "
                f"{'; '.join(groups)}."
            )
    if any(low.values()):
        said.append(
            "An unlinked record is read as no history: these children's earlier exclusions or social-care "
            "episodes may be under-counted in the features, so their scores and need levels may understate "
            "their risk. Some records cannot link at all: children not on the school census (below school "
            "age, beyond the year groups the census holds, schooled outside the authority)."
        )
    else:
        said.append(f"No group shown links {100 * LOW_GAP:.0f} or more points below its source's rate.")
    said.append(
        "A link rate counts links made, not correct links: precision and recall are measured only against "
        "synthetic truth, where the data are generated and the truth is known; for an authority's own "
        "extracts the model precision column is the model's estimate, and the review band is the check."
    )
    return said


def source_line(name: str, source: dict[str, Any]) -> str:
    """A source's records, links by stage, clerical review and candidate pairs, as report.json's
    `sources.<name>` publishes them ("<10", "x" where withheld): `link`'s console summary and run.log."""
    linked = source["linked"]
    return (
        f"{name}: {source['linked_total']} of {source['records']} linked (upn {linked['upn']}, name_dob "
        f"{linked['name_dob']}, probabilistic {linked['probabilistic']}); review {source['clerical_review']}"
        + (f"; {source['candidate_pairs']} candidate pairs scored" if "candidate_pairs" in source else "")
    )
