"""Code lists of the extracts and how each accepted spelling maps to the canonical code.

Sources: the DfE Common Basic Data Set (CBDS) code sets for ethnicity (main and extended), SEN
provision and primary need, NC year, gender and exclusion category/reason; the CIN census codes
for sex, primary need and status. Every map below is `accepted spelling (upper case) -> canonical`;
anything not in a map is an unknown code, which the schemas reject (reasons are the exception:
an unknown reason code is read as group `other` and counted, because a row with a valid exclusion
and an unfamiliar reason code is still an exclusion).
"""

from __future__ import annotations

import itertools
import re

from exclusion_risk import calendar
from exclusion_risk.values import FALSE_WORDS, TRUE_WORDS

# --- ethnicity -----------------------------------------------------------------------------------

ETHNICITY_MAIN = (
    "WBRI WIRI WIRT WROM WOTH MWBC MWBA MWAS MOTH AIND APKN ABAN AOTH CHNE BCRB BAFR BOTH OOTH REFU NOBT"
).split()

# CBDS extended ethnicity codes (the finer categories an authority may collect) -> their main code.
_EXTENDED = {
    "WBRI": "WCOR WENG WSCO WWEL WOWB",
    "WROM": "WROG WROR WROO",
    "WOTH": "WALB WBOS WCRO WGRE WGRK WGRC WITA WKOS WPOR WSER WTUR WTUK WTUC WEUR WEEU WWEU WOTW WPOL",
    "MWAS": "MWAP MWAI MWAO",
    "MOTH": "MAOE MABL MACH MBOE MBCH MCOE MWOE MWCH MOTM",
    # AMPK/AKPA/AOPK are the CBDS codes; APKA is the data contract's own example of an extended code.
    "APKN": "AMPK AKPA AOPK APKA",
    "AOTH": "AAFR AKAO ANEP ASNL ASLT ASRO AOTA",
    "BAFR": "BANN BCON BGHA BNGN BSLN BSOM BSUD BAOF",
    "BOTH": "BEUR BNAM BOTB",
    "CHNE": "CHKC CMAL CSNG CTWN COCH",
    "OOTH": "OAFG OARA OEGY OFIL OIRN OIRQ OJPN OKOR OKRD OLAM OLEB OLIB OMAL OMRC OPOL OTHA OVIE OYEM OOEG",
}
ETHNICITY_MAP: dict[str, str] = {code: code for code in ETHNICITY_MAIN}
ETHNICITY_MAP.update({ext: main for main, codes in _EXTENDED.items() for ext in codes.split()})

# --- sex -----------------------------------------------------------------------------------------

# Census gender M/F (some MIS exports write the CIN digits); CIN: 1 male, 2 female, 0 not known,
# 9 not specified. Not known / not specified become missing, which is not a reason to reject.
SEX_MAP: dict[str, str | None] = {
    "M": "M",
    "F": "F",
    "1": "M",
    "2": "F",
    "MALE": "M",
    "FEMALE": "F",
    "0": None,
    "9": None,
    "U": None,
}

# --- free school meals ---------------------------------------------------------------------------

FSM_MAP: dict[str, bool] = {
    **{word.upper(): True for word in TRUE_WORDS},
    **{word.upper(): False for word in FALSE_WORDS},
}

# --- SEN -----------------------------------------------------------------------------------------

# N no SEN, K SEN support, E EHC plan. Pre-2014 files: A (School Action), P / Q (School Action
# Plus, with assessment) became SEN support; S (statement) became the EHC plan.
SEN_PROVISION_MAP: dict[str, str] = {"N": "N", "K": "K", "E": "E", "A": "K", "P": "K", "Q": "K", "S": "E"}

SEN_TYPES = "SPLD MLD SLD PMLD SEMH SLCN HI VI MSI PD ASD DS OTH NSA".split()
SEN_TYPE_MAP: dict[str, str] = {code: code for code in SEN_TYPES}
SEN_TYPE_MAP["BESD"] = "SEMH"  # behaviour, emotional and social difficulty: renamed in 2014

# --- NC year -------------------------------------------------------------------------------------

