"""`compare --runs 2` over two authorities' train runs in one store (a consortium's): both tested on
2018/19 at autumn, their figures were set side by side with no word that they are of different pupils.
The runs' extracts are told apart by the files each train run read (its data fingerprint's), not its
`data_hash`, which differs with the features alone (a run with protected characteristics and one
without, on the same extracts, are of the same pupils)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from exclusion_risk.models import fingerprint
from exclusion_risk.models.fingerprint import data_fingerprint, trained_extracts
from exclusion_risk.models.promotion_report import across_runs_note

TABLE = pd.DataFrame({"train_id": ["a1", "b2"], "test_year": "2018/19", "census": "autumn"})


def test_runs_of_different_extracts_are_said_to_be_of_different_pupils():
    note = across_runs_note(TABLE, ["1111aaaa", "2222bbbb"])
    assert note == (
        "note: the runs shown were tested on different extracts (their train runs read other files: "
        "1111aaaa, 2222bbbb): figures across runs are of different pupils, not directly comparable; "
        "paired differences exist within a run only")
    assert across_runs_note(TABLE, ["1111aaaa", "1111aaaa"]) is None  # the same files
    assert across_runs_note(TABLE, [None, "2222bbbb"]) is None  # a run that kept no fingerprint
    later = TABLE.assign(test_year=["2017/18", "2018/19"])
    assert across_runs_note(later, ["1111aaaa", "2222bbbb"]).startswith(
        "note: the runs shown were tested on different years (2017/18, 2018/19) and extracts (")


def test_the_same_extracts_with_other_features_are_the_same_files(tmp_path: Path, monkeypatch):
    (tmp_path / "census.csv").write_text("a,b\n1,2\n")
    table = pd.DataFrame({"AcademicYear": ["2018/19"] * 2, "label": [0, 1], "fsm": [0, 1], "eth": [1, 2]})
    with_protected = data_fingerprint([tmp_path / "census.csv"], table, ["fsm", "eth"])
    without = data_fingerprint([tmp_path / "census.csv"], table, ["fsm"])
    assert with_protected["data_hash"] != without["data_hash"]  # what compare read as other pupils
    stored = {"with": with_protected, "without": without, "none": None}
    monkeypatch.setattr(fingerprint.tracking, "read_artifact_text",
                        lambda run_id, path: json.dumps(stored[run_id]) if stored[run_id] else None)
    assert trained_extracts("with") == trained_extracts("without") is not None
    assert trained_extracts("none") is None and trained_extracts(None) is None


def test_promote_tells_versions_apart_by_the_files_read_not_the_features(tmp_path: Path, monkeypatch):
    """`promote`'s note compared the versions' `data_hash`: a champion with protected characteristics
    replaced by one without, on the same extracts, was said to be "trained and tested on different
    data ... of different records". The files each train run read say so; on the same files, the test
    year's pupils and outcomes as each run counted them (other links) do."""
    from types import SimpleNamespace

    from exclusion_risk.models.promotion_report import comparability

    (tmp_path / "census.csv").write_text("a,b\n1,2\n")
    (tmp_path / "other.csv").write_text("a,b\n3,4\n")
    table = pd.DataFrame({"AcademicYear": ["2018/19"] * 2, "label": [0, 1], "fsm": [0, 1], "eth": [1, 2]})
    stored = {
        "with": data_fingerprint([tmp_path / "census.csv"], table, ["fsm", "eth"]),
        "without": data_fingerprint([tmp_path / "census.csv"], table, ["fsm"]),
        "relinked": data_fingerprint([tmp_path / "census.csv"], table.assign(label=[1, 1]), ["fsm"]),
        "elsewhere": data_fingerprint([tmp_path / "other.csv"], table, ["fsm"]),
    }
    monkeypatch.setattr(fingerprint.tracking, "read_artifact_text",
                        lambda run_id, path: json.dumps(stored[run_id]) if run_id in stored else None)

    def version(number: int, run: str, data_hash: str | None = None) -> SimpleNamespace:
        tags = {"train_id": run, "test_year": "2018/19", "census": "autumn", "label": "any",
                "data_hash": data_hash or stored[run]["data_hash"]}
        return SimpleNamespace(version=str(number), tags=tags)

    def data_notes(outgoing, incoming) -> list[str]:
        notes = comparability(outgoing, incoming)
        return [n for n in notes if n.startswith("trained and tested on different")]

    assert data_notes(version(1, "with"), version(2, "without")) == []  # the same pupils, other features
    relinked = data_notes(version(1, "with"), version(3, "relinked"))
    assert len(relinked) == 1 and "the same extracts, but 2018/19's pupils or outcomes" in relinked[0]
    [other] = data_notes(version(1, "with"), version(4, "elsewhere"))
    assert "other extracts: their train runs read other files" in other
    assert "different records" in other
    # runs that kept no files: their whole fingerprints are all there is
    [old] = data_notes(version(5, "gone", "a"), version(6, "gone2", "b"))
    assert "(data fingerprints a and b: other extracts, links or feature table)" in old
    assert data_notes(version(5, "gone", "a"), version(6, "gone2", "a")) == []
