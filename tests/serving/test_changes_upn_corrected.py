"""The service's changes after a census whose corrected UPNs (a temporary or mistyped UPN replaced by the
valid one) name the same children: compared as the same pupils (in process, `record_census_scoring` with
a stand-in scorer and history).

A tester scored the demo's 2018/19 autumn census on the service, then the same file with its 38 invalid
UPNs replaced by each child's valid UPN (the one the linked history holds for the same child): 3 new red,
38 no longer on roll and 35 new on roll, where nothing changed.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk.contract import PUPIL_KEY
from exclusion_risk.models.earlier_scorings import pupil_keys
from exclusion_risk.serving.run_history import record_census_scoring
from tests.serving.test_changes_partial import YEAR, _school, _scores, scorer, store  # noqa: F401


def test_the_service_compares_a_corrected_upn_as_the_same_pupil(store, scorer):  # noqa: F811
    """The census, then the same file with 3 UPNs replaced by the valid UPN the history holds for each
    child: nothing changed, and the notes say how many pupils are compared under their new UPN."""
    census = _school("104001", 0, 30)
    record_census_scoring(store, _scores(scorer, census), scorer, YEAR, "key1")
    corrected = {census[i][0]: f"V104001{i:03d}" for i in (0, 1, 3)}  # the red, the amber, another
    again = [(corrected.get(upn, upn), school) for upn, school in census]
    scores = _scores(scorer, census).assign(upn=[u for u, _ in again])  # each child scored as before
    history = SimpleNamespace(pupil_of_upn=pd.Series(
        {old: new for old, new in corrected.items()}, dtype="string"))  # fmt: skip
    features = scores[["upn"]].assign(**{PUPIL_KEY: scores["upn"]})
    recorded = record_census_scoring(store, scores, scorer, YEAR, "key1",
                                     pupil_of=pupil_keys(history, features))  # fmt: skip
    assert recorded.changes["pupils"] == [] and set(recorded.changes["counts"].values()) == {0}
    said = "3 pupils whose UPN changed since the earlier scoring are compared under their new UPN"
    assert any(note.startswith(said) for note in recorded.changes["notes"])
    assert said in recorded.summary
    assert not any(upn in recorded.summary for upn, _ in census + again)
