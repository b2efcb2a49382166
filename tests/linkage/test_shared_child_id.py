"""One LAchildID held by two children (re-used, or mistyped at entry): linkage takes an id as one child,
so the second child's episode went to the first child's pupil without a word. `check` counts such ids,
and `link` warns (a count, never an id or a date) and reports the count, withheld under 10."""

from __future__ import annotations

import logging

import pandas as pd

from exclusion_risk.linkage.pipeline import link_extracts
from exclusion_risk.linkage.readers import read_social_care


def test_an_id_with_two_dates_of_birth_is_counted_and_warned(
    population, exclusions_of, social_care_of, extracts_for, social_care_row, csv_text, write, tmp_path,
    caplog,
):
    rows = [social_care_row("C1"), social_care_row("C1", Forename="Farzana", DOB="2011-06-12", Sex="2"),
            social_care_row("C2"), social_care_row("C2", Status="CPP")]  # fmt: skip
    read = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert read.counts["child id with two or more dates of birth"] == 1  # C1; C2's rows agree

    pupils = population(300)
    social_care = social_care_of(pupils)
    other = social_care.iloc[[0]].assign(DOB=social_care["DOB"].iloc[0] + pd.Timedelta(days=400))
    social_care = pd.concat([social_care, other], ignore_index=True)  # the same id, another date
    with caplog.at_level(logging.WARNING, logger="linkage"):
        result = link_extracts(extracts_for(pupils, exclusions_of(pupils), social_care), progress=False)
    assert result.report["sources"]["social_care"]["ids_with_two_dates_of_birth"] == "<10"
    (warning,) = [r.getMessage() for r in caplog.records if "two or more dates of birth" in r.getMessage()]
    # as the report gives it (run.log is shared as the report is); `check` counts them exactly
    assert warning.startswith("social_care: <10 child id(s) (LAchildID) have rows giving two or more dates")
    assert social_care["LAchildID"].iloc[0] not in warning
