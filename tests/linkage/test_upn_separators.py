"""A UPN written with a space, a no-break space or a hyphen inside it (`E330 205709725`, as MIS exports
and hand-keyed sheets write them) is the pupil's UPN: the census row joins the pupil's earlier rows and
their exclusions link by UPN. Read as it was, the probe's pupil was a new pupil without history, their
score falling from 0.833 red (4 suspensions last year) to 0.098 amber. `check` counts such UPNs."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.history import load_history
from exclusion_risk.upn import make_upn

UPNS = [make_upn(330, 4001, 2010, i) for i in range(1, 4)]
NAMES = [("Okafor", "Chidi", "2008-03-01"), ("Nowak", "Zofia", "2008-06-12"), ("Evans", "Rhys", "2008-09-30")]
# each pupil's 2017/18 census row, as the school's export wrote the UPN
WRITTEN = [u[:4] + sep + u[4:] for u, sep in zip(UPNS, [" ", "-", "\u00a0"], strict=True)]
TIDIED = "UPN or FormerUPN value with spaces or hyphens (tidied)"


@pytest.fixture
def data(
    tmp_path, census_row, exclusion_row, social_care_row, csv_text, write, mis_header, exclusions_header
):
    rows = []
    for upn, written, (surname, forename, dob) in zip(UPNS, WRITTEN, NAMES, strict=True):
        person = {"Surname": surname, "Forename": forename, "DoB": dob}
        rows.append(census_row(upn, AcademicYear="2016/17", NCyearActual="3", **person))
        rows.append(census_row(written.lower(), AcademicYear="2017/18", **person))
    folder = tmp_path / "data"
    write(folder / "census.csv", csv_text(rows, mis_header))
    exclusions = [  # the first pupil's recorded as the census had it; the second's written with a hyphen
        exclusion_row(UPNS[0], Surname="Okafor", Forename="Chidi", DOB="01/03/2008", StartDate="2017-01-10"),
        exclusion_row(WRITTEN[1], Surname="Nowak", Forename="Zofia", DOB="12/06/2008", StartDate="2018-01-9"),
    ]
    write(folder / "exclusions.csv", csv_text(exclusions, exclusions_header))
    write(folder / "social_care.csv", csv_text([social_care_row()]))
    return folder


def test_a_upn_with_separators_links_to_its_pupil_by_upn(tmp_path, link_app, data):
    out = tmp_path / "out"
    result = CliRunner().invoke(link_app, ["link", "--data", str(data), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    links = pd.read_csv(out / "links.csv", dtype=str)
    excluded = links[links["source"] == "exclusions"].sort_values("record_id")
    assert excluded["upn"].tolist() == UPNS[:2] and excluded["method"].tolist() == ["upn", "upn"]
    history = load_history(data, out)
    # one pupil each, known by their UPN, with both years' census rows
    assert sorted(history.census["UPN"].unique()) == sorted(UPNS)
    assert history.census.groupby("UPN")["AcademicYear"].nunique().tolist() == [2, 2, 2]
    assert sorted(history.pupil_ids) == sorted(UPNS)


def _count(part: str, label: str) -> str:
    (line,) = [line for line in part.splitlines() if label in line]
    return line.split("│")[2].strip()


def test_check_counts_the_upns_tidied_and_never_shows_one(tmp_path, data):
    result = CliRunner().invoke(
        app, ["check", "--data", str(data), "--out", str(tmp_path / "check")], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    census_part, rest = result.output.split("exclusions", 1)
    exclusions_part = rest.split("social_care", 1)[0]
    assert _count(census_part, TIDIED) == "3" and _count(census_part, "invalid UPN (kept)") == "0"
    assert _count(exclusions_part, TIDIED) == "1" and _count(exclusions_part, "invalid UPN (kept)") == "0"
    assert not any(w in result.output for w in WRITTEN) and not any(u in result.output for u in UPNS)
