"""What each extract's columns are called, which are required, and what kind of value each holds.

Each extract is a tuple of `Field`s: canonical name, the header spellings accepted for it (the data
contract's aliases, an MIS export's among them), kind, whether the column must be in the file and
whether a blank value is allowed. Headers are matched ignoring case, spaces and punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from exclusion_risk.contract import HEADER_ALIASES, SCHOOL_NAME
from exclusion_risk.linkage import codes

KINDS = (
    "upn", "text", "school", "id", "code", "date", "whole", "number", "year", "reasons", "factors",
    "postcode", "lsoa",
)  # fmt: skip


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool = True  # the column must be in the file
    nullable: bool = True  # a blank value is allowed
    aliases: tuple[str, ...] = ()
    mapping: dict | None = None  # code kinds: accepted spelling -> canonical code
    label: str = ""  # what the code list is called in messages
    # A value the contract does not list is read as blank and the row kept (counted, its rows named in the
    # file's note): a detail of a record whose typo must not cost the record. A social-care episode was
    # rejected whole for 'Domestic abuse' in Factors or 'White British' in Ethnicity, and the child's open
    # looked-after status went with it (a social-care data lead's find).
    blank_if_unknown: bool = False
    # With blank_if_unknown: what of such a value is kept rather than blanked ('3A; Domestic abuse' keeps
    # its 3A), None where nothing is
    salvage: Callable[[str], str | None] | None = None
    hint: str = ""  # after "unknown <label> code": what is read (the codes and words), where it helps

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind}")


def header_key(name: str) -> str:
    """How headers are compared: case, spaces and punctuation ignored ('FSME on Census Day')."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


_NAMES = (
    Field("Surname", "text"),
    Field("Forename", "text"),
)

CENSUS_FIELDS = (
    Field("UPN", "upn", nullable=False),
    Field("FormerUPN", "upn", required=False),
    *_NAMES,
    Field("MiddleNames", "text", required=False),
    Field("PreferredSurname", "text", required=False),
    Field("FormerSurname", "text", required=False),
    Field("DOB", "date", nullable=False),
    Field("Sex", "code", mapping=codes.SEX_MAP, label="Sex"),
    Field("Ethnicity", "code", mapping=codes.ETHNICITY_MAP, label="Ethnicity"),
    Field(
        "FSMeligible",
        "code",
        mapping=codes.FSM_MAP,
        label="FSM",
    ),
    Field("SENprovision", "code", nullable=False, mapping=codes.SEN_PROVISION_MAP, label="SEN provision"),
    Field(
        "SENtype",
        "code",
        mapping=codes.SEN_TYPE_MAP,
        label="SEN type",
    ),
    Field(
        "SENtype2",
        "code",
        required=False,
        mapping=codes.SEN_TYPE_MAP,
        label="SEN type",
    ),
    Field(
        "NCyearActual",
        "code",
        nullable=False,
        mapping=codes.NC_YEAR_MAP,
        label="NC year",
    ),
    Field("Postcode", "postcode", required=False),
    Field("LSOA", "lsoa", required=False),
    Field("SchoolURN", "school", nullable=False),
    Field(SCHOOL_NAME, "text", required=False),  # free text: the broken-text checks bound it (decoding)
    Field("EnrolStatus", "code", required=False, mapping=codes.ENROL_STATUS_MAP, label="enrolment status"),
    Field("AcademicYear", "year", nullable=False),
    Field(
        "CensusTerm", "code", nullable=False, mapping=codes.CENSUS_TERM_MAP, label="term"
    ),
    Field("SessionsPossible", "whole", required=False),
    Field("SessionsAuthorisedAbsence", "whole", required=False),
    Field("SessionsUnauthorisedAbsence", "whole", required=False),
)

EXCLUSION_FIELDS = (
    Field("RecordID", "id", required=False, nullable=False),
    Field("UPN", "upn"),
    Field("Surname", "text", required=False),
    Field("Forename", "text", required=False),
    # linkage's fallback when the UPN fails, no more: a placeholder DOB (00/00/0000) or a Sex of 'Not known'
    # lost the whole exclusion, its UPN sound (an exclusions data lead's find)
    Field("DOB", "date", required=False, blank_if_unknown=True),
    Field("Sex", "code", required=False, mapping=codes.SEX_MAP, label="Sex", blank_if_unknown=True),
    Field("SchoolURN", "school", nullable=False),
    Field(
        "Category",
        "code",
        nullable=False,
        mapping=codes.CATEGORY_MAP,
        label="exclusion category",
        hint=codes.CATEGORY_HINT,
    ),
    Field("StartDate", "date", nullable=False),
    Field("Sessions", "number"),
    Field("Reason", "reasons"),
    Field("Reason2", "reasons", required=False),
    Field("Reason3", "reasons", required=False),
)

SOCIAL_CARE_FIELDS = (
    Field("LAchildID", "id", nullable=False),
    Field("UPN", "upn", required=False),
    *_NAMES,
    Field("DOB", "date"),
    Field("Sex", "code", mapping=codes.SEX_MAP, label="Sex"),
    Field("Ethnicity", "code", required=False, mapping=codes.ETHNICITY_MAP, label="Ethnicity",
          blank_if_unknown=True),
    Field("Postcode", "postcode", required=False),
    Field("Status", "code", nullable=False, mapping=codes.STATUS_MAP, label="social-care status"),
    Field("StartDate", "date", nullable=False),
    Field("EndDate", "date"),
    Field(
        "PrimaryNeed",
        "code",
        required=False,
        mapping=codes.PRIMARY_NEED_MAP,
        label="primary need",
        blank_if_unknown=True,
    ),
    Field("Factors", "factors", required=False, blank_if_unknown=True, salvage=codes.known_factors),
)

# Termly attendance files (linkage.readers describes the folder layout).
ATTENDANCE_FIELDS = (
    Field("UPN", "upn", nullable=False),
    Field("TermlySessionsPossible", "whole", nullable=False),
    Field("TermlySessionsAuthorised", "whole"),
    Field("TermlySessionsUnauthorised", "whole"),
)


def _with_aliases(extract: str, fields: tuple[Field, ...]) -> tuple[Field, ...]:
    """The fields with the header spellings the data contract accepts for each (contract.HEADER_ALIASES)."""
    aliases = HEADER_ALIASES[extract]
    return tuple(replace(f, aliases=aliases.get(f.name, ())) for f in fields)


FIELDS: dict[str, tuple[Field, ...]] = {
    "census": _with_aliases("census", CENSUS_FIELDS),
    "exclusions": _with_aliases("exclusions", EXCLUSION_FIELDS),
    "social_care": _with_aliases("social_care", SOCIAL_CARE_FIELDS),
    "attendance": _with_aliases("attendance", ATTENDANCE_FIELDS),
}
