"""`compare --runs 2` over two authorities' train runs in one store (a consortium's): both tested on
2018/19 at autumn, their figures were set side by side with no word that they are of different pupils,
where `promote` says so (their data fingerprints differ)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk.models.promotion_report import across_runs_note


def _parent(data_hash: str):
    return SimpleNamespace(data=SimpleNamespace(tags={"data_hash": data_hash}))


TABLE = pd.DataFrame({"train_id": ["a1", "b2"], "test_year": "2018/19", "census": "autumn"})


def test_runs_of_different_data_are_said_to_be_of_different_pupils():
    note = across_runs_note(TABLE, [_parent("1111aaaa"), _parent("2222bbbb")])
    assert note == (
        "note: the runs shown were tested on different data (data fingerprints 1111aaaa, 2222bbbb: other "
        "extracts, links or feature table): figures across runs are of different pupils, not directly "
        "comparable; paired differences exist within a run only")
    assert across_runs_note(TABLE, [_parent("1111aaaa"), _parent("1111aaaa")]) is None  # the same data
    assert across_runs_note(TABLE, [_parent(""), _parent("2222bbbb")]) is None  # a run that kept none
    later = TABLE.assign(test_year=["2017/18", "2018/19"])
    assert across_runs_note(later, [_parent("1111aaaa"), _parent("2222bbbb")]).startswith(
        "note: the runs shown were tested on different years (2017/18, 2018/19) and data (data fingerprints")
