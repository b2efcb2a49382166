"""The one list of features: name, plain-English label, source extract, kind, protected, reason phrase,
and for every numeric or binary feature the range of values it can take.

Everything downstream reads this list: the builder fills exactly these columns, the preprocessor picks
its columns by `kind`, the models stage chooses inputs with `feature_names(include_protected=...)`,
the scoring stage turns SHAP factors into reasons with `describe(name, value)` (a `context` feature,
about where the pupil is rather than the child, is reported apart from the reasons), and feature records
sent for scoring are checked with `range_problem(name, value)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.values import parse_flag

Source = Literal["census", "exclusions", "social_care", "school", "reference"]
Kind = Literal["numeric", "binary", "categorical"]

# Context, not the child: the school's record (source "school"), the home area (source "reference") and
# the year group. Scores.csv gives these in its `context` column, never among the reasons about a child.
CONTEXT_SOURCES: tuple[Source, ...] = ("school", "reference")
CONTEXT_FEATURES = frozenset({"nc_year"})

# Adverse: a feature whose presence is a risk factor by definition (safeguarding or social care, suspension
# or exclusion, persistent absence, a school move, free school meals). The child has it from `adverse_from`
# up: 1 for a flag or count (every exclusions and social-care feature), PERSISTENT_ABSENCE for an absence
# rate. models.reasons never lists one the child has as lowering the risk: a negative contribution of it is
# the effect of the factors it overlaps with (a logistic model's CPP beside CIN), not protection.
ADVERSE_SOURCES: tuple[Source, ...] = ("exclusions", "social_care")
PERSISTENT_ABSENCE = 0.10  # the DfE's persistent absence: 10% or more of sessions missed

# --- value vocabularies, shared with the builder so labels and codes cannot drift apart -----------

ETHNICITY_GROUPS: dict[str, str] = {
    "WBRI": "White British",
    **dict.fromkeys(("WIRI", "WIRT", "WROM", "WOTH"), "White other"),
    **dict.fromkeys(("MWBC", "MWBA", "MWAS", "MOTH"), "Mixed"),
    **dict.fromkeys(("AIND", "APKN", "ABAN", "AOTH"), "Asian"),
    **dict.fromkeys(("BCRB", "BAFR", "BOTH"), "Black"),
    **dict.fromkeys(("CHNE", "OOTH"), "Chinese/other"),
    **dict.fromkeys(("REFU", "NOBT"), "unknown"),
}

ETHNICITY_NAMES: dict[str, str] = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WIRT": "Traveller of Irish heritage",
    "WROM": "Gypsy/Roma",
    "WOTH": "any other White background",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "any other mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "any other Asian background",
    "BCRB": "Black Caribbean",
    "BAFR": "Black African",
    "BOTH": "any other Black background",
    "CHNE": "Chinese",
    "OOTH": "any other ethnic group",
    "REFU": "refused",
    "NOBT": "information not yet obtained",
}

SEN_PROVISION_PHRASES: dict[str, str] = {
    "N": "no special educational needs recorded",
    "K": "receives SEN support",
    "E": "has an education, health and care (EHC) plan",
}

SEN_TYPE_NAMES: dict[str, str] = {
    "SPLD": "specific learning difficulty",
    "MLD": "moderate learning difficulty",
    "SLD": "severe learning difficulty",
    "PMLD": "profound and multiple learning difficulty",
    "SEMH": "social, emotional and mental health",
    "SLCN": "speech, language and communication needs",
    "HI": "hearing impairment",
    "VI": "visual impairment",
    "MSI": "multi-sensory impairment",
    "PD": "physical disability",
    "ASD": "autistic spectrum disorder",
    "DS": "Down syndrome",
    "OTH": "other difficulty or disability",
    "NSA": "SEN support but no specialist assessment of type of need",
}

NEED_LEVELS: dict[int, str] = {
    0: "no statutory involvement",
    1: "SEN support or free school meals",
    2: "EHC plan or child in need",
    3: "child protection plan or looked after",
}

# Suspension reason groups used as features (the reader's `ReasonGroups` mapped onto these).
REASON_FEATURES: dict[str, str] = {
    "reason_physical_assault": "physical assault",
    "reason_verbal_abuse": "verbal abuse or threatening behaviour",
    "reason_disruption": "persistent disruptive behaviour",
    "reason_other": "other reasons",
}

# --- reason phrase builders -----------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA (a scalar); lists and arrays are values, never 'missing'."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any) -> float:
    if isinstance(value, str):
        value = value.strip()
    return float(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return parse_flag(value) is True
    return bool(_number(value))


def _whole(x: float) -> str:
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def count_phrase(singular: str, plural: str, context: str, none: str | None = None) -> Callable[[Any], str]:
    """3 -> '3 suspensions last year'; 1 -> '1 suspension last year'; 0 -> 'no suspensions last year'."""

    def render(value: Any) -> str:
        n = _number(value)
        if n == 0:
            return none or f"no {plural} {context}".strip()
        noun = singular if n == 1 else plural
        return f"{_whole(n)} {noun} {context}".strip()

    return render


def flag_phrase(yes: str, no: str) -> Callable[[Any], str]:
    return lambda value: yes if _truthy(value) else no


def percent_phrase(context: str) -> Callable[[Any], str]:
    """0.08 -> '8% absence last year'."""

    def render(value: Any) -> str:
        share = _number(value) * 100
        if 0 < share < 1:
            return f"under 1% {context}"
        return f"{int(round(share))}% {context}"

    return render


def category_phrase(phrases: dict[str, str], fallback: str) -> Callable[[Any], str]:
    """Look the category up; `fallback` is formatted with {value} for categories not listed."""
    return lambda value: phrases.get(str(value), fallback.format(value=value))


def _nc_year_phrase(value: Any) -> str:
    year = int(round(_number(value)))
    if year == -2:
        return "in nursery (N1)"
    if year == -1:
        return "in nursery (N2)"
    if year == 0:
        return "in Reception"
    return f"in Year {year}"


def _idaci_phrase(value: Any) -> str:
    decile = int(round(_number(value)))
    if decile == 1:
        return "lives in one of England's 10% most income-deprived areas for children (IDACI decile 1)"
    return f"lives in an IDACI decile {decile} area (1 = most deprived for children, 10 = least)"


def _rate_per_100(context: str) -> Callable[[Any], str]:
    def render(value: Any) -> str:
        per_100 = _number(value) * 100
        shown = f"{per_100:.1f}" if per_100 < 10 else f"{per_100:.0f}"
        return f"{context}: {shown} per 100 pupils in earlier years"

    return render


def _sen_type_phrase(value: Any) -> str:
    code = str(value)
    if code == "none":
        return "no SEN type recorded"
    if code == "unknown":
        return "SEN type not recorded"
    name = SEN_TYPE_NAMES.get(code)
    return f"{code} needs ({name})" if name else f"SEN type {code}"


def _ethnicity_code_phrase(value: Any) -> str:
    code = str(value)
    if code == "unknown":
        return "ethnicity not recorded"
    return f"ethnicity {ETHNICITY_NAMES.get(code, code)} ({code})"


def _ethnicity_group_phrase(value: Any) -> str:
    return "ethnicity not recorded" if str(value) == "unknown" else f"ethnicity {value}"


# --- valid ranges ---------------------------------------------------------------------------------
#
# A value outside its feature's range is a broken record, not a pupil at extreme risk: a model fitted on
# plausible values extrapolates arbitrarily beyond them (suspensions_last_year = 1e300 scored 0.99999).
# Maxima are generous ceilings, not typical values, so no real pupil is ever refused.

SESSIONS_PER_YEAR = 400  # a school year is 380 half-day sessions; a little headroom for dual registration
# Suspensions are capped at 45 school days a year per school; lunchtime ones count as half a day, so 90
# per school, and a pupil may change school: 200 in one year is beyond anything real.
SUSPENSIONS_PER_YEAR = 200
SCHOOL_YEARS = 17  # N1, N2, Reception and Years 1-14: the longest history one pupil can have
SCHOOL_MOVES_PER_YEAR = 20
PERMANENT_EXCLUSIONS_MAX = 20
SCHOOL_SUSPENSIONS_PER_PUPIL_MAX = 10.0  # 1,000 suspensions per 100 pupils a year: far beyond any school
# The builder's numeric encoding of NCyearActual (features.build.NC_YEARS): N1 -2, N2 -1, Reception 0,
# then Years 1 to 14 as themselves.
NC_YEAR_CODES = {-2: "N1", -1: "N2", 0: "Reception"}
LAST_NC_YEAR = 14


@dataclass(frozen=True)
class ValueRange:
    """Inclusive bounds of a numeric or binary feature; `whole` for codes and flags (no fractions)."""

    low: float
    high: float
    whole: bool = False
    note: str = ""  # what the numbers mean, when the bounds alone do not say

    def text(self) -> str:
        """'a whole number from 1 to 10 (1 = most deprived)'."""
        number = "a whole number" if self.whole else "a number"
        return f"{number} from {_whole(self.low)} to {_whole(self.high)}{self.note}"

    def problem(self, value: float) -> str | None:
        """Why `value` is not allowed, in words that state the range and never repeat the value."""
        wanted = f"must be {self.text()}"
        if not math.isfinite(value) or not self.low <= value <= self.high:
            return wanted
        if self.whole and value != int(value):
            return wanted
        return None


RATE = ValueRange(0.0, 1.0)
FLAG = ValueRange(0, 1, whole=True, note=" (0 = no, 1 = yes)")


def _count(high: float) -> ValueRange:
    return ValueRange(0, high)


# --- the registry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureDef:
    name: str
    label: str  # plain English, used as a heading and when the value is missing
    source: Source
    kind: Kind
    protected: bool
    reason_template: Callable[[Any], str]  # renders one pupil's value as a reason phrase
    # True when the value needs more than the pupil's reference census row (earlier census rows,
    # exclusions, social care, other pupils): missing when a census upload is scored without history.
    needs_history: bool = False
    valid_range: ValueRange | None = None  # every numeric and binary feature has one (checked at import)
    # The first census of the year at which the feature can have a value (this year's attendance so far:
    # spring, once the autumn term has ended); a model for an earlier census does not take it.
    first_census: str = calendar.AUTUMN
    adverse_from: float | None = None  # the child has an adverse factor from this value up (see above)

    def adverse(self, value: Any) -> bool:
        """True when `value` is an adverse factor the child has (never when missing or unreadable)."""
        if self.adverse_from is None or is_missing(value):
            return False
        try:
            number = float(_truthy(value)) if self.kind == "binary" else _number(value)
        except (TypeError, ValueError, OverflowError):
            return False
        return number >= self.adverse_from

    @property
    def context(self) -> bool:
        """About the pupil's school, home area or year group rather than the child (the one rule)."""
        return self.source in CONTEXT_SOURCES or self.name in CONTEXT_FEATURES

    def describe(self, value: Any) -> str:
        if is_missing(value):
            # in a sentence beside the other phrases ("3 suspensions last year; absence last year: not
            # known"): the label's capital dropped unless it begins an acronym (FSM, SEN, IDACI) or a name
            # ("National Curriculum year": its second word capitalised too)
            label = self.label
            words = label.split()
            named = len(words) > 1 and words[1][:1].isupper()
            if len(label) > 1 and label[0].isupper() and label[1].islower() and not named:
                label = label[0].lower() + label[1:]
            return f"{label}: not known"
        try:
            return self.reason_template(value)
        except (TypeError, ValueError):  # an unexpected value still gets a readable phrase
            return f"{self.label}: {value}"


