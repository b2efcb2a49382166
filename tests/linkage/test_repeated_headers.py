"""A file with two columns read as one field is refused, naming the file and both columns.

Taking the first of them silently read a blanked UPN column ahead of the real one (UPN links 1,002 -> 0)
and let `UPN`/`upn`, `Sex`/`Gender` or `DOB`/`DoB` disagree unseen.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.contract import (
    CENSUS_COLUMNS,
    EXCLUSION_COLUMNS,
    MIS_CENSUS_COLUMNS,
    SOCIAL_CARE_COLUMNS,
    TERMLY_ATTENDANCE_COLUMNS,
)
from exclusion_risk.linkage.errors import ExtractError
from exclusion_risk.linkage.fields import FIELDS, header_key
from exclusion_risk.linkage.readers import read_census, read_exclusions
from exclusion_risk.upn import make_upn

UPN_A = make_upn(330, 4001, 2010, 1)


def _exclusions_with_two_upn_columns(exclusion_row, exclusions_header) -> str:
    """The repro: a first `UPN` column blanked, the real UPNs in a second `UPN` column at the end."""
    header = [*exclusions_header, "UPN"]
    rows = [exclusion_row(UPN_A), exclusion_row(make_upn(330, 4001, 2010, 2))]
    lines = [",".join(header)]
    lines += [",".join(["", *(row[c] for c in exclusions_header[1:]), row["UPN"]]) for row in rows]
    return "\n".join(lines) + "\n"


def test_two_upn_columns_in_exclusions_are_refused_naming_file_and_both_columns(
    tmp_path, exclusion_row, exclusions_header, write
):
    assert exclusions_header[0] == "UPN"
    text = _exclusions_with_two_upn_columns(exclusion_row, exclusions_header)
    path = write(tmp_path / "exclusions.csv", text)
    with pytest.raises(ExtractError) as caught:
        read_exclusions(path)
    message = str(caught.value)
    width = len(exclusions_header) + 1
    assert message.startswith("exclusions.csv")
    assert f"'UPN' (column 1) and 'UPN' (column {width})" in message
    assert "appear once" in message
    assert caught.value.column == "UPN" and caught.value.row is None
    assert UPN_A not in message and "Okafor" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("added", "twin", "field"),
    [("upn", "UPN", "UPN"), ("Sex", "Gender", "Sex"), ("DOB", "DoB", "DOB"),
     ("UniquePupilNumber", "UPN", "UPN")],  # fmt: skip
)
def test_a_census_column_and_its_alias_or_other_case_are_refused(
    tmp_path, census_row, csv_text, write, mis_header, added, twin, field
):
    header = [*mis_header, added]
    path = write(tmp_path / "census.csv", csv_text([census_row(**{added: census_row()[twin]})], header))
    with pytest.raises(ExtractError) as caught:
        read_census(path)
    message = str(caught.value)
    first, second = mis_header.index(twin) + 1, len(header)
    assert message.startswith("census.csv")
    assert f"{twin!r} (column {first}) and {added!r} (column {second})" in message
    assert f"read as {field!r}" in message and "appear once" in message
    assert caught.value.column == field


def test_every_field_read_twice_is_named_in_one_error(tmp_path, census_row, csv_text, write, mis_header):
    header = [*mis_header, "Sex", "DOB", "DateOfBirth"]
    row = census_row(Sex="F", DOB="2008-03-01", DateOfBirth="2008-03-01")
    path = write(tmp_path / "census.csv", csv_text([row], header))
    with pytest.raises(ExtractError) as caught:
        read_census(path)
    message = str(caught.value)
    dob = mis_header.index("DoB") + 1
    width = len(header)
    assert f"'DoB' (column {dob}), 'DOB' (column {width - 1}) and 'DateOfBirth' (column {width})" in message
    assert f"'Gender' (column {mis_header.index('Gender') + 1}) and 'Sex' (column {width - 2})" in message
    assert caught.value.column == "DOB"  # the first in the contract's column order


def test_check_stops_on_a_repeated_column_without_a_traceback(
    tmp_path, exclusion_row, exclusions_header, write, extracts_folder
):
    folder = extracts_folder(tmp_path / "la")
    write(folder / "exclusions.csv", _exclusions_with_two_upn_columns(exclusion_row, exclusions_header))
    result = CliRunner().invoke(app, ["check", "--data", str(folder)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "exclusions.csv" in result.output and "appear once" in result.output
    assert "Traceback" not in result.output and UPN_A not in result.output


@pytest.mark.parametrize(
    ("extract", "header"),
    [
        ("census", CENSUS_COLUMNS),
        ("census", MIS_CENSUS_COLUMNS),
        ("exclusions", EXCLUSION_COLUMNS),
        ("social_care", SOCIAL_CARE_COLUMNS),
        ("attendance", TERMLY_ATTENDANCE_COLUMNS),
    ],
)
def test_the_headers_synth_writes_read_each_field_from_one_column(extract, header):
    keys = [header_key(h) for h in header]
    for field in FIELDS[extract]:
        accepted = {header_key(spelling) for spelling in (field.name, *field.aliases)}
        assert sum(key in accepted for key in keys) <= 1, (extract, field.name)
