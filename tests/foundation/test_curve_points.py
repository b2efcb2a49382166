"""A figure's curve along one ranked list draws no point that gives back 1-9 pupils (privacy rule)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.privacy import curve_points_shown


def test_points_whose_top_holds_1_to_9_of_either_kind_are_not_drawn():
    # tops of 5, 10, 25, 40 and 60 pupils: 3 excluded in the first, then 10, 12, 22, 30
    excluded = [3, 10, 12, 22, 30]
    others = [2, 0, 13, 18, 30]
    shown = curve_points_shown(excluded, others, totals=(40, 160))
    # 3 and 2 are small; (10, 0) is fine; (12, 13) is 2 more excluded than the last drawn;
    # (22, 18) is 12 and 18 more than (10, 0); (30, 30) is 8 excluded more than (22, 18)
    assert shown.tolist() == [False, True, False, True, False]


def test_a_point_1_to_9_short_of_the_whole_list_is_not_drawn():
    # the whole list holds 40 excluded (the base rate is published): 35 is 5 short of it
    assert curve_points_shown([20, 35], [100, 140], totals=(40, 160)).tolist() == [True, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), min_size=1, max_size=40))
def test_no_two_points_drawn_differ_by_1_to_9(steps):
    excluded = np.cumsum([a for a, _ in steps])
    others = np.cumsum([b for _, b in steps])
    totals = (int(excluded[-1]) + 12, int(others[-1]) + 30)
    shown = curve_points_shown(excluded, others, totals)
    drawn = [(0, 0)] + [(int(e), int(o)) for e, o, s in zip(excluded, others, shown, strict=True) if s]
    drawn.append(totals)
    for i, (e1, o1) in enumerate(drawn):
        for e2, o2 in drawn[i + 1:]:
            assert not 0 < e2 - e1 < 10 and not 0 < o2 - o1 < 10
