"""The read's note on optional contract columns a file lacks: what is lost, and the likely header.

An optional column absent, or under a header the reader does not know (`SessionsAuthorizedAbsence`,
`Unauthorised Absence`), was silently ignored, and whole feature groups vanished (attendance features
blank for every pupil) while `check` said nothing. Each optional column whose absence costs a feature or
a linkage method is named when absent, with what is lost; any optional column is named when an unread
header of the file is close to it (difflib on the headers as compared: case, spaces and punctuation
ignored), with that header as the likely one. Headers are no pupil's values: naming them is safe.
"""

from __future__ import annotations

import difflib

from exclusion_risk.linkage.fields import Field, header_key
from exclusion_risk.linkage.rejects import visible
from exclusion_risk.values import and_join

_ABSENCE = "last year's absence features are blank for every pupil, unless termly attendance files give them"
_NAME_DOB = "exclusions without a UPN cannot be linked by name and date of birth"
# extract -> optional column -> what is lost without it
LOST: dict[str, dict[str, str]] = {
    "census": {
        "SessionsPossible": _ABSENCE,
        "SessionsAuthorisedAbsence": _ABSENCE,
        "SessionsUnauthorisedAbsence": _ABSENCE,
        # not FormerUPN: most schools' exports leave it out, and a note on nearly every upload is noise
        # (a close unread header is still named, as for any optional column)
    },
    "exclusions": {"DOB": _NAME_DOB, "Surname": _NAME_DOB, "Forename": _NAME_DOB},
    "social_care": {
        "UPN": "social-care records are linked by name and date of birth only",
        "Factors": "the assessment-factor features are blank",
    },
}
CLOSE = 0.8  # difflib's ratio for a header to be named as the likely one
# Other names systems give a column, offered as the likely one (never read as it: the contract's aliases
# are what is read): not misspellings, so difflib alone never offered them ("BirthDate" for DOB).
OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "DOB": ("BirthDate", "Birthday"),
    "Surname": ("LastName", "FamilyName"),
    "Forename": ("GivenName", "ChristianName"),
    "UPN": ("PupilNumber", "UniquePupilNo"),
    "LAchildID": ("ChildReference", "ChildRef", "PersonID"),
    "SchoolURN": ("DfENumber", "DfENo"),
}


def absent_notes(header: list[str], fields: tuple[Field, ...], mapping: dict[str, int], extract: str
                 ) -> list[str]:
    """One sentence per optional field of `fields` that `mapping` (contract name -> position) lacks and
    that is worth saying (LOST, or a close unread header), in the contract's order."""
    unread = unread_headers(header, set(mapping.values()))
    lost = LOST.get(extract, {})
    wanted = [f for f in fields if not f.required and f.name not in mapping]
    likely = likely_headers(wanted, list(unread))
    notes, absent = [], {}  # absent: what is lost -> the fields absent that lose it (one note for them)
    for f in wanted:
        without = f"without {f.name}, {lost[f.name]}" if f.name in lost else ""
        if f.name in likely:
            said = f"{visible(unread[likely[f.name]])} is not read: did you mean {f.name}?"
            notes.append(f"{said} ({without})" if without else said)
        elif without:
            absent.setdefault(lost[f.name], []).append(f.name)
    for loss, names in absent.items():
        if len(names) == 1:
            notes.append(f"{names[0]} is not in the file: without it, {loss}")
        else:
            notes.append(f"{and_join(names)} are not in the file: without them, {loss}")
    if extract == "exclusions":
        notes += _outcome_columns(unread)
    return notes


# Headers that mark whether an exclusion stood (a headteacher's rescinding, governors' or a review panel's
# reinstatement): the contract has no such column, so its rows were counted as exclusions that stood,
# raising the child's risk and setting the outcome, with no word (an exclusions data lead's find).
# A header of another subject ('SEN Status', 'Enrolment Status') is none: only an exclusion's own status,
# a review's outcome, or the words of undoing one.
_UNDOING = ("rescind", "withdrawn", "overturn", "reinstat")
_OUTCOME_ENDS = ("status", "outcome", "decision", "result")
_OF_AN_EXCLUSION = ("", "exclusion", "suspension", "review", "irp", "panel", "governor", "governors",
                    "appeal")


def _outcome_header(key: str) -> bool:
    if any(word in key for word in _UNDOING):
        return True
    return any(key.endswith(end) and key[: -len(end)] in _OF_AN_EXCLUSION for end in _OUTCOME_ENDS)


def _outcome_columns(unread: dict[str, str]) -> list[str]:
    named = [visible(header) for key, header in unread.items() if _outcome_header(key)]
    if not named:
        return []
    return [f"{and_join([repr(n) for n in named])} {'is' if len(named) == 1 else 'are'} not read: the "
            "contract has no way to mark an exclusion rescinded, withdrawn or overturned, so every row is "
            "read as an exclusion that stood (the child's history and the outcome it trains on); leave such "
            "exclusions out of the extract"]


def unread_headers(header: list[str], read: set[int]) -> dict[str, str]:
    """Compared form -> the header as written (the first of a spelling), for the columns not read."""
    unread: dict[str, str] = {}
    for position, name in enumerate(header):
        if position not in read and header_key(name):
            unread.setdefault(header_key(name), name)
    return unread


def close_header_hint(header: list[str], missing: list[Field], read: set[int]) -> str:
    """For a file missing required columns: each unread header close to one of them, as the likely one
    ("'DateOfBrith' is not read: did you mean DOB?"), or "". Only a header within difflib's CLOSE of a
    contract spelling is named; the caller asks only of a first line that names some contract column,
    so a first line of pupil values (a file without its header row) is never quoted."""
    unread = unread_headers(header, read)
    likely = likely_headers(missing, list(unread))
    said = [f"{visible(unread[likely[f.name]])!r} is not read: did you mean {f.name}?"
            for f in missing if f.name in likely]
    return f". {'; '.join(said)}" if said else ""


def likely_headers(fields: list[Field], unread: list[str]) -> dict[str, str]:
    """Field name -> the unread header (compared form) likeliest to be it: the closest pairs first, each
    header and field taken once (`SessionsAuthorizedAbsence` is SessionsAuthorisedAbsence's, though
    SessionsUnauthorisedAbsence is close to it too)."""
    pairs = []
    for f in fields:
        names = (f.name, *f.aliases, *OTHER_NAMES.get(f.name, ()))
        for spelling in dict.fromkeys(header_key(s) for s in names):
            for header in difflib.get_close_matches(spelling, unread, n=3, cutoff=CLOSE):
                pairs.append((difflib.SequenceMatcher(None, spelling, header).ratio(), f.name, header))
    likely: dict[str, str] = {}
    for _, name, header in sorted(pairs, key=lambda pair: -pair[0]):
        if name not in likely and header not in likely.values():
            likely[name] = header
    return likely
