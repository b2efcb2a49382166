"""A CSV made by joining two (or more) exports carries the header line again in the middle of the file.

That row was rejected column by column with generic reasons (an invalid date, an unknown code), which
did not say what had happened. It is rejected once, as a repeat of the file's header, still counted
among the rows read (clean + rejected = rows), in every extract; the other rows read as before."""

from __future__ import annotations

import pytest

from exclusion_risk.linkage.readers import read_census, read_exclusions, read_social_care
from exclusion_risk.upn import make_upn

REPEATED_HEADER = "repeats the file's header row (two exports joined?)"


def _joined(csv_text, rows: list[dict[str, str]], header: list[str], repeat: str | None = None) -> str:
    """The rows as two exports joined, and a third when there are three rows: each after its own header.
    `repeat`: how the repeated header lines are written (the first line's own by default)."""
    parts = [csv_text([row], header) for row in rows]
    first, *rest = parts
    again = [part if repeat is None else repeat + part.split("\n", 1)[1] for part in rest]
    return first + "".join(again)


def _extract(kind, census_row, exclusion_row, social_care_row, mis_header, exclusions_header):
    upns = [make_upn(330, 4001, 2010, i) for i in range(3)]
    if kind == "census":
        return read_census, "census.csv", [census_row(u) for u in upns], mis_header
    if kind == "exclusions":
        return read_exclusions, "exclusions.csv", [exclusion_row(u) for u in upns], exclusions_header
    rows = [social_care_row(f"C{i}") for i in range(3)]
    return read_social_care, "social_care.csv", rows, list(rows[0])


@pytest.mark.parametrize("kind", ["census", "exclusions", "social_care"])
def test_a_header_repeated_in_the_middle_is_one_reject_naming_it(
    tmp_path, kind, census_row, exclusion_row, social_care_row, mis_header, exclusions_header, csv_text, write
):
    reader, name, rows, header = _extract(
        kind, census_row, exclusion_row, social_care_row, mis_header, exclusions_header
    )
    path = write(tmp_path / name, _joined(csv_text, rows[:2], header))
    result = reader(path)
    assert len(result.clean) == 2
    assert result.rejects["row"].tolist() == [2]
    assert result.rejects["reason"].tolist() == [REPEATED_HEADER]
    assert result.rejects["file"].tolist() == [name]
    assert result.rows_read == 3 == len(result.clean) + len(result.rejects)


@pytest.mark.parametrize("kind", ["census", "exclusions", "social_care"])
def test_three_exports_joined_with_their_headers_written_otherwise_reject_each_header_row(
    tmp_path, kind, census_row, exclusion_row, social_care_row, mis_header, exclusions_header, csv_text, write
):
    # the second export's byte-order mark and quotes, as `cat` joins two UTF-8 exports with BOMs; a header
    # repeated twice is named as the header each time, not the second as a duplicate of the first
    reader, name, rows, header = _extract(
        kind, census_row, exclusion_row, social_care_row, mis_header, exclusions_header
    )
    repeat = "\ufeff" + ",".join(f'"{h}"' for h in header) + "\n"
    path = write(tmp_path / name, _joined(csv_text, rows, header, repeat))
    result = reader(path)
    assert len(result.clean) == 3
    assert result.rejects["row"].tolist() == [2, 4]
    assert set(result.rejects["reason"]) == {REPEATED_HEADER}
    assert result.rows_read == 5 == len(result.clean) + len(result.rejects)


def test_a_second_header_in_another_column_order_stops_the_read_naming_its_row(tmp_path, census_row,
                                                                              mis_header, csv_text, write):
    """Two MIS exports joined, the second's columns in another order: its rows were read under the first
    header's columns (a data officer's find: surname and forename swapped for 17,989 pupils, authorised
    and unauthorised absence for 15,208), the second header rejected as a row of bad values."""
    from exclusion_risk.linkage.errors import ExtractError

    upns = [make_upn(330, 4001, 2010, i) for i in range(2)]
    other = [mis_header[1], mis_header[0], *mis_header[2:]]  # UPN first, then Estab
    text = csv_text([census_row(upns[0])], mis_header) + csv_text([census_row(upns[1])], other)
    with pytest.raises(ExtractError) as caught:
        read_census(write(tmp_path / "census.csv", text))
    assert caught.value.row == 2 and "a header row of another column order" in str(caught.value)
    assert upns[1] not in str(caught.value)
    swapped = [{"Language": "LSOA"}.get(h, h) for h in mis_header]  # another export's column set
    second = csv_text([census_row(upns[1])], mis_header).split("\n", 1)[1]
    text = csv_text([census_row(upns[0])], mis_header) + ",".join(swapped) + "\n" + second
    with pytest.raises(ExtractError, match="a header row of other columns"):
        read_census(write(tmp_path / "census2.csv", text))


def test_a_second_header_under_other_accepted_names_is_a_repeat(tmp_path, census_row, mis_header, csv_text,
                                                                 write):
    """The same columns in the same order under names the contract accepts for them (Sex for Gender, DOB
    for DoB): a repeat of the header, rejected once as one, the rows after it read as before."""
    upns = [make_upn(330, 4001, 2010, i) for i in range(2)]
    renamed = ",".join({"Gender": "Sex", "DoB": "Date of birth"}.get(h, h) for h in mis_header) + "\n"
    text = csv_text([census_row(upns[0])], mis_header) + renamed + csv_text([census_row(upns[1])],
                                                                              mis_header).split("\n", 1)[1]
    result = read_census(write(tmp_path / "census.csv", text))
    assert len(result.clean) == 2 and result.rejects["reason"].tolist() == [REPEATED_HEADER]
