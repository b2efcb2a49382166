"""End to end on a synthetic authority: synth -> readers -> truth links -> PupilHistory -> features.

The generator's truth (`pupil_years.csv`) is the oracle for the labels; the leakage check is repeated
on DfE-shaped extracts as the readers return them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk.features import registry
from exclusion_risk.features.build import build_feature_table
from exclusion_risk.synth.truth import truth_links, write_truth_links

YEARS = ["2015/16", "2016/17", "2017/18", "2018/19"]


@pytest.fixture(scope="module")
def authority(request, tmp_path_factory) -> Path:
    """The session's small synthetic authority, or one generated here while that fixture is missing."""
    try:
        return Path(request.getfixturevalue("small_authority"))
    except pytest.FixtureLookupError:
        from exclusion_risk.synth.config import SynthConfig
        from exclusion_risk.synth.generate import generate_authority

        out = tmp_path_factory.mktemp("features_synth")
        generate_authority(SynthConfig(pupils=1500, seed=5), out)
        return out


@pytest.fixture(scope="module")
def extracts(authority):
    from exclusion_risk.linkage.readers import read_extracts

    return read_extracts(authority)


@pytest.fixture(scope="module")
def history(extracts, authority):
    from exclusion_risk.linkage.history import pupil_history

    return pupil_history(extracts, truth_links(authority))


@pytest.fixture(scope="module")
def table(history) -> pd.DataFrame:
    return build_feature_table(history, YEARS)


def test_labels_agree_with_the_generators_truth(table, authority):
    truth = pd.read_csv(authority / "truth" / "pupil_years.csv", dtype={"upn": str, "AcademicYear": str})
    merged = table.merge(truth, on=["upn", "AcademicYear"], suffixes=("", "_truth"))
    # census rows whose UPN the generator mistyped or the reader rejected are the only ones unmatched
    assert len(merged) >= 0.95 * len(truth)
    for column in ("label", "label_permanent", "label_repeat"):
        mismatched = (merged[column] != merged[f"{column}_truth"]).sum()
        assert mismatched == 0, f"{column}: {mismatched} pupil-years differ from truth"
    assert merged["label"].sum() > 20


def test_features_carry_the_expected_signal(table):
    labelled = table[table["label"].notna() & (table["AcademicYear"] != YEARS[0])]
    suspended_before = labelled["suspensions_last_year"] > 0
    rates = labelled.groupby(suspended_before)["label"].mean()
    assert rates[True] > 2 * rates[False]
    assert table["idaci_decile"].notna().mean() > 0.9  # synthetic pupils live at real WS postcodes
    assert table["absence_rate_last_year"].between(0, 1).sum() > 0.5 * len(table)
    assert set(table["need_level"]) <= {0, 1, 2, 3}
    assert table.loc[table["AcademicYear"] == YEARS[0], "school_suspension_rate"].isna().all()
    assert table.loc[table["AcademicYear"] != YEARS[0], "school_suspension_rate"].notna().all()
    names = set(table.columns)
    assert not {"Surname", "Forename", "DOB", "MiddleNames"} & names


def test_no_leakage_on_reader_output(history, table, truncate_at):
    year = "2017/18"
    cut = build_feature_table(truncate_at(history, year), [year]).sort_values("upn", ignore_index=True)
    full = table[table["AcademicYear"] == year].sort_values("upn", ignore_index=True)
    compared = ["upn", "SchoolURN", *[f.name for f in registry.FEATURES], "need_level"]
    pd.testing.assert_frame_equal(full[compared], cut[compared])


def test_cli_writes_the_table_and_refuses_bad_input(authority, history, tmp_path):
    from exclusion_risk.cli import app

    links = write_truth_links(authority, tmp_path / "links").parent
    out = tmp_path / "features.parquet"
    runner = CliRunner()
    result = runner.invoke(app, ["features", "--data", str(authority), "--links", str(links),
                                 "--years", "2016/17,2017/18", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(out)
    assert sorted(written["AcademicYear"].unique()) == ["2016/17", "2017/18"]
    assert "2017/18:" in result.output and "pupils" in result.output

    bad_year = runner.invoke(app, ["features", "--data", str(authority), "--links", str(links),
                                   "--years", "2016/18", "--out", str(out)])
    assert bad_year.exit_code == 2 and "2016/18" in bad_year.output and "Traceback" not in bad_year.output
    absent_year = runner.invoke(app, ["features", "--data", str(authority), "--links", str(links),
                                      "--years", "2030/31", "--out", str(out)])
    assert absent_year.exit_code == 2 and "no autumn census for 2030/31" in absent_year.output
    spring = runner.invoke(app, ["features", "--data", str(authority), "--links", str(links),
                                 "--years", "2017/18", "--census", "spring", "--out", str(out)])
    assert spring.exit_code == 0, spring.output
    census = history.census
    on_spring = census[(census["AcademicYear"] == "2017/18") & (census["CensusTerm"] == "SPR")]
    assert set(pd.read_parquet(out)["pupil_upn"]) == set(on_spring["UPN"])  # the spring census's pupils
    winter = runner.invoke(app, ["features", "--data", str(authority), "--links", str(links),
                                 "--census", "winter", "--out", str(out)])
    assert winter.exit_code == 2 and "--census: census 'winter' is not one of" in winter.output
    no_links = runner.invoke(app, ["features", "--data", str(authority), "--links", str(tmp_path),
                                   "--out", str(out)])
    assert no_links.exit_code == 2 and "links" in no_links.output
