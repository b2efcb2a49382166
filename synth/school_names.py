"""Invented school names: `<Place> Primary School`, `Holy Trinity C of E Primary School`, `<Place> Academy`.

Places are made up from common English place-name parts (Ash + field, Mill + brook, ...), so no name is
a real school's. Each school of a phase gets a different place; a share of schools are church schools
named for a dedication (each used once per phase), never for a saint: no word of a school's name is a
name the generator gives a pupil, so a pupil's name found in an output is always a leak, never a school.
The names are drawn from their own random stream, so adding them leaves every other draw as it was.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from . import names as name_pools
from .names import Community

_PLACE_STARTS = (
    "Ash", "Birch", "Elm", "Oak", "Holly", "Hazel", "Willow", "Thorn", "Alder", "Beech", "Brook", "Mill",
    "Church", "Castle", "Bridge", "Moor", "Heath", "Stone", "Green", "Fern", "Marsh", "Rowan", "Lark",
    "Kings", "Queens", "Wood", "Chapel", "Pool",
)  # fmt: skip
_PLACE_ENDS = (
    "field", "wood", "brook", "ley", "ton", "hill", "gate", "croft", "mead", "bury", "dale", "hurst",
)  # fmt: skip
_QUALIFIERS = ("", "North ", "South ", "East ", "West ", "Upper ", "Lower ", "Great ", "Little ")
_DEDICATIONS = (
    "Holy Trinity", "Christ Church", "All Saints", "Holy Cross", "Sacred Heart", "Holy Family", "Our Lady",
    "Good Shepherd", "Holy Rosary", "Corpus Christi", "Holy Spirit", "Blessed Sacrament",
)  # fmt: skip
_PRIMARY = (
    "{} Primary School", "{} Primary Academy", "{} Community Primary School", "{} Junior and Infant School",
)  # fmt: skip
_CATHOLIC = {"Sacred Heart", "Our Lady", "Holy Rosary", "Corpus Christi", "Blessed Sacrament"}
# a church school's names: (Church of England, Catholic); the dedications above are always Catholic
_PRIMARY_CHURCH = ("{} C of E Primary School", "{} Catholic Primary School")
_SECONDARY = ("{} Academy", "{} High School", "{} School", "{} Community College")
_SECONDARY_CHURCH = ("{} Catholic High School", "{} C of E Academy")
CHURCH_SHARE = {False: 0.2, True: 0.1}  # primary, secondary: about as many as in an English authority


def _pupil_name_words() -> set[str]:
    """Every word of every name the generator can give a pupil (forenames, surnames, their variants)."""
    words: set[str] = set()

    def collect(value: object) -> None:
        if isinstance(value, str):
            words.update(w.lower() for w in re.split(r"[^A-Za-z]+", value) if w)
        elif isinstance(value, dict):
            for key, item in value.items():
                collect(key)
                collect(item)
        elif isinstance(value, tuple | list | set | frozenset):
            for item in value:
                collect(item)
        elif isinstance(value, Community):
            collect(dataclasses.astuple(value))

    for value in vars(name_pools).values():
        if isinstance(value, dict | tuple | list):
            collect(value)
    return words


def _unlike_a_pupil(texts: tuple[str, ...] | list[str], taken: set[str]) -> list[str]:
    return [t for t in texts if not any(w.lower() in taken for w in t.split())]


def _places(taken: set[str]) -> list[str]:
    plain = [f"{start}{end}" for start in _PLACE_STARTS for end in _PLACE_ENDS if start[-1] != end[0]]
    plain = _unlike_a_pupil(plain, taken)  # no doubled letter (Churchhill), no pupil's name (Ashley)
    return [f"{q}{place}" for q in _unlike_a_pupil(_QUALIFIERS, taken) for place in plain]


def school_names(
    secondary: np.ndarray, rng: np.random.Generator, surname_tail: int = 0, forename_tail: int = 0
) -> np.ndarray:
    """One invented name per school (`secondary`: each school's phase), distinct within the authority;
    `surname_tail`, `forename_tail`: PopulationConfig.british_surname_tail and british_forename_tail,
    whose names are pupils' too."""
    names = np.empty(len(secondary), dtype=object)
    taken = _pupil_name_words()
    boys, girls = name_pools.british_forename_tail()
    added = (*name_pools.british_surname_tail()[:surname_tail], *boys[:forename_tail], *girls[:forename_tail])
    taken |= {name.lower() for name in added}
    places = _places(taken)
    dedications = _unlike_a_pupil(_DEDICATIONS, taken)
    for phase in (False, True):
        schools = np.flatnonzero(secondary == phase)
        n = len(schools)
        if n > len(places):
            raise ValueError(f"{n} schools of one phase: more than the {len(places)} invented places")
        church = rng.random(n) < CHURCH_SHARE[phase]
        church &= np.cumsum(church) <= len(dedications)  # each dedication once a phase
        # plain places (Ashfield) first; a qualified one (North Ashfield) only when they run out
        place = rng.choice(max(n, len(places) // len(_unlike_a_pupil(_QUALIFIERS, taken))), n, replace=False)
        dedication = rng.permutation(len(dedications))
        style = rng.integers(0, 1 << 16, n)
        rank = np.cumsum(church) - 1  # the how-manieth church school of the phase
        plain, churches = (_SECONDARY, _SECONDARY_CHURCH) if phase else (_PRIMARY, _PRIMARY_CHURCH)
        for i, school in enumerate(schools):
            if church[i]:
                chosen = dedications[dedication[rank[i]]]
                names[school] = churches[chosen in _CATHOLIC or bool(style[i] % 4 == 0)].format(chosen)
            else:
                names[school] = plain[style[i] % len(plain)].format(places[place[i]])
    return names
