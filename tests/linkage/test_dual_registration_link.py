"""A dual registration on the census: the enrolment status is read (an unknown one is rejected, naming
its column), both rows are kept for linkage, and the link report counts the rows the features set aside."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.readers import read_census

runner = CliRunner()


def test_enrolment_status_words_read_as_codes_and_an_unknown_one_is_rejected(
    tmp_path, census_row, csv_text, write, mis_header
):
    # MIS exports write the status in words; only a status that says neither code ("Dual", "Q") is refused
    statuses = (
        "M", "subsidiary", "", "c", "Single Registration", "Main - Dual Registration",
        "Subsidiary \u2013 Dual Registration", "Guest Pupil", "M - Main (Dual Registration)", "Dual", "Q",
        "M - Subsidiary",
    )  # fmt: skip
    rows = [census_row(EnrolStatus=status) for status in statuses]
    for i, row in enumerate(rows):
        row["Estab"] = f"3304{i:03d}"  # distinct rows, so none is a duplicate of another
    result = read_census(write(tmp_path / "census.csv", csv_text(rows, mis_header)))
    read = result.clean["EnrolStatus"].tolist()
    assert read[:2] == ["M", "S"] and pd.isna(read[2]) and read[3:] == ["C", "C", "M", "S", "G", "M"]
    assert len(result.clean) + len(result.rejects) == len(statuses)
    assert result.rejects["row"].tolist() == [10, 11, 12]  # "Dual", "Q", and a code its words contradict
    assert set(result.rejects["column"]) == {"EnrolStatus"}
    assert set(result.rejects["reason"]) == {"unknown enrolment status code"}


def test_the_link_report_counts_the_rows_set_aside(
    tmp_path, population, census_row, exclusion_row, social_care_row
):
    pupils = population(300, seed=5)
    census = []
    for p in pupils.itertuples():
        row = census_row(p.UPN, Surname=p.Surname, Forename=p.Forename, Gender=p.Sex,
                         DoB=p.DOB.strftime("%Y-%m-%d"), Postcode=p.Postcode, AcademicYear="2018/19")
        census.append(row)
        if p.Index < 12:  # dual registrations: main school, and an alternative provision's subsidiary row
            row["EnrolStatus"] = "M"
            census.append({**row, "Estab": "3301999", "EnrolStatus": "S"})
        elif p.Index < 15:  # the subsidiary school's row only: the main school's return lacks the pupil
            row["EnrolStatus"] = "S"
    # each record with its pupil's UPN, name and DOB: the UPN stage links both, and no model is trained
    first, second = pupils.iloc[0], pupils.iloc[1]
    exclusions = [exclusion_row(first.UPN, RecordID="X0", StartDate="2019-01-10", Surname=first.Surname,
                                Forename=first.Forename, DOB=first.DOB.strftime("%d/%m/%Y"), Sex=first.Sex)]
    social_care = [social_care_row("C0", UPN=second.UPN, StartDate="2018-11-01", Surname=second.Surname,
                                   Forename=second.Forename, DOB=second.DOB.strftime("%Y-%m-%d"),
                                   Sex="1" if second.Sex == "M" else "2", Postcode=second.Postcode)]
    folder = tmp_path / "extracts"
    folder.mkdir()
    for name, rows in (("census", census), ("exclusions", exclusions), ("social_care", social_care)):
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["link", "--data", str(folder), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    repeats = report["census_collection_repeats"]
    assert (repeats["pupils"], repeats["pupils_on_a_subsidiary_row_alone"]) == (12, "<10")
    assert set(repeats) == {"pupils", "pupils_on_a_subsidiary_row_alone", "rule"}  # no second count of rows
    assert report["census_upns"] == 300
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Pupils on two or more rows of one census collection: 12; a pupil on two" in html
    assert "row is not in the\ncensus): &lt;10." in html
