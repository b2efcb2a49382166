"""What the service's linked history does not hold is said in each census scoring's warnings: rows its
extracts' read rejected and links that do not match its extracts (records added since the link run) went
to the server's log only, so an officer scored a list whose children's history was short, unsaid."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exclusion_risk.serving import scoring
from exclusion_risk.serving.history import HistoryState
from exclusion_risk.upn import make_upn
from tests.linkage.conftest import _census_row, _csv_text, _exclusion_row, _extracts_folder

PUPIL = make_upn(330, 4001, 2010, 0)


def _history(tmp_path, monkeypatch) -> HistoryState:
    data = _extracts_folder(tmp_path / "la" / "extracts")
    rows = [_exclusion_row(PUPIL), _exclusion_row(PUPIL, StartDate="2017-03-14"),
            _exclusion_row(PUPIL, Category="ZZZ")]  # fmt: skip
    (data / "exclusions.csv").write_text(_csv_text(rows))  # the 2nd new since the link run, the 3rd rejected
    links = tmp_path / "la" / "linkage"
    links.mkdir()
    (links / "links.csv").write_text(
        f"source,record_id,upn,method,score\nexclusions,1,{PUPIL},upn,1\nsocial_care,C1,{PUPIL},upn,1\n"
    )
    (links / "unlinked.csv").write_text("source,record_id,band,best_score\n")
    monkeypatch.chdir(tmp_path / "la")  # folders set as relative paths: the words name them, never garbled
    state = HistoryState(Path("extracts"), Path("linkage"))
    state.load()
    assert state.state == "ready"
    return state


def test_the_history_s_rejected_rows_and_unmatched_records_are_said_in_each_census_scoring(
    tmp_path, monkeypatch
):
    state = _history(tmp_path, monkeypatch)
    census = pd.DataFrame([_census_row(PUPIL, AcademicYear="2017/18")]).to_csv(index=False).encode()
    clean, rejects = scoring.read_census_bytes(census, "census.csv")
    cohort = scoring.census_cohort(clean, rejects, state, ["fsm"], "2017/18", skip_invalid=False,
                                   census="AUT")  # fmt: skip
    said = [w for w in cohort.warnings if w.startswith("The linked history: ")]
    assert said == [
        # a count under 10 withheld, with the total that gives it back and the one record's start date
        "The linked history: fewer than 10 of the exclusions records of these extracts are in neither "
        "la/linkage/links.csv nor the unlinked.csv beside it: they were not in the extracts that "
        "`exclusion-risk link` run read, are read as linked to no pupil, and a year they complete is read as "
        "not yet complete; run `exclusion-risk link` on these extracts.",
        "The linked history: rows were rejected as the authority's extracts (la/extracts) were read: "
        "exclusions fewer than 10 rows. Each is missing from its pupil's history (an exclusion, social-care "
        "episode, attendance or earlier census row), so that pupil's risk may be understated; the "
        "authority's analyst lists them with `exclusion-risk check` and can correct them at source.",
    ]
    text = " ".join(cohort.warnings)
    assert str(tmp_path) not in text and PUPIL not in text  # folder names, never a server's path or a pupil


def test_a_row_whose_date_of_birth_its_upn_s_pupil_lacks_is_scored_without_that_history(
    tmp_path, monkeypatch
):
    """A UPN keyed wrongly that is another child's, or a made-up row under a child's UPN, was scored with
    that child's history: a tester read looked-after children's social care back as a made-up pupil's
    reasons. Its date of birth is checked against the history's (kept as keyed hashes, never dates)."""
    state = _history(tmp_path, monkeypatch)

    def cohort(dob: str, fsm: str = "0"):
        rows = [_census_row(PUPIL, AcademicYear="2017/18", DoB=dob, **{"FSME on Census Day": fsm}),
                _census_row(make_upn(330, 4001, 2010, 1), AcademicYear="2017/18")]  # fmt: skip
        clean, rejects = scoring.read_census_bytes(pd.DataFrame(rows).to_csv(index=False).encode(), "c.csv")
        return scoring.census_cohort(clean, rejects, state, ["fsm"], "2017/18", skip_invalid=False,
                                     census="AUT")  # fmt: skip

    agreeing = cohort("2008-03-01")  # the history's date of birth for PUPIL
    assert agreeing.not_in_history == frozenset() and len(agreeing.features) == 2
    assert not any("date of birth" in w for w in agreeing.warnings)
    differing = cohort("2009-07-07")
    assert differing.not_in_history == frozenset({PUPIL}) and len(differing.features) == 2
    assert set(differing.features["upn"]) == {PUPIL, make_upn(330, 4001, 2010, 1)}  # named as uploaded
    said = [w for w in differing.warnings if "date of birth" in w]
    assert said == [
        "1 pupil has a date of birth that the linked history does not hold for the pupil its UPN names, so "
        "is scored without that history (earlier exclusions, social care, free school meals and school "
        "moves): the UPN may be mistyped and another child's. The score and the need level cannot take that "
        "history into account and may be understated; the reasons give what it would tell as not known, "
        "never as none. Check each UPN and date of birth against the school's records; a date of birth "
        "corrected at source agrees once the authority's extracts hold it and the service is restarted."
    ]
    assert PUPIL not in said[0] and "2009" not in said[0]
    # Withheld is not known, never none: read from no records, a child on a protection plan was "never a
    # child in need" with no suspensions in the reasons (a tester's finding). The other pupil, whom the
    # history does not hold at all, keeps what that says: none.
    history_only = ["suspensions_this_year", "suspensions_last_year", "suspensions_earlier", "cin_ever",
                    "cla_open", "reason_other", "fsm_ever6", "school_moves_earlier"]
    by_upn = dict(differing.features.set_index("upn")[history_only].iterrows())
    assert by_upn[PUPIL].isna().all(), by_upn[PUPIL]
    assert (by_upn[make_upn(330, 4001, 2010, 1)] == 0).all()
    agreed = agreeing.features.set_index("upn").loc[PUPIL]
    assert agreed[history_only].notna().all() and agreed[history_only].sum() > 0
    kept = differing.features[["fsm", "school_suspension_rate"]]  # its own row's, its school's
    assert kept.notna().all().all()
    # what the upload's own rows show stays known: FSM on its census day is FSM in the last six years
    on_fsm = cohort("2009-07-07", fsm="1").features.set_index("upn").loc[PUPIL]
    assert on_fsm["fsm_ever6"] == 1 and on_fsm[["suspensions_last_year", "cin_ever"]].isna().all()
