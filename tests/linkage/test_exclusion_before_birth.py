"""An exclusion cannot start before the child could be at school; a social-care episode can (an unborn
child's protection plan starts before birth)."""

from __future__ import annotations

from exclusion_risk.linkage.readers import read_exclusions, read_social_care
from exclusion_risk.linkage.schemas import START_BEFORE_SCHOOL_AGE


def test_an_exclusion_before_the_child_was_two_is_rejected(tmp_path, exclusion_row, csv_text, write,
                                                          exclusions_header):
    """StartDate 1999-01-01 for a child born 2010-06-03 was read (academic year 1998/99) and counted as
    an earlier suspension in the pupil's features."""
    rows = [
        exclusion_row(DOB="2010-06-03", StartDate="1999-01-01"),  # before birth
        exclusion_row(DOB="2010-06-03", StartDate="2011-09-05"),  # aged 1
        exclusion_row(DOB="2010-06-03", StartDate="2012-06-02"),  # the day before the second birthday
        exclusion_row(DOB="2010-06-03", StartDate="2012-06-03"),  # the second birthday
        exclusion_row(DOB="03/06/2010", StartDate="2016-01-10"),  # at school
        exclusion_row(DOB="", StartDate="1999-01-01"),  # no date of birth: nothing to compare
    ]
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows, exclusions_header)))
    assert result.clean["_row"].tolist() == [4, 5, 6]
    assert result.rejects["row"].tolist() == [1, 2, 3]
    assert set(result.rejects["column"]) == {"StartDate"}
    assert set(result.rejects["reason"]) == {START_BEFORE_SCHOOL_AGE}
    assert result.rejects["value"].tolist() == ["1999-01-01", "2011-09-05", "2012-06-02"]


def test_a_social_care_episode_before_birth_is_kept(tmp_path, social_care_row, csv_text, write):
    rows = [social_care_row(DOB="2010-06-03", StartDate="2010-03-01")]
    result = read_social_care(write(tmp_path / "social_care.csv", csv_text(rows)))
    assert result.rejects.empty and len(result.clean) == 1
