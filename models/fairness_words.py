"""The fairness review's words for its groups and outcome: one explicit phrase per group ("pupils not known
to social care", "pupils eligible for free school meals", "Asian girls", "boys with SEN support") and the
run's outcome ("suspended or excluded", "permanently excluded", "suspended two or more times").

A phrase is built from each attribute's part: a word before the noun (an ethnic group: "Asian"), the noun
("girls", "boys", else "pupils") and words after it ("with SEN support", "eligible for free school meals").
An intersection's label ("girls / Asian") joins its two attributes' parts.
"""

from __future__ import annotations

from exclusion_risk.models.band_precision import OUTCOMES
from exclusion_risk.models.fairness import DETAILED_ETHNICITY, FAIR_RANGE
from exclusion_risk.models.fairness_intersections import INTERSECTIONS, SEPARATOR, intersection_name

# attribute -> group -> (before the noun, noun, after the noun); a group not listed: see _part
_PARTS = {
    "sex": {"boys": ("", "boys", ""), "girls": ("", "girls", ""), "unknown": ("", "", "of unknown sex")},
    "SEN provision": {
        "no SEN": ("", "", "without SEN"),
        "SEN support": ("", "", "with SEN support"),
        "EHC plan": ("", "", "with an EHC plan"),
        "unknown": ("", "", "whose SEN provision is unknown"),
    },
    "free school meals": {
        "eligible": ("", "", "eligible for free school meals"),
        "not eligible": ("", "", "not eligible for free school meals"),
        "unknown": ("", "", "whose free school meals eligibility is unknown"),
    },
    "social care": {
        "looked after": ("looked-after", "", ""),
        "child protection plan": ("", "", "on a child protection plan"),
        "child in need": ("", "", "who are children in need"),
        "previously involved": ("", "", "previously known to social care"),
        "none": ("", "", "not known to social care"),
    },
}
_ETHNICITY = ("ethnic group", DETAILED_ETHNICITY)
_INTERSECTIONS = {intersection_name(first, second): (first, second) for first, second in INTERSECTIONS}


def _part(attribute: str, group: str) -> tuple[str, str, str]:
    if group in _PARTS.get(attribute, {}):
        return _PARTS[attribute][group]
    if attribute in _ETHNICITY:
        return ("", "", "of unknown ethnicity") if group == "unknown" else (group, "", "")
    return "", "", f"in the group {group!r} of {attribute}"


def group_phrase(attribute: str, group: str) -> str:
    """The pupils of `group` of `attribute` (or of an intersection) in words."""
    pairs = [(attribute, group)]
    if attribute in _INTERSECTIONS and SEPARATOR in group:
        pairs = list(zip(_INTERSECTIONS[attribute], group.split(SEPARATOR, 1), strict=True))
    parts = [_part(a, g) for a, g in pairs]
    before = " ".join(p[0] for p in parts if p[0])
    noun = next((p[1] for p in parts if p[1]), "pupils")
    after = " ".join(sorted((p[2] for p in parts if p[2]), key=lambda w: not w.startswith("of ")))
    return " ".join(w for w in (before, noun, after) if w)


def outcome_words(label: str | None) -> str:
    """What the run's label counts, as a past participle ("suspended or excluded" for `any`)."""
    return OUTCOMES[label or "any"].removeprefix("were ").removesuffix(" that year")


def holding_line(families: list[dict]) -> str:
    """The ratios holding once the number compared is allowed for that are not findings, per family
    (`fairness_summary` counts them): "" where every one holding is a finding."""
    fair = f"{FAIR_RANGE[0]}–{FAIR_RANGE[1]}"
    parts = []
    for f in families:
        if "holding_findings" in f and f["holding_findings"] < f["beyond_chance"]:
            within = f["holding_within_range"]
            parts.append(f"{f['family']}: {f['holding_findings']} of the {f['beyond_chance']} holding are "
                         f"findings, {within} {'lies' if within == 1 else 'lie'} within {fair}")
    if not parts:
        return ""
    return (f"Not every ratio holding is a finding: one within {fair} is too near equal to be one. "
            f"{'; '.join(parts)}.")
