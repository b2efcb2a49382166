"""The versioned risk matrix: file validation, thresholds fitted to a capacity, vectorised placement."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from exclusion_risk.models.risk_matrix import DEFAULT_PATH, RiskMatrixError, load_risk_matrix, parse_capacity
from exclusion_risk.privacy import DECISION_SUPPORT_NOTICE


def test_default_file_is_complete_and_versioned():
    matrix = load_risk_matrix()
    assert matrix.version
    assert [b.key for b in matrix.bands] == ["very_high", "high", "medium", "low"]
    assert len(matrix.cells) == 16
    assert {tier for _, tier in matrix.cells.values()} == {"universal", "targeted early help", "multi-agency"}
    described = matrix.to_dict()
    json.dumps(described)  # ready for the service's JSON
    assert described["notice"] == DECISION_SUPPORT_NOTICE
    assert [lvl["level"] for lvl in described["need_levels"]] == [0, 1, 2, 3]


def test_thresholds_match_capacity_multiples():
    probs = np.random.default_rng(0).beta(1, 20, 20_000)
    matrix = load_risk_matrix().fit_thresholds(probs, 0.05)
    shares = {b.key: float((probs >= b.threshold).mean()) for b in matrix.bands}
    assert shares["very_high"] == pytest.approx(0.05, abs=1e-3)
    assert shares["high"] == pytest.approx(0.15, abs=1e-3)
    assert shares["medium"] == pytest.approx(0.30, abs=1e-3)
    assert shares["low"] == 1.0
    placed = matrix.place(probs, np.zeros(probs.size, dtype=int))
    assert (placed["likelihood_band"] == "very high").mean() == pytest.approx(0.05, abs=1e-3)


def test_thresholds_never_overlap_with_ties():
    probs = np.r_[np.full(900, 0.2), np.linspace(0.01, 0.1, 100)]
    matrix = load_risk_matrix().fit_thresholds(probs, 0.05)
    values = [b.threshold for b in matrix.bands]
    assert values == sorted(values, reverse=True)


def test_place_agrees_with_a_plain_loop():
    matrix = load_risk_matrix().fit_thresholds(np.linspace(0, 1, 1000), 0.1)
    rng = np.random.default_rng(1)
    probs, needs = rng.random(500), rng.integers(0, 4, 500)
    placed = matrix.place(probs, needs)
    for p, n, band, rag, cell in zip(
        probs, needs, placed["band_key"], placed["rag"], placed["matrix_cell"], strict=True
    ):
        expected = next(b for b in matrix.bands if p >= b.threshold)
        assert band == expected.key
        assert rag == matrix.cells[(expected.key, int(n))][0]
        assert cell == f"{expected.code}-N{n}"


def test_a_pupil_at_a_threshold_keeps_its_band_whichever_way_the_probability_was_summed():
    # Pupils with the same inputs share a probability, and a threshold is one of them; the TreeSHAP
    # path (contributions summed) and the booster's own raw score differ in the 16th digit.
    probs = np.r_[np.full(300, 0.123456789), np.linspace(0.001, 0.1, 700)]
    matrix = load_risk_matrix().fit_thresholds(probs, 0.05)
    at = next(b for b in matrix.bands if b.threshold == pytest.approx(0.123456789))
    nudged = np.array([at.threshold, np.nextafter(at.threshold, 0), at.threshold - 1e-15])
    placed = matrix.place(nudged, np.zeros(3, dtype=int))
    assert list(placed["band_key"]) == [at.key] * 3


def test_bad_inputs_are_refused():
    matrix = load_risk_matrix()
    with pytest.raises(RiskMatrixError, match="need levels must be 0-3"):
        matrix.place([0.5], [4])
    with pytest.raises(RiskMatrixError, match="between 0 and 1"):
        matrix.place([1.5], [0])
    with pytest.raises(RiskMatrixError, match="fall from band to band"):
        matrix.with_thresholds({"very_high": 0.1, "high": 0.2, "medium": 0.05, "low": 0.0}, 0.05, "x")


def test_file_errors_name_the_problem(tmp_path):
    raw = yaml.safe_load(DEFAULT_PATH.read_text())
    raw["cells"]["high"][2] = ["purple", "universal"]
    bad = tmp_path / "m.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(RiskMatrixError, match="cells.high.2 has RAG 'purple'"):
        load_risk_matrix(bad)
    raw["cells"]["high"][2] = ["amber", "universal"]
    del raw["cells"]["low"]
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(RiskMatrixError, match="lacks `low`"):
        load_risk_matrix(bad)


@pytest.mark.parametrize(("text", "share"), [("5%", 0.05), ("5", 0.05), ("12.5%", 0.125), ("0.5%", 0.005)])
def test_parse_capacity(text, share):
    assert parse_capacity(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["0.5", "0.05", " .5 "])
def test_a_bare_number_below_1_is_refused_naming_both_readings(text):
    """0.5 read as a fraction gave half the cohort red; someone meaning half a percent wrote the same."""
    with pytest.raises(RiskMatrixError) as raised:
        parse_capacity(text)
    value = float(text)
    said = str(raised.value)
    assert "\n" not in said
    assert f"{value:g}%" in said and f"{value * 100:g}%" in said, said


@pytest.mark.parametrize("text", ["500%", "150", "100%"])
def test_a_capacity_out_of_range_is_said_as_typed(text):
    with pytest.raises(RiskMatrixError) as raised:
        parse_capacity(text)
    said = str(raised.value)
    assert f"got {text}" in said and "got 5.0" not in said and "1.5" not in said, said


@pytest.mark.parametrize("text", ["0%", "100%", "five", "-3%"])
def test_parse_capacity_refuses(text):
    with pytest.raises(RiskMatrixError):
        parse_capacity(text)


@pytest.mark.parametrize("capacity", [0.07, 0.14, 0.29])
def test_a_band_holds_as_many_pupils_as_the_review_selects(capacity):
    """0.07 x 100 is 7.000000000000001 in floating point: a plain ceil put an eighth pupil in the band,
    one more than the fairness review and the back-test count as the top 7%."""
    from exclusion_risk.models.fairness import select_top

    probs = np.linspace(0.9, 0.01, 100)  # distinct, falling
    matrix = load_risk_matrix().fit_thresholds(probs, capacity)
    very_high = matrix.bands[0]
    assert int((probs >= very_high.threshold).sum()) == int(select_top(probs, capacity).sum())


def test_the_matrix_table_says_what_share_each_band_holds():
    """scores.html and the fairness review read "high (4.4%+)" and "medium (2.1%+)" and left the reader
    to find in risk_matrix.yaml that those are the top 15% and 30%."""
    from exclusion_risk.models.rendering import render

    probabilities = np.random.default_rng(3).random(2000)
    fitted = load_risk_matrix().fit_thresholds(probabilities, 0.05, source="validation year 2017/18")
    page = " ".join(render("risk_matrix.html.j2", risk_matrix=fitted.to_dict()).split())
    for label, share in (("very high", 5), ("high", 15), ("medium", 30)):
        assert f"{label} (" in page
        assert f"%+: the top {share}% as the validation year 2017/18 was cut)" in page
    assert "%+: everyone else)" in page
    wide = load_risk_matrix().fit_thresholds(probabilities, 0.2, source="validation year 2017/18")
    page = " ".join(render("risk_matrix.html.j2", risk_matrix=wide.to_dict()).split())
    assert "the top 100% as" in page and "the top 120%" not in page  # 6 x 20% is everyone, not 120%
    default = " ".join(render("risk_matrix.html.j2", risk_matrix=load_risk_matrix().to_dict()).split())
    assert "the top" not in default  # the file's default thresholds are not cut to a share
