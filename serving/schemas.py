"""Request and response bodies, with the examples the OpenAPI document shows.

The feature-record model is built from the feature registry, so the API documents exactly the
features the models are trained on (label, kind, allowed codes) and cannot drift from them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from exclusion_risk import calendar
from exclusion_risk.features import registry
from exclusion_risk.linkage.schemas import SCHOOL
from exclusion_risk.models.score_runs import CHANGES
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE

# Codes a categorical feature may take: the builder's vocabularies plus its own 'unknown'/'none'.
CATEGORY_VALUES: dict[str, tuple[str, ...]] = {
    "sex": ("M", "F", "unknown"),
    "ethnicity_group": (*dict.fromkeys(registry.ETHNICITY_GROUPS.values()),),
    "ethnicity_code": (*registry.ETHNICITY_GROUPS, "unknown"),
    "sen_provision": (*registry.SEN_PROVISION_PHRASES, "unknown"),
    "sen_type": (*registry.SEN_TYPE_NAMES, "none", "unknown"),
}

EXAMPLE_UPN = "A801200111001"  # synthetic, never a real pupil's
EXAMPLE_FEATURES: dict[str, Any] = {
    "upn": EXAMPLE_UPN,
    "sex": "M",
    "ethnicity_group": "White British",
    "ethnicity_code": "WBRI",
    "nc_year": 8,
    "fsm": True,
    "sen_provision": "K",
    "sen_type": "SEMH",
    "idaci_decile": 2,
    "absence_rate_last_year": 0.12,
    "unauthorised_absence_rate_last_year": 0.05,
    "persistent_absence_last_year": True,
    "suspensions_last_year": 2,
    "suspension_sessions_last_year": 6,
    "cin_open": False,
}
EXAMPLE_CENSUS: dict[str, Any] = {
    "UPN": EXAMPLE_UPN,
    "Surname": "Example",
    "Forename": "Pupil",
    "DOB": "2011-03-14",
    "Sex": "M",
    "Ethnicity": "WBRI",
    "FSMeligible": "1",
    "SENprovision": "K",
    "SENtype": "SEMH",
    "NCyearActual": "8",
    "Postcode": "WS1 1AA",
    "SchoolURN": "104321",
    "AcademicYear": "2017/18",
    "CensusTerm": calendar.AUTUMN,
    "SessionsPossible": 320,
    "SessionsAuthorisedAbsence": 20,
    "SessionsUnauthorisedAbsence": 18,
}


class FieldError(BaseModel):
    row: int | None = Field(None, description="1-based pupil (JSON list position) or CSV data row.")
    field: str = Field(description="The field or column at fault.")
    reason: str = Field(description="What is wrong, in words; the offending value is never echoed.")


class ErrorResponse(BaseModel):
    detail: str = Field(description="What went wrong.")
    errors: list[FieldError] = Field(default_factory=list, description="One entry per problem found.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "detail": "The request is not valid.",
                "errors": [{"row": 3, "field": "SENprovision", "reason": "unknown SEN provision code"}],
            }
        }
    )


# Every key-protected route can answer these two (security.py decides which).
# a body that comes too slowly is cut off (serving/limits.py): any route that reads one
SLOW_BODY = {"model": ErrorResponse, "description": "The body came too slowly (serving/README.md): cut off."}
AUTH_ERRORS: dict[int | str, dict] = {
    401: {"model": ErrorResponse, "description": "No API key, or not a valid one."},
    429: {
        "model": ErrorResponse,
        "description": "Too many invalid keys from this client: try again after `Retry-After` seconds.",
    },
}


class HistoryInfo(BaseModel):
    """Which linked history census uploads are scored with (folder names only, never full paths)."""

    state: Literal["none", "loading", "ready", "failed"]
    extracts: str | None = Field(None, description="The extracts folder, as `parent/name`.")
    links: str | None = Field(None, description="The `exclusion-risk link` output folder, as `parent/name`.")
    census_rows: int | None = None
    pupils: int | None = Field(None, description="Distinct pupils in the census extract.")
    census_years: str | None = Field(None, description="First and last census year in the extract.")
    exclusion_rows: int | None = Field(None, description="Exclusion records linked to a census pupil.")
    social_care_rows: int | None = Field(None, description="Social-care records linked to a census pupil.")
    link_rates: dict[str, float] = Field(
        default_factory=dict, description="Share of each source's records linked (the linkage report.json)."
    )
    detail: str = Field(description="What this means for scoring, and what to configure when none is loaded.")


class HealthResponse(BaseModel):
    status: Literal["loading", "ready", "failed"]
    model_version: str | None = Field(None, description="Registry version of the served model.")
    history: Literal["none", "loading", "ready", "failed"] = Field(
        description="Linked pupil history for census uploads: `none` when not configured (census scoring "
        "is then refused with 503; feature records are still scored)."
    )
    history_info: HistoryInfo = Field(description="Which history is loaded: folders, counts, link rates.")


# --- feature-level input --------------------------------------------------------------------------


def _in_range(name: str):
    """A validator holding a numeric feature to its registry range; the 422 reason states the range."""

    def check(value: float | None) -> float | None:
        problem = registry.range_problem(name, value)
        if problem is not None:
            # A custom error: its message is exactly the registry's words, and pydantic adds no input.
            raise PydanticCustomError("feature_range", problem)
        return value

    return AfterValidator(check)


def _range_schema(bounds: registry.ValueRange) -> dict[str, Any]:
    """The range in the OpenAPI document too, so clients and schemathesis know it."""
    schema: dict[str, Any] = {"minimum": bounds.low, "maximum": bounds.high}
    if bounds.whole:
        schema["multipleOf"] = 1
    return schema


def _feature_field(feature: registry.FeatureDef) -> tuple[Any, Any]:
    description = f"{feature.label} ({feature.source}, {feature.kind})."
    if feature.kind == "categorical":
        values = CATEGORY_VALUES.get(feature.name)
        annotation = Literal[values] if values else str  # type: ignore[valid-type]
        return annotation | None, Field(None, description=description)
    if feature.kind == "binary":
        return bool | None, Field(None, description=description + " true/false (or 1/0).")
    bounds = feature.valid_range
    description += f" {bounds.text()[0].upper()}{bounds.text()[1:]}."
    return Annotated[float | None, _in_range(feature.name)], Field(
        None, description=description, allow_inf_nan=False, strict=True,  # a number: not true, not "8"
        json_schema_extra=_range_schema(bounds)
    )


def _academic_year(value: str | None) -> str | None:
    """A request's academic year, held to the plausible range (`calendar.plausible_year`)."""
    if value is None:
        return None
    try:
        return calendar.plausible_year(value)
    except ValueError as exc:
        raise PydanticCustomError("academic_year", str(exc)) from None


