"""describe's side by side with the Walsall study, read: shares in the study's units with their
agreement in words, significance for chi-square, sign for a correlation, direction for observed -
expected, and one conclusion naming where this authority differs. The table had put "16%" beside
0.3641 and drawn no conclusion."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.models.describe_study import percent, read_side_by_side


def test_each_measure_is_read_and_the_differences_are_named():
    rows = [
        ("share excluded (any)", "about 3.5%", percent(0.0333), ""),
        ("SEMH among permanently excluded", "16%", percent(0.3641), ""),
        ("excluded in Year 1 with SEND", "over 75%", percent(0.81), ""),
        ("chi-square, boys vs all others", 584, 212.5, ""),
        ("school permanent-exclusion rate vs deprivation", "0.04 (secondary schools)", -0.16, ""),
        ("observed - expected excluded, Indian", -139.8, 12.0, ""),
        ("observed - expected excluded, Black Caribbean", 42.6, None, ""),  # withheld: not read
    ]
    table, conclusion = read_side_by_side(pd.DataFrame(rows, columns=["measure", "study", "here", "note"]))
    assert table["here"].tolist()[:2] == ["3.3%", "36.4%"]  # the study's units
    assert table["reading"].tolist() == [
        "about the same as the study", "higher than the study (2.3 times)", "also over 75% here",
        "significant here, as in the study", "a negative relation here, where the study found none",
        "over-excluded here, unlike the study", "",
    ]
    assert conclusion == (
        "This authority agrees with the study on 3 of 6 measures read; it differs on: SEMH among "
        "permanently excluded; school permanent-exclusion rate vs deprivation; observed - expected "
        "excluded, Indian."
    )
