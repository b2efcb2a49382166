"""An exclusions data lead's MIS export: category words, placeholder DOB and Sex, a status column the
contract does not read, and one exclusion written once per reason. Each lost rows, or counted rows as
exclusions, without a word; each is now read, or said."""

from __future__ import annotations

from pathlib import Path

from exclusion_risk.linkage.readers import read_exclusions
from tests.linkage.test_readers import assert_nothing_lost


def _read(tmp_path: Path, rows: list[dict], csv_text, write):
    result = read_exclusions(write(tmp_path / "exclusions.csv", csv_text(rows)))
    assert_nothing_lost(result, len(rows))
    return result


def test_category_words_are_read_and_an_unknown_one_is_told_what_is(tmp_path, exclusion_row, csv_text, write):
    words = ["Fixed period", "Fixed-term", "Lunchtime suspension", "LUNCH", "Permanent Exclusion",
             "Fixed-term exclusion", "Fixed-period exclusion", "Lunch-time", "Fixed Term Suspension",
             "Permanently excluded"]  # the second line: a reviewer's, still rejected by the first reading
    rows = [exclusion_row(Category=w, StartDate=f"2017-01-{10 + i}") for i, w in enumerate(words)]
    rows.append(exclusion_row(Category="Rescinded", StartDate="2017-02-01"))
    result = _read(tmp_path, rows, csv_text, write)
    assert result.clean["Category"].tolist() == ["SUSP"] * 4 + ["PERM"] + ["SUSP"] * 4 + ["PERM"]
    (reason,) = result.rejects["reason"].tolist()
    assert reason.startswith("unknown exclusion category code (PERM, SUSP, FIXD or LUNC, or words such as")
    assert "a rescinded or withdrawn exclusion is none: leave it out of the extract" in reason


def test_a_placeholder_dob_or_sex_is_read_as_blank_and_the_exclusion_kept(tmp_path, exclusion_row, csv_text,
                                                                          write):
    """They are linkage's fallback when the UPN fails: the whole exclusion was rejected for them."""
    rows = [exclusion_row(DOB="00/00/0000"), exclusion_row(Sex="Not known", StartDate="2017-01-11"),
            exclusion_row(DOB="31/02/2005", StartDate="2017-01-12")]
    result = _read(tmp_path, rows, csv_text, write)
    assert len(result.clean) == 3 and result.rejects.empty
    assert result.clean["DOB"].isna().tolist() == [True, False, True]
    assert result.clean["Sex"].isna().tolist() == [False, True, False]
    note = " ".join(result.notes)
    assert "DOB 2 row(s) (rows 1, 3)" in note and "Sex 1 row(s) (rows 2)" in note
    assert "Not known" not in note and "00/00" not in note


def test_a_status_column_is_said_not_to_be_read(tmp_path, exclusion_row, csv_text, write):
    rows = [{**exclusion_row(), "Exclusion Status": "Rescinded", "SEN Status": "K", "Enrolment Status": "C"}]
    result = _read(tmp_path, rows, csv_text, write)
    assert len(result.clean) == 1  # read as an exclusion that stood, as the contract reads it: said so
    (note,) = [n for n in result.notes if "rescinded" in n]
    assert "SEN Status" not in note and "Enrolment" not in note  # another subject's status: not named
    assert ("'Exclusion Status' is not read: the contract has no way to mark an exclusion rescinded, "
            "withdrawn or overturned") in note


def test_one_exclusion_written_once_per_reason_is_said(tmp_path, exclusion_row, csv_text, write):
    rows = [exclusion_row(Reason="PD"), exclusion_row(Reason="VA"),  # one suspension, two rows
            exclusion_row(Reason="PD", StartDate="2017-03-01"),  # another day
            exclusion_row(Reason="PD", StartDate="2017-04-01"),
            exclusion_row(Reason="PD", StartDate="2017-04-01", Sessions="1")]  # a second that day
    result = _read(tmp_path, rows, csv_text, write)
    assert len(result.clean) == 5  # kept: two suspensions of one day do happen
    (note,) = [n for n in result.notes if "with another reason" in n]
    assert ("2 rows (rows 1-2) repeat another row's pupil, start date, school, category and sessions with "
            "another reason") in note


def test_a_blank_or_impossible_length_of_suspension_is_named(tmp_path, exclusion_row, csv_text, write):
    """Blank Sessions read as none lost, and 1,000 sessions for one suspension read as given, with no
    word: a pupil's sessions lost went from 8 to 1,006. Both are kept and named by row."""
    rows = [exclusion_row(Sessions="", StartDate="2017-01-10"),
            exclusion_row(Sessions="1000", StartDate="2017-01-11"),
            exclusion_row(Sessions="90", StartDate="2017-01-12"),
            exclusion_row(Category="PERM", Sessions="", StartDate="2017-01-13")]  # a permanent: no length
    result = _read(tmp_path, rows, csv_text, write)
    assert len(result.clean) == 4
    note = " ".join(result.notes)
    assert "1 suspension row (rows 1) give no Sessions: read as none lost" in note
    assert "1 suspension row (rows 2) give more than 90 Sessions" in note
    assert "1000" not in note


def test_reasons_written_as_the_dfes_descriptions_are_read_as_their_codes(tmp_path, exclusion_row, csv_text,
                                                                          write):
    """'Persistent disruptive behaviour' was read as three unknown codes, group other: no disruption
    feature, and 'Verbal abuse/threatening behaviour against a pupil' was split at its '/'."""
    described = ["Persistent disruptive behaviour", "Verbal abuse/threatening behaviour against a pupil",
                 "Offensive weapon; PA", "Kicking a door",
                 # a reviewer's: beside a code, or with a second reason column, they were split into words
                 "PD - Persistent disruptive behaviour", "Persistent Disruptive Behaviour (PD)"]
    rows = [exclusion_row(Reason=text, StartDate=f"2017-01-{10 + i}", Reason2="")
            for i, text in enumerate(described)]
    rows.append(exclusion_row(Reason="Verbal abuse/threatening behaviour against an adult", Reason2="PA",
                              StartDate="2017-02-01"))
    result = _read(tmp_path, rows, csv_text, write)
    assert result.clean["Reason"].tolist()[:3] == ["PD", "VP", "OW;PA"]
    assert result.clean["Reason"].tolist()[4:] == ["PD", "PD", "VA;PA"]
    assert result.clean["ReasonGroups"].tolist() == [
        "persistent_disruption", "verbal_abuse", "offensive_weapon;physical_assault", "other",
        "persistent_disruption", "persistent_disruption", "verbal_abuse;physical_assault"]
    # the row whose reason is neither is named (it is in no rejects file), never its words
    (note,) = [n for n in result.notes if "neither a code" in n]
    assert "1 row (rows 4) gives a reason that is neither a code nor the DfE's description" in note
    assert "KICKING" not in note.upper()