def _f(name, label, source, kind, template, *, protected=False, history=False, valid=None,
       first_census=calendar.AUTUMN, adverse=None) -> FeatureDef:  # fmt: skip
    valid = FLAG if kind == "binary" else valid
    adverse = 1 if adverse is None and source in ADVERSE_SOURCES else adverse
    return FeatureDef(name, label, source, kind, protected, template, needs_history=history,
                      valid_range=valid, first_census=first_census, adverse_from=adverse)


_HOUSEHOLD = "the child, a parent or carer, or another person in the household"
FEATURES: list[FeatureDef] = [
    # census: the pupil's autumn census row of the reference year
    _f("sex", "Sex", "census", "categorical",
       category_phrase({"M": "boy", "F": "girl", "unknown": "sex not recorded"}, "sex {value}"),
       protected=True),
    _f("ethnicity_group", "Ethnic group", "census", "categorical", _ethnicity_group_phrase, protected=True),
    _f("ethnicity_code", "Ethnicity (CBDS code)", "census", "categorical", _ethnicity_code_phrase,
       protected=True),
    _f("nc_year", "National Curriculum year", "census", "numeric", _nc_year_phrase,
       valid=ValueRange(min(NC_YEAR_CODES), LAST_NC_YEAR, whole=True,
                        note=" (" + ", ".join(f"{k} = {v}" for k, v in NC_YEAR_CODES.items()) + ")")),
    _f("fsm", "Free school meals now", "census", "binary",
       flag_phrase("eligible for free school meals", "not eligible for free school meals"), adverse=1),
    _f("sen_provision", "SEN provision", "census", "categorical",
       category_phrase(SEN_PROVISION_PHRASES, "SEN provision {value}")),
    _f("sen_type", "SEN primary need", "census", "categorical", _sen_type_phrase),
    _f("idaci_decile", "IDACI decile of home area", "reference", "numeric", _idaci_phrase,
       valid=ValueRange(1, 10, whole=True, note=" (1 = most deprived)")),
    _f("absence_rate_last_year", "Absence last year", "census", "numeric",
       percent_phrase("absence last year"), valid=RATE, adverse=PERSISTENT_ABSENCE),
    _f("unauthorised_absence_rate_last_year", "Unauthorised absence last year", "census", "numeric",
       percent_phrase("unauthorised absence last year"), valid=RATE, adverse=PERSISTENT_ABSENCE),
    _f("persistent_absence_last_year", "Persistent absence last year", "census", "binary",
       flag_phrase("persistently absent last year (missed 10% or more of sessions)",
                   "not persistently absent last year"), adverse=1),
    # attendance so far this year, from the authority's termly attendance files (terms ended before the
    # reference census: none at autumn); the linked history holds it, so a census upload gets it there
    _f("absence_rate_this_year", "Absence this year so far", "census", "numeric",
       percent_phrase("absence this year so far"), valid=RATE, history=True, first_census=calendar.SPRING,
       adverse=PERSISTENT_ABSENCE),
    _f("unauthorised_absence_rate_this_year", "Unauthorised absence this year so far", "census", "numeric",
       percent_phrase("unauthorised absence this year so far"), valid=RATE, history=True,
       first_census=calendar.SPRING, adverse=PERSISTENT_ABSENCE),
    _f("persistent_absence_this_year", "Persistent absence this year so far", "census", "binary",
       flag_phrase("persistently absent this year so far (missed 10% or more of sessions)",
                   "not persistently absent this year so far"), history=True, first_census=calendar.SPRING,
       adverse=1),
    # census history: earlier census rows of the same pupil
    _f("fsm_ever6", "Free school meals in the last six years", "census", "binary",
       flag_phrase("eligible for free school meals at some point in the last six years",
                   "not eligible for free school meals in the last six years"), history=True, adverse=1),
    _f("school_moves_last_year", "School moves in the last year", "census", "numeric",
       count_phrase("school move", "school moves", "in the last year"), history=True,
       valid=_count(SCHOOL_MOVES_PER_YEAR), adverse=1),
    _f("school_moves_earlier", "School moves before last year", "census", "numeric",
       count_phrase("school move", "school moves", "in the years before last"), history=True,
       valid=_count(SCHOOL_MOVES_PER_YEAR * SCHOOL_YEARS), adverse=1),
    # exclusions before the census date
    _f("suspensions_this_year", "Suspensions this year before the census", "exclusions", "numeric",
       count_phrase("suspension", "suspensions", "so far this year"), history=True,
       valid=_count(SUSPENSIONS_PER_YEAR)),
    _f("suspensions_last_year", "Suspensions last year", "exclusions", "numeric",
       count_phrase("suspension", "suspensions", "last year"), history=True,
       valid=_count(SUSPENSIONS_PER_YEAR)),
    _f("suspensions_earlier", "Suspensions before last year", "exclusions", "numeric",
       count_phrase("suspension", "suspensions", "in the years before last"), history=True,
       valid=_count(SUSPENSIONS_PER_YEAR * SCHOOL_YEARS)),
    _f("suspension_sessions_last_year", "Sessions lost to suspension last year", "exclusions", "numeric",
       count_phrase("half-day session", "half-day sessions", "lost to suspension last year"), history=True,
       valid=_count(SESSIONS_PER_YEAR)),
    _f("suspension_sessions_earlier", "Sessions lost to suspension before last year", "exclusions",
       "numeric", count_phrase("half-day session", "half-day sessions",
                               "lost to suspension in the years before last"), history=True,
       valid=_count(SESSIONS_PER_YEAR * SCHOOL_YEARS)),
    _f("permanent_exclusions_prior", "Earlier permanent exclusions", "exclusions", "numeric",
       count_phrase("earlier permanent exclusion", "earlier permanent exclusions", ""), history=True,
       valid=_count(PERMANENT_EXCLUSIONS_MAX)),
    *[
        _f(name, f"Earlier suspension or exclusion for {group}", "exclusions", "binary",
           flag_phrase(f"suspended or excluded before for {group}",
                       f"no earlier suspension for {group}"), history=True)
        for name, group in REASON_FEATURES.items()
    ],
    # social care: episodes started on or before the census date
    _f("cin_ever", "Ever a child in need", "social_care", "binary",
       flag_phrase("has been a child in need", "never a child in need"), history=True),
    _f("cpp_ever", "Ever on a child protection plan", "social_care", "binary",
       flag_phrase("has been on a child protection plan", "never on a child protection plan"), history=True),
    _f("cla_ever", "Ever looked after", "social_care", "binary",
       flag_phrase("has been looked after (in care)", "never looked after"), history=True),
    _f("cin_open", "Child in need now", "social_care", "binary",
       flag_phrase("currently a child in need", "not currently a child in need"), history=True),
    _f("cpp_open", "Child protection plan now", "social_care", "binary",
       flag_phrase("on a child protection plan", "not on a child protection plan"), history=True),
    _f("cla_open", "Looked after now", "social_care", "binary",
       flag_phrase("looked after (in care)", "not looked after"), history=True),
    # A factor's code names whose it is (A the child, B a parent or carer, C another household member),
    # and FACTOR_PATTERNS reads all three: "mental health concerns" read as the child's where a parent's.
    *(_f(name, f"{label}, the child or household (social-care assessment)", "social_care", "binary",
         flag_phrase(f"{yes} {_HOUSEHOLD}, identified in a social-care assessment",
                     f"no {no} identified in social-care assessments"), history=True)
      for name, label, yes, no in (
          ("sc_domestic_abuse", "Domestic abuse", "domestic abuse concerning", "domestic abuse"),
          ("sc_mental_health", "Mental health", "mental health concerns about", "mental health concerns"),
          ("sc_substance_misuse", "Alcohol or drug misuse", "alcohol or drug misuse by",
           "alcohol or drug misuse"))),
    # school context: the pupil's school in earlier years (never the reference year's events)
    _f("school_suspension_rate", "School's suspension rate", "school", "numeric",
       _rate_per_100("school's suspensions"), history=True, valid=_count(SCHOOL_SUSPENSIONS_PER_PUPIL_MAX)),
    _f("school_permanent_rate", "School's permanent exclusion rate", "school", "numeric",
       _rate_per_100("school's permanent exclusions"), history=True, valid=RATE),
]

