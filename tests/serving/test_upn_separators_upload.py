"""A census upload's UPN written with a space or hyphen inside it (`E330 205709725`) is the pupil's UPN:
scored under it, with the pupil's history, and not warned of as invalid. A pupil whose UPN is invalid
and who is not in the linked history is scored without any history: the warning says so, not only that
the UPN is invalid (the probe's pupil fell from 0.833 red to 0.098 amber with no word of it)."""

from __future__ import annotations

from tests.serving.test_invalid_upn_warning import VALID, post_census

MISTYPED = "Z335228712113"  # a wrong check letter
NOT_FOUND = "history could not be found"


def test_a_upn_with_spaces_or_hyphens_is_scored_as_the_pupils_upn(tmp_path):
    written = [VALID[0][:4] + " " + VALID[0][4:], VALID[1][:4] + "-" + VALID[1][4:].lower(), VALID[2]]
    for route in ("file", "json"):
        response = post_census(tmp_path / route, written, route)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert sorted(s["upn"] for s in body["scores"]) == sorted(VALID)
        assert not any("UPN" in w for w in body["warnings"]), body["warnings"]


def test_an_invalid_upn_not_in_the_history_is_said_to_have_no_history(tmp_path):
    for route in ("file", "json"):
        body = post_census(tmp_path / route, [*VALID, MISTYPED], route).json()
        said = [w for w in body["warnings"] if NOT_FOUND in w]
        assert len(said) == 1, body
        assert said[0].startswith("1 pupil scored with an invalid UPN is not in the linked history")
        assert MISTYPED not in " ".join(body["warnings"])


def test_an_invalid_upn_the_history_knows_has_its_history(tmp_path):
    body = post_census(tmp_path, [*VALID, MISTYPED], "file", history_upns=[*VALID, MISTYPED]).json()
    assert any("UPN that is not valid" in w for w in body["warnings"])  # still invalid, still said
    assert not any(NOT_FOUND in w for w in body["warnings"]), body["warnings"]