NC_YEARS = ["N1", "N2", "R"] + [str(y) for y in range(1, 15)]
NC_YEAR_MAP: dict[str, str] = {code: code for code in NC_YEARS}
NC_YEAR_MAP.update({f"0{y}": str(y) for y in range(1, 10)})
NC_YEAR_MAP.update({f"Y{y}": str(y) for y in range(1, 15)})
NC_YEAR_MAP.update({f"YEAR {y}": str(y) for y in range(1, 15)})
NC_YEAR_MAP.update({"RECEPTION": "R", "YR": "R", "NURSERY 1": "N1", "NURSERY 2": "N2"})
# The year as a number (features, the model, the service's JSON) and back to the census's code (what an
# officer reads and filters on: scores.csv, the workbook, the reports): Reception is 0, nursery -1, -2.
NC_YEAR_NUMBERS: dict[str, int] = {"N1": -2, "N2": -1, "R": 0, **{str(n): n for n in range(1, 15)}}
NC_YEAR_CODES: dict[int, str] = {n: code for code, n in NC_YEAR_NUMBERS.items()}


def nc_year_code(number: object) -> str | None:
    """The census's code of an NC year number (0 -> "R", -2 -> "N1", 9 -> "9"); None for none."""
    try:
        year = int(number)  # type: ignore[call-overload]
    except (TypeError, ValueError):  # None, NaN, pandas' NA
        return None
    return NC_YEAR_CODES.get(year, str(year))

# --- enrolment status ----------------------------------------------------------------------------

# The census's EnrolStatus (CBDS): C single registration, M main and S subsidiary of a dual
# registration (the pupil is on both schools' returns in the same collection), F further education,
# G guest, O other. Only S changes anything: the pupil's other row of that collection stands.
SUBSIDIARY_REGISTRATION = "S"
# MIS exports write the status in words ("Single Registration", "Main - Dual Registration",
# "Subsidiary – Dual Registration", "Guest Pupil"): read by the words that say which, the rest
# ("dual", "registration", "pupil") being the same in every status. "Dual" alone, or "Main Subsidiary",
# says neither and stays unknown.
_ENROL_STATUS_WORDS: dict[tuple[str, ...], str] = {
    **{(code,): code for code in "CMSFGO"},
    ("SINGLE",): "C", ("CURRENT",): "C", ("CURRENT", "SINGLE"): "C", ("MAIN",): "M", ("SUBSIDIARY",): "S",
    ("FURTHER", "EDUCATION"): "F", ("FE",): "F", ("GUEST",): "G", ("OTHER",): "O",
    ("OTHER", "PROVISION"): "O",
}  # fmt: skip
_ENROL_STATUS_FILLER = frozenset({"DUAL", "REGISTRATION", "REGISTERED", "PUPIL"})


class EnrolStatusWords(dict):
    """`accepted spelling -> code` for EnrolStatus, reading any spelling by its words (a code list's
    `in` and `get`, as the schemas and readers use them); iterating gives the plain spellings."""

    def __missing__(self, value):
        words = tuple(w for w in re.findall(r"[A-Z]+", str(value).upper()) if w not in _ENROL_STATUS_FILLER)
        code = _ENROL_STATUS_WORDS.get(words)
        if code is None and len(words) > 1 and _ENROL_STATUS_WORDS.get(words[1:]) == words[0]:
            code = words[0]  # the code, then its words: "M - Main (Dual Registration)"
        if code is None:
            raise KeyError(value)
        return code

    def __contains__(self, value) -> bool:
        return self.get(value) is not None

    def get(self, value, default=None):
        try:
            return self[value]
        except KeyError:
            return default


ENROL_STATUS_MAP = EnrolStatusWords({" ".join(words): code for words, code in _ENROL_STATUS_WORDS.items()})

# --- census term ---------------------------------------------------------------------------------

CENSUS_TERM_MAP: dict[str, str] = {
    **{t: t for t in calendar.CENSUS_TERMS},
    "AUTUMN": calendar.AUTUMN,
    "SPRING": calendar.SPRING,
    "SUMMER": calendar.SUMMER,
}


# --- exclusions ----------------------------------------------------------------------------------

# FIXD is the pre-2021 name of a suspension; a lunchtime exclusion (LUNC) counts as a suspension.
_CATEGORY_WORDS = {
    "PERM": ("PERMANENT", "PERMANENT EXCLUSION", "PERMANENTLY EXCLUDED"),
    "SUSP": ("SUSPENSION", "FIXED", "FIXED PERIOD", "FIXED PERIOD EXCLUSION", "FIXED PERIOD SUSPENSION",
             "FIXED TERM", "FIXED TERM EXCLUSION", "FIXED TERM SUSPENSION", "LUNCH", "LUNCH TIME",
             "LUNCHTIME", "LUNCHTIME SUSPENSION", "LUNCHTIME EXCLUSION", "LUNCHTIME FIXED PERIOD"),
}


