"""Shared value rules: the yes/no words and the logistic function."""

from __future__ import annotations

import numpy as np

from exclusion_risk.values import FLAG_NUMBERS, parse_flag, sigmoid


def test_yes_no_words_in_any_case_and_anything_else_is_not_a_flag():
    assert [parse_flag(w) for w in ("Y", " yes ", "TRUE", "t", "1")] == [True] * 5
    assert [parse_flag(w) for w in ("n", "No", "false", "F", "0")] == [False] * 5
    assert [parse_flag(w) for w in ("", "maybe", "2", "-1")] == [None] * 4
    assert set(FLAG_NUMBERS.values()) == {"0", "1"}


def test_sigmoid_is_the_logistic_function():
    x = np.array([-700.0, -2.0, 0.0, 2.0, 700.0])
    with np.errstate(over="ignore"):
        p = sigmoid(x)
    assert p[2] == 0.5 and np.allclose(p[1] + p[3], 1.0)
    assert p[0] < 1e-300 and p[-1] == 1.0


def test_a_count_is_said_with_its_noun_once_for_every_stage():
    from exclusion_risk.values import counted

    assert [counted(n, "row") for n in (0, 1, 2, 12_000)] == ["0 rows", "1 row", "2 rows", "12,000 rows"]
    assert counted(1, "pupil is", "pupils are") == "1 pupil is" and counted(3, "pupil is", "pupils are") == (
        "3 pupils are")
