"""Sparse but valid extracts: `link` links what it can and says what it could not estimate, never a
traceback. A blank name or DOB on the records left for the probabilistic stage once crashed it:
Splink's EM session blocked on DOB stopped, left the model without its `dob` comparison (BinderException
`Referenced column "gamma_dob" not found`), and where the deterministic rules matched no pair Splink's
prior was 0 (`math domain error`)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.cli import app
from exclusion_risk.linkage.settings import LinkageSettings, active_comparisons

runner = CliRunner()
# Every record is in exactly one of these (review.csv lists the unlinked records' review candidates).
OUTPUT_TABLES = ("links.csv", "unlinked.csv")


@pytest.fixture
def pupils(population):
    return population(300, seed=5)


@pytest.fixture
def make_folder(tmp_path, pupils, census_row, exclusion_row, social_care_row):
    """`make_folder(social_rows, exclusion_overrides={}, social_overrides={})`: 300 census pupils,
    exclusions for the first 40 (no UPN, so they link by name and DOB) and social care for the pupils
    at `social_rows` (C0, C1, ...); the overrides blank fields, on every record or (`{index: {...}}`)
    on one."""
    return _folder_maker(tmp_path, pupils, census_row, exclusion_row, social_care_row)


def _folder_maker(tmp_path, pupils, census_row, exclusion_row, social_care_row):
    def make(social_rows, exclusion_overrides=None, social_overrides=None):
        census = [
            census_row(p.UPN, Surname=p.Surname, Forename=p.Forename, Gender=p.Sex,
                       DoB=p.DOB.strftime("%Y-%m-%d"), Postcode=p.Postcode, Ethnicity=p.Ethnicity,
                       AcademicYear="2018/19")
            for p in pupils.itertuples()
        ]  # fmt: skip
        exclusions = [
            exclusion_row("", **{"Surname": p.Surname, "Forename": p.Forename, "Sex": p.Sex,
                                 "DOB": p.DOB.strftime("%d/%m/%Y"), "StartDate": "2019-01-10",
                                 "RecordID": f"X{i}"} | (exclusion_overrides or {}))
            for i, p in enumerate(pupils.head(40).itertuples())
        ]  # fmt: skip
        social_care = [
            social_care_row(f"C{i}", Surname=p.Surname, Forename=p.Forename, DOB=p.DOB.strftime("%Y-%m-%d"),
                            Sex="1" if p.Sex == "M" else "2", Postcode=p.Postcode, StartDate="2018-11-01")
            for i, p in enumerate(pupils.iloc[social_rows].itertuples())
        ]  # fmt: skip
        for i, overrides in (social_overrides or {}).items():
            social_care[i].update(overrides)
        folder = tmp_path / "extracts"
        folder.mkdir()
        for name, rows in (("census", census), ("exclusions", exclusions), ("social_care", social_care)):
            pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
        return folder

    return make


def _link(folder, out, *extra: str):
    result = runner.invoke(app, ["link", "--data", str(folder), "--out", str(out), "--no-progress", *extra])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "Traceback" not in result.output
    return result


def _decided(out, source: str) -> dict[str, list[tuple[str, ...]]]:
    """Each `source` record's rows in links and unlinked: (table, upn or band)."""
    rows: dict[str, list[tuple[str, ...]]] = {}
    for table in OUTPUT_TABLES:
        with open(out / table, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["source"] == source:
                    rows.setdefault(row["record_id"], []).append((table, row.get("upn") or row.get("band")))
    return rows


def _report(out) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


# The colleague's folder: 37 social-care children, 36 of them link by name and DOB; C0 (pupil 1) has
# one blank field, so it alone is left for the probabilistic stage, with too few links to count m.
SOCIAL_ROWS = [1, *range(4, 40)]


@pytest.fixture(scope="module")
def colleague_link(tmp_path_factory, population, census_row, exclusion_row, social_care_row):
    """`colleague_link(field)`: the colleague's folder with `field` blank on C0, linked once for the
    module (the Forename run is read by two tests): (folder, out, the `link` command's result)."""
    runs = {}

    def linked(field):
        if field not in runs:
            where = tmp_path_factory.mktemp(f"colleague_{field}")
            make = _folder_maker(where, population(300, seed=5), census_row, exclusion_row, social_care_row)
            folder = make(SOCIAL_ROWS, social_overrides={0: {field: ""}})
            runs[field] = (folder, where / "out", _link(folder, where / "out"))
        return runs[field]

    return linked


@pytest.mark.parametrize("field", ["Forename", "Surname", "DOB"])
def test_one_record_left_for_the_probabilistic_stage_with_a_blank_field_links(colleague_link, pupils, field):
    _, out, result = colleague_link(field)
    assert "social_care: 37 of 37 linked" in result.output
    assert _decided(out, "social_care")["C0"] == [("links.csv", pupils.loc[1, "UPN"])]
    notes = _report(out)["sources"]["social_care"]["probabilistic_notes"]
    assert any("not estimated from this data" in n for n in notes)
    assert "warning(s) in" in result.output  # the console points at run.log, which holds the notes
    assert "social_care: probabilistic stage: m of" in (out / "run.log").read_text(encoding="utf-8")
    # The saved model keeps every comparison (the failed EM session had taken dob out of it).
    model = LinkageSettings.load(out / "settings.json").trained["social_care"]
    assert sorted(model["comparisons"]) == sorted(active_comparisons(LinkageSettings()))


def test_the_settings_of_a_sparse_run_reproduce_its_links(colleague_link, tmp_path):
    folder, first, _ = colleague_link("Forename")
    _link(folder, tmp_path / "again", "--settings", str(first / "settings.json"))
    assert (first / "links.csv").read_bytes() == (tmp_path / "again" / "links.csv").read_bytes()


@pytest.mark.parametrize("field", ["Forename", "Surname"])
def test_a_lone_social_care_record_with_a_blank_name_links(make_folder, pupils, tmp_path, field):
    out = tmp_path / "out"
    _link(make_folder([10], social_overrides={0: {field: ""}}), out)
    assert _decided(out, "social_care") == {"C0": [("links.csv", pupils.loc[10, "UPN"])]}
    notes = _report(out)["model"]["social_care"]["notes"]  # beside the model, which report.html shows
    assert any("prior match probability was not estimated" in n for n in notes)


def test_social_care_with_no_dob_on_any_record_is_decided_record_by_record(make_folder, tmp_path):
    out = tmp_path / "out"
    _link(make_folder(list(range(4, 40)), social_overrides={i: {"DOB": ""} for i in range(36)}), out)
    decided = _decided(out, "social_care")
    assert sorted(decided) == sorted(f"C{i}" for i in range(36))
    assert all(len(rows) == 1 for rows in decided.values())
    notes = _report(out)["sources"]["social_care"]["probabilistic_notes"]
    assert any("has a dob" in n for n in notes) and any("not estimated" in n for n in notes)


def test_exclusions_without_names_say_why_nothing_links(make_folder, tmp_path):
    out = tmp_path / "out"
    result = _link(make_folder(list(range(4, 40)), exclusion_overrides={"Surname": "", "Forename": ""}), out)
    assert "exclusions: 0 of 40 linked" in result.output
    assert sorted(_decided(out, "exclusions")) == sorted(f"X{i}" for i in range(40))
    notes = _report(out)["sources"]["exclusions"]["probabilistic_notes"]
    assert any("has a forename or surname" in n for n in notes)
    assert all(f"  note: {n}" in result.output for n in notes)  # on the console too, not only in run.log


def test_the_recordlinkage_engine_names_what_it_could_not_estimate(make_folder, pupils, tmp_path):
    out = tmp_path / "out"
    _link(make_folder([10], social_overrides={0: {"Forename": ""}}), out, "--engine", "recordlinkage")
    assert _decided(out, "social_care") == {"C0": [("links.csv", pupils.loc[10, "UPN"])]}
    model = _report(out)["model"]["social_care"]
    assert model["m_source"]["dob"] == "default"  # no EM session had a pair to estimate it from
    assert any("m of dob not estimated" in n for n in model["notes"])
