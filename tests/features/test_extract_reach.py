"""`exclusions_not_reached`: the rule `score` and the service share for an exclusions extract taken before
census day (features.extract_reach)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exclusion_risk.features.extract_reach import EXPECTED_AT_LEAST, exclusions_not_reached


def _starts(dates: list[str]) -> np.ndarray:
    return np.sort(pd.to_datetime(pd.Series(dates)).to_numpy())


def test_an_extract_ending_weeks_before_a_spring_census_day_is_refused_in_those_words():
    autumn = [f"2018-{month:02d}-10" for month in range(9, 13)] * 12  # 12 on each 10 Sept-Dec 2018
    refused = exclusions_not_reached(_starts([*autumn, "2019-12-02"]), 2019, "SPR")
    assert refused is not None
    assert "starts on 2 December 2019, 45 days before the spring census day (16 January 2020)" in refused[0]
    assert "holds 12 in the same weeks a year earlier" in refused[0]  # those of 10 December 2018


def test_what_is_not_refused():
    ten_a_year_earlier = [f"2018-09-{day:02d}" for day in range(3, 3 + EXPECTED_AT_LEAST)]
    assert exclusions_not_reached(_starts([*ten_a_year_earlier, "2019-07-22"]), 2019) is not None
    assert exclusions_not_reached(_starts([*ten_a_year_earlier[1:], "2019-07-22"]), 2019) is None  # 9: quiet
    assert exclusions_not_reached(_starts([*ten_a_year_earlier, "2019-10-03"]), 2019) is None  # census day
    assert exclusions_not_reached(_starts([]), 2019) is None  # nothing to judge by


def test_an_extract_a_fortnight_or_less_behind_census_day_is_scored():
    # the demo's extract cut at census day (its latest exclusion the day before) was refused for "1 days",
    # though one school day a year earlier held 22: exclusions are entered days after they start
    a_year_earlier = [f"2018-{m:02d}-{d:02d}" for m in (9, 10) for d in range(1, 29)] * 2
    for latest, refused in (("2019-10-02", False), ("2019-09-19", False), ("2019-09-18", True)):
        said = exclusions_not_reached(_starts([*a_year_earlier, latest]), 2019)
        assert (said is not None) is refused, latest
    said = exclusions_not_reached(_starts([*a_year_earlier, "2019-09-18"]), 2019)
    assert "15 days before the autumn census day" in said[0] and "up to 14 days behind is scored" in said[0]
