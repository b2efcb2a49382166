"""A file with two columns of one spelling is refused, naming the file and both columns; different
spellings of one field read the contract's first and say which was not read.

Taking the first of them silently read a blanked UPN column ahead of the real one (UPN links 1,002 -> 0)
and let `UPN`/`upn` or `DOB`/`DoB` disagree unseen. Exports do carry `URN` and `LAEstab`, or `Sex` and
`Gender`: refusing those refused real files.
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


@pytest.mark.parametrize(("added", "twin", "field"), [("upn", "UPN", "UPN"), ("DOB", "DoB", "DOB")])
def test_a_census_column_in_another_case_is_refused(
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


@pytest.mark.parametrize(
    ("added", "twin", "read"),
    [("Sex", "Gender", "Sex"), ("UniquePupilNumber", "UPN", "UPN"), ("URN", "Estab", "URN")],
)
def test_different_spellings_of_a_field_read_the_contracts_first_and_say_so(
    tmp_path, census_row, csv_text, write, mis_header, added, twin, read
):
    row = census_row()
    header = [*mis_header, added]
    path = write(tmp_path / "census.csv", csv_text([{**row, added: row[twin]}], header))
    result = read_census(path)
    other = added if read == twin else twin
    assert any(f"{other} not read ({read} is)" in note for note in result.notes), result.notes
    assert len(result.clean) == 1


def test_every_field_read_twice_is_named_in_one_error(tmp_path, census_row, csv_text, write, mis_header):
    header = [*mis_header, "upn", "DOB"]
    row = census_row(upn=census_row()["UPN"], DOB="2008-03-01")
    path = write(tmp_path / "census.csv", csv_text([row], header))
    with pytest.raises(ExtractError) as caught:
        read_census(path)
    message = str(caught.value)
    width = len(header)
    assert f"'UPN' (column {mis_header.index('UPN') + 1}) and 'upn' (column {width - 1})" in message
    assert f"'DoB' (column {mis_header.index('DoB') + 1}) and 'DOB' (column {width})" in message
    assert caught.value.column == "UPN"  # the first in the contract's column order


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
