"""The variant pairs behind the deterministic links (labelled_variant_pairs, which trains m from them)
read only the labelled pupils' census rows (issue #15: joining every pupil's rows set each source's
training peak at 2,000,000 pupils), and give the pairs the whole-census join gives."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from exclusion_risk.linkage.arrow_text import TEXT
from exclusion_risk.linkage.engines.base import EngineInput, labelled_variant_pairs

KEYS = (("upn", ["upn"]), ("name_dob", ["surname", "forename_group", "dob"]))
COLUMNS = ["eid", "upn", "surname", "forename_group", "dob"]


def whole_census_join(data: EngineInput) -> pd.DataFrame:
    """The pairs joined against every census row: what labelled_variant_pairs did before it
    narrowed the census to the labelled pupils."""
    src = data.source.reset_index(names="l")
    cen = data.census.reset_index(names="r")
    out = []
    for method, key in KEYS:
        lab = data.labels.loc[data.labels["method"] == method, ["eid_l", "eid_r"]]
        if lab.empty:
            continue
        left = src.merge(lab, left_on="eid", right_on="eid_l")[["l", "eid_r", *key]].dropna(subset=key)
        right = cen[["r", "eid", *key]].dropna(subset=key)
        pairs = left.merge(right, left_on=["eid_r", *key], right_on=["eid", *key])[["l", "r"]]
        out.append(pairs.assign(method=method))
    return pd.concat(out, ignore_index=True).drop_duplicates(["l", "r"])


def variant_rows(rows: list[tuple], prefix: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS).astype(TEXT)
    frame["eid"] = prefix + frame["eid"]
    return frame


small = st.sampled_from(["a", "b", None])
row = st.tuples(st.sampled_from(["0", "1", "2", "3"]), small, small, small, small)


@settings(max_examples=200, deadline=None)
@given(
    source=st.lists(row, min_size=1, max_size=8),
    census=st.lists(row, min_size=1, max_size=12),
    links=st.lists(
        st.tuples(st.sampled_from(["0", "1", "2", "3"]), st.sampled_from(["0", "1", "2", "3"]),
                  st.sampled_from(["upn", "name_dob"])),
        min_size=1, max_size=4,
    ),
    offset=st.integers(0, 5),
)
def test_labelled_pairs_equal_the_whole_census_join(source, census, links, offset):
    census_frame = variant_rows(census, "p")
    # a census index that is not 0..n-1: `r` must stay the row's own label, whatever is narrowed
    census_frame.index = census_frame.index * 3 + offset
    labels = pd.DataFrame(
        {
            "eid_l": ["s" + a for a, _, _ in links],
            "eid_r": ["p" + b for _, b, _ in links],
            "method": [m for _, _, m in links],
        }
    ).astype(TEXT)
    source_frame = variant_rows(source, "s")
    data = EngineInput(source=source_frame, census=census_frame, score_eids=pd.Index([]), labels=labels)
    got = labelled_variant_pairs(data).reset_index(drop=True)
    want = whole_census_join(data).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_an_unlabelled_pupil_sharing_the_key_is_not_paired():
    """The labelled pupil's row pairs; another pupil with the same UPN (a stale one, say) does not."""
    source = variant_rows([("0", "u1", "x", "y", "2010-01-01")], "s")
    census = variant_rows(
        [("1", "u1", "x", "y", "2010-01-01"), ("0", "u1", "x", "y", "2010-01-01")], "p"
    )
    labels = pd.DataFrame({"eid_l": ["s0"], "eid_r": ["p0"], "method": ["upn"]}).astype(TEXT)
    data = EngineInput(source=source, census=census, score_eids=pd.Index([]), labels=labels)
    got = labelled_variant_pairs(data)
    assert got[["l", "r"]].values.tolist() == [[0, 1]]