_BY_NAME: dict[str, FeatureDef] = {f.name: f for f in FEATURES}
if len(_BY_NAME) != len(FEATURES):  # pragma: no cover - guards edits to the list above
    raise RuntimeError("duplicate feature name in the registry")
if any(f.kind != "categorical" and f.valid_range is None for f in FEATURES):  # pragma: no cover
    raise RuntimeError("a numeric or binary feature in the registry has no valid_range")


def get(name: str) -> FeatureDef:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown feature {name!r}; known: {', '.join(_BY_NAME)}") from None


def feature_names(
    include_protected: bool = False, kinds: tuple[str, ...] | None = None, census: str | None = None
) -> list[str]:
    """Model input columns in registry order. Protected characteristics only when asked for; with
    `census` (a term code), only the features that can have a value at that census."""
    order = calendar.TERM_ORDER
    return [
        f.name
        for f in FEATURES
        if (include_protected or not f.protected)
        and (kinds is None or f.kind in kinds)
        and (census is None or order[f.first_census] <= order[census])
    ]


def protected_names() -> list[str]:
    return [f.name for f in FEATURES if f.protected]


def context_names() -> list[str]:
    """Features about the pupil's context (school, home area, year group), not the child."""
    return [f.name for f in FEATURES if f.context]


def history_feature_names() -> list[str]:
    """Features that cannot be computed from a pupil's reference census row alone."""
    return [f.name for f in FEATURES if f.needs_history]


def range_problem(name: str, value: Any) -> str | None:
    """Why a numeric or binary feature's value is out of its range (stating the range, never the value);
    None when it is in range or missing. Values are read as numbers the way the models read them."""
    bounds = get(name).valid_range
    if bounds is None or is_missing(value):
        return None
    try:
        number = _number(value)
    except (TypeError, ValueError, OverflowError):
        return None  # not a number: the feature's own reader decides what that means (missing)
    return bounds.problem(number)


def describe(name: str, value: Any) -> str:
    """One pupil's value as a plain-English reason: describe('suspensions_last_year', 3)."""
    if name == "need_level":
        return "need level: not known" if is_missing(value) else (
            f"need level {int(value)}: {NEED_LEVELS.get(int(value), 'unknown')}"
        )
    return get(name).describe(value)
