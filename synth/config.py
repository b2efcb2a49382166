"""Every rate and setting of the synthetic authority, in one validated object.

Defaults describe a Walsall-like authority calibrated to published figures (the Walsall/BCU study,
DfE exclusion and CIN statistics). `load_config` reads overrides from YAML or JSON; any field can be
overridden, nested sections merge with the defaults.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from exclusion_risk import calendar
from exclusion_risk.synth.names import british_forename_tail, british_surname_tail

SEN_TYPES = ("SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthorityConfig(_Section):
    la_number: int = Field(335, ge=201, le=999, description="DfE LA number (335 = Walsall)")
    postcode_areas: list[str] = ["WS"]
    lsoa_prefixes: list[str] = Field(["E01010"], description="keep postcodes in these LSOAs (Walsall)")
    pupils_per_primary: float = 336.0
    pupils_per_secondary: float = 1210.0
    school_choice_nearest: int = Field(4, ge=1, description="a pupil picks among this many nearest schools")
    neighbour_las: list[int] = [330, 332, 333, 336, 860, 937]  # Birmingham, Dudley, Sandwell, Wolves...
    # A population too large for the authority's own postcodes (more than this many pupils a
    # postcode) is housed across the wider region's postcode areas instead, LSOA filter dropped.
    max_pupils_per_postcode: float = Field(20.0, gt=0)
    region_postcode_areas: list[str] = ["WS", "WV", "B"]


class PopulationConfig(_Section):
    ethnicity_shares: dict[str, float] = {
        "WBRI": 0.64, "WIRI": 0.002, "WOTH": 0.04, "WROM": 0.004, "MWBC": 0.03, "MWBA": 0.007,
        "MWAS": 0.012, "MOTH": 0.012, "AIND": 0.07, "APKN": 0.085, "ABAN": 0.035, "AOTH": 0.008,
        "CHNE": 0.003, "BCRB": 0.018, "BAFR": 0.02, "BOTH": 0.004, "OOTH": 0.006, "REFU": 0.003,
        "NOBT": 0.001,
    }  # fmt: skip
    extended_code_share: float = Field(0.04, ge=0, le=1, description="rows written with an extended code")
    twin_share: float = Field(0.03, ge=0, le=0.2, description="share of pupils who are a twin")
    hyphenated_surname_share: float = 0.03
    # A study knob, not a calibration: the British pool's 106 surnames give 1 in 53 pairs of British
    # children the same surname, far more than real records, so name evidence is weak once millions
    # of pupils are linked. This many invented place-style surnames (synth.surname_tail: Ashworth,
    # Brookfield, ...) follow the pool's own, rarer than them (bench/name_diversity.py). 0: the pool.
    british_surname_tail: int = Field(
        0, ge=0, le=len(british_surname_tail()), description="invented British surnames added"
    )
    # Its forenames likewise (the commonest boy's name is given to a tenth of British boys): this many
    # more forenames given in Britain (synth.forename_tail) follow the boys' and the girls' own. 0: the pool.
    british_forename_tail: int = Field(
        0, ge=0, le=len(british_forename_tail()[0]), description="more British forenames, per sex"
    )
    middle_name_share: float = 0.55
    preferred_surname_share: float = 0.02
    former_surname_share: float = 0.01
    annual_leaver_rate: float = Field(0.03, description="pupils leaving the authority each year")
    annual_arrival_rate: float = Field(0.03, description="pupils arriving from elsewhere each year")
    midyear_move_share: float = Field(0.35, description="share of arrivals/leavers moving mid-year")
    in_year_school_move_rate: float = Field(0.015, description="per-year chance of changing school")
    temporary_upn_share: float = Field(0.25, description="arrivals first recorded under a temporary UPN")
    invalid_upn_rate: float = Field(0.0005, description="census rows with a mistyped UPN")
    no_postcode_rate: float = 0.004
    lsoa_given_share: float = Field(0.6, description="census rows that also carry the LSOA code")
    besd_share_first_year: float = Field(0.05, description="first-year SEMH rows written as BESD")
    # FSM: logit P(FSM) = fsm_intercept + fsm_deprivation * (10 - IDACI decile) / 9 + ethnicity shift
    fsm_intercept: float = -2.95
    fsm_deprivation: float = 2.4
    fsm_ethnicity: dict[str, float] = {
        "APKN": 0.3,
        "ABAN": 0.5,
        "AIND": -0.9,
        "BAFR": 0.4,
        "MWBC": 0.6,
        "BCRB": 0.4,
        "WOTH": -0.3,
        "WROM": 0.8,
        "CHNE": -0.8,
    }
    fsm_term_churn: float = Field(0.08, description="per-term chance an FSM status is redrawn")
    # SEN: share of pupils who ever get SEN support by Year 11, and of those how many get an EHC plan
    sen_ever_share: float = 0.2
    sen_male_odds: float = 2.1
    sen_fsm_odds: float = 1.8
    ehc_share_of_sen: float = 0.18
    sen_resolve_share: float = 0.25
    sen_type_shares: dict[str, float] = {
        "SLCN": 0.23, "MLD": 0.19, "SEMH": 0.2, "SPLD": 0.1, "ASD": 0.1, "OTH": 0.05, "PD": 0.03,
        "HI": 0.015, "VI": 0.01, "SLD": 0.02, "PMLD": 0.005, "MSI": 0.002,
    }  # fmt: skip
    semh_male_odds: float = 1.8
    secondary_need_share: float = Field(0.25, description="SEN pupils with a second need (MIS style)")
    # Absence: logit(absence rate) ~ N(absence_logit_mean + shifts, absence_logit_sd)
    absence_logit_mean: float = -3.6
    absence_logit_sd: float = 0.6
    absence_year_noise_sd: float = 0.35
    absence_fsm_shift: float = 0.45
    absence_sen_shift: float = 0.3
    absence_deprivation_shift: float = 0.3
    unauthorised_share: float = 0.28


class RiskModel(_Section):
    """Coefficients of the true log-odds of at least one suspension/permanent exclusion in a year.

    For pupil i in year t, with everything measured at the autumn census:

        z = b0_t + male + ncy[NC year] + fsm_now * FSM + fsm_ever * (FSM before, not now)
            + sen_support * K + ehc_plan * E + sen_early * (K or E) * (NC year <= 2) + sen_type[type]
            + ethnicity[group] + deprivation * (10 - IDACI decile) / 9
            + absence * (last year's absence rate) + persistent_absence * (rate >= 10%)
            + new_to_authority * (no census last year)
            + susp_last_year * (any last year) + susp_count_last_year * log(count last year)
            + susp_before * (any suspension before last year) + perm_before * (any permanent before)
            + cin_open + cpp_open + cla_open (at census) + social_care_past * (closed episode before)
            + domestic_abuse * (factor 3A/3B/3C recorded before census)
            + school[school's propensity] + u_i,        u_i ~ N(0, pupil_sd)

    b0_t is solved each year so that the mean whole-year probability equals `base_rate`. The whole-year
    probability q = sigmoid(z) is split over school days: before census P = 1 - (1 - q)^f (f = share of
    the year's school days before census day); after census the true probability is
    1 - (1 - sigmoid(z + so_far * (event before census)))^(1 - f).
    """

    base_rate: float = Field(0.035, gt=0, lt=0.5, description="pupils with >=1 exclusion per year")
    male: float = 0.85
    ncy: dict[str, float] = {
        "R": -2.3, "1": -2.1, "2": -1.75, "3": -0.6, "4": -0.45, "5": -0.35, "6": -0.25,
        "7": 0.45, "8": 0.95, "9": 1.15, "10": 1.15, "11": 0.6,
    }  # fmt: skip
    fsm_now: float = 1.3
    fsm_ever: float = 0.45
    sen_support: float = 0.3
    ehc_plan: float = 0.35
    sen_early: float = 3.0
    sen_type: dict[str, float] = {
        "SEMH": 1.1,
        "ASD": 0.2,
        "MLD": 0.15,
        "SLCN": -0.1,
        "PMLD": -1.5,
        "SLD": -1.0,
        "PD": -0.5,
        "HI": -0.3,
        "VI": -0.3,
        "MSI": -0.5,
    }
    ethnicity: dict[str, float] = {
        "WBRI": 0.3, "WIRI": 0.0, "WOTH": -0.1, "WROM": 0.5, "MWBC": 0.85, "MWBA": 0.3, "MWAS": 0.0,
        "MOTH": 0.2, "AIND": -1.25, "APKN": -0.3, "ABAN": -1.35, "AOTH": -0.3, "CHNE": -0.6,
        "BCRB": 0.9, "BAFR": -0.2, "BOTH": 0.2, "OOTH": 0.0, "REFU": 0.0, "NOBT": 0.0,
    }  # fmt: skip
    deprivation: float = 0.3
    absence: float = 4.0
    persistent_absence: float = 0.3
    new_to_authority: float = 0.25
    susp_last_year: float = 1.5
    susp_count_last_year: float = 0.45
    susp_before: float = 0.5
    perm_before: float = 0.8
    so_far: float = 1.3
    cin_open: float = 0.6
    cpp_open: float = 1.2
    cla_open: float = 1.5
    social_care_past: float = 0.3
    domestic_abuse: float = 0.3
    pupil_sd: float = Field(0.3, ge=0, le=0.3, description="unobserved pupil effect (logit SD)")


class SchoolConfig(_Section):
    """School effects: stable over years and drawn independently of the school's area."""

    primary_effect_sd: float = 0.45
    secondary_effect_sd: float = 0.55
    high_excluder_share: float = Field(0.4, description="share of secondaries that use permanent exclusion")
    high_excluder_effect: float = 0.35
    # logit P(permanent | pupil has an exclusion after census) = a_t + the terms below, where a_t is
    # solved each year so that `perm_rate` of the autumn roll is permanently excluded
    perm_rate: float = Field(0.0015, gt=0, lt=0.05, description="pupils permanently excluded per year")
    perm_high_excluder: float = 1.3
    perm_secondary: float = -0.15
    perm_semh: float = 0.8
    perm_susp_last_year: float = 0.8
    perm_so_far: float = 0.6
    perm_events: float = 0.35


class ExclusionConfig(_Section):
    # suspensions beyond the first ~ Poisson(extra_events_mean * min(4, (q / base_rate) ** power))
    extra_events_mean: float = Field(0.6, description="mean extra suspensions for an average-risk pupil")
    extra_events_power: float = 0.5
    fixd_share_before_2020: float = Field(0.8, ge=0, le=1, description="pre-2020/21 rows coded FIXD")
    lunch_share: float = 0.03
    two_reasons_share: float = 0.18
    three_reasons_share: float = 0.05
    reason_shares: dict[str, float] = {
        "PD": 0.32, "VA": 0.19, "PA": 0.14, "PP": 0.12, "OT": 0.1, "VP": 0.04, "DA": 0.03, "DM": 0.025,
        "BU": 0.01, "RA": 0.01, "SM": 0.006, "TH": 0.009,
    }  # fmt: skip
    session_lengths: dict[int, float] = {1: 0.12, 2: 0.42, 3: 0.08, 4: 0.18, 6: 0.1, 8: 0.04, 10: 0.06}


class SocialCareConfig(_Section):
    """Yearly episode starts: logit = intercept + propensity (deprivation, FSM, SEN, family N(0, sd)),
    the intercept solved so that the mean yearly chance of a new CIN episode is `cin_start_rate`."""

    cin_start_rate: float = Field(0.021, gt=0, lt=0.5)
    cpp_given_cin: float = 0.14
    cla_given_cin: float = 0.11
    cla_open_before_share: float = Field(0.006, description="children already looked after at the start")
    cin_open_before_share: float = Field(0.012, description="children already in need at the start")
    cin_mean_days: float = 240
    cpp_mean_days: float = 270
    cla_mean_days: float = 900
    propensity_deprivation: float = 1.1
    propensity_fsm: float = 1.0
    propensity_sen: float = 0.6
    propensity_sd: float = 0.9
    twin_shares_episode: float = Field(0.7, description="a twin's co-twin shares the episode")
    not_in_census_share: float = Field(0.12, description="social-care children absent from the census")
    cin_code_sex_share: float = Field(0.3, description="rows with Sex as CIN codes 1/2")
    domestic_abuse_share: float = 0.45
    primary_need_shares: dict[str, float] = {
        "N1": 0.53, "N2": 0.09, "N3": 0.03, "N4": 0.09, "N5": 0.15, "N6": 0.02, "N7": 0.01,
        "N8": 0.03, "N9": 0.01, "N0": 0.04,
    }  # fmt: skip


class NoiseRates(_Section):
    """Identifier noise in one extract (each a per-record probability)."""

    upn_blank: float = 0.0
    upn_stale: float = Field(0.0, description="former UPN where the pupil has one")
    upn_mistyped: float = 0.0
    upn_twin: float = Field(0.0, description="a twin recorded under the co-twin's UPN")
    transliteration: float = 0.0
    nickname: float = 0.0
    typo: float = 0.0
    name_swap: float = 0.0
    hyphen_part: float = Field(0.0, description="hyphenated surname recorded in part")
    dob_day_month_swap: float = 0.0
    dob_digit_slip: float = 0.0
    dob_blank: float = 0.0
    names_blank: float = 0.0
    postcode_stale: float = 0.0


def _exclusion_noise() -> NoiseRates:
    return NoiseRates(
        upn_blank=0.03,
        upn_stale=0.5,
        upn_mistyped=0.015,
        transliteration=0.1,
        nickname=0.03,
        typo=0.015,
        name_swap=0.005,
        hyphen_part=0.25,
        dob_day_month_swap=0.006,
        dob_digit_slip=0.006,
        names_blank=0.05,
        dob_blank=0.03,
    )


def _social_care_noise() -> NoiseRates:
    return NoiseRates(
        upn_blank=0.35,
        upn_stale=0.8,
        upn_mistyped=0.04,
        upn_twin=0.05,
        transliteration=0.35,
        nickname=0.1,
        typo=0.04,
        name_swap=0.03,
        hyphen_part=0.5,
        dob_day_month_swap=0.025,
        dob_digit_slip=0.025,
        postcode_stale=0.15,
    )


class NoiseConfig(_Section):
    exclusions: NoiseRates = Field(default_factory=_exclusion_noise)
    social_care: NoiseRates = Field(default_factory=_social_care_noise)


class OutputConfig(_Section):
    header_style: Literal["contract", "mis"] = "contract"
    date_format: Literal["iso", "uk"] | None = Field(None, description="default: iso, or uk for mis")


class SynthConfig(_Section):
    pupils: int = Field(62536, ge=300, description="pupils on roll at the first autumn census")
    years: list[str] = ["2015/16", "2016/17", "2017/18", "2018/19"]
    seed: int = 7
    authority: AuthorityConfig = Field(default_factory=AuthorityConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    risk: RiskModel = Field(default_factory=RiskModel)
    schools: SchoolConfig = Field(default_factory=SchoolConfig)
    exclusions: ExclusionConfig = Field(default_factory=ExclusionConfig)
    social_care: SocialCareConfig = Field(default_factory=SocialCareConfig)
    noise: NoiseConfig = Field(default_factory=NoiseConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @field_validator("years")
    @classmethod
    def _consecutive_years(cls, years: list[str]) -> list[str]:
        starts = [calendar.start_year(year) for year in years]  # ValueError names the bad year
        if not starts:
            raise ValueError("give at least one academic year")
        if starts != list(range(starts[0], starts[0] + len(starts))):
            raise ValueError("academic years must be consecutive and in order")
        return [calendar.format_year(s) for s in starts]

    @property
    def start_years(self) -> list[int]:
        return [int(y[:4]) for y in self.years]

    @property
    def date_format(self) -> str:
        if self.output.date_format:
            return self.output.date_format
        return "uk" if self.output.header_style == "mis" else "iso"


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in _REPLACED_MAPS:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# Maps of shares are replaced whole (a partial share table would not sum to one); coefficient maps merge.
_REPLACED_MAPS = {
    "ethnicity_shares",
    "sen_type_shares",
    "reason_shares",
    "session_lengths",
    "primary_need_shares",
}


def load_config(path: Path | None = None, **overrides: object) -> SynthConfig:
    """Defaults, then the YAML/JSON file at `path`, then keyword overrides (e.g. from the CLI)."""
    data: dict = SynthConfig().model_dump()
    if path is not None:
        text = Path(path).read_text(encoding="utf-8")
        try:
            loaded = json.loads(text) if Path(path).suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ValueError(
                f"{path} is not valid {'JSON' if str(path).endswith('.json') else 'YAML'}: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: the configuration must be a mapping of settings")
        data = _merge(data, loaded)
    data = _merge(data, {k: v for k, v in overrides.items() if v is not None})
    return SynthConfig.model_validate(data)
