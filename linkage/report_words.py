"""The linkage report in words: its percentages and gaps as they may be read, and its conclusion.

- `percent`: a share as a percentage, with as many decimals as it takes not to read as 100% or 0% when
  it is neither (a model precision of 0.9995 is 99.95%, not 100.0%);
- `points`: a difference of two rates in percentage points (a gap of 0.055 is 5.5 points, not 5.5%);
- `source_line`: a source's records and links in one line, as report.json gives them (the console's
  summary and run.log's, so neither gives a count the report withholds);
- `conclusion`: a few sentences on the link rates: each source's overall rate (in words where it is
  withheld: "all but fewer than 10 of the 1,046", or "at least 99.2% ... (2,505 or more of the 2,524)"
  where it is an 'x' and the figures shown bound it: `linked_bounds`), the groups whose rate the
  figures shown prove LOW_GAP or more below their source's (their history may be under-counted, so their
  scores may understate their risk), the largest gap between ethnic groups' rates (`ethnicity_gap`:
  "at least 18.1 percentage points" where a withheld group's bound gives it), the groups whose rates are
  withheld and neither proven low nor cleared, by name, as not assessed (group names are no pupil's
  data), and that a link rate counts links made, not correct links: whether links are right is measured
  only against synthetic truth, where the data are generated and truth exists.
Only figures the report already shows go in: a withheld rate is never used or printed, only the bounds
its published counts allow ("<10" as 1 to 9, "x" as 0 or more: `count_range`), rounded outwards, so no
sentence gives back a count the tables withhold.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from exclusion_risk.privacy import SUPPRESSED, SUPPRESSION_THRESHOLD

LOW_GAP = 0.05  # a group linking this much (five percentage points) or more below its source is named
# each extract as a sentence names its records ("exclusion records"), for every report that does
SOURCE_WORDS = {"census": "census", "exclusions": "exclusion", "social_care": "social-care"}
ATTRIBUTE_WORDS = {"year_group": "year group", "ethnicity": "ethnicity", "sex": "sex"}
NOT_GROUPS = ("unknown", "not recorded")  # no group a rate is compared for
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


def rate_bounds(row: dict[str, Any], unlinked_most: float = math.inf) -> tuple[Fraction, Fraction] | None:
    """The least and greatest link rate a group's published records and linked allow (`count_range`):
    its rate where both are shown; "<10" of 11 is 1/11 to 9/11; an 'x' of linked proves nothing below but
    what its source's unlinked allow (`unlinked_most`: 538 records and at most 19 unlinked in all are at
    least 519 linked). None where the group has no records."""
    (linked_low, linked_high), (records_low, records_high) = (
        count_range(row.get("linked")), count_range(row.get("records")))
    if records_high == 0:
        return None
    if row.get("link_rate") is not None and records_low != records_high:  # a rate without its counts
        rate = Fraction(str(row["link_rate"]))
        return rate, rate
    low = Fraction(0) if records_high == math.inf else Fraction(int(linked_low), int(records_high))
    if records_low == records_high and unlinked_most < records_low:
        low = max(low, Fraction(int(records_low - unlinked_most), int(records_low)))
    high = Fraction(1) if records_low == 0 or linked_high == math.inf else min(
        Fraction(1), Fraction(int(linked_high), int(records_low)))
    return low, high


def unlinked_most(source: dict[str, Any]) -> float:
    """The most unlinked records a source's published figures allow (its records less `linked_bounds`)."""
    bounds = linked_bounds(source)
    return math.inf if bounds is None else source["records"] - bounds[0]


def _overall_bounds(source: dict[str, Any]) -> tuple[Fraction, Fraction] | None:
    """A source's overall rate, or where withheld the least and most its published figures prove."""
    if source.get("link_rate") is not None:
        rate = Fraction(str(source["link_rate"]))
        return rate, rate
    bounds = linked_bounds(source)
    return None if bounds is None else (Fraction(bounds[0], source["records"]),
                                        Fraction(bounds[1], source["records"]))  # fmt: skip


def _bound_words(row: dict[str, Any], bounds: tuple[Fraction, Fraction], side: str) -> str:
    """A group's rate as shown, or the bound of it (`side`: "low" or "high") rounded outwards."""
    if row.get("link_rate") is not None:
        return percent(row["link_rate"])
    if side == "low":
        return f"at least {math.floor(bounds[0] * 1000) / 10:.1f}%"
    return f"at most {math.ceil(bounds[1] * 1000) / 10:.1f}%"


def ethnicity_gap(rows: list[dict[str, Any]], unlinked: float = math.inf) -> dict[str, Any]:
    """report.json's gap between ethnic groups' link rates, from the figures the table shows: the
    highest least rate less the lowest greatest rate (`rate_bounds`), so a withheld group's bound counts
    ("<10" of 11 is at most 81.9% beside 100%: at least 18.1 points). `largest_gap_by_ethnicity`: the
    gap, rounded down to a tenth of a point where a bound is in it (None where none is shown or proven);
    `_at_least`: whether some group's rate is withheld, so the gap may be more; `_between`: the two groups
    it lies between in words; `ethnicity_rates_withheld`: those groups, to be named as not assessed.
    `unlinked`: the most unlinked records of the source (`unlinked_most`)."""
    placed = [(r, b) for r in rows if r["group"] not in NOT_GROUPS
              and (b := rate_bounds(r, unlinked)) is not None]  # fmt: skip
    withheld = [r["group"] for r, _ in placed if r.get("link_rate") is None]
    out: dict[str, Any] = {"largest_gap_by_ethnicity": None,
                           "largest_gap_by_ethnicity_at_least": bool(withheld),
                           "largest_gap_by_ethnicity_between": None,
                           "ethnicity_rates_withheld": withheld}  # fmt: skip
    if len(placed) < 2:
        return out
    top = max(placed, key=lambda p: (p[1][0], p[0].get("link_rate") is not None))
    bottom = min(placed, key=lambda p: (p[1][1], p[0].get("link_rate") is None))
    gap = top[1][0] - bottom[1][1]
    if gap <= 0 or top[0] is bottom[0]:
        return out
    exact = not withheld  # else a lower bound, between two rates shown or not: rounded down
    out["largest_gap_by_ethnicity"] = round(float(gap), 4) if exact else math.floor(gap * 1000) / 1000
    out["largest_gap_by_ethnicity_between"] = (
        f"{top[0]['group']} {_bound_words(top[0], top[1], 'low')} against "
        f"{bottom[0]['group']} {_bound_words(bottom[0], bottom[1], 'high')}")
    return out