AcademicYear = Annotated[str, Field(pattern=r"^\d{4}/\d{2}$"), AfterValidator(_academic_year)]


def _pupil_key(value: str) -> str:
    """A feature record's UPN or pseudonym: something to join on. Blanks or separators alone ("   ",
    "---") passed the length check and were scored under a key no client can match to a pupil."""
    if not any(c.isalnum() for c in value):
        raise PydanticCustomError("pupil_key", "no letter or digit: not a UPN or pseudonym")
    return value


PupilKey = Annotated[str, AfterValidator(_pupil_key)]


# The longest pupil key any route takes (a UPN is 13 characters; the LA's pseudonym may be longer): one limit
# for every route, where /explain/file took 32 and the others 64 (an integrator's find)
UPN_MAX_CHARS = 64

FeatureRecord = create_model(
    "FeatureRecord",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE_FEATURES}),
    __doc__="One pupil's registry features as known on census day. A feature left out is missing "
    "(the model handles missing values); `need_level` is derived from the features when not given.",
    upn=(PupilKey, Field(min_length=1, max_length=UPN_MAX_CHARS, description="The pupil's UPN or the LA's "
                    "pseudonym; a UPN is scored and echoed in its tidy form (spaces and dashes removed, "
                    "upper case), as the census routes name pupils; any other value (a pseudonym) as sent.")),
    need_level=(int | None, Field(None, ge=0, le=3, strict=True, description="Risk-matrix need axis 0-3.")),
    school_urn=(str | None, Field(None, pattern=SCHOOL.pattern, description="School URN (6 digits) or "
                                  "LAEstab (7 digits), as the census gives it; echoed for filtering.")),
    **{f.name: _feature_field(f) for f in registry.FEATURES},
)


