"""The data contract in code (../shared/DATA_CONTRACT.md): column names in and out, defined once.

Inputs: each extract's columns in the contract's order (what the synthetic generator writes) and the
other header spellings a reader accepts for them, an MIS export's among them. Outputs: the columns
of `links.csv`, `scores.csv` and every rejects file. The generator (synth), the readers' header
aliases (linkage), the scorer (models) and the service (serving) take their column names from here;
the readers' field definitions are checked against `READ_COLUMNS`.
"""

from __future__ import annotations

# --- inputs --------------------------------------------------------------------------------------

# The census's optional school-name column: read as text, never a model input, carried beside SchoolURN
# into the feature table and from there into scores.csv's `school_name` (blank where no row names it).
SCHOOL_NAME = "SchoolName"
CENSUS_COLUMNS = [
    "UPN", "FormerUPN", "Surname", "Forename", "MiddleNames", "PreferredSurname", "FormerSurname", "DOB",
    "Sex", "Ethnicity", "FSMeligible", "SENprovision", "SENtype", "NCyearActual", "Postcode", "LSOA",
    "SchoolURN", SCHOOL_NAME, "AcademicYear", "CensusTerm", "SessionsPossible", "SessionsAuthorisedAbsence",
    "SessionsUnauthorisedAbsence",
]  # fmt: skip
EXCLUSION_COLUMNS = [
    "RecordID", "UPN", "Surname", "Forename", "DOB", "Sex", "SchoolURN", "Category", "StartDate", "Sessions",
    "Reason",
]  # fmt: skip
SOCIAL_CARE_COLUMNS = [
    "LAchildID", "UPN", "Surname", "Forename", "DOB", "Sex", "Ethnicity", "Postcode", "Status", "StartDate",
    "EndDate", "PrimaryNeed", "Factors",
]  # fmt: skip

# Termly attendance files keyed by UPN (the contract's alternative to the census's Sessions* columns).
TERMLY_ATTENDANCE_COLUMNS = [
    "UPN", "TermlySessionsPossible", "TermlySessionsAuthorised", "TermlySessionsUnauthorised",
]  # fmt: skip

# Everything a reader takes from each extract, in order: the columns above plus the optional ones the
# contract allows beside them (a secondary SEN need; the enrolment status of an MIS export, which says
# which school of a dual registration is the subsidiary one; a second and third exclusion reason; the
# census's school name is optional too, fields.CENSUS_FIELDS says which are required). The readers'
# field definitions (linkage/fields.py) are checked against these lists by the tests.
_AFTER_SEN_TYPE = CENSUS_COLUMNS.index("SENtype") + 1  # the secondary need sits beside the primary
_AFTER_SCHOOL = CENSUS_COLUMNS.index(SCHOOL_NAME) + 1  # the enrolment status, after the school's URN and name
READ_COLUMNS: dict[str, list[str]] = {
    "census": [
        *CENSUS_COLUMNS[:_AFTER_SEN_TYPE], "SENtype2", *CENSUS_COLUMNS[_AFTER_SEN_TYPE:_AFTER_SCHOOL],
        "EnrolStatus", *CENSUS_COLUMNS[_AFTER_SCHOOL:],
    ],
    "exclusions": [*EXCLUSION_COLUMNS, "Reason2", "Reason3"],
    "social_care": list(SOCIAL_CARE_COLUMNS),
    "attendance": list(TERMLY_ATTENDANCE_COLUMNS),
}

# How a school MIS exports the census columns whose names differ from the CBDS's (headers are
# compared ignoring case, spaces and punctuation, so `DoB` and `Middlenames` need no alias).
MIS_CENSUS_HEADERS = {
    "SchoolURN": "Estab",
    "MiddleNames": "Middlenames",
    "Sex": "Gender",
    "DOB": "DoB",
    "SENtype": "SENNeed1",
    "SENtype2": "SENNeed2",
    "FSMeligible": "FSME on Census Day",
    SCHOOL_NAME: "School Name",  # the same header once spaces are ignored: no alias needed
}
# An MIS census export's columns, in its order (with columns the project does not use).
MIS_CENSUS_COLUMNS = [
    "Estab", MIS_CENSUS_HEADERS[SCHOOL_NAME], "UPN", "FormerUPN", "Surname", "Forename", "Middlenames",
    "PreferredSurname", "FormerSurname", "Gender", "DoB", "EnrolStatus", "EntryDate", "NCyearActual",
    "Ethnicity", "Language", "SENprovision", "SENNeed1", "SENNeed2", "Postcode", "LSOA", "AcademicYear",
    "CensusTerm", "SessionsPossible", "SessionsAuthorisedAbsence", "SessionsUnauthorisedAbsence",
    "FSME on Census Day",
]  # fmt: skip

