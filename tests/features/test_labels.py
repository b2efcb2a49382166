"""Outcome labels for a census no pupil of the history is on."""

from __future__ import annotations

import pandas as pd

from exclusion_risk.features.labels import outcome_labels


def test_a_census_no_pupil_is_on_gives_no_labels_not_a_type_error():
    """A history of autumn censuses only, asked for its spring rates (the service's drift context, at
    load): the census days' empty mapping compared dates with floats, TypeError, and the service refused
    every census scoring with "linked history could not be loaded"."""
    exclusions = pd.DataFrame({"pid": [0], "start": pd.to_datetime(["2017-03-14"]), "year": [2016],
                               "susp": [1.0], "perm": [0.0]})  # fmt: skip
    keys = pd.DataFrame({"pid": pd.Series([], dtype="int64"), "AcademicYear": pd.Series([], dtype="object")})
    labels = outcome_labels(exclusions, keys, 2016, "SPR")
    assert labels.empty and list(labels.columns) == ["label_any", "label_permanent", "label_repeat"]
    one = outcome_labels(exclusions, pd.DataFrame({"pid": [0], "AcademicYear": ["2016/17"]}), 2016, "SPR")
    assert one["label_any"].tolist() == [1.0]  # after spring census day (mid January)
