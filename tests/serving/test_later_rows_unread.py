"""An upload's rows of a collection after the census scored (that year's spring, say, sent with its
autumn) are not read: nothing after census day may change the scored pupils' features or warnings. An
inclusion-officer tester uploaded an autumn census alone and then with that year's spring rows: a pupil
on the autumn census under a UPN keyed with a slip (the history knows it as a slip of the pupil's valid
UPN) lost their history in the second upload, because the spring row under the valid UPN made the two
uploaded UPNs one pupil's, and such UPNs were left apart (FSM in the last six years gone, and the pupil
counted among those 'not in the linked history'). So did pupils whose temporary UPN the spring row
replaced (FormerUPN), and a pupil whose later row gave another date of birth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exclusion_risk.serving import scoring
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.upn import make_temporary_upn, make_upn
from tests.linkage.conftest import MIS_HEADER, _census_row, _csv_text, _extracts_folder

PUPIL = make_upn(330, 4001, 2010, 7)
# the same UPN with its check letter keyed wrongly: invalid, one slip from PUPIL
SLIP = ("B" if PUPIL[0] != "B" else "C") + PUPIL[1:]
TEMPORARY = make_temporary_upn(330, 4001, 2010, 8, "A")
PERMANENT = make_upn(330, 4001, 2010, 9)
OTHER = make_upn(330, 4001, 2010, 10)
HEADER = [*MIS_HEADER, "FormerUPN"]


def _rows() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(history's census rows, the upload's autumn rows); the spring rows are the history's 2018/19 SPR."""
    slipped = dict(Surname="Adeyemi", Forename="Tola", DoB="2009-05-02")
    arrived = dict(Surname="Novak", Forename="Ivan", DoB="2009-11-20")
    history = [
        _census_row(PUPIL, AcademicYear="2017/18", **{"FSME on Census Day": "1"}, **slipped),
        _census_row(SLIP, AcademicYear="2018/19", **slipped),
        _census_row(PUPIL, AcademicYear="2018/19", CensusTerm="SPR", **slipped),
        _census_row(TEMPORARY, AcademicYear="2017/18", CensusTerm="SUM", **{"FSME on Census Day": "1"},
                    **arrived),
        _census_row(TEMPORARY, AcademicYear="2018/19", **arrived),
        _census_row(PERMANENT, AcademicYear="2018/19", CensusTerm="SPR", FormerUPN=TEMPORARY, **arrived),
        _census_row(OTHER, AcademicYear="2017/18", **{"FSME on Census Day": "1"}),
        _census_row(OTHER, AcademicYear="2018/19"),
    ]
    autumn = [r for r in history if r["AcademicYear"] == "2018/19" and r["CensusTerm"] == "AUT"]
    return history, autumn


def _state(tmp_path, monkeypatch) -> HistoryState:
    data = _extracts_folder(tmp_path / "la" / "extracts")
    (data / "census.csv").write_text(_csv_text(_rows()[0], HEADER))
    links = tmp_path / "la" / "linkage"
    links.mkdir()
    (links / "links.csv").write_text(  # the extracts' one exclusion and social-care record, each a pupil's
        f"source,record_id,upn,method,score\nexclusions,1,{PUPIL},upn,1\nsocial_care,C1,{PERMANENT},upn,1\n"
    )
    (links / "unlinked.csv").write_text("source,record_id,band,best_score\n")
    monkeypatch.chdir(tmp_path / "la")
    state = HistoryState(Path("extracts"), Path("linkage"))
    state.load()
    assert state.state == "ready"
    return state


def _cohort(state, rows):
    text = _csv_text(rows, HEADER).encode()
    clean, rejects = scoring.read_census_bytes(text, "census.csv")
    return scoring.census_cohort(clean, rejects, state, ["fsm_ever6"], "2018/19", skip_invalid=False,
                                 census="AUT")  # fmt: skip


def test_rows_after_the_census_scored_change_no_pupil_s_features_or_warnings(tmp_path, monkeypatch):
    state = _state(tmp_path, monkeypatch)
    history, autumn = _rows()
    # the history's spring rows, and one whose date of birth was keyed wrongly in the later return
    spring = [r for r in history if r["CensusTerm"] == "SPR"]
    spring.append(_census_row(OTHER, AcademicYear="2018/19", CensusTerm="SPR", DoB="2008-03-10"))
    alone, mixed = _cohort(state, autumn), _cohort(state, autumn + spring)

    for cohort in (alone, mixed):
        features = cohort.features.set_index("upn")
        assert sorted(features.index) == sorted([SLIP, TEMPORARY, OTHER])  # the autumn UPNs, as uploaded
        # each scored with their own history: FSM at an earlier census
        assert features.loc[[SLIP, TEMPORARY, OTHER], "fsm_ever6"].tolist() == [1, 1, 1]
        assert cohort.not_in_history == frozenset() and cohort.history_withheld == 0
    pd.testing.assert_frame_equal(alone.features, mixed.features)
    # the one sentence the spring rows add says they are not read; the rest are the same
    added = [w for w in mixed.warnings if w not in alone.warnings]
    assert len(added) == 1 and "3 rows of 2018/19 spring (SPR), after the census scored, not read" in added[0]
    assert [w for w in mixed.warnings if w in alone.warnings] == alone.warnings
