"""Two pupils under one UPN in one census collection (different dates of birth) are rejected, every row,
not merged as a dual registration: a consortium analyst's pooled extracts gave 10 such pairs, one child
of each vanished from the list and the other took on their exclusions (linkage.upn_conflicts)."""

from __future__ import annotations

from exclusion_risk.linkage.readers import read_census
from exclusion_risk.upn import make_upn


def test_one_upn_with_two_dates_of_birth_in_a_collection_rejects_both_rows(tmp_path, census_row, csv_text,
                                                                           write, mis_header):
    shared, dual, alone = (make_upn(330, 4001, 2010, i) for i in (1, 2, 3))
    rows = [
        census_row(shared, DoB="2008-03-01", Surname="Ash"),
        census_row(shared, DoB="2009-07-11", Surname="Birch"),  # another child under the same UPN
        census_row(dual, DoB="2008-05-05", Estab="3352001"),
        census_row(dual, DoB="05/05/2008", Estab="3352002"),  # a dual registration: the same date
        census_row(alone),
    ]
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    assert result.rows_read == 5 == len(result.clean) + len(result.rejects)
    assert sorted(result.clean["UPN"]) == sorted([dual, dual, alone])
    rejects = result.rejects.sort_values("row")
    assert rejects["row"].tolist() == [1, 2] and set(rejects["column"]) == {"UPN"}
    said = "UPN also on row(s) 2 of this collection with another date of birth and name: two pupils under one"
    assert rejects["reason"].iloc[0].startswith(said)
    assert rejects["reason"].iloc[1].startswith("UPN also on row(s) 1 of this collection")


def test_the_same_upn_in_two_collections_is_not_compared(tmp_path, census_row, csv_text, write, mis_header):
    upn = make_upn(330, 4001, 2010, 1)
    rows = [census_row(upn, DoB="2008-03-01", CensusTerm="AUT"), census_row(upn, DoB="2008-03-02",
                                                                             CensusTerm="SPR")]  # fmt: skip
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    assert len(result.clean) == 2 and result.rejects.empty


def test_a_dual_registration_with_a_date_mistyped_at_one_school_stays_one_child(tmp_path, census_row,
                                                                               csv_text, write, mis_header):
    """A reviewer's find: one child's two rows, the date one day off at one school, were both rejected as
    "two pupils"; the names agreeing, they are one child's dual registration as before."""
    upn = make_upn(330, 4001, 2010, 1)
    rows = [census_row(upn, DoB="2008-03-01", Estab="3352001"),
            census_row(upn, DoB="2008-03-02", Estab="3352002")]  # fmt: skip
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    assert len(result.clean) == 2 and result.rejects.empty
    accented = [census_row(upn, DoB="2008-03-01", Forename="Zoë", Estab="3352001"),
                census_row(upn, DoB="2008-03-02", Forename="ZOE", Estab="3352002")]  # fmt: skip
    result = read_census(write(tmp_path / "census2.csv", csv_text(accented, mis_header)))
    assert len(result.clean) == 2 and result.rejects.empty  # names compared as linkage compares them
