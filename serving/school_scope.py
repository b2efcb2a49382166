"""School-scoped API keys: a key made with `keys add --school URN` is for those schools only.

A key with no schools is for the whole authority (the inclusion team's), as every key was before. A
scoped key (a school's own staff) is held to its schools on every route that reads or returns pupils:

- census scoring (`POST /score` with `census`, `/score/file`, `/explain`, `/explain/file`): the pupils
  to be scored must all be at the key's schools, else the request is refused (403) saying how many are
  not, at which of the school codes the request itself gives, and which schools the key is for, naming
  no pupil and nothing of a school the request does not. It is refused whether or not `skip_invalid` is
  sent: that flag sets aside rows that cannot be read, whereas a row of another
  school can be read, and its pupil's linked history (the authority's exclusions and social care) is
  not the key's to score; the warnings and counts of a scoring are made over every pupil read, so
  setting such rows aside after the features are built would still speak of them. Feature records
  (`POST /score` and `/explain` with `pupils`) are held to the same rule by their `school_urn`; a record
  without one is refused too, as its school cannot be known.
- runs: a scoped key sees a recorded run only when every pupil of it is at one of its schools
  (`visible_runs`): `GET /runs` lists those, and a run it cannot see is answered as an unknown run
  wherever one is named (`since`, `recorded_as`, `before`). A run recorded by the authority's key for
  many schools is therefore not the school's to list or compare with, though its pupils are partly
  the school's: listing it would give its counts of red, amber and green over every school.
- changes since an earlier run compare with the runs the key can see only, so "no longer on roll"
  lists only pupils the key's schools scored before.
- `POST /runs/earlier` returns a pupil's earlier scores only from rows at the key's schools (of any
  run): a pupil who moved from another school has no earlier scores there for the new school's key.

Admin keys are never scoped: they manage keys and reload the model for the whole service.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from fastapi import Request

from exclusion_risk.linkage.extract_frames import POINT_ZEROS
from exclusion_risk.linkage.schemas import SCHOOL, SCHOOL_ERROR
from exclusion_risk.serving.errors import RequestProblem
from exclusion_risk.values import and_join, counted

_POINT_ZEROS = re.compile(POINT_ZEROS)  # as the census reader reads SchoolURN
ALL_SCHOOLS = "all schools"


def school_id(value: object) -> str | None:
    """A school id as the census reader keeps it (URN, 6 digits, or LAEstab, 7; `3354028.0` read as
    `3354028`), or None when `value` is not one (blank or missing included)."""
    if value is None:
        return None
    text = str(value).strip()
    return _POINT_ZEROS.sub("", text) if SCHOOL.match(text) else None


def parse_schools(values: Iterable[str]) -> frozenset[str] | None:
    """The schools given for a key (None for none: the whole authority); a ValueError naming the first
    that is not a school id."""
    schools = set()
    for value in values:
        school = school_id(value)
        if school is None:
            raise ValueError(f"{value.strip()!r} is {SCHOOL_ERROR}")
        schools.add(school)
    return frozenset(schools) or None


def stored_schools(schools: frozenset[str] | None) -> str | None:
    """As `api_keys.schools` holds them: sorted, comma-separated; NULL for the whole authority."""
    return ",".join(sorted(schools)) if schools else None


def loaded_schools(text: str | None) -> frozenset[str] | None:
    return frozenset(text.split(",")) if text else None


def schools_words(schools: frozenset[str] | None) -> str:
    """"school 123456", "schools 123456 and 654321", or ALL_SCHOOLS."""
    if not schools:
        return ALL_SCHOOLS
    return f"school{'s' if len(schools) > 1 else ''} {and_join(sorted(schools))}"


def visible_runs(schools: frozenset[str] | None, run: str = "r.run_id") -> tuple[str, tuple]:
    """An SQL condition (and its parameters) true for the runs a key of `schools` may see: every run for
    the whole authority, else those whose pupils are all at `schools`."""
    if not schools:
        return "1", ()
    marks = ", ".join("?" * len(schools))
    return (f"NOT EXISTS (SELECT 1 FROM scoring_run_pupils q WHERE q.run_id = {run} "
            f"AND q.school_urn NOT IN ({marks}))", tuple(sorted(schools)))  # fmt: skip


def key_schools(request: Request) -> frozenset[str] | None:
    """The schools of the request's key (security.require_role keeps its principal on the request). A
    request without one is an error, never the whole authority: a route that forgot its key dependency
    would otherwise score any school's pupils for a school's key."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise RuntimeError("a school-scoped check on a request without a verified key")
    return principal.schools


def refuse_other_schools(request: Request, schools: Iterable[object], what: str) -> None:
    """403 when the key is scoped and any of `schools` (one per pupil) is not one of its schools; the
    message counts them, names the key's schools and the codes the request itself gives, never a pupil
    or a school the request does not name."""
    mine = key_schools(request)
    if mine is None:
        return
    found = Counter(school_id(school) for school in schools)
    outside = sum(n for school, n in found.items() if school not in mine)
    if outside:
        said = "is" if outside == 1 else "are"
        where = "it" if len(mine) == 1 else "one of them"
        sent = _sent_elsewhere(found, mine, what)
        message = (f"This API key is for {schools_words(mine)} only; {counted(outside, what)} {said} not "
                   f"at {where} or name no school, so nothing was scored ({sent}). Send only the pupils of "
                   f"{'your own school' if len(mine) == 1 else 'the schools this key covers'}.")
        reason = f"{counted(outside, what)} not at {schools_words(mine)}"
        raise RequestProblem(403, message, [{"row": None, "field": "school", "reason": reason}])


def _sent_elsewhere(found: Counter, mine: frozenset[str], what: str, shown: int = 5) -> str:
    """Where the request's rows outside the key's schools are, by the school codes the request itself
    gives (a trust whose academy was re-exported under its new URN, the key holding the old, could not
    tell which code was refused): the caller's own values, never another school's pupils or whether a
    code is a school at all. A value that is not a school id is counted, never quoted."""
    codes = sorted((school for school in found if school is not None and school not in mine),
                   key=lambda school: (-found[school], school))
    words = [f"{counted(found[code], what)} at {code}" for code in codes[:shown]]
    words += [f"{len(codes) - shown} more school codes"] if len(codes) > shown else []
    words += [f"{counted(found[None], what)} naming no school"] if found.get(None) else []
    return "; ".join(words)


def checked(request: Request, cohort):
    """A census cohort (serving.scoring.Cohort) whose pupils are all the key's schools', else 403."""
    refuse_other_schools(request, cohort.features["SchoolURN"] if len(cohort.features) else [], "pupil")
    return cohort


def own_records(request: Request, pupils: list) -> list:
    """Feature records all at the key's schools (a record without a school refused), else 403."""
    refuse_other_schools(request, [getattr(p, "school_urn", None) for p in pupils], "feature record")
    return pupils