def _spellings(phrase: str) -> list[str]:
    """`phrase` with each space written as a space or a hyphen ('FIXED-TERM EXCLUSION', 'FIXED TERM-...')."""
    words = phrase.split(" ")
    return [words[0] + "".join(sep + word for sep, word in zip(seps, words[1:], strict=True))
            for seps in itertools.product(" -", repeat=len(words) - 1)]


CATEGORY_MAP: dict[str, str] = {
    "PERM": "PERM",
    "SUSP": "SUSP",
    "FIXD": "SUSP",
    "LUNC": "SUSP",
    # as MIS exports and DfE guidance word them (an exclusions data lead's export lost these rows whole)
    **{spelling: code for code, phrases in _CATEGORY_WORDS.items() for phrase in phrases
       for spelling in _spellings(phrase)},
}
# What an unknown category is told: the spellings read, and that a rescinded exclusion has no category
CATEGORY_HINT = ("PERM, SUSP, FIXD or LUNC, or words such as Permanent, Suspension, Fixed period, "
                 "Lunchtime; a rescinded or withdrawn exclusion is none: leave it out of the extract")

OTHER_REASON_GROUP = "other"
REASON_GROUPS: dict[str, list[str]] = {
    # long-standing CBDS set
    "physical_assault": ["PP", "PA"],
    "verbal_abuse": ["VP", "VA"],
    "bullying": ["BU"],
    "discrimination": ["RA", "LG", "DS"],  # racist; sexual orientation / gender identity; disability
    "sexual_misconduct": ["SM"],
    "drug_alcohol": ["DA"],
    "damage": ["DM"],
    "theft": ["TH"],
    "persistent_disruption": ["PD", "DB"],
    OTHER_REASON_GROUP: ["OT"],
    # added by later CBDS versions (2020/21 on)
    "misuse_of_technology": ["MT"],
    "offensive_weapon": ["OW"],
    "public_health": ["PH"],  # wilful and repeated breach of protective measures (COVID-19)
}
REASON_MAP: dict[str, str] = {code: group for group, codes in REASON_GROUPS.items() for code in codes}
# Later CBDS versions split persistent disruptive behaviour into finer numbered codes (DB1, DB2, ...;
# some MIS write PD1, PD2, ...); any of them is read as persistent disruption.
_FINER_DISRUPTION = re.compile(r"^(?:DB|PD)\d{1,2}$")
REASON_SEPARATORS = r"[;,|/\r\n\t]"

# --- social care ---------------------------------------------------------------------------------

# The codes, and the words a case system's export gives for them: 'Looked After' was rejected as an
# unknown status code, the episode (and the child's looked-after status) lost (a social-care data lead).
STATUS_MAP: dict[str, str] = {
    "CIN": "CIN", "CPP": "CPP", "CLA": "CLA", "CP": "CPP", "LAC": "CLA",
    "CHILD IN NEED": "CIN", "CHILD PROTECTION PLAN": "CPP", "CHILD PROTECTION": "CPP", "CP PLAN": "CPP",
    "LOOKED AFTER": "CLA", "LOOKED AFTER CHILD": "CLA", "CHILD LOOKED AFTER": "CLA", "IN CARE": "CLA",
    "CHILD IN CARE": "CLA",
}  # fmt: skip
# An assessment factor code, in the CIN census's shape: a factor number 1-24 with its letter (3A, 22A), or
# 20 or 21, which have none ("35", "0A" or "99Z" is none)
FACTOR_CODE = r"(?:(?:[1-9]|1\d|2[0-4])[A-Za-z]|2[01])"
_CODE_AMONG_WORDS = re.compile(rf"^{FACTOR_CODE}$")


