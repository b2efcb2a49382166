"""A census upload to the service is warned of social-care children looked after or on a protection plan
on its census day whom the linkage attached to no pupil, as `score` warns of them
(models.score_notes.unlinked_status_lines)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk import calendar
from exclusion_risk.models.score_notes import unlinked_status_episodes
from tests.models.test_unlinked_status_note import _episode
from tests.serving.test_attendance_warning import _cohort, _history


def test_a_census_upload_to_the_service_is_warned_of_them_too():
    """The service's history keeps the unlinked children's looked-after and plan episodes, and each census
    upload's warnings count those open on its census day (1-9 as "fewer than 10": the answer is passed on)."""
    state = _history("2018/19")
    assert _cohort(state, term=calendar.AUTUMN).warnings == []
    extracts = SimpleNamespace(social_care=pd.DataFrame([_episode("C1"), _episode("C2", "CPP")]))
    state.unlinked_care = unlinked_status_episodes(extracts, pd.DataFrame(columns=["source", "record_id"]))
    (line,) = [w for w in _cohort(state, term=calendar.AUTUMN).warnings if "linked to no pupil" in w]
    assert line.startswith("Fewer than 10 children of school age (or with no date of birth) with an open")
