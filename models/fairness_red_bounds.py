"""Each group's red list against the top k%, judged against the red list as a whole.

The red list is not the size of the top k% (on the demo authority's test year, 554 red against a top 5%
of 301): every group has more pupils red than in the top k% when the list is larger. A group's own red ÷
top k% is therefore judged against the same ratio over all pupils: a group is rated red "more often" only
where its ratio is over 1.25 times the whole list's, "less often" under 0.8 times it (the review's flag
range). A group at 1.47 beside a list at 1.84 is rated red less often than pupils overall, not more.

Every bound here uses only what the page says: a count shown "<10" is 1-9, "x" any number; the whole
list's size, where withheld beside the top k% because it would give a count under 10 back, is 1-9 pupils
from the top k%'s (the page says so). So the judgement tells a reader nothing the figures shown do not.
"""

from __future__ import annotations

import math
from fractions import Fraction

from exclusion_risk.models.fairness import FAIR_RANGE
from exclusion_risk.privacy import SUPPRESSED, SUPPRESSION_THRESHOLD, is_withheld

SUPPRESSED_MAX = SUPPRESSION_THRESHOLD - 1  # the largest count "<10" stands for
Bound = Fraction | float  # a ratio, or a bound on one (0 and math.inf included)


def _value(metric: dict) -> float | None:
    return metric.get("value")


def red_over_top(red_share: dict, top_share: dict) -> float | None:
    """A group's share rated red over its share in the top k% (red pupils / top k% pupils), where both
    shares are shown (neither rests on a count the tables withhold)."""
    red, top = _value(red_share), _value(top_share)
    if red is None or top is None or top <= 0:
        return None
    return red / top


def direction(ratio: float | None) -> str:
    """"more" / "fewer" where a ratio (a group's red ÷ top k% over the whole list's) is outside the
    review's flag range; "" otherwise or where not known."""
    if ratio is None or not math.isfinite(ratio):
        return ""
    return "more" if ratio > FAIR_RANGE[1] else "fewer" if ratio < FAIR_RANGE[0] else ""


def _count_range(count) -> tuple[int, float]:
    """What a count as the section shows it allows: itself; 1 to 9 where "<10"; anything where "x" (taken
    as 0 or more: the bounds below use nothing the page does not say)."""
    if count == SUPPRESSED:
        return 1, SUPPRESSED_MAX
    if count is None or is_withheld(count):
        return 0, math.inf
    return int(count), int(count)


def _divide(low_red, high_red, low_top, high_top) -> tuple[Bound, Bound]:
    """The least and greatest red / top that counts within those ranges allow."""
    if high_top == math.inf:
        low = 0
    elif high_top == 0:
        low = math.inf if low_red > 0 else 0
    else:
        low = Fraction(low_red, int(high_top))
    high = math.inf if high_red == math.inf or low_top == 0 else Fraction(int(high_red), int(low_top))
    return low, high


def ratio_bounds(red, top) -> tuple[Bound, Bound] | None:
    """The least and greatest red / top k% pupils a group's counts as shown (`red`, `top`: a count, "<10"
    or "x") allow (infinite where the top k% may hold none of a red group); None where both are 0."""
    if red == 0 and top == 0:
        return None
    return _divide(*_count_range(red), *_count_range(top))


def overall_bounds(totals: dict) -> tuple[Bound, Bound]:
    """The whole red list over the whole top k%, as the section's totals allow: exact where both sizes are
    shown; where the list's size is withheld beside the top k%'s, within 1-9 pupils of it (what the page
    says of it); (0, inf) where nothing is known."""
    top_low, top_high = _count_range(totals.get("top"))
    if "size" in totals.get("withheld_beside_top", []) and top_low == top_high:
        red_low, red_high = max(top_low - SUPPRESSED_MAX, 0), top_high + SUPPRESSED_MAX
    else:
        red_low, red_high = _count_range(totals.get("red"))
    if top_high == 0 or (red_high == 0 and top_low > 0):
        return 0, math.inf  # no top k% (or no red list): nothing to judge a group against
    return _divide(red_low, red_high, top_low, top_high)


def _down(value: Bound, digits: int = 2) -> str:
    scale = 10**digits
    return f"{math.floor(value * scale) / scale:.{digits}f}"


def _up(value: Bound, digits: int = 2) -> str:
    scale = 10**digits
    return f"{math.ceil(value * scale) / scale:.{digits}f}"


def _beyond(value: float, which: str, words) -> str:
    """`words(value, digits)` with as many digits (2 to 4) as it takes for the printed figure to be where
    the judgement puts it: a flagged 0.795 printed "0.80" read as inside 0.8-1.25 (a reviewer's finding),
    a cleared 1.2504 printed "1.25" too."""
    for digits in (2, 3, 4):
        text = words(value, digits)
        shown = float(text.split()[-1])
        if direction(shown) == which:
            return text
    return text