def known_factors(text: object) -> str | None:
    """The assessment factor codes of a cell holding some that are not ('3A, Domestic abuse' -> '3A',
    'Domestic abuse (3A)' -> '3A'; the "2" of "seen 2 times" is none), ';'-joined; None where it holds
    none: what a Factors cell keeps where its other words are read as blank (`fields.Field.salvage`)."""
    if not isinstance(text, str):
        return None
    tokens = re.split(r"[^0-9A-Za-z]+", text.upper())
    return ";".join(code for code in tokens if _CODE_AMONG_WORDS.match(code)) or None


PRIMARY_NEEDS = [f"N{i}" for i in range(10)]
PRIMARY_NEED_MAP: dict[str, str] = {code: code for code in PRIMARY_NEEDS}


def reason_group(code: str) -> str:
    """Reason group of one CBDS reason code; an unknown code is `other`."""
    if code in REASON_MAP:
        return REASON_MAP[code]
    if _FINER_DISRUPTION.match(code):
        return "persistent_disruption"
    return OTHER_REASON_GROUP


def is_known_reason(code: str) -> bool:
    return code in REASON_MAP or bool(_FINER_DISRUPTION.match(code))


# The DfE's descriptions of the reason codes, as an MIS may export them in place of the codes: read as
# "other", "Persistent disruptive behaviour" fed no disruption feature (an exclusions data lead's find).
# Compared in upper case with every run of other characters read as one space.
_REASON_DESCRIPTIONS = {
    "PP": ("physical assault against a pupil",),
    "PA": ("physical assault against an adult",),
    "VP": ("verbal abuse threatening behaviour against a pupil", "verbal abuse against a pupil"),
    "VA": ("verbal abuse threatening behaviour against an adult", "verbal abuse against an adult"),
    "OW": ("use or threat of use of an offensive weapon or prohibited item", "offensive weapon"),
    "BU": ("bullying",),
    "RA": ("racist abuse",),
    "LG": ("abuse against sexual orientation and gender identity",),
    "DS": ("abuse relating to disability",),
    "SM": ("sexual misconduct",),
    "DA": ("drug and alcohol related",),
    "DM": ("damage",),
    "TH": ("theft",),
    "PD": ("persistent disruptive behaviour", "persistent disruptive behavior", "persistent disruption"),
    "MT": ("inappropriate use of social media or online technology",),
    "PH": ("wilful and repeated transgression of protective measures in place to protect public health",),
    "OT": ("other",),
}
REASON_WORDS = {re.sub(r"[^A-Z0-9]+", " ", words.upper()).strip(): code
                for code, descriptions in _REASON_DESCRIPTIONS.items() for words in descriptions}
# Each description found anywhere in a cell, its words apart by any run of other characters ("Verbal
# abuse/threatening behaviour", "drug- and alcohol-related"), longest first: beside a code or another
# reason ("PD - Persistent disruptive behaviour", "Verbal abuse/...; PA"), or in Reason2, it was split at
# its "/" or its spaces and read as words in the group other.
_DESCRIBED = [(re.compile(r"(?<![A-Z0-9])" + r"[^A-Z0-9]+".join(map(re.escape, words.split()))
                          + r"(?![A-Z0-9])"), code)
              for words, code in sorted(REASON_WORDS.items(), key=lambda item: -len(item[0]))]


def split_reasons(text: str) -> list[str]:
    """An exclusion's reasons as codes, once each: each DfE description in the cell read as its code
    ('Persistent disruptive behaviour' -> 'PD'), then the rest as `split_codes` reads codes, a code's
    own punctuation dropped ('PD:', '(PD)', 'PD -')."""
    text = text.upper()
    for pattern, code in _DESCRIBED:
        text = pattern.sub(f";{code};", text)
    pieces = (re.sub(r"[^A-Z0-9 ]+", " ", piece) for piece in re.split(REASON_SEPARATORS, text))
    return list(dict.fromkeys(code for piece in pieces for code in split_codes(piece)))


def split_codes(text: str) -> list[str]:
    """'pp; va' -> ['PP', 'VA']: upper case, separators ; , | / or a line break or tab; within a piece,
    spaces are dropped where that gives a known code ('DB 1'), else they separate codes ('PD PA'). An
    MIS writing 'PD/PA', or a line break inside the cell, had both codes read as 'other' (a data
    officer's find)."""
    found = []
    for piece in re.split(REASON_SEPARATORS, text.upper()):
        joined = piece.replace(" ", "")
        if " " in piece.strip() and not is_known_reason(joined):
            found.extend(piece.split())
        elif joined:
            found.append(joined)
    return found
