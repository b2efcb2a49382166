"""A scoring repeats the fairness review's calibration findings (models/score_fairness.py)."""

from __future__ import annotations

import json

from exclusion_risk.models import score_fairness, tracking


def _finding(attribute: str, group: str, ratio: float, certain: bool = True, kind: str = "calibration"):
    side = "over" if ratio < 1 else "under"
    return {"attribute": attribute, "group": group, "kind": kind, "certain": certain, "ratio": ratio,
            "meaning": f"For {group} pupils the model {side}-predicts: observed / predicted {ratio:.2f}."}


def _logged(monkeypatch, summary: dict | None):
    text = None if summary is None else json.dumps({"summary": summary})
    seen = []

    def read(run_id, path):
        seen.append((run_id, path))
        return text

    monkeypatch.setattr(tracking, "read_artifact_text", read)
    return seen


def test_the_reviews_certain_calibration_findings_reach_the_scoring(monkeypatch):
    asian, girls = _finding("ethnic group", "Asian", 0.53), _finding("sex", "girls", 0.65)
    mixed = _finding("ethnic group", "Mixed", 1.29)
    boys_black = _finding("sex × ethnic group", "boys / Black", 1.33)
    uncertain = _finding("SEN", "SEN support", 0.9, certain=False)
    selection = _finding("FSM", "eligible", 1.6, kind="selection")
    summary = {"top": [asian, girls, boys_black, selection, mixed],
               "all": [asian, girls, boys_black, selection, mixed, uncertain]}
    seen = _logged(monkeypatch, summary)
    lines = score_fairness.fairness_lines({"run_id": "abc", "version": "2"})
    assert seen == [("abc", "fairness/fairness.json")]
    assert lines[0].startswith("the fairness review of version 2 found its probabilities miscalibrated")
    assert lines[1] == ("For Asian pupils the model over-predicts: observed / predicted 0.53. "
                        "Read their probabilities as lower than stated.")
    assert lines[2].startswith("For girls pupils") and lines[2].endswith("lower than stated.")
    assert lines[3].startswith("For Mixed pupils") and lines[3].endswith("higher than stated.")
    # the intersection is counted, not quoted; the uncertain and the selection findings are not said
    assert lines[4].startswith("1 more calibration finding (intersections")
    assert len(lines) == 5 and not any("SEN support" in line or "eligible" in line for line in lines)


def test_nothing_is_said_without_a_review_or_without_calibration_findings(monkeypatch):
    _logged(monkeypatch, None)
    assert score_fairness.fairness_lines({"run_id": "abc", "version": "2"}) == []
    assert score_fairness.fairness_lines({"version": "2"}) == []
    _logged(monkeypatch, {"top": [], "all": [_finding("FSM", "eligible", 1.6, kind="selection")]})
    assert score_fairness.fairness_lines({"run_id": "abc", "version": "2"}) == []


def test_an_unreadable_review_is_said_not_hidden(monkeypatch):
    monkeypatch.setattr(tracking, "read_artifact_text", lambda run_id, path: "{not json")
    assert score_fairness.fairness_lines({"run_id": "abc"}) == [
        "the fairness review logged with this model version could not be read"
    ]


def test_the_years_calibration_is_said_first_and_a_groups_reading_is_its_own_ratio(monkeypatch):
    year = {"attribute": "all pupils", "group": "all pupils", "certain": True, "ratio": 1.5,
            "kind": "the model's calibration across the year",
            "meaning": "Across all pupils in the year the model's probabilities ran low: observed / "
                       "predicted 1.50."}
    # girls over-predicted against the year's (0.73 of 1.5), yet by their own 1.10 a 20% score is about 22%
    girls = {**_finding("sex", "girls", 0.73), "observed_over_predicted": 1.1}
    _logged(monkeypatch, {"top": [year, girls], "all": [year, girls]})
    lines = score_fairness.fairness_lines({"run_id": "abc", "version": "2"})
    assert lines[0].startswith("the fairness review of version 2 found its probabilities miscalibrated "
                               "across the whole year and for some groups")
    assert lines[1] == (f"{year['meaning']} Read every pupil's probability as higher than stated until the "
                        "model is recalibrated on a recent year.")
    assert lines[2].startswith("For girls pupils") and lines[2].endswith("higher than stated.")
    assert len(lines) == 3
    _logged(monkeypatch, {"top": [year], "all": [year]})
    lines = score_fairness.fairness_lines({"run_id": "abc", "version": "2"})
    assert "across the whole year;" in lines[0] and len(lines) == 2


def test_a_finding_that_may_be_chance_is_not_repeated(monkeypatch):
    # its own interval excludes 1, but not once the review's many comparisons are allowed for
    chance = {**_finding("ethnic group", "Black", 1.44), "excludes_1": True, "beyond_chance": False}
    chance.pop("certain")
    holds = {**_finding("ethnic group", "Asian", 0.53), "excludes_1": True, "beyond_chance": True}
    holds.pop("certain")
    _logged(monkeypatch, {"top": [holds, chance], "all": [holds, chance]})
    lines = score_fairness.fairness_lines({"run_id": "abc", "version": "2"})
    assert any("Asian" in line for line in lines) and not any("Black" in line for line in lines)
