"""A single census file whose name carries a collection date (census_2024-01-18.csv) and lacks the
AcademicYear or CensusTerm column is read as that date's collection, and the read says so: an upload
so named, sent without its term, was read as spring with a note that gave no reason ("every row read as
the spring census (SPR)"), and its year came from the name without a word (the integrator's find)."""

from __future__ import annotations

from exclusion_risk.linkage.readers import read_census


def _census(tmp_path, name, census_row, csv_text, write, drop):
    rows = [census_row(), census_row(Surname="Adeyemi")]
    header = [c for c in rows[0] if c not in drop]
    return write(tmp_path / name, csv_text(rows, header))


def test_a_column_the_file_name_gives_is_said_to_come_from_it(tmp_path, census_row, csv_text, write):
    path = _census(tmp_path, "census_2024-01-18.csv", census_row, csv_text, write,
                   drop={"AcademicYear", "CensusTerm"})  # fmt: skip
    for term in ("AUT", None):  # the service's upload (its model's census for blanks) and an authority's file
        result = read_census(path, census_term=term)
        assert result.clean[["AcademicYear", "CensusTerm"]].drop_duplicates().values.tolist() == [
            ["2023/24", "SPR"]]  # fmt: skip
        [remark] = result.remarks  # the MIS export's headers read under the contract's names, and these
        said = remark.split("; ")
        assert "no CensusTerm column: every row read as the spring census (SPR), from the date in the file " \
               "name" in said
        assert "no AcademicYear column: every row read as 2023/24, from the date in the file name" in said


def test_a_term_given_for_the_upload_alone_is_said_without_the_name(tmp_path, census_row, csv_text, write):
    path = _census(tmp_path, "census.csv", census_row, csv_text, write, drop={"CensusTerm"})
    [remark] = read_census(path, census_term="AUT").remarks
    assert remark.endswith("; no CensusTerm column: every row read as the autumn census (AUT)")
    # columns present: nothing filled, nothing said of it
    path = _census(tmp_path, "census_2016-10-06.csv", census_row, csv_text, write, drop=set())
    [remark] = read_census(path, census_term="AUT").remarks
    assert "read as" not in remark.split("; ", 2)[-1] and "file name" not in remark
