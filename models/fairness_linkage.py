"""The linkage side of a fairness review: each group's link rate, from the `link` run's report.json.

A group whose social-care or exclusion records link less often has less of its history in the features:
its children's episodes and earlier exclusions are read as "none", so their scores and need levels
understate what the records hold (DESIGN: "a fairness review must know when one group's social-care
history is under-linked"). The review reads the rates as `link` published them (counts under 10 and the
cells beside them withheld) and names each group whose shown rate is GAP or more below its source's
overall rate; otherwise it says no group shown is, and names the groups whose rate is withheld as not
reviewed (nine ethnic groups' social-care rates on the demo). A link rate below 100% is not all missed
links: records of children not on the census (under school age, living or schooled outside the
authority) cannot link, so a gap is a question for the linkage report and the review band, not
proof of a missed link.
"""

from __future__ import annotations

from typing import Any

from exclusion_risk.linkage.report_words import LOW_GAP, SOURCE_WORDS
from exclusion_risk.models.fairness import DETAILED_ETHNICITY_NAMES, SEX_GROUPS

# five percentage points below the source's overall link rate: the gap the linkage report names too
GAP = LOW_GAP
SOURCES = ("social_care", "exclusions")  # the linked sources, in the section's order
ATTRIBUTE_WORDS = {"ethnicity": "ethnic group", "sex": "sex"}


def _group_name(attribute: str, code: str) -> str:
    """A group as the review's tables name it (girls; Indian (AIND)); a code it has no name for as given."""
    return (SEX_GROUPS if attribute == "sex" else DETAILED_ETHNICITY_NAMES).get(code, code)


def _finding(name: str, words: str, rate: float, overall: float) -> str:
    return (
        f"{name}: {words} records linked at {100 * rate:.1f}% against {100 * overall:.1f}% of all {words} "
        f"records. Their {words} history may be under-counted in the features, so their scores and need "
        "levels may understate it: check the linkage report's review band for them before relying on "
        "their scores."
    )


def link_rates_by_group(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The review's linkage section from a linkage report.json (None without one): `rows` (source,
    attribute, group, records, linked and link_rate as published, `below`), `overall` (each source's
    link rate), `findings` (a sentence per group GAP or more below its source) and `conclusion`."""
    if not isinstance(report, dict) or not isinstance(report.get("sources"), dict):
        return None
    rows, overall, findings, withheld = [], {}, [], []
    for source in SOURCES:
        words = SOURCE_WORDS[source]
        entry = report["sources"].get(source)
        if not isinstance(entry, dict) or not isinstance(entry.get("by_group"), dict):
            continue
        rate = entry.get("link_rate")
        overall[source] = rate if isinstance(rate, int | float) else None
        for attribute, attribute_words in ATTRIBUTE_WORDS.items():
            for group in entry["by_group"].get(attribute) or []:
                shown = group.get("link_rate")
                below = (isinstance(shown, int | float) and overall[source] is not None
                         and shown <= overall[source] - GAP)  # fmt: skip
                name = _group_name(attribute, str(group.get("group")))
                rows.append({"source": words, "attribute": attribute_words, "group": name,
                             "records": group.get("records"), "linked": group.get("linked"),
                             "link_rate": shown, "below": below})  # fmt: skip
                if below:
                    findings.append(_finding(name, words, shown, overall[source]))
                elif not isinstance(shown, int | float):
                    withheld.append(f"{name} ({words})")
    if not rows:
        return None
    conclusion = (
        f"{len(findings)} group(s) link {100 * GAP:.0f} or more points below their source's overall rate."
        if findings
        else f"No group shown links {100 * GAP:.0f} or more points below its source's overall rate"
        + (" (of the groups whose rate is shown)." if withheld
           else ", so the linkage gives no group markedly less of its history.")  # fmt: skip
    )
    if withheld:
        conclusion += (
            f" Not reviewed: {len(withheld)} group(s) whose link rate is withheld to protect small counts "
            f"({', '.join(withheld)}); the linkage report's review band is where to check them."
        )
    return {"rows": rows, "overall": overall, "findings": findings, "conclusion": conclusion, "gap": GAP}