def gap_words(source: dict[str, Any], name_withheld: bool = True) -> str:
    """The largest gap between ethnic groups' link rates in words, as report.json states it (what follows
    "Largest gap between ethnic groups' link rates: "); where rates are withheld "at least", the two
    groups it lies between and (`name_withheld`) the groups not assessed, by name. "" where there is
    neither a gap nor a withheld group."""
    gap, withheld = source.get("largest_gap_by_ethnicity"), source.get("ethnicity_rates_withheld") or []
    names = f": {', '.join(withheld)}" if name_withheld else ""
    why = f"being withheld (small-number suppression){names}."
    if gap is None:
        return f"not assessed, the rates {why}" if withheld else ""
    if not source.get("largest_gap_by_ethnicity_at_least") or not withheld:
        return f"{points(gap)}."
    between = source.get("largest_gap_by_ethnicity_between")
    return (f"at least {points(gap)}" + (f" ({between}, from the figures shown)" if between else "")
            + f"; it may be more, some groups' rates {why}")  # fmt: skip


def _low_groups(source: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """The groups the published figures prove to link LOW_GAP or more below their source (in words), and
    those they neither prove so nor clear, their rate or the source's withheld (attribute words, group):
    not assessed (a group shown at 88% beside a source known only as 80.1-100% was passed over)."""
    overall, unlinked = _overall_bounds(source), unlinked_most(source)
    if overall is None:
        return [], []
    named, unassessed = [], []
    for attribute, words in ATTRIBUTE_WORDS.items():
        for row in source.get("by_group", {}).get(attribute, []):
            bounds = rate_bounds(row, unlinked)
            if row["group"] in NOT_GROUPS or bounds is None:
                continue
            rate = row.get("link_rate")
            if bounds[1] <= overall[0] - LOW_GAP:
                if rate is not None:
                    named.append(f"{words} {row['group']} {percent(rate)}")
                elif _few_of(row):  # rate withheld (1-9 linked), but even 9 linked is markedly below
                    named.append(f"{words} {row['group']} (fewer than {SUPPRESSION_THRESHOLD} of its "
                                 f"{row['records']} records)")  # fmt: skip
                else:
                    named.append(f"{words} {row['group']} ({_bound_words(row, bounds, 'high')})")
            elif bounds[0] <= overall[1] - LOW_GAP:  # its rate withheld, or the source's: either may be
                unassessed.append((words, row["group"]))
    return named, unassessed


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


def _rate_words(source: dict[str, Any]) -> str:
    """A source's overall rate, or where withheld the least its figures prove ("at least 99.2%")."""
    if source.get("link_rate") is None and (least := _at_least(source)):
        return f"at least {_floor_percent(least, source['records'])}"
    return percent(source.get("link_rate"))


def _not_assessed(name: str, groups: list[tuple[str, str]]) -> str:
    """The groups whose figures, theirs or the source's withheld, neither show them low nor clear them."""
    by_attribute: dict[str, list[str]] = {}
    for words, group in groups:
        by_attribute.setdefault(words, []).append(group)
    listed = "; ".join(f"{words} {', '.join(names)}" for words, names in by_attribute.items())
    return (f"Not assessed against the {SOURCE_WORDS.get(name, name)} rate, the figures withheld "
            f"(small-number suppression), theirs or the source's, not ruling out their linking "
            f"{100 * LOW_GAP:.0f} or more points lower: {listed}.")


def conclusion(sources: dict[str, dict[str, Any]]) -> list[str]:
    """The report's conclusion in words (module docstring)."""
    rates = [_overall(n, s) for n, s in sources.items()]
    said = [f"Overall, {' and '.join(rates)} are linked to a census pupil."]
    low = {name: _low_groups(s) for name, s in sources.items()}
    for name, (groups, _) in low.items():
        if groups:
            said.append(
                f"Linking markedly below the {SOURCE_WORDS.get(name, name)} rate "
                f"({_rate_words(sources[name])}; {100 * LOW_GAP:.0f} or more points lower): "
                f"{'; '.join(groups)}."
            )
    for name, s in sources.items():
        gap = ethnicity_gap(s.get("by_group", {}).get("ethnicity", []), unlinked_most(s))
        whose = f"ethnic groups' {SOURCE_WORDS.get(name, name)}"
        said += [f"Largest gap between {whose} link rates: {w}"] if (w := gap_words(gap, False)) else []
    said += [_not_assessed(name, unassessed) for name, (_, unassessed) in low.items() if unassessed]
    if any(groups for groups, _ in low.values()):
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