class CensusRecord(BaseModel):
    """A census-shaped row as a school MIS exports it. Column names and aliases are those of the data
    contract (e.g. `Gender` for `Sex`, `Estab` for `SchoolURN`), matched case-insensitively; values are
    validated by the same reader as CSV uploads, the UPN included (`UPN`, `upn`, `UniquePupilNumber` ...:
    a row without one is refused by the reader, naming the row and field). Names and dates of birth are
    read and then dropped."""

    # No field of its own: a `UPN: str` field refused `upn` and `UniquePupilNumber`, which the reader (and
    # an uploaded file) reads, with "UPN required" for every row.
    model_config = ConfigDict(extra="allow", json_schema_extra={"example": EXAMPLE_CENSUS})


class ScoreRequest(BaseModel):
    """Either `pupils` (feature records) or `census` (census-shaped rows), not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"pupils": [EXAMPLE_FEATURES]}, {"census": [EXAMPLE_CENSUS]}]},
    )

    pupils: list[FeatureRecord] | None = Field(None, min_length=1)  # type: ignore[valid-type]
    census: list[CensusRecord] | None = Field(None, min_length=1)
    academic_year: AcademicYear | None = Field(
        None,
        description="Census year to score (census input only), from 1990/91 to next year; default: the "
        "latest in the rows.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ScoreRequest:
        if (self.pupils is None) == (self.census is None):
            raise ValueError("give exactly one of `pupils` (feature records) or `census` (census rows)")
        return self


# --- scores ---------------------------------------------------------------------------------------


class ScoreRow(BaseModel):
    upn: str
    probability: float = Field(ge=0, le=1, description="Calibrated probability of suspension or exclusion.")
    likelihood_band: str
    need_level: int = Field(ge=0, le=3)
    rag: Literal["red", "amber", "green"]
    matrix_cell: str
    reasons: str = Field(description="Top factors raising the risk, in plain words, `; `-separated.")
    model_version: str
    school_urn: str | None = Field(None, description="The pupil's school at the census (scores.csv column).")
    nc_year: float | None = Field(None, description="NC year (0 = Reception, -1/-2 nursery): scores.csv.")
    need_label: str | None = Field(None, description="The need level in words, as the matrix legend says.")
    response: str | None = Field(None, description="The risk matrix's suggested response for this cell.")
    school_name: str | None = Field(None, description="The school's name where the census gives one.")
    reasons_lowering: str | None = Field(None, description="The child's own factors lowering the risk.")
    context: str | None = Field(None, description="Context, not about the child (year group, school "
                                "rate, home area), each marked as raising or lowering the risk.")
    band_precision: float | None = Field(None, ge=0, le=1, description="Share of the model's test-year "
                                         "pupils in this likelihood band who were suspended or excluded.")
    band_precision_ci: str | None = Field(None, description="Its 95% interval, `low-high`.")
    missing_features: list[str] | None = Field(None, description="Feature records only: the model's "
                                               "features this record left out, scored as missing.")


# --- scoring runs: what changed since the last scoring --------------------------------------------

Rag = Literal["red", "amber", "green"]


class RunInfo(BaseModel):
    """A census scoring as recorded by the service (no pupil identifiers)."""

    id: str = Field(description="The run's id.")
    recorded_at: str = Field(description="When it was scored (UTC, ISO 8601).")
    pupils: int
    schools: int
    model_version: str
    risk_matrix_version: str
    year: str = Field(description="Academic year of the census scored, e.g. 2018/19.")
    census: str = Field(
        description="The census scored: `autumn`, `spring` or `summer` (the model's reference census)."
    )


class RunSummary(RunInfo):
    model_name: str
    rag: dict[str, int] = Field(description="Pupils rated red, amber and green.")


class RunSince(BaseModel):
    id: str
    recorded_at: str
    year: str
    census: str = Field(description="The census that scoring read: autumn, spring or summer.")
    model_version: str


class LeaversNotListed(BaseModel):
    school_urn: str
    reason: str = Field(description="Why its earlier pupils missing from the upload are not listed (no pupil "
                        "named).")


CHANGE_MEANINGS = {
    "new_red": "Red now; not red at the pupil's latest earlier scoring, or never scored before.",
    "rating_up": "A higher RAG rating than at the pupil's latest earlier scoring, in the same likelihood "
    "band (the need level changed, or the risk matrix); not red now (that is new_red).",
    "rating_down": "A lower RAG rating, in the same likelihood band.",
    "need_up": "A higher need level than at the pupil's latest earlier scoring, in the same likelihood band "
    "and with the same RAG rating: the risk matrix's cell, and so perhaps its suggested response, changed. "
    "Counted only where both scorings kept need levels (runs recorded before they were have none: "
    "`notes` says so).",
    "need_down": "A lower need level, in the same likelihood band and with the same RAG rating.",
    "moved_up": "In a higher likelihood band than at the pupil's latest earlier scoring (a rating that "
    "changed with it is said in the pupil's `label`).",
    "moved_down": "In a lower likelihood band.",
    "no_longer_on_roll": "At one of these schools in the school's latest earlier scoring that, like this "
    "cohort, plausibly holds the school's census; not in this cohort.",
    "new_on_roll": "Never scored before; now at a school an earlier scoring covered; not red (a red joiner "
    "is new_red, its `label` saying new on roll).",
}
ChangeCounts = create_model(
    "ChangeCounts",
    __doc__="Pupils with each kind of change.",
    **{change: (int, Field(description=CHANGE_MEANINGS[change])) for change in CHANGES},
)


class PupilChange(BaseModel):
    upn: str
    school_urn: str | None = None
    change: Literal[CHANGES]  # type: ignore[valid-type]
    before_band: str | None = None
    after_band: str | None = None
    before_rag: Rag | None = None
    after_rag: Rag | None = None
    before_need: int | None = Field(None, description="The need level (0-3) at the earlier scoring; null "
                                    "for a pupil new on roll, and where that scoring kept none (recorded "
                                    "before need levels were kept).")
    after_need: int | None = Field(None, description="The need level now; null for a pupil no longer on "
                                   "roll.")
    label: str = Field("", description="The change in words, as the page and the workbook say it: 'rating "
                       "up: green to amber (same likelihood band; need level 1 to 2)', 'need level up: 1 to "
                       "2 (still amber, same likelihood band)', 'moved down: high to medium; rating down: "
                       "amber to green', 'new red (was amber, high likelihood)', 'new red; new on roll (not "
                       "scored before)'.")


class RunChanges(BaseModel):
    """What changed since the most recent earlier scoring of the same year and census term that covered
    any of the same schools (only schools an earlier scoring covered are compared): each pupil against
    their latest scoring of that year and term up to it."""

    since: RunSince
    counts: ChangeCounts  # type: ignore[valid-type]
    notes: list[str] = Field(
        [], description="What the counts do not say on their own, in the words of `exclusion-risk score "
        "--compare-with` and the workbook: the schools not compared (scored by only one of the two "
        "scorings: their pupils are in no count), an earlier scoring of another census or year (what changed "
        "between the censuses shows as changes), a change of model or risk matrix between them (a "
        "pupil may have moved band because the model did), and how many pupils were compared with an "
        "earlier scoring that kept no need level for them (their need-level changes cannot be seen)."
    )
    pupils: list[PupilChange] = Field(description="Each pupil whose place changed, new red first.")
    schools_compared: int = Field(
        description="How many of this upload's schools the earlier scorings held. 0 (a run named by "
        "`since` that scored none of them, another authority's say): nothing is compared, and every count "
        "is 0 for that reason, not because no pupil changed."
    )
    leavers_not_listed: list[LeaversNotListed] = Field(
        description="Schools whose earlier pupils missing from this upload are not listed as no longer on "
        "roll: no earlier scoring of the school and this upload both plausibly hold its census (10+ pupils "
        "there then, two thirds of them in the upload, and two thirds of the upload's there then)."
    )
    leavers_not_listed_notes: list[str] = Field(
        [], description="The same schools said once per reason, naming the schools (the first 10, and how "
        "many more): what the page, the workbook and `exclusion-risk score --compare-with` say."
    )


class RunsResponse(BaseModel):
    notice: str = DECISION_SUPPORT_NOTICE
    total: int = Field(description="Census scorings this key may see, on every page together.")
    runs: list[RunSummary] = Field(description="Recent census scorings, newest first: at most `limit` of "
                                   "them; the next page is `before` the last one's `id`.")


class EarlierScoresRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"upn": EXAMPLE_UPN}})

    upn: str = Field(min_length=1, max_length=UPN_MAX_CHARS,
                     description="The pupil's UPN (in the body, never the URL).")


class EarlierScore(BaseModel):
    run_id: str
    recorded_at: str
    year: str
    # three scorings of one year (autumn, spring, summer) were told apart by their date alone
    census: str | None = Field(None, description="The census term scored (autumn, spring, summer).")
    probability: float = Field(ge=0, le=1)
    likelihood_band: str
    rag: Rag
    model_version: str


class EarlierScoresResponse(BaseModel):
    notice: str = DECISION_SUPPORT_NOTICE
    upn: str
    scores: list[EarlierScore] = Field(description="The pupil's scores in recorded runs, newest first.")


class ScoreResponse(BaseModel):
    notice: str = Field(DECISION_SUPPORT_NOTICE, description="Scores are decision support, never decisions.")
    model_version: str
    pupils: int = Field(description="Pupils scored.")
    history: Literal["linked", "none", "not needed"] = Field(
        description="Whether linked history (earlier exclusions, social care) fed the features: `not "
        "needed` for feature records, `linked` for census rows (without a history the service refuses "
        "census rows with 503; `none` is only seen from services before that change)."
    )
    missing_features: list[str] = Field([], description="Features not computed (census), or left out of "
                                        "some feature record, scored as missing.")
    warnings: list[str] = Field([], description="What the features lack, and an uploaded file's read "
                                "notes (lines skipped as no record, ...), in plain words.")
    rejected: list[FieldError] = Field(
        default_factory=list, description="Rows left out (only with `skip_invalid=true`)."
    )
    scores: list[ScoreRow] = Field(description="Highest risk first.")
    run: RunInfo | None = Field(None, description="Census scoring only: the run it was recorded as.")
    changes: RunChanges | None = Field(
        None, description="Census scoring only: what changed since the most recent earlier scoring of the "
        "same year and census term of any of the same schools (as `exclusion-risk score --compare-with "
        "last`); null when there is none: a scoring of another year or term is never compared with."
    )
    drift_warnings: list[str] = Field([], description="Census scoring: drift warnings (models/drift.yaml).")
    fairness_findings: list[str] = Field(
        [], description="Census scoring: the fairness review's calibration findings logged with this model "
        "version (a group whose probabilities run high or low, and how to read them); none where the "
        "version was never reviewed or the review found none."
    )


class Factor(BaseModel):
    feature: str
    label: str
    value: str = Field(description="The pupil's value, in plain words.")
    contribution: float = Field(description="Effect on the model's raw score (SHAP).")


class PupilExplanation(BaseModel):
    upn: str
    probability: float = Field(ge=0, le=1)
    likelihood_band: str
    need_level: int = Field(ge=0, le=3)
    rag: Literal["red", "amber", "green"]
    matrix_cell: str
    response: str = Field(description="Suggested response tier for the pupil's matrix cell.")
    scale: str = Field(description="Scale of the contributions: log-odds or probability.")
    raising: list[Factor] = Field(description="Factors raising this pupil's risk, largest first.")
    lowering: list[Factor] = Field(description="Factors lowering it, largest first.")


class ExplainResponse(BaseModel):
    notice: str = DECISION_SUPPORT_NOTICE
    model_version: str
    history: Literal["linked", "none", "not needed"]
    missing_features: list[str] = Field(default_factory=list)
    warnings: list[str] = Field([], description="What the features lack, and an uploaded file's read "
                                "notes (lines skipped as no record, ...), in plain words.")
    rejected: list[FieldError] = Field(
        default_factory=list, description="Rows or feature records left out (only with `skip_invalid=true`)."
    )
    pupils: list[PupilExplanation]


class ReloadResponse(BaseModel):
    previous_version: str | None
    model_version: str
    load_seconds: float
