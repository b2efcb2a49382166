"""Invented English place-style surnames (a prefix and a suffix: Ashworth, Brookfield, Whitley) for
studies of name diversity: `PopulationConfig.british_surname_tail` adds the first so many of them
after the British pool's own surnames (names.british_surname_tail drops any already in it).

Kept out of names.py's pools on purpose: school names avoid every word of a name the generator can
give a pupil (school_names), and these are such names only when a study asks for them, so the
authorities generated without them keep their school names.
"""

from __future__ import annotations

_PREFIXES = (
    "Ash Brad Brook Bur Car Chad Craw Dun Els Fair Farn Gold Hal Hart Hay Heath Hol Kings Lang Lin "
    "Mar Mid Moor New Nor Oak Pen Rad Ram Red Rud Sand Shel Stan Staf Stock Sut Thorn Tid Wal War "
    "West Whit Wil Win Wor Brom Bux Cal Dray"
).split()
_SUFFIXES = (
    "ley worth ton field wood ham ford well cott by er man son bury dale hurst land more stone wick"
).split()

CANDIDATES: tuple[str, ...] = tuple(p + s for p in _PREFIXES for s in _SUFFIXES)
