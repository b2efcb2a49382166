"""Pupils' homes the postcode and IDACI lookups do not place are said, not left blank unsaid: an IDACI
file whose LSOA codes matched none of the census's (another vintage, another region) gave every pupil a
blank decile through `features`, `train` and `score` without a word (a tester's find)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from exclusion_risk import reference
from exclusion_risk.features.home_area import _lsoa_by_postcode, home_area_lines
from exclusion_risk.synth.truth import write_truth_links


def _clear_lookups() -> None:  # each is read once per process, as the variables are
    for cached in (reference.postcode_lookup, reference.idaci_lookup, _lsoa_by_postcode):
        cached.cache_clear()


@pytest.fixture(autouse=True)  # noqa: V103 (vulture cannot see an autouse fixture used)
def _fresh_lookups():
    _clear_lookups()
    yield
    _clear_lookups()


def _table(blank: int, of: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"idaci_decile": [np.nan] * blank + [3.0] * (of - blank)})


def test_half_or_fewer_blank_is_ordinary_and_more_is_said():
    census = pd.DataFrame({"Postcode": ["WS1 1AA"] * 10})
    assert home_area_lines(_table(5), census) == []  # a border, a mistyped postcode: ordinary
    (said,) = home_area_lines(_table(6), census)
    assert said.startswith("No IDACI decile for 6 of the 10 pupil-year(s)")
    assert "EXCLUSION_RISK_POSTCODES" in said and "EXCLUSION_RISK_IDACI" in said
    (every,) = home_area_lines(_table(10), census)
    assert every.startswith("No IDACI decile for any of the 10 pupil-year(s)")


def test_a_census_without_postcodes_is_named_as_the_cause_not_the_lookups():
    (said,) = home_area_lines(_table(10), pd.DataFrame({"Postcode": ["", " "], "LSOA": [None, ""]}))
    assert "the census gives no home postcode or LSOA code" in said and "EXCLUSION_RISK" not in said
    (absent,) = home_area_lines(_table(10), pd.DataFrame({"UPN": ["x"]}))
    assert "the census gives no home postcode or LSOA code" in absent
    assert home_area_lines(_table(0, of=0), None) == []


def test_features_warns_when_the_idaci_lookup_places_no_pupil(small_authority, tmp_path, monkeypatch):
    from exclusion_risk.cli import app

    links = write_truth_links(small_authority, tmp_path / "links").parent
    out = tmp_path / "features.parquet"
    runner = CliRunner()
    args = ["features", "--data", str(small_authority), "--links", str(links), "--years", "2017/18",
            "--out", str(out)]  # fmt: skip
    shipped = runner.invoke(app, args)
    assert shipped.exit_code == 0, shipped.output
    assert "No IDACI decile" not in shipped.output  # the West Midlands authority, the shipped lookups

    elsewhere = tmp_path / "idaci.csv"  # the right shape, but LSOA codes no census postcode maps to
    elsewhere.write_text("LSOA,IMD,IDACI\nW01000001,3,4\nW01000002,5,6\n")
    monkeypatch.setenv(reference.IDACI_VARIABLE, str(elsewhere))
    _clear_lookups()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out)["idaci_decile"].isna().all()
    assert "warning: No IDACI decile for any of the" in result.output
    assert "W0100000" not in result.output