def own_words(row: dict) -> str:
    """A group's own red ÷ top k% in words: the ratio where stated, else the bound its counts as shown
    give, rounded outwards ("at least 1.77", "between 0.11 and 9.00"); "" where they give none."""
    if row["red_over_top"] is not None:
        return f"{row['red_over_top']:.2f}"
    bounds = ratio_bounds(row.get("red"), row.get("top"))
    if bounds is None:
        return ""
    low, high = bounds
    if low == math.inf:
        return "none in top"
    if high == 0:
        return "none red"
    if high == math.inf:
        return f"at least {_down(low)}" if low > 0 else ""
    return f"at most {_up(high)}" if low == 0 else f"between {_down(low)} and {_up(high)}"


def overall_words(overall: tuple[Bound, Bound]) -> str:
    """The whole list's red ÷ top k% in words: "1.84", or its bounds rounded outwards."""
    low, high = overall
    if low == high:
        return f"{float(low):.2f}"
    if high == math.inf:
        return "not known"
    return f"between {_down(low)} and {_up(high)}"


def relative_bounds(row: dict, overall: tuple[Bound, Bound]) -> tuple[Bound, Bound] | None:
    """The least and greatest a group's red ÷ top k% over the whole list's can be, as the figures shown
    allow (equal where both are stated); None where nothing is known (no counts, or no whole list)."""
    ratio = row["red_over_top"]
    red, top = row.get("red"), row.get("top")
    if isinstance(red, int) and isinstance(top, int) and top > 0:
        ratio = Fraction(red, top)  # exact: 1.5 / 1.2 as floats was 1.2500000000000002, flagged "more"
    bounds = (ratio, ratio) if ratio is not None else ratio_bounds(red, top)
    if bounds is None or overall[1] == math.inf or overall[1] == 0:
        return None
    low = bounds[0] / overall[1] if bounds[0] != math.inf else math.inf
    high = math.inf if bounds[1] == math.inf or overall[0] == 0 else bounds[1] / overall[0]
    return low, high


def json_bounds(bounds: tuple[Bound, Bound] | None) -> dict[str, float | bool | None]:
    """Bounds for fairness.json: floats, None for an unbounded side or where nothing is known (both None);
    `infinite` where the least is unbounded too (red pupils and none in the top k%: a finding, not an
    unknown)."""
    low, high = bounds or (None, None)
    return {"low": None if low is None or low == math.inf else float(low),
            "high": None if high is None or high == math.inf else float(high),
            "infinite": low == math.inf}  # fmt: skip


def compared(row: dict, overall: tuple[Bound, Bound]) -> tuple[str, Bound | None, str]:
    """A group's red list against the top k%, judged against the whole list's (`overall`): (`direction`'s
    "more" / "fewer" / "", the group's ratio over the whole list's or the bound that shows it, that figure
    in words for the table). Where a count is withheld ("<10", "x"), the top k% holds none of the group or
    the whole list's size is withheld, the direction the shown figures prove whatever the withheld counts,
    its bound rounded outwards ("at least 1.71"), so no figure is narrower than the page's own; "" where
    they prove none."""
    bounds = relative_bounds(row, overall)
    if bounds is None:
        return "", None, ""
    low, high = bounds
    if low == high and math.isfinite(low):
        relative = float(low)
        which = direction(relative)
        return which, relative, _beyond(relative, which, lambda v, d: f"{v:.{d}f}")
    if low > FAIR_RANGE[1]:
        if low == math.inf:
            return "more", low, "none in top"
        return "more", low, _beyond(low, "more", lambda v, d: f"at least {_down(v, d)}")
    if high < FAIR_RANGE[0]:
        if high == 0:
            return "fewer", high, "none red"
        return "fewer", high, _beyond(high, "fewer", lambda v, d: f"at most {_up(v, d)}")
    if FAIR_RANGE[0] <= low and high <= FAIR_RANGE[1]:
        # inside the range whatever the withheld counts (or the list's withheld size): cleared, with the
        # bounds the figures give (a group with both counts published had been called "not shown")
        return "", None, f"between {_down(low)} and {_up(high)}"
    return "", None, ""


def not_stated(row: dict, overall: tuple[Bound, Bound]) -> bool:
    """Whether the section can neither state nor bound a group's red list against the whole list's (a count
    on one side or both withheld, and the figures shown putting it neither outside the range nor inside
    it): it is then named as not shown, never counted as cleared."""
    both_none = row.get("red") == 0 == row.get("top")
    return not both_none and not compared(row, overall)[2]
