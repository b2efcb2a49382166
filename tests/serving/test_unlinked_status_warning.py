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


def test_the_services_history_keeps_the_unlinked_childrens_episodes_when_it_loads(tmp_path):
    """What the warning counts is taken from the extracts and links as the service loads them (ids and
    dates only: no name)."""
    from exclusion_risk.serving.history import HistoryState
    from tests.linkage.conftest import _csv_text, _extracts_folder, _social_care_row, _write

    extracts = _extracts_folder(tmp_path / "extracts")
    _write(extracts / "social_care.csv", _csv_text([
        _social_care_row("C1", Status="CLA", StartDate="2018-01-01"),  # looked after, linked to no pupil
        _social_care_row("C2", Status="CIN", StartDate="2018-01-01"),  # in need: not this warning's
    ]))
    first_pupil = pd.read_csv(extracts / "census.csv", dtype=str)["UPN"].iloc[0]
    links = tmp_path / "linkage"
    links.mkdir()
    (links / "links.csv").write_text(
        f"source,record_id,upn,method,score\nexclusions,1,{first_pupil},upn,1.0\n")
    state = HistoryState(extracts, links)
    state.load()
    assert state.state == "ready", state.summary()
    assert state.unlinked_care["LAchildID"].tolist() == ["C1"]
    assert list(state.unlinked_care.columns) == ["LAchildID", "StartDate", "EndDate", "DOB"]
