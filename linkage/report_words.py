"""The linkage report in words: its percentages and gaps as they may be read, and its conclusion.

- `percent`: a share as a percentage, with as many decimals as it takes not to read as 100% or 0% when
  it is neither (a model precision of 0.9995 is 99.95%, not 100.0%);
- `points`: a difference of two rates in percentage points (a gap of 0.055 is 5.5 points, not 5.5%);
- `source_line`: a source's records and links in one line, as report.json gives them (the console's
  summary and run.log's, so neither gives a count the report withholds);
- `conclusion`: a few sentences on the link rates: each source's overall rate (in words where it is
  withheld: "all but fewer than 10 of the 1,046", or "at least 99.2% ... (2,505 or more of the 2,524)"
  where it is an 'x' and the figures shown bound it: `linked_bounds`), the groups whose shown
  rate is LOW_GAP or more below their source's (their history may be under-counted, so their scores may
  understate their risk), and that a link rate counts links made, not correct links: whether links are
  right is measured only against synthetic truth, where the data are generated and truth exists.
Only figures the report already shows are named (a rate withheld for small numbers is never used).
"""

from __future__ import annotations

import math
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


def count_range(count: Any) -> tuple[int, float]:
    """What a count as published allows a reader: itself; 1 to 9 where '<10'; where 'x' (or absent),
    0 or more (an 'x' is 10 or more, or a zero withheld: the bounds use nothing the page does not say)."""
    if isinstance(count, int) and not isinstance(count, bool):
        return count, count
    if count == SUPPRESSED:
        return 1, SUPPRESSION_THRESHOLD - 1
    return 0, math.inf


def linked_bounds(source: dict[str, Any]) -> tuple[int, int] | None:
    """The least and most linked records a source's published figures allow (its links per stage, its
    linked and its unlinked as shown, each read by `count_range`): 2,389 by UPN, 115 by name and DOB and
    '<10' probabilistic are 2,505 to 2,513 whatever the 'x' beside them. Only published figures go in, so
    the bound gives back nothing the table does not; None where the records are not shown."""
    records = source.get("records")
    if not isinstance(records, int) or isinstance(records, bool) or records <= 0:
        return None
    methods = source.get("linked")
    ranges = [count_range(v) for v in methods.values()] if isinstance(methods, dict) and methods else []
    unlinked = count_range(source.get("unlinked"))
    total = count_range(source.get("linked_total"))
    low = max(sum(r[0] for r in ranges), records - unlinked[1], total[0], 0)
    high = min(sum(r[1] for r in ranges) if ranges else math.inf, records - unlinked[0], total[1], records)
    return int(low), int(high)


def _floor_percent(part: int, whole: int) -> str:
    """part / whole as a percentage to one decimal, rounded down (a bound rounded outwards)."""
    return f"{part * 1000 // whole / 10:.1f}%"


def _at_least(source: dict[str, Any]) -> int:
    """The linked records a withheld `linked_total` is shown to be at least (0 where nothing is shown)."""
    bounds = linked_bounds(source)
    return bounds[0] if bounds else 0


def _overall(name: str, source: dict[str, Any]) -> str:
    """A source's overall rate in words: where it is withheld with a '<10' unlinked (or linked), what the
    table shows instead ("all but fewer than 10 of the 1,046"), not a dash; where it is withheld as 'x',
    the least the published figures prove (`linked_bounds`, rounded down: "at least 99.2% of exclusion
    records (2,505 or more of the 2,524)"); a dash only where they prove nothing."""
    words, records = SOURCE_WORDS.get(name, name), source.get("records")
    if source.get("link_rate") is None and isinstance(records, int) and records > 0:
        if source.get("unlinked") == SUPPRESSED:
            return f"all but fewer than {SUPPRESSION_THRESHOLD} of the {records:,} {words} records"
        if source.get("linked_total") == SUPPRESSED:
            return f"fewer than {SUPPRESSION_THRESHOLD} of the {records:,} {words} records"
        if least := _at_least(source):
            return (f"at least {_floor_percent(least, records)} of {words} records ({least:,} or more of "
                    f"the {records:,})")  # fmt: skip
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
    `sources.<name>` publishes them ("<10", "x" where withheld; a linked total withheld as "x" said as the
    least the figures beside it prove, "at least 2505", `linked_bounds`): `link`'s console and run.log."""
    linked, total = source["linked"], source["linked_total"]
    if total != SUPPRESSED and not isinstance(total, int) and (least := _at_least(source)):
        total = f"at least {least}"  # 'x': the least the figures beside it prove (`linked_bounds`)
    return (
        f"{name}: {total} of {source['records']} linked (upn {linked['upn']}, name_dob "
        f"{linked['name_dob']}, probabilistic {linked['probabilistic']}); review {source['clerical_review']}"
        + (f"; {source['candidate_pairs']} candidate pairs scored" if "candidate_pairs" in source else "")
    )
