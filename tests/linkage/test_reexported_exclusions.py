"""Exclusions exported again under new RecordIDs: each copy is one suspension counted twice unless the
reader rejects it. A row equal to an earlier one in every column but RecordID is rejected naming that
row (never a value), as an exact copy is; a row differing in any other column is a record of its own."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.readers import read_exclusions, read_social_care
from exclusion_risk.upn import make_upn

UPN_A = make_upn(330, 4001, 2010, 1)
UPN_B = make_upn(330, 4001, 2010, 2)
UNDER_ANOTHER_ID = "repeats row {} under another RecordID"


def _reasons(result) -> dict[int, str]:
    return result.rejects.set_index("row")["reason"].to_dict()


def test_a_row_repeated_under_another_record_id_is_rejected_naming_the_first(
    tmp_path, exclusion_row, csv_text, write
):
    rows = [
        exclusion_row(UPN_A, RecordID="EX-1"),
        exclusion_row(UPN_B, RecordID="EX-2", StartDate="2017-02-01"),
        exclusion_row(UPN_A, RecordID="DUP-1"),  # row 1 again
        exclusion_row(UPN_B, RecordID="DUP-2", StartDate="2017-02-01"),  # row 2 again
        exclusion_row(UPN_A, RecordID="DUP-3"),  # row 1 a third time
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-1", "EX-2"]
    assert _reasons(result) == {3: UNDER_ANOTHER_ID.format(1), 4: UNDER_ANOTHER_ID.format(2),
                                5: UNDER_ANOTHER_ID.format(1)}  # fmt: skip
    assert set(result.rejects["value"]) == {""}  # the reason names a row, never a pupil's value
    assert len(result.clean) + len(result.rejects) == result.rows_read == len(rows)


def test_exact_copies_are_still_exact_duplicates(tmp_path, exclusion_row, csv_text, write):
    # An exact copy of a row that itself repeats an earlier one under another id is named as the exact
    # copy it is; with no RecordID column every copy is exact, as before.
    rows = [
        exclusion_row(UPN_A, RecordID="EX-1"),
        exclusion_row(UPN_A, RecordID="DUP-1"),
        exclusion_row(UPN_A, RecordID="DUP-1"),
        exclusion_row(UPN_A, RecordID="EX-1"),
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-1"]
    assert _reasons(result) == {2: UNDER_ANOTHER_ID.format(1), 3: "exact duplicate of row 2",
                                4: "exact duplicate of row 1"}  # fmt: skip
    no_ids = [exclusion_row(UPN_A), exclusion_row(UPN_A)]
    result = read_exclusions(write(tmp_path / "no_ids" / "exclusions.csv", csv_text(no_ids)))
    assert _reasons(result) == {2: "exact duplicate of row 1"}


@pytest.mark.parametrize(
    "column, value",
    [("UPN", UPN_B), ("Surname", "Foster"), ("Forename", "Ada"), ("DOB", "02/03/2008"), ("Sex", "F"),
     ("SchoolURN", "3304002"), ("Category", "PERM"), ("StartDate", "2017-01-11"), ("Sessions", "3"),
     ("Reason", "PA"), ("StartDate", "11/01/2017"), ("Sessions", "2.5")],
)  # fmt: skip
def test_rows_differing_in_any_other_column_are_kept(tmp_path, exclusion_row, csv_text, write, column, value):
    rows = [exclusion_row(UPN_A, RecordID="EX-1"), exclusion_row(UPN_A, RecordID="EX-2", **{column: value})]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-1", "EX-2"]
    assert result.rejects.empty


@pytest.mark.parametrize(
    "column, value",
    [("StartDate", "10/01/2017"), ("DOB", "2008-03-01"), ("Category", "FIXD"), ("Category", "susp"),
     ("Sessions", "2.0"), ("Sessions", " 2 "), ("Sex", "m"), ("Sex", "1"), ("Reason", " pd "),
     ("SchoolURN", "3304001.0"), ("UPN", f" {UPN_A.lower()} ")],
)  # fmt: skip
def test_a_repeat_written_another_way_the_reader_reads_alike_is_rejected(
    tmp_path, exclusion_row, csv_text, write, column, value
):
    # The second row holds the first's suspension (StartDate 2017-01-10, DOB 01/03/2008, SUSP, 2
    # sessions, M, PD) in another form the contract reads as the same: counted, it is one suspension
    # twice in the pupil's history and label.
    rows = [exclusion_row(UPN_A, RecordID="EX-1"), exclusion_row(UPN_A, RecordID="EX-2", **{column: value})]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-1"]
    assert _reasons(result) == {2: UNDER_ANOTHER_ID.format(1)}
    assert set(result.rejects["value"]) == {""} and set(result.rejects["column"]) == {""}
    assert len(result.clean) + len(result.rejects) == result.rows_read == 2


def test_a_repeat_written_another_way_in_several_columns_at_once_is_rejected(
    tmp_path, exclusion_row, csv_text, write
):
    rows = [
        exclusion_row(UPN_A, RecordID="EX-1", StartDate="2018-09-03", Category="FIXD", Sessions="2"),
        exclusion_row(UPN_B, RecordID="EX-2"),
        exclusion_row(UPN_A, RecordID="EX-3", StartDate="03/09/2018", Category="SUSP", Sessions="2.0"),
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-1", "EX-2"]
    assert _reasons(result) == {3: UNDER_ANOTHER_ID.format(1)}
    # the rows kept are counted as before: one FIXD read as SUSP (row 1), none for the rejected row 3
    assert result.counts["category FIXD/LUNC read as SUSP"] == 1


def test_without_record_ids_a_copy_written_another_way_is_rejected_too(
    tmp_path, exclusion_row, csv_text, write
):
    # With no RecordID an exact copy was already rejected; one written another way is the same copy.
    rows = [exclusion_row(UPN_A), exclusion_row(UPN_B), exclusion_row(UPN_A, StartDate="10/01/2017", Sex="1")]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["_row"].tolist() == [1, 2]
    assert _reasons(result) == {3: "repeats row 1 once read (dates, codes, numbers)"}


def test_one_record_id_twice_written_another_way_keeps_the_first(tmp_path, exclusion_row, csv_text, write):
    # The same suspension twice under its own RecordID, once as 10/01/2017, FIXD, 2.0: one record, not
    # two records of one id (which would reject both and lose the suspension).
    rows = [exclusion_row(UPN_A, RecordID="EX-1"),
            exclusion_row(UPN_A, RecordID="EX-1", StartDate="10/01/2017", Category="FIXD", Sessions="2.0")]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-1"]
    assert _reasons(result) == {2: "repeats row 1 once read (dates, codes, numbers)"}


def test_rows_differing_only_in_a_column_the_contract_does_not_read_are_kept(
    tmp_path, exclusion_row, csv_text, write
):
    rows = [exclusion_row(UPN_A, RecordID="EX-1", Note="first"),
            exclusion_row(UPN_A, RecordID="EX-2", StartDate="10/01/2017", Note="second")]  # fmt: skip
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert result.clean["RecordID"].tolist() == ["EX-1", "EX-2"]
    assert result.rejects.empty


def test_social_care_rows_of_other_children_are_kept(tmp_path, social_care_row, csv_text, write):
    # LAchildID names the child, not the row: the same episode fields under another child are two children.
    rows = [social_care_row("C1"), social_care_row("C2"), social_care_row("C1")]
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert len(result.clean) == 2
    assert _reasons(result) == {3: "exact duplicate of row 1"}


def test_check_counts_rows_repeated_under_another_id_as_rejected(
    tmp_path, extracts_folder, exclusion_row, csv_text, write
):
    folder = extracts_folder(tmp_path / "la")
    rows = [exclusion_row(UPN_A, RecordID=f"EX-{i}", StartDate=f"2017-01-1{i}") for i in range(3)]
    rows += [{**row, "RecordID": f"DUP-{i}"} for i, row in enumerate(rows)]
    write(folder / "exclusions.csv", csv_text(rows))
    result = CliRunner().invoke(app, ["check", "--data", str(folder)], terminal_width=200)
    assert result.exit_code == 0, result.output
    block = result.output.split("exclusions")[1].split("social_care")[0]
    found = re.findall(r"│ (rows read|rows clean|rows rejected)\s+│\s+(\d+) │", block)
    assert {k: int(v) for k, v in found} == {"rows read": 6, "rows clean": 3, "rows rejected": 3}
    assert re.search(r"rejected: repeats an earlier row under another RecordID\s+│\s+3 │", block)
