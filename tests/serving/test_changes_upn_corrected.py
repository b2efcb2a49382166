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


def test_a_pupils_newer_row_under_the_new_upn_at_another_school_is_the_one_compared(store, scorer):  # noqa: F811
    """A pupil scored under a temporary UPN at school A (run 1), then under the valid UPN at school C (run
    2, which scored none of A's pupils), then A's census again without them (run 3): uploaded at A under
    the valid UPN, they are compared with run 2's row, their latest. The runs' order came from the runs
    that scored A only, so run 2 ranked oldest and run 1's row was compared: 'new red' where the pupil
    had not changed since run 2."""
    a = _school("104001", 0, 30)
    rows = _scores(scorer, a)
    first = pd.concat([rows, _scores(scorer, [("T0000000000", "104001")]).assign(
        likelihood_band=scorer.matrix.bands[-1].label, rag="green")], ignore_index=True)  # fmt: skip
    record_census_scoring(store, first, scorer, YEAR, "key1")
    moved = _scores(scorer, [("V0000000000", "104009")]).assign(likelihood_band=scorer.matrix.bands[0].label,
                                                                  rag="red")  # fmt: skip
    record_census_scoring(store, pd.concat([moved, _scores(scorer, _school("104009", 1, 20))]), scorer,
                          YEAR, "key1")  # fmt: skip
    record_census_scoring(store, rows, scorer, YEAR, "key1")  # A's census, the pupil not there
    upload = pd.concat([rows, moved.assign(school_urn="104001")], ignore_index=True)
    history = SimpleNamespace(pupil_of_upn=pd.Series({"T0000000000": "V0000000000"}, dtype="string"))
    recorded = record_census_scoring(store, upload, scorer, YEAR, "key1", record=False,
                                     pupil_of=pupil_keys(history, upload[["upn"]]))  # fmt: skip
    listed = {p["upn"]: p["change"] for p in recorded.changes["pupils"]}
    # red in the very high band as at run 2: unchanged, not "new red" from run 1's green
    assert "V0000000000" not in listed, recorded.changes["pupils"]
    assert not any("UPN changed" in note for note in recorded.changes["notes"])  # run 2 named them so
