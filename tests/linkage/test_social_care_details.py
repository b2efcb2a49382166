"""A social-care episode whose detail columns (Ethnicity, PrimaryNeed, Factors) hold a value the contract
does not list is kept, that value read as blank and counted: a social-care data lead's file lost whole
open looked-after episodes (and the child's need level with them) to 'Domestic abuse' in Factors,
'White British' in Ethnicity or 'N10' in PrimaryNeed; factors written '3A|4A' or '3A 4A', which the
reader splits, were rejected as 'not assessment factor codes'."""

from __future__ import annotations

from pathlib import Path

from exclusion_risk.linkage.readers import read_social_care
from tests.linkage.test_readers import assert_nothing_lost

LOOKED_AFTER = {"Status": "CLA", "StartDate": "2018-01-01", "EndDate": ""}


def test_an_unknown_detail_is_read_as_blank_and_the_episode_kept(tmp_path: Path, social_care_row, csv_text,
                                                                   write):
    rows = [
        social_care_row("C1", **LOOKED_AFTER),
        social_care_row("C2", **LOOKED_AFTER, Factors="3A|4A"),
        social_care_row("C3", **LOOKED_AFTER, Factors="3A 21"),
        social_care_row("C4", **LOOKED_AFTER, Factors="Domestic abuse"),
        social_care_row("C5", **LOOKED_AFTER, Ethnicity="White British"),
        social_care_row("C6", **LOOKED_AFTER, PrimaryNeed="N10"),
        social_care_row("C7", **{**LOOKED_AFTER, "StartDate": "soon"}, Ethnicity="White British"),  # two fail
        social_care_row("C8", Status="Looked Afterr"),  # the status itself is no detail: rejected
        social_care_row("C9", Status="Looked After"),  # the words of a case system's export
        social_care_row("C10", Status=" child protection plan"),
        social_care_row("C11", **LOOKED_AFTER, Factors="3A; Domestic abuse"),  # its 3A was blanked too
        social_care_row("C12", **LOOKED_AFTER, Factors="Domestic abuse (3A); parent aged 35"),  # 35 no code
        social_care_row("C13", **LOOKED_AFTER, Factors="3A;35"),  # no code in a list either
    ]
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert_nothing_lost(result, len(rows))
    clean = result.clean.set_index("LAchildID")
    assert list(clean.index) == ["C1", "C2", "C3", "C4", "C5", "C6", "C9", "C10", "C11", "C12", "C13"]
    assert clean.loc["C13", "Factors"] == "3A"
    assert clean.loc["C11", "Factors"] == "3A"  # the known code kept, the words read as blank
    assert clean.loc["C12", "Factors"] == "3A"
    assert clean.loc["C9", "Status"] == "CLA" and clean.loc["C10", "Status"] == "CPP"
    clean = clean.drop(["C9", "C10"])
    assert (clean["Status"] == "CLA").all() and clean["EndDate"].isna().all()  # open, looked after
    assert clean.loc["C2", "Factors"] == "3A;4A" and clean.loc["C3", "Factors"] == "3A;21"
    assert clean.loc["C1", "Factors"] == "3A;4A" and clean.loc["C1", "Ethnicity"] == "BAFR"
    assert clean.loc[["C4"], "Factors"].isna().all() and clean.loc[["C5"], "Ethnicity"].isna().all()
    assert clean.loc[["C6"], "PrimaryNeed"].isna().all() and clean.loc["C4", "PrimaryNeed"] == "N1"
    rejects = result.rejects.set_index("row")
    assert rejects.loc[7, "column"] == "Ethnicity | StartDate"  # every reason of a row rejected
    assert rejects.loc[8, "column"] == "Status"
    (note,) = [n for n in result.notes if "read as blank" in n]
    assert ("values not in the data contract's lists read as blank, each row kept (its other columns are "
            "sound; correct them at source): ") in note
    for said in ("Ethnicity 1 row(s) (rows 5)", "PrimaryNeed 1 row(s) (rows 6)",
                 "Factors 4 row(s), any codes among the words kept (rows 4, 11-13)"):
        assert said in note
    assert "Domestic" not in note and "White" not in note and "N10" not in note  # row numbers, no value
    # C7 and C8, every row of each rejected: in no count of the link report, so counted here
    assert ("2 child(ren) with every row rejected: none of their episodes is read, and the link report's "
            "rates do not count them") in note


def test_a_child_with_a_row_kept_is_not_lost_whole(tmp_path: Path, social_care_row, csv_text, write):
    rows = [social_care_row("C1"), social_care_row("C1", StartDate="soon", EndDate="")]
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert len(result.rejects) == 1 and "every row rejected" not in " ".join(result.notes)


def test_every_row_read_as_blank_is_named(tmp_path: Path, social_care_row, csv_text, write):
    """Past the tenth, the rows read as blank were '5 more', named in no file (they are in no rejects.csv)."""
    rows = [social_care_row(f"C{i}", Ethnicity="White British" if i % 10 in (0, 1, 2) else "WBRI")
            for i in range(1, 41)]  # fmt: skip
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert len(result.clean) == 40 and result.rejects.empty
    assert "Ethnicity 12 row(s) (rows 1-2, 10-12, 20-22, 30-32, 40)" in " ".join(result.notes)