_SCHOOL = ("URN", "LAEstab", MIS_CENSUS_HEADERS["SchoolURN"])
_PUPIL = {
    "Surname": ("LegalSurname",),
    "Forename": ("LegalForename", "FirstName"),
    "DOB": ("DateOfBirth",),
    "Sex": (MIS_CENSUS_HEADERS["Sex"],),
}
# Extract -> canonical column -> the other header spellings accepted for it.
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "census": {
        **_PUPIL,
        "UPN": ("UniquePupilNumber",),
        "Ethnicity": ("EthnicCode",),
        "FSMeligible": (MIS_CENSUS_HEADERS["FSMeligible"], "FSME", "FSM"),
        "SENtype": (MIS_CENSUS_HEADERS["SENtype"], "SENPrimaryNeed"),
        "SENtype2": (MIS_CENSUS_HEADERS["SENtype2"],),
        "NCyearActual": ("NCYear", "YearGroup"),
        "Postcode": ("HomePostcode",),
        "LSOA": ("LSOA11CD", "LSOA11", "LSOACode"),
        "SchoolURN": _SCHOOL,
        SCHOOL_NAME: ("School", "EstablishmentName", "EstabName"),
        "CensusTerm": ("Term",),
        "EnrolStatus": ("EnrolmentStatus",),
        "SessionsAuthorisedAbsence": ("SessionsAuthorised",),
        "SessionsUnauthorisedAbsence": ("SessionsUnauthorised",),
    },
    "exclusions": {
        **_PUPIL,
        "RecordID": ("ExclusionID",),
        "SchoolURN": _SCHOOL,
        "Category": ("ExclusionCategory",),
        "StartDate": ("ExclusionStartDate",),
        "Sessions": ("ExclusionSessions",),
        "Reason": ("ReasonCode", "ExclusionReason", "Reason1"),
    },
    "social_care": {
        **_PUPIL,
        "LAchildID": ("ChildID",),
        "PrimaryNeed": ("CINPrimaryNeed",),
        "Factors": ("AssessmentFactors",),
    },
    "attendance": {},
}

# --- outputs -------------------------------------------------------------------------------------

LINKS_FILE = "links.csv"  # in the output folder of `exclusion-risk link`, which later commands read
LINKAGE_REPORT_FILE = "report.json"  # beside it: counts and link rates (the service reports the rates)
LINKS_COLUMNS = ["source", "record_id", "upn", "method", "score"]
SCORE_COLUMNS = [
    "upn", "probability", "likelihood_band", "need_level", "rag", "matrix_cell", "reasons", "model_version",
]  # fmt: skip  (scores.csv and the service's JSON, in this order)
# scores.csv after SCORE_COLUMNS, in the contract's order (DATA_CONTRACT.md): what an officer sorts and
# filters by (school, year group), the need level and the risk matrix's suggested response in words, the
# child's own factors lowering the risk, the context factors (year group, school, home area) with their
# direction, and how sure: the likelihood band's realised precision on the model's test year and its
# 95% interval (blank where suppressed or not measured). school_name is the census's SchoolName for the
# pupil's school (the name most of the scored collection's rows give it), blank where none gives one.
SCORE_OFFICER_COLUMNS = [
    "school_urn", "school_name", "nc_year", "need_label", "response", "reasons_lowering", "context",
    "band_precision", "band_precision_ci",
]  # fmt: skip
# scores.csv's last column, and the feature table's second: the pupil as the linkage knows them across
# years (links.csv's `upn`). Both files' `upn` is the UPN on the pupil's row of the census scored (the one
# the school's list shows); the two differ where a temporary UPN was replaced (FormerUPN) or a mistyped
# one matched, so the files join on either column and lose nobody.
PUPIL_KEY = "pupil_upn"
REJECT_COLUMNS = ["file", "row", "column", "value", "reason"]  # every rejects.csv
